"""Stress of the results store (not a test; tests/test_store_stress.py runs a small one): many runs into one --out.

    python scripts/stress_store.py [--runs 32] [--images 24] [--method noisy] [--seed 0] [--keep DIR] [--json PATH]

Starts --runs `eval` runs at once into one new --out, on a folder of tiny gray PNGs (`dir:`), each with --jobs 1
(one process per run, so the machine holds --runs Pythons, about 300 MB each). Run i evaluates sigmas 2i+1 and
2i+2, its own, then sigma 2N+1, which every run computes, so all of them also race to write the same rows. A random
third of the runs (by --seed) is killed with SIGKILL mid-run, once it has written a random number of rows (up to
half an image set) of its own sigmas, and started again at once, while the others still write. Meanwhile another
process exports rows.csv from the store every half second (as a run does when it ends) and checks that each export
reads back whole. When every run has ended the script compares the store and the rows.csv the runs left with one
uninterrupted run of all the sigmas into another folder, and prints:

    runs refused       runs that ended with an error (a lock refused, a failed write) instead of their rows
    rows lost          rows of the plan missing from rows.sqlite or from rows.csv
    rows repeated      rows.csv lines whose store key (task, dataset, image, method, weights, level, seed, clip)
                       another line has too
    rows different     rows whose PSNR, SSIM or noise seed differs from the uninterrupted run's
    wall time          from the first start to the last run's end

Exit code 0 when the four counts are zero, 1 otherwise. The figures and the command are in docs/reliability.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from redbench.core.csv_cells import restore  # noqa: E402
from redbench.core.errors import UserError  # noqa: E402
from redbench.evaluation.rows import COLUMNS, STORE_KEY, ResultStore  # noqa: E402

MAX_RUNS = 64          # each run is a Python with numpy and torch loaded (~300 MB): bound the machine's memory
RUN_TIMEOUT = 1800     # seconds a run may take under this load before it counts as refused (hung)


@dataclass
class Figures:
    runs: int
    images: int
    method: str
    rows_expected: int
    refused: int = 0
    lost: int = 0
    repeated: int = 0
    different: int = 0
    unexpected: int = 0              # rows.csv lines whose key is not in the plan at all
    invalid: int = 0                 # stored rows that fail validation (rows.problems)
    killed: int = 0                  # killed while alive, after writing at least one row of its own sigmas
    kills_missed: int = 0            # chosen, but ended before writing the rows it was to be killed after
    kills_cut_work: int = 0          # kills that left rows to compute: the rerun computed some (not only reused)
    watch_gap_seconds: float = 0.0   # the longest time between two looks of the watcher at the rows written
    temp_files_left: int = 0         # .NAME.*.tmp files of killed runs' unfinished atomic writes
    killed_after_rows: list[int] = field(default_factory=list)
    exports: int = 0
    exports_unreadable: int = 0
    wall_seconds: float = 0.0
    reference_seconds: float = 0.0
    cores: int = 0
    load_average: float = 0.0        # 1-minute load average when the stress began
    errors: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        return self.refused == self.lost == self.repeated == self.different == 0

    def lines(self) -> list[str]:
        kills = (f"{self.killed} runs killed with SIGKILL mid-run and rerun at once (after "
                 f"{min(self.killed_after_rows, default=0)} to {max(self.killed_after_rows, default=0)} of their "
                 f"rows; {self.kills_cut_work} of them before their last row, so the rerun computed the rest); "
                 f"{self.kills_missed} more were chosen but ended first; {self.temp_files_left} temp files of "
                 f"killed writes left in --out")
        return [f"store stress: {self.runs} runs at once into one --out ({self.images} images x 3 sigmas each, "
                f"two its own, one shared by all; method {self.method}, --jobs 1), {self.cores} cores, load "
                f"average {self.load_average:.1f} at the start",
                f"runs refused: {self.refused}",
                f"rows lost: {self.lost} (of {self.rows_expected})",
                f"rows repeated: {self.repeated}",
                f"rows that differ from one uninterrupted run: {self.different}",
                f"wall time: {self.wall_seconds:.1f} s (the uninterrupted run alone: {self.reference_seconds:.1f} s)",
                kills,
                f"rows.csv exported {self.exports} times while runs wrote: {self.exports_unreadable} unreadable; "
                f"stored rows failing validation: {self.invalid}; rows.csv lines outside the plan: "
                f"{self.unexpected}",
                *[f"refused: {line}" for line in self.errors]]


def make_images(folder: Path, count: int, seed: int) -> None:
    import numpy as np
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(folder / f"im{i:03d}.png")


def command(images: Path, sigmas: list[int], method: str, out: Path) -> list[str]:
    return [sys.executable, str(ROOT / "run_bench.py"), "eval", "--task", "denoise",
            "--sigma", ",".join(str(s) for s in sigmas), "--methods", method, "--datasets", f"dir:{images}",
            "--jobs", "1", "--quiet", "--out", str(out)]


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with open(log, "w") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def restorations_run(log: Path) -> int:
    """What a run's log says it computed ('N restorations to run, M rows reused')."""
    found = re.search(r"^(\d+) restorations to run", log.read_text(errors="replace"), re.MULTILINE)
    return int(found.group(1)) if found else 0


