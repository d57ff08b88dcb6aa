"""The results store (issue 9): concurrent writers, weights in the key, validation on read, one-line errors."""
import os
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from redbench.evaluation.rows import STORE_KEY, ResultStore, problems
from tests.conftest import ROOT

TV30 = ["--task", "denoise", "--sigma", "30", "--datasets", "set12", "--methods", "tv", "--jobs", "1", "--quiet"]
# the cheapest real run: bicubic x2 on Set5's 5 images
SR2 = ["--task", "sr", "--scale", "2", "--datasets", "set5", "--methods", "bicubic", "--jobs", "1", "--quiet"]


@pytest.fixture(scope="module")
def sr2_run(mirror, tmp_path_factory) -> Path:
    """One finished SR2 run; tests copy it (copy_run) instead of computing it again."""
    out = tmp_path_factory.mktemp("sr2")
    result = _cli(*SR2, "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    return out


def copy_run(source: Path, target: Path) -> Path:
    import shutil
    shutil.copytree(source, target)
    return target


def _main(capsys, *args) -> tuple[int, str, str]:
    """The command line in this process (no interpreter start-up): (exit code, stdout, stderr)."""
    from redbench.cli import main
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(code: int, err: str, *needles) -> None:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    assert all(n in lines[0] for n in needles), lines[0]


def _cli(*args, cwd=None, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(ROOT / "run_bench.py"), *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=cwd)


def _one_line_error(result, *needles):
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("error: ") and all(n in lines[0] for n in needles), lines[0]


def _db_rows(out) -> pd.DataFrame:
    with closing(sqlite3.connect(Path(out) / "rows.sqlite")) as db:
        return pd.read_sql_query("SELECT * FROM rows", db)


def _csv(out) -> pd.DataFrame:
    return pd.read_csv(Path(out) / "rows.csv", dtype={"image": str})


def _row(i: int, **kw) -> dict:
    row = {"task": "sr", "dataset": "set5", "image": f"im{i:06d}", "method": "bicubic", "weights": "w@1",
           "level": 2, "seed": 0, "clip": False, "psnr": 30.0, "ssim": 0.9, "seconds": 0.1, "noise_seed": 0,
           "worker": "host:1"}
    row.update(kw)
    return row


# ---------------------------------------------------------------- concurrency and cost

def _insert_many(folder: str, start: int, count: int) -> None:
    store = ResultStore(folder)
    for i in range(start, start + count):
        store.add(_row(i))
    store.close()


def test_two_processes_insert_into_one_store(tmp_path):
    import multiprocessing as mp
    context = mp.get_context("spawn")
    procs = [context.Process(target=_insert_many, args=(str(tmp_path), k * 1500, 1500)) for k in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = ResultStore(tmp_path)
    valid, invalid = store.read()
    assert len(valid) == 3000 and not invalid
    store.export_csv()
    assert len(_csv(tmp_path)) == 3000
    store.close()


class _RefusedAtOnce(sqlite3.Connection):
    """A connection whose switch to WAL is refused at once `refusals` times, as SQLite does, without calling the
    busy handler, when another connection switches a fresh file to WAL at the same moment."""
    refusals = 0

    def execute(self, sql, *args):
        if sql.startswith("PRAGMA journal_mode") and type(self).refusals > 0:
            type(self).refusals -= 1
            raise sqlite3.OperationalError("database is locked")
        return super().execute(sql, *args)


def _refusing(monkeypatch, refusals: int) -> None:
    from redbench.evaluation import rows
    connect = sqlite3.connect
    _RefusedAtOnce.refusals = refusals
    monkeypatch.setattr(rows.sqlite3, "connect", lambda *a, **kw: connect(*a, factory=_RefusedAtOnce, **kw))


def test_a_lock_refused_at_once_is_retried_while_the_wait_lasts(tmp_path, monkeypatch):
    pd.DataFrame([_row(1)]).to_csv(tmp_path / "rows.csv", index=False)
    _refusing(monkeypatch, 5)
    store = ResultStore(tmp_path)
    assert _RefusedAtOnce.refusals == 0 and len(store.read()[0]) == 1
    assert len(store.notes) == 1 and "imported 1 rows" in store.notes[0]
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 120_000   # the full wait again for writes
    store.close()


def test_a_lock_refused_until_the_wait_runs_out_names_the_wait(tmp_path, monkeypatch):
    from redbench.core.errors import UserError
    from redbench.evaluation import rows
    monkeypatch.setattr(rows, "BUSY_SECONDS", 0.4)
    _refusing(monkeypatch, 10 ** 6)
    start = time.monotonic()
    with pytest.raises(UserError) as caught:
        ResultStore(tmp_path)
    assert time.monotonic() - start >= 0.4
    assert "still locked after waiting 0.4 s" in str(caught.value) and "another process" in str(caught.value)


def test_a_lock_held_past_the_wait_names_the_wait(tmp_path, monkeypatch):
    from redbench.core.errors import UserError
    from redbench.evaluation import rows
    ResultStore(tmp_path).close()
    holder = sqlite3.connect(tmp_path / "rows.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(rows, "BUSY_SECONDS", 0.5)
    start = time.monotonic()
    try:
        with pytest.raises(UserError) as caught:
            ResultStore(tmp_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert time.monotonic() - start >= 0.5
    assert "still locked after waiting 0.5 s" in str(caught.value)


def test_two_runs_into_one_folder_lose_nothing(mirror, tmp_path):
    """The issue's case: two different runs into one --out at the same time; both complete, all rows kept."""
    a = subprocess.Popen([sys.executable, str(ROOT / "run_bench.py"), *TV30, "--out", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    b = _cli("--task", "sr", "--scale", "2,3,4", "--datasets", "set5", "--methods", "bicubic", "--jobs", "1",
             "--quiet", "--out", str(tmp_path))
    out_a, err_a = a.communicate(timeout=300)
    assert a.returncode == 0 and b.returncode == 0, err_a[-2000:] + b.stderr[-2000:]
    assert len(_db_rows(tmp_path)) == 12 + 15
    # whichever run finished last exported both runs' rows; a rerun of either computes nothing
    rows = _csv(tmp_path)
    assert rows.groupby("method").size().to_dict() == {"bicubic": 15, "tv": 12}
    assert {"table_denoise_set12.md", "table_sr_set5.md"} <= {p.name for p in tmp_path.iterdir()}
    again = _cli(*TV30, "--out", str(tmp_path))
    assert again.returncode == 0 and "(0 computed, 12 reused" in again.stdout
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_interrupt_exports_rows_csv(mirror, tmp_path):
    import signal
    # BM3D (seconds per image), so the run cannot finish between two polls of the store
    slow = [arg if arg != "tv" else "bm3d" for arg in TV30]
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_bench.py"), *slow, "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, REDBENCH_NO_REEXEC="1"),
                            # a shell without job control starts background jobs with SIGINT ignored, and the
                            # child would inherit that: give it the default, as a terminal's Ctrl-C finds it
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            if len(_db_rows(tmp_path)) >= 2:
                break
        except Exception:     # not created yet
            pass
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    stored = _db_rows(tmp_path)
    assert 2 <= len(stored) < 12 and len(_csv(tmp_path)) == len(stored)
    assert "interrupted: finished rows are saved" in err


def test_insert_cost_does_not_grow_with_rows(tmp_path):
    """One INSERT per row: the 100 rows after 20,000 cost about what the first 100 cost (was ~23 ms/row
    at 4,000 rows when every row rewrote rows.csv)."""
    store = ResultStore(tmp_path)

    def per_row(start: int) -> float:
        tick = time.perf_counter()
        for i in range(start, start + 100):
            store.add(_row(i))
        return (time.perf_counter() - tick) / 100

    first = per_row(0)
    store.db.execute("BEGIN")   # fill quickly in one transaction; the timing below is per committed INSERT again
    store.db.executemany(f"INSERT INTO rows ({', '.join(STORE_KEY)}, psnr, ssim, seconds, noise_seed, worker, "
                             f"written) VALUES ({', '.join('?' * (len(STORE_KEY) + 6))})",
                         [("sr", "set5", f"x{i}", "bicubic", "w@1", 2.0, 0, 0, 30.0, 0.9, 0.1, 0, "h:1", 0.0)
                          for i in range(20_000)])
    store.db.execute("COMMIT")
    later = per_row(100)
    store.close()
    assert later < max(5 * first, 0.002), (first, later)


# ---------------------------------------------------------------- weights in the key

def _tiny_net(directory: Path, name: str, seed: int, task: str = "denoise", levels=(30,)) -> str:
    """A 2-layer RED network with random weights and a model card: a stand-in for retrained weights."""
    import torch

    from redbench.methods import weights as weights_io
    from redbench.methods.red_network import REDConfig, REDNet
    torch.manual_seed(seed)
    config = REDConfig(depth=2, width=4, skip="none")
    net = REDNet(config)
    card = weights_io.ModelCard(
        name=name, architecture="red", config=config.as_dict(), task=task, levels=list(levels), recipe="fast",
        iterations=0, patches_seen=0, batch_size=1, patch_size=50, train_set="bsd300-train", device="cpu",
        wall_seconds=0.0, budget="none (test)", val_psnr=None, val_protocol="none", git_commit="test", seed=seed)
    weights_io.save(net.state_dict(), card, directory)
    return f"net:{directory / name}"


def test_swapped_weights_are_recomputed_and_kept_apart(mirror, tmp_path, capsys):
    from redbench.evaluation import runner

    def run_fresh():
        # each command is a new process in real use: forget the methods this one has built (the network
        # cache is keyed by the weights' sha256, so retrained weights are loaded afresh anyway)
        runner.load_method.cache_clear()
        return _main(capsys, *args)

    method = _tiny_net(tmp_path / "w", "tiny-sr", seed=1, task="sr", levels=(2,))
    args = [*SR2[:6], "--methods", method, "--jobs", "1", "--quiet", "--out", str(tmp_path / "out")]
    code, _, err = run_fresh()
    assert code == 0, err
    old = _csv(tmp_path / "out")
    _tiny_net(tmp_path / "w", "tiny-sr", seed=2, task="sr", levels=(2,))     # retrained: same name, new weights
    code, stdout, err = run_fresh()
    assert code == 0 and "(5 computed, 0 reused" in stdout, err
    rows = _csv(tmp_path / "out")
    assert len(rows) == 10 and rows.weights.nunique() == 2
    new_weights = (set(rows.weights) - set(old.weights)).pop()
    assert new_weights.startswith("tiny-sr@") and len(new_weights.split("@")[1]) == 64
    # the table shows the installed weights only, and says which they are
    table = (tmp_path / "out" / "table_sr_set5.md").read_text()
    assert f"tiny-sr@{new_weights.split('@')[1][:12]}" in table
    assert old.weights[0].split("@")[1][:12] not in table
    assert f"{rows[rows.weights == new_weights].psnr.mean():.2f}" in table
    # the old rows are still there, apart: retraining back to the first weights reuses them
    _tiny_net(tmp_path / "w", "tiny-sr", seed=1, task="sr", levels=(2,))
    assert "(0 computed, 5 reused" in run_fresh()[1]


def test_tables_leave_out_other_methods_rows_of_weights_no_longer_installed(mirror, tmp_path, capsys):
    """A run's tables also show the folder's other methods, but only rows of the weights installed now."""
    from redbench.evaluation import runner
    method = _tiny_net(tmp_path / "w", "tiny-stale", seed=1, task="sr", levels=(2,))
    out = ["--out", str(tmp_path / "out")]
    code, _, err = _main(capsys, *SR2[:6], "--methods", method, "--jobs", "1", "--quiet", *out)
    assert code == 0, err
    assert "tiny-stale" in (tmp_path / "out" / "table_sr_set5.md").read_text()
    _tiny_net(tmp_path / "w", "tiny-stale", seed=2, task="sr", levels=(2,))   # retrained since
    runner.load_method.cache_clear()
    code, _, err = _main(capsys, *SR2, *out)                                     # bicubic only
    assert code == 0, err
    table = (tmp_path / "out" / "table_sr_set5.md").read_text()
    assert "bicubic" in table and "tiny-stale" not in table
    assert len(_csv(tmp_path / "out")) == 10                                      # the old rows stay stored


def test_untrained_levels_need_the_flag_and_captions_show_present_levels(mirror, tmp_path, capsys):
    method = _tiny_net(tmp_path / "w", "tiny-sr-levels", seed=1, task="sr", levels=(2, 3, 4))
    args = ["--task", "sr", "--datasets", "set5", "--methods", method, "--jobs", "1", "--quiet",
            "--out", str(tmp_path / "out")]
    code, _, err = _main(capsys, *args, "--scale", "4,7")
    _one_line(code, err, "has no network for scale 7 (trained: 2/3/4): ", "pass --allow-untrained-levels")
    code, _, err = _main(capsys, *args, "--scale", "5,7,8")     # every untrained pair is counted, the first named
    _one_line(code, err, "has no network for scale 5 (trained: 2/3/4), nor do 2 more method/level pairs: ")
    assert not (tmp_path / "out" / "rows.sqlite").exists()
    code, _, err = _main(capsys, *args, "--scale", "7", "--allow-untrained-levels")
    assert code == 0, err
    table = (tmp_path / "out" / "table_sr_set5.md").read_text()
    assert "5 images, scale x7." in table and "x2" not in table


def test_worker_with_other_weights_refuses_the_item(mirror):
    """A cluster worker with other weights installed must not file its output under the parent's weights."""
    from redbench.datasets.fetch import dataset_files
    from redbench.core.errors import UserError
    from redbench.evaluation.runner import WorkItem, evaluate
    ref = dataset_files("set5")[0]
    item = WorkItem("sr", "set5", ref.name, ref.path, "bicubic", 2, 0, False, weights="bicubic-params@other")
    with pytest.raises(UserError, match="install the same weights"):
        evaluate(item)


def test_classical_methods_are_keyed_by_their_parameters():
    from redbench.core.degradations import GaussianNoise
    from redbench.methods.registry import get_method
    tv = get_method("tv", "denoise")
    assert tv.weights_id(GaussianNoise(30)) != tv.weights_id(GaussianNoise(50))
    assert tv.weights_id(GaussianNoise(30)).startswith("tv-params@") and tv.trained_levels() is None
    bicubic = get_method("bicubic", "sr")
    assert bicubic.weights_id(None).startswith("bicubic-params@") and bicubic.trained_levels() is None


# ---------------------------------------------------------------- damaged store and rows.csv

def test_damaged_database_is_one_line_and_rows_csv_restores_it(sr2_run, tmp_path, capsys):
    out = copy_run(sr2_run, tmp_path / "out")
    db = out / "rows.sqlite"
    data = bytearray(db.read_bytes())
    data[100:4096] = os.urandom(3996)          # header intact, first page garbage
    db.write_bytes(bytes(data))
    _one_line(*_main(capsys, *SR2, "--out", str(out))[::2], "rows.sqlite is damaged", "move it")
    db.write_bytes(b"not a database at all" * 100)
    _one_line_error(_cli(*SR2, "--out", str(out)), "rows.sqlite is damaged")     # and as a real command
    # the fix the message names: move it away; the exported rows.csv is imported and nothing is recomputed
    db.rename(out / "rows.sqlite.broken")
    code, stdout, err = _main(capsys, *SR2, "--out", str(out))
    assert code == 0 and "(0 computed, 5 reused" in stdout and "imported 5 rows" in err, err


def test_damaged_rows_csv_is_reported_and_recomputed(sr2_run, tmp_path, capsys):
    out = copy_run(sr2_run, tmp_path / "out")
    good = _csv(out)
    (out / "rows.sqlite").unlink()
    lines = (out / "rows.csv").read_text().splitlines()
    psnr = lines[0].split(",").index("psnr")
    damaged = [lines[0]]
    for i, line in enumerate(lines[1:]):
        fields = line.split(",")
        fields[psnr] = {0: "", 1: "nan", 2: "-3"}.get(i, fields[psnr])   # empty PSNR used to count as done
        damaged.append(",".join(fields))
    damaged[-1] = damaged[-1][: len(damaged[-1]) // 3]    # a half line, as a crash mid-write leaves
    (out / "rows.csv").write_text("\n".join(damaged))
    code, stdout, err = _main(capsys, *SR2, "--out", str(out))
    assert code == 0, err
    notes = [line for line in err.splitlines() if "missing or out-of-range" in line]
    assert len(notes) == 1 and "psnr missing" in notes[0] and "psnr -3.0" in notes[0], err
    assert "1 lines without a readable key" in err and "(4 computed, 1 reused" in stdout
    rows = _csv(out).sort_values("image").reset_index(drop=True)
    assert rows[["image", "psnr", "ssim"]].equals(good.sort_values("image").reset_index(drop=True)[
        ["image", "psnr", "ssim"]])
    assert "5 images, scale x2." in (out / "table_sr_set5.md").read_text()


def test_invalid_row_in_database_is_recomputed(sr2_run, tmp_path, capsys):
    out = copy_run(sr2_run, tmp_path / "out")
    with closing(sqlite3.connect(out / "rows.sqlite")) as db:
        db.execute("UPDATE rows SET ssim = 7 WHERE image = 'baby'")
        db.execute("UPDATE rows SET worker = NULL WHERE image = 'bird'")
        db.commit()
    code, stdout, err = _main(capsys, *SR2, "--out", str(out))
    assert code == 0 and "(2 computed, 3 reused" in stdout, err
    assert "2 stored sr rows" in err and "ssim 7.0" in err and "worker missing" in err


def test_rows_csv_of_an_older_run_is_imported_once_and_not_reused(sr2_run, tmp_path, capsys):
    out = copy_run(sr2_run, tmp_path / "out")
    legacy = _csv(out).drop(columns="weights")
    legacy.loc[0, "psnr"] = 99.0                # the older run's own number, kept as it was
    (out / "rows.sqlite").unlink()
    legacy.to_csv(out / "rows.csv", index=False)
    code, stdout, err = _main(capsys, *SR2, "--out", str(out))
    assert code == 0 and "(5 computed, 0 reused" in stdout and "5 of them do not record their weights" in err
    rows = _csv(out)
    assert len(rows) == 10 and (rows.weights == "unrecorded").sum() == 5
    assert 99.0 in rows[rows.weights == "unrecorded"].psnr.tolist()
    assert 99.0 not in rows[rows.weights != "unrecorded"].psnr.tolist()
    assert "99.00" not in (out / "table_sr_set5.md").read_text()
    code, stdout, err = _main(capsys, *SR2, "--out", str(out))
    assert "imported" not in err and "(0 computed, 5 reused" in stdout


def test_problems_of_a_row():
    assert problems(_row(1)) == []
    assert problems(_row(1, psnr=float("inf"))) == []
    assert problems(_row(1, psnr=None)) == ["psnr missing"]
    assert problems(_row(1, ssim=1.5, seconds=-1.0)) == ["ssim 1.5", "seconds -1.0"]
    assert problems(_row(1, task="denoise", dataset="set12", level=30, noise_seed=5)) == \
        ["noise_seed does not match the key"]


def test_a_run_removes_the_temp_files_of_dead_writers_only(mirror, tmp_path, capsys):
    """A SIGKILLed run leaves .NAME.HOST.PID.*.tmp files (docs/reliability.md); the next run in the folder removes
    those whose writer is gone and keeps a live writer's (a concurrent run's), another machine's and other files."""
    from redbench.core.atomic import TEMP_NAME, atomic_path, host_tag, remove_stale_temps, temp_prefix
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()                                                  # exited and reaped: no process has its pid now
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f"{temp_prefix('rows.csv', dead.pid)}k2j3h4g5.tmp"
    live = out / f"{temp_prefix('table_sr_set5.md', os.getpid())}a1b2c3d4.tmp"
    other_host = "0" * 8 if host_tag() != "0" * 8 else "1" * 8  # a machine sharing the folder: its pids are not ours
    elsewhere = out / f".run.json.{other_host}.{dead.pid}.abcd1234.tmp"
    kept = [live, elsewhere, out / ".rows.csv.k2j3h4g5.tmp", out / "notes.tmp", out / f".x.{dead.pid}.tmp"]
    for path in [stale, *kept]:
        path.write_text("partial")
    assert TEMP_NAME.fullmatch(stale.name) and TEMP_NAME.fullmatch(elsewhere.name)
    code, _, err = _main(capsys, *SR2, "--out", str(out))
    assert code == 0, err
    assert not stale.exists() and all(path.exists() for path in kept)
    with atomic_path(out / "y.md") as tmp:                      # this process's own temp, mid-write, stays
        tmp.write_text("y")
        assert TEMP_NAME.fullmatch(tmp.name) and remove_stale_temps(out) == [] and tmp.exists()
    assert (out / "y.md").read_text() == "y"


# ---------------------------------------------------------------- permissions and one-line errors

def test_results_are_written_with_normal_permissions(sr2_run, tmp_path):
    from redbench.core.atomic import write_text_atomic
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "x.md", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "x.md").stat().st_mode & 0o777 == 0o644
    for path in sr2_run.iterdir():      # written by a real command under the test's umask
        assert path.stat().st_mode & 0o777 == 0o666 & ~old, path
    # trained weights and checkpoints (safetensors alone writes 0600)
    import torch

    from redbench.training.checkpoint import save_checkpoint
    _tiny_net(tmp_path / "w", "tiny", seed=1)
    model = torch.nn.Linear(2, 2)
    save_checkpoint(tmp_path / "checkpoint.safetensors", model, torch.optim.Adam(model.parameters()), {}, {"step": 0})
    for path in (tmp_path / "w" / "tiny.safetensors", tmp_path / "w" / "tiny.json",
                 tmp_path / "checkpoint.safetensors"):
        assert path.stat().st_mode & 0o777 == 0o666 & ~old, path


def _unwritable(tmp_path: Path) -> Path:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() != 0:
        return folder / "out"
    if Path("/sys/kernel").is_dir():       # root ignores mode bits; sysfs refuses new folders even to root
        return Path("/sys/kernel/redbench-out")
    pytest.skip("running as root without sysfs: no unwritable folder to test with")


@pytest.mark.parametrize("case", ["file", "below-file", "unwritable"])
def test_bad_out_is_one_line_before_any_work(mirror, tmp_path, case, capsys):
    (tmp_path / "afile").write_text("x")
    out = {"file": tmp_path / "afile", "below-file": tmp_path / "afile" / "out",
           "unwritable": _unwritable(tmp_path) if case == "unwritable" else None}[case]
    if case == "file":
        _one_line_error(_cli(*SR2, "--out", str(out)), f"--out {out}", "existing file")
    else:
        code, _, err = _main(capsys, *SR2, "--out", str(out))
        _one_line(code, err, f"--out {out}")


@pytest.mark.parametrize("args, message", [
    (["--minutes", "0"], "--minutes must be positive"),
    (["--iters", "1", "--model", "red31"], "an even depth"),
    (["--iters", "1", "--task", "sr", "--levels", "2", "--train-set", "set12"], "not a sr set"),
])
def test_bad_training_input_is_one_line(mirror, tmp_path, args, message, capsys):
    code, _, err = _main(capsys, "train", *args, "--out", str(tmp_path / "t"))
    _one_line(code, err, message)
    assert not (tmp_path / "t" / "checkpoint.safetensors").exists()


def test_truncated_model_card_is_one_line(mirror, tmp_path, capsys):
    method = _tiny_net(tmp_path / "w", "tiny-denoise", seed=1)
    card = tmp_path / "w" / "tiny-denoise.json"
    card.write_text(card.read_text()[:40])
    code, _, err = _main(capsys, *TV30[:6], "--methods", method, "--out", str(tmp_path / "out"))
    _one_line(code, err, "tiny-denoise.json")


@pytest.mark.parametrize("case", ["unknown", "fixed-size"])
def test_network_that_cannot_be_built_is_one_line(mirror, tmp_path, case, capsys):
    """net:<weights> whose card names an architecture the registry lacks, or Figure 3(a)'s stride-3 network,
    which takes 243x243 inputs only (it used to die with a TypeError from SRCNNConfig)."""
    if case == "unknown":
        import json
        method = _tiny_net(tmp_path / "w", "odd", seed=1)
        card = tmp_path / "w" / "odd.json"
        card.write_text(json.dumps(dict(json.loads(card.read_text()), architecture="unet")))
        needles = ("unknown network architecture 'unet'", "odd")
    else:
        method = f"net:{ROOT}/results/experiments/fig3a-skip/fig3a-skip"
        needles = ("strided5 network", "cannot restore whole test images")
    code, _, err = _main(capsys, *TV30[:6], "--methods", method, "--out", str(tmp_path / "out"))
    _one_line(code, err, *needles)


def test_sr_training_patches_at_a_scale_that_does_not_divide_12(mirror):
    from redbench.datasets.catalog import get_spec
    from redbench.datasets.fetch import dataset_files
    from redbench.training.patches import PatchSource
    source = PatchSource("sr", [5], dataset_files("set5")[:2], get_spec("set5"), patch=20)
    inputs, targets = source.batch(3)
    assert inputs.shape == targets.shape == (3, 1, 20, 20)


def test_relative_data_dir_is_resolved_at_start_up(mirror, tmp_path):
    """The README's test command sets REDBENCH_DATA_DIR=../shared/datasets; a process that runs elsewhere
    (torchrun ranks, workers) must still find it."""
    from redbench.cli import resolve_data_paths
    relative = os.path.relpath(mirror, tmp_path)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        old = os.environ["REDBENCH_DATA_DIR"]
        os.environ["REDBENCH_DATA_DIR"] = relative
        argv = resolve_data_paths(["--data-dir", relative, "--data-dir=" + relative])
        assert os.environ["REDBENCH_DATA_DIR"] == str(mirror)
        assert argv == ["--data-dir", str(mirror), "--data-dir=" + str(mirror)]
    finally:
        os.environ["REDBENCH_DATA_DIR"] = old
        os.chdir(cwd)
    # end to end: a relative mirror path given where the command is typed
    env_relative = os.path.relpath(mirror, tmp_path)
    result = subprocess.run([sys.executable, str(ROOT / "run_bench.py"), "--task", "sr", "--scale", "2",
                             "--datasets", "set5", "--methods", "bicubic", "--quiet", "--out", "out"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env=dict(os.environ, REDBENCH_DATA_DIR=env_relative))
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(_csv(tmp_path / "out")) == 5


def test_the_host_tag_tells_apart_two_machines_of_one_host_name(tmp_path, monkeypatch):
    """Every Linux host's initial pid namespace has the same inode, so /etc/machine-id is what differs between two
    machines that share a host name (and a folder)."""
    from redbench.core import atomic
    tags = []
    for machine in ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"):
        (tmp_path / machine).write_text(machine + "\n")
        monkeypatch.setattr(atomic, "MACHINE_ID", tmp_path / machine)
        atomic.host_tag.cache_clear()
        tags.append(atomic.host_tag())
    monkeypatch.setattr(atomic, "MACHINE_ID", tmp_path / "none")   # unreadable: the host name and namespace alone
    atomic.host_tag.cache_clear()
    tags.append(atomic.host_tag())
    atomic.host_tag.cache_clear()
    assert len(set(tags)) == 3 and all(re.fullmatch(r"[0-9a-f]{8}", tag) for tag in tags)