def error_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:") or "Error" in line]
    return (errors or lines or ["(no output)"])[-1][:300]


class RowCounter:
    """Rows written so far by each worker (host:pid). A plain connection that only reads: one opened read-only
    (mode=ro) may not map the WAL index and then sees only checkpointed rows, far behind the writers."""

    def __init__(self, db_path: Path):
        self.db_path, self.db = db_path, None

    def __call__(self) -> dict[str, int]:
        try:
            if self.db is None:
                if not self.db_path.exists():          # a connection would create it: let the first run do that
                    return {}
                self.db = sqlite3.connect(self.db_path, timeout=5, isolation_level=None)
            return dict(self.db.execute("SELECT worker, count(*) FROM rows GROUP BY worker").fetchall())
        except sqlite3.Error:          # no table yet, or busy: look again next time
            return {}

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def csv_keys(path: Path) -> list[tuple] | None:
    """The store key of every line of a rows.csv, or None when the file does not read back whole (a short or
    long line, a header that is not rows.csv's)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            lines = list(csv.reader(fh))
    except (OSError, csv.Error, UnicodeDecodeError):
        return None
    if not lines or lines[0] != COLUMNS or any(len(line) != len(COLUMNS) for line in lines[1:]):
        return None
    return [key(dict(zip(COLUMNS, [restore(cell) for cell in line]))) for line in lines[1:]]


def imported_rows(path: Path) -> list[dict] | None:
    """The rows of a rows.csv as a store imports them (into a scratch folder), or None when a line is skipped
    or fails validation."""
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copyfile(path, Path(scratch) / "rows.csv")
        store = ResultStore(scratch)
        try:
            valid, invalid = store.read()
            skipped = any("skipped" in note for note in store.notes)
        finally:
            store.close()
    return None if invalid or skipped else valid


def export_once(out: Path) -> bool:
    """Export rows.csv as a finishing run does, then read it back: whether it was whole."""
    try:
        store = ResultStore(out)
    except UserError:
        return False
    try:
        store.export_csv()
    finally:
        store.close()
    return csv_keys(out / "rows.csv") is not None and imported_rows(out / "rows.csv") is not None


def export_while_writing(out: Path, writers_done, exports, unreadable) -> None:
    """Export rows.csv every half second until the runs have ended, counting exports and those not whole."""
    while not writers_done.wait(0.5):
        if (out / "rows.sqlite").exists():
            exports.value += 1
            unreadable.value += not export_once(out)


def key(row: dict) -> tuple:
    return (*(str(row[c]) for c in STORE_KEY[:5]), float(row["level"]), int(row["seed"]),
            str(row["clip"]).lower() in ("true", "1"))


def stress(runs: int = 32, images: int = 24, method: str = "noisy", seed: int = 0,
           work: Path | None = None, progress=print) -> Figures:
    if not 2 <= runs <= MAX_RUNS:
        raise UserError(f"--runs {runs} is out of range: use 2 to {MAX_RUNS} (each run is a process of ~300 MB).")
    if images < 2:
        raise UserError(f"--images {images} is too few: use at least 2, so a run can be killed mid-run.")
    work = Path(work) if work is not None else Path(tempfile.mkdtemp(prefix="redbench-stress-"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        raise UserError(f"{work} is not empty: give --keep a new or empty folder.")
    pictures, out, reference, logs = work / "images", work / "out", work / "reference", work / "logs"
    logs.mkdir()
    make_images(pictures, images, seed)
    sigmas = list(range(1, 2 * runs + 2))
    plan = {i: [sigmas[2 * i], sigmas[2 * i + 1], sigmas[-1]] for i in range(runs)}   # its own first: killed in those
    figures = Figures(runs, images, method, rows_expected=len(sigmas) * images, cores=os.cpu_count() or 1,
                      load_average=os.getloadavg()[0])

    progress(f"uninterrupted run of sigmas 1..{len(sigmas)} into {reference}")
    began = time.monotonic()
    ref = subprocess.run(command(pictures, sigmas, method, reference), capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1"), cwd=ROOT, timeout=RUN_TIMEOUT)
    figures.reference_seconds = time.monotonic() - began
    if ref.returncode != 0:
        raise RuntimeError(f"the uninterrupted run failed: {ref.stderr[-2000:]}")

    rng = random.Random(seed)
    # run -> kill once it has written this many rows: within the first quarter of its own sigmas' rows, so that a
    # busy machine, which lets this watcher look only now and then, still finds it before its last row
    victims = {i: rng.randint(1, max(1, images // 2)) for i in rng.sample(range(runs), runs // 3)}
    progress(f"{runs} runs into {out}; killing runs {sorted(victims)} mid-run")
    began = time.monotonic()
    live: dict[int, subprocess.Popen] = {}
    for i in range(runs):
        live[i] = start(command(pictures, plan[i], method, out), logs / f"run{i}.log")
    host = os.uname().nodename
    rows_by_worker = RowCounter(out / "rows.sqlite")
    # the exports run in a process of their own: in a thread of this one they would hold the interpreter lock
    # for long stretches and let a run pass the point it is to be killed at unseen
    context = multiprocessing.get_context("spawn")
    writers_done, exports, unreadable = context.Event(), context.Value("i", 0), context.Value("i", 0)
    exporter = context.Process(target=export_while_writing, args=(out, writers_done, exports, unreadable))
    exporter.start()
    try:
        looked = time.monotonic()
        while live:
            written = rows_by_worker()
            figures.watch_gap_seconds = max(figures.watch_gap_seconds, time.monotonic() - looked)
            looked = time.monotonic()
            # every run due is killed at once, before any is reaped or restarted (that takes a while here)
            due = [i for i, proc in live.items() if i in victims and proc.poll() is None
                   and written.get(f"{host}:{proc.pid}", 0) >= victims[i]]
            for i in due:
                live[i].send_signal(signal.SIGKILL)
            for i in due:
                live[i].wait()
                figures.killed += 1
                # all it wrote before dying
                figures.killed_after_rows.append(rows_by_worker().get(f"{host}:{live[i].pid}", 0))
                del victims[i]
                live[i] = start(command(pictures, plan[i], method, out), logs / f"run{i}.rerun.log")
            for i, proc in list(live.items()):
                rc = proc.poll()
                if rc is None and time.monotonic() - began > RUN_TIMEOUT:
                    proc.kill()
                    proc.wait()
                    rc = "timeout"
                if rc is not None:
                    del live[i]
                    if i in victims:             # ended before it wrote its chosen number of rows
                        del victims[i]
                        figures.kills_missed += 1
                    if rc != 0:
                        figures.refused += 1
                        log = logs / f"run{i}.rerun.log" if (logs / f"run{i}.rerun.log").exists() else logs / f"run{i}.log"
                        figures.errors.append(f"run {i} (exit {rc}): {error_line(log)}")
            time.sleep(0.01)
    finally:
        for proc in live.values():   # an error here must not leave runs writing on
            proc.kill()
            proc.wait()
        rows_by_worker.close()
        writers_done.set()
        exporter.join()
        figures.exports, figures.exports_unreadable = exports.value, unreadable.value
    figures.wall_seconds = time.monotonic() - began
    figures.kills_cut_work = sum(restorations_run(log) > 0 for log in logs.glob("*.rerun.log"))
    figures.temp_files_left = len(list(out.glob(".*.tmp")))

    truth = {key(row): row for row in imported_rows(reference / "rows.csv") or []}
    if len(truth) != figures.rows_expected:
        raise RuntimeError(f"the uninterrupted run has {len(truth)} rows, not {figures.rows_expected}")
    exported_keys = csv_keys(out / "rows.csv")
    exported = imported_rows(out / "rows.csv") if exported_keys is not None else None
    if exported is None:
        figures.exports_unreadable += 1
        exported_keys, exported = exported_keys or [], []
    store = ResultStore(out)
    try:
        stored, invalid = store.read()
    finally:
        store.close()
    figures.invalid = len(invalid)
    expected = set(truth)
    stored_keys = {key(row) for row in stored}
    figures.lost = len(expected - stored_keys) + len(expected - set(exported_keys))
    figures.repeated = len(exported_keys) - len(set(exported_keys))
    figures.unexpected = len(set(exported_keys) - expected)
    for row in [*stored, *exported]:
        want = truth.get(key(row))
        if want is not None and (row["psnr"], row["ssim"], row["noise_seed"]) != \
                (want["psnr"], want["ssim"], want["noise_seed"]):
            figures.different += 1
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=32, help="runs started at once (default 32)")
    parser.add_argument("--images", type=int, default=24, help="tiny images per run and sigma (default 24)")
    parser.add_argument("--method", default="noisy", help="a cheap denoising method (default noisy; tv works too)")
    parser.add_argument("--seed", type=int, default=0, help="which runs are killed, and when (default 0)")
    parser.add_argument("--keep", type=Path, help="work in this new folder and keep it (default: a temp folder, "
                                                  "removed at the end)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="redbench-stress-"))
    try:
        figures = stress(args.runs, args.images, args.method, args.seed, work,
                         progress=lambda line: print(line, file=sys.stderr))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(figures.lines()))
    if args.json:
        args.json.write_text(json.dumps(asdict(figures), indent=1) + "\n")
    return 0 if figures.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
