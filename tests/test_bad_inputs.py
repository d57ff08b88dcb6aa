"""The bad-input batteries (issues 19 and 26): every case gives the correct result or one line `error: ...` with
exit code 2 before any work starts, and nothing computed is lost."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from redbench.core.errors import UserError
from tests.conftest import ROOT
from tests.test_results_store import SR2, _main, _one_line, _tiny_net

PLAN = """
[[network]]
name = "red10-denoise-s30"
model = "red10"
task = "denoise"
levels = "30"
priority = 1
cpu_patches = 16
gpu_patches = 16
"""


# ---------------------------------------------------------------- what each case needs on disk

def _gray(folder: Path, name: str, size=(40, 48), seed=0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, size[::-1], dtype=np.uint8)
    Image.fromarray(pixels).save(folder / name)
    return folder / name


def _tiny_image(tmp):
    _gray(tmp / "mine", "ok.png")
    _gray(tmp / "mine", "dot.png", size=(1, 1))
    return ["--datasets", f"dir:{tmp / 'mine'}"]


def _small_for_sr(tmp):
    _gray(tmp / "mine", "small.png", size=(16, 16))     # enough to denoise and for x2, not for x4 (16 - 2 * 4 < 11)
    return ["--datasets", f"dir:{tmp / 'mine'}"]


def _float_tiff(tmp):
    (tmp / "mine").mkdir()
    Image.fromarray(np.full((32, 32), 0.5, np.float32)).save(tmp / "mine" / "float.tif")
    return ["--datasets", f"dir:{tmp / 'mine'}"]


def _edited_depth(tmp):
    method = _tiny_net(tmp / "w", "edited", seed=1)
    card = tmp / "w" / "edited.json"
    data = json.loads(card.read_text())
    data["config"]["depth"] = 4                       # the case: config.depth 10 -> 20
    card.write_text(json.dumps(data))
    return ["--methods", method]


def _unknown_key(tmp):
    method = _tiny_net(tmp / "w", "extra", seed=1)
    card = tmp / "w" / "extra.json"
    card.write_text(json.dumps(dict(json.loads(card.read_text()), sharpness=3)))
    return ["--methods", method]


def _per_level(tmp, damage: str):
    """A copy of the committed srcnn-sr-x* networks in a folder of their own, one of them damaged."""
    from redbench.methods.weights import WEIGHTS_DIR
    folder = tmp / "w"
    folder.mkdir()
    for path in WEIGHTS_DIR.glob("srcnn-sr-x*"):
        shutil.copy(path, folder / path.name)
    if damage == "corrupt":
        blob = bytearray((folder / "srcnn-sr-x2.safetensors").read_bytes())
        blob[-10:] = b"\0" * 10
        (folder / "srcnn-sr-x2.safetensors").write_bytes(bytes(blob))
    else:
        (folder / "srcnn-sr-x2.json").unlink()
    return folder


@pytest.fixture
def per_level(monkeypatch):
    """srcnn (one network per scale) read from a folder the test damages."""
    from redbench.evaluation import runner
    from redbench.methods import base, red_family, registry

    def install(folder):
        entry = base.METHODS["srcnn"]
        monkeypatch.setitem(base.METHODS, "srcnn", registry.replace(
            entry, factory=lambda task: red_family.PerLevelNetwork("srcnn", task, "srcnn-sr", folder)))
        runner.load_method.cache_clear()
    registry.registered()
    yield install
    runner.load_method.cache_clear()


def _png_header(tmp, width, height):
    """A PNG whose header says width x height but holds a few rows: a decompression bomb of a few hundred bytes
    (refused from the header, so the missing rows are never read)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    (tmp / "mine").mkdir()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    (tmp / "mine" / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                                            + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1) * 4)) + chunk(b"IEND", b""))
    return ["--datasets", f"dir:{tmp / 'mine'}"]


def _truncated_jpeg(tmp):
    (tmp / "mine").mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp / "mine" / "cut.jpg", quality=90)
    blob = (tmp / "mine" / "cut.jpg").read_bytes()
    (tmp / "mine" / "cut.jpg").write_bytes(blob[:len(blob) // 2])   # Pillow's verify() does not see it
    return ["--datasets", f"dir:{tmp / 'mine'}"]


def _not_utf8_folder(tmp):
    folder = os.fsencode(tmp) + b"/caf\xe9"          # a Latin-1 folder name, as older systems wrote them
    _gray(Path(os.fsdecode(folder)), "ok.png")
    return ["--datasets", "dir:" + os.fsdecode(folder)]


def _escape_clash(tmp):
    _gray(tmp / "mine", "caf\\xe9.png")                  # a name that is literally what the next one escapes to
    _gray(tmp / "mine", os.fsdecode(b"caf\xe9.png"))
    return ["--datasets", f"dir:{tmp / 'mine'}"]


def _not_utf8_weights(tmp):
    folder = Path(os.fsdecode(os.fsencode(tmp) + b"/caf\xe9"))
    return ["--methods", _tiny_net(folder, "tiny", seed=1)]


def _card(tmp, config=None, **fields):
    """net: weights whose card was edited: `config` entries and other fields replaced."""
    method = _tiny_net(tmp / "w", "edited", seed=1)
    card = tmp / "w" / "edited.json"
    data = json.loads(card.read_text())
    data["config"].update(config or {})
    data.update(fields)
    card.write_text(json.dumps(data))
    return ["--methods", method]


def _nested_card(tmp):
    """A card of 400 KB that is one array nested 200,000 deep: json.loads runs out of recursion."""
    args = _card(tmp)
    (tmp / "w" / "edited.json").write_text("[" * 200000 + "]" * 200000)
    return args


def _bad_weights(tmp, value):
    """net: weights with one value replaced (NaN), the card's sha256 updated to match: a diverged network."""
    from safetensors.torch import load_file, save_file

    from redbench.core.hashing import file_sha256
    method = _tiny_net(tmp / "w", "diverged", seed=1)
    path = tmp / "w" / "diverged.safetensors"
    state = load_file(path)
    state["decoder.0.bias"][0] = value
    save_file(state, path)
    card = tmp / "w" / "diverged.json"
    card.write_text(json.dumps(dict(json.loads(card.read_text()), sha256=file_sha256(path))))
    return ["--methods", method]


def _plan(tmp, text):
    (tmp / "plan.toml").write_text(text)
    return ["--plan", str(tmp / "plan.toml")]


def _existing_file(tmp):
    (tmp / "afile").write_text("x")
    return ["--out", str(tmp / "afile")]


TRAIN = ["train", "--model", "red10", "--levels", "30", "--iters", "1", "--patch", "24", "--train-set", "set12"]
EVAL_SR = ["--task", "sr", "--scale", "2", "--datasets", "set5", "--methods", "bicubic", "--jobs", "1", "--quiet"]
EVAL_DN = ["--task", "denoise", "--sigma", "30", "--methods", "noisy", "--jobs", "1", "--quiet"]

# (case, command line, a function of tmp_path giving more arguments (files it made), env ({tmp}: tmp_path), words of
# the one line)
CASES = [
    ("methods-empty", ["--task", "sr", "--methods", "", "--quiet"], None, {}, ["--methods '' names nothing"]),
    ("datasets-comma", ["--task", "sr", "--datasets", ",", "--quiet"], None, {}, ["--datasets ',' names nothing"]),
    ("sigma-empty", ["--task", "denoise", "--sigma", "", "--methods", "noisy"], None, {}, ["no levels given"]),
    ("sigma-for-sr", ["--task", "sr", "--sigma", ""], None, {}, ["--sigma is for --task denoise"]),
    ("seed-beyond-int64", [*EVAL_SR, "--seed", "99999999999999999999999"], None, {}, ["--seed must be an integer",
                                                                                    "64-bit"]),
    ("jobs-negative", [*EVAL_SR, "--jobs", "-1"], None, {}, ["--jobs must be an integer >= 0"]),
    ("tile-text", ["--task", "sr", "--scale", "2", "--datasets", "set5", "--methods", "srcnn"], None,
     {"REDBENCH_TILE": "abc"}, ["REDBENCH_TILE='abc' is not a tile size"]),
    ("tile-zero", ["--task", "sr", "--scale", "2", "--datasets", "set5", "--methods", "srcnn"], None,
     {"REDBENCH_TILE": "0"}, ["REDBENCH_TILE='0'"]),
    ("tile-negative", ["--task", "sr", "--scale", "2", "--datasets", "set5", "--methods", "srcnn"], None,
     {"REDBENCH_TILE": "-64"}, ["REDBENCH_TILE='-64'"]),
    ("image-1x1", EVAL_DN, _tiny_image, {}, ["dot.png is 1x1 pixels", "at least 11x11"]),
    ("image-1x1-sr", ["--task", "sr", "--scale", "2", "--methods", "bicubic"], _tiny_image, {},
     ["dot.png is 1x1 pixels", "at least 16x16"]),
    ("image-small-for-x4", ["--task", "sr", "--scale", "2,4", "--methods", "bicubic"], _small_for_sr, {},
     ["small.png is 16x16", "at least 20x20"]),
    ("image-float32", EVAL_DN, _float_tiff, {}, ["32-bit float", "8- or 16-bit PNG"]),
    ("card-edited-depth", ["--task", "denoise", "--sigma", "30", "--datasets", "set12"], _edited_depth, {},
     ["weights 'edited' do not fit", "edited.json", "restore it from git"]),
    ("card-unknown-key", ["--task", "denoise", "--sigma", "30", "--datasets", "set12"], _unknown_key, {},
     ["extra.json has unknown keys ['sharpness']"]),
    ("train-minutes-nan", [*TRAIN, "--minutes", "nan"], None, {}, ["--minutes must be positive", "nan"]),
    ("train-batch-size-0", [*TRAIN, "--batch-size", "0"], None, {}, ["--batch-size must be positive"]),
    ("train-holdout-negative", [*TRAIN, "--holdout", "-1"], None, {}, ["--holdout must be an integer >= 0"]),
    ("train-val-every-0", [*TRAIN, "--val-every", "0"], None, {}, ["--val-every must be positive"]),
    ("train-patch-0", [*TRAIN, "--patch", "0"], None, {}, ["--patch must be an integer from 8"]),
    ("train-threads-negative", [*TRAIN, "--threads", "-1"], None, {}, ["--threads must be an integer >= 1"]),
    ("train-seed-negative", [*TRAIN, "--seed", "-1"], None, {}, ["--seed must be an integer from 0"]),
    ("train-name-path", [*TRAIN, "--name", "../elsewhere"], None, {}, ["--name '../elsewhere' is not a file name"]),
    ("train-out-is-a-file", TRAIN, _existing_file, {}, ["is an existing file, not a folder"]),
    ("train-snapshots-before-the-ship-rule", [*TRAIN, "--publish", "--ship-if-better", "--snapshot-minutes", "5"],
     None, {}, ["--snapshot-minutes publishes snapshots over the installed network"]),
    ("plan-only-misspelt", ["train", "--only", "red10-denoise-s3", "--nice", "0"], lambda t: _plan(t, PLAN), {},
     ["--only red10-denoise-s3", "Did you mean 'red10-denoise-s30'?"]),
    ("plan-network-table", ["train", "--status"], lambda t: _plan(t, PLAN.replace("[[network]]", "[network]")), {},
     ["`[[network]]`"]),
    ("plan-string-priority", ["train", "--status"], lambda t: _plan(t, PLAN.replace("priority = 1", 'priority = "1"')),
     {}, ["priority = '1' must be an integer"]),
    ("plan-cpu-patches-0", ["train", "--status"], lambda t: _plan(t, PLAN.replace("cpu_patches = 16", "cpu_patches = 0")),
     {}, ["cpu_patches must be positive"]),
    ("plan-bad-levels", ["train", "--status"], lambda t: _plan(t, PLAN.replace('levels = "30"', 'levels = "300"')),
     {}, ["levels = '300'", "invalid sigma 300"]),
    ("plan-campaign-string", ["train", "--status"],
     lambda t: _plan(t, '[campaign]\nsnapshot_minutes = "soon"\n' + PLAN), {}, ["snapshot_minutes = 'soon'"]),
    # the third battery (issue 26)
    ("dir-path-not-utf8", EVAL_DN, _not_utf8_folder, {}, ["caf\\xe9: the folder's path is not valid UTF-8", "ln -s"]),
    ("dir-escaped-name-clash", EVAL_DN, _escape_clash, {}, ["two images named 'caf\\xe9'"]),
    ("image-12000x12000", EVAL_DN, lambda t: _png_header(t, 12000, 12000), {},
     ["huge.png is 12000x12000 = 144,000,000 pixels", "over the bound of 16,777,216 (REDBENCH_MAX_PIXELS)"]),
    ("image-bomb-400-mpx", EVAL_DN, lambda t: _png_header(t, 20000, 20000), {},
     ["huge.png is over Pillow's decompression-bomb limit", "REDBENCH_MAX_PIXELS"]),
    ("max-pixels-lowered", EVAL_DN, lambda t: ["--datasets", f"dir:{_gray(t / 'mine', 'ok.png').parent}"],
     {"REDBENCH_MAX_PIXELS": "1000"}, ["ok.png is 40x48 = 1,920 pixels, over the bound of 1,000"]),
    ("max-pixels-listed-set", EVAL_SR, None, {"REDBENCH_MAX_PIXELS": "1000"}, ["over the bound of 1,000"]),
    ("max-pixels-text", [*EVAL_DN, "--datasets", "set12"], None, {"REDBENCH_MAX_PIXELS": "1e6"},
     ["REDBENCH_MAX_PIXELS='1e6' is not a pixel count"]),
    ("image-truncated-jpeg", EVAL_DN, _truncated_jpeg, {}, ["cannot read image", "cut.jpg", "truncated"]),
    ("sigma-beyond-g-digits", [*EVAL_DN[:3], "30.0000001", *EVAL_DN[4:], "--datasets", "set12"], None, {},
     ["invalid sigma 30.0000001", "filed as 30"]),
    ("tile-superscript-digit", ["--task", "sr", "--scale", "2", "--datasets", "set5", "--methods", "srcnn"], None,
     {"REDBENCH_TILE": "\u00b2"}, ["REDBENCH_TILE='\u00b2' is not a tile size"]),
    ("data-dir-empty", [*EVAL_DN, "--datasets", "set12", "--data-dir", ""], None, {}, ["--data-dir '' names no folder"]),
    ("card-depth-10-million", EVAL_DN[:4] + ["--datasets", "set12"], lambda t: _card(t, {"depth": 10**7}), {},
     ["{'depth': 10000000} is more than the 4 tensors", "the card was edited"]),
    ("card-width-million", EVAL_DN[:4] + ["--datasets", "set12"], lambda t: _card(t, {"width": 10**6}), {},
     ["{'width': 1000000} is more than"]),
    ("card-negative-width", EVAL_DN[:4] + ["--datasets", "set12"], lambda t: _card(t, {"width": -4}), {},
     ["does not fit that architecture", "negative dimension"]),
    ("card-levels-nan", EVAL_DN[:4] + ["--datasets", "set12"], lambda t: _card(t, levels=[float("nan")]), {},
     ["levels = [nan] must be a non-empty list of positive numbers"]),
    ("card-names-other-weights", EVAL_DN[:4] + ["--datasets", "set12"], lambda t: _card(t, name="red30-denoise-s30"),
     {}, ["names weights 'red30-denoise-s30', not 'edited'"]),
    ("card-over-a-megabyte", EVAL_DN[:4] + ["--datasets", "set12"],
     lambda t: _card(t, extra={"pad": "x" * (1 << 20)}), {}, ["bytes, not a model card"]),
    ("card-nested-200000-deep", EVAL_DN[:4] + ["--datasets", "set12"],
     _nested_card, {}, ["model card", "edited.json is damaged", "recursion"]),
    ("weights-nan", EVAL_DN[:4] + ["--datasets", "set12"], lambda t: _bad_weights(t, float("nan")), {},
     ["weights 'diverged'", "diverged.safetensors) hold NaN or infinite values"]),
    ("net-path-not-utf8", EVAL_DN[:4] + ["--datasets", "set12"], lambda t: _not_utf8_weights(t), {},
     ["method net:", "caf\\xe9/tiny: the path is not valid UTF-8"]),
    ("cache-is-a-file", ["fetch", "set5"], lambda t: _existing_file(t)[:0], {"REDBENCH_CACHE": "{tmp}/afile"},
     ["$REDBENCH_CACHE=", "afile is a file, not a folder"]),
    ("train-init-nan", TRAIN, lambda t: ["--init", _bad_weights(t, float("nan"))[1][len("net:"):]], {},
     ["weights 'diverged'", "hold NaN or infinite values"]),
    ("plan-name-200-chars", ["train", "--status"],
     lambda t: _plan(t, PLAN.replace('name = "red10-denoise-s30"', f'name = "{"a" * 200}"')), {},
     ["must be a plain file name", "at most 120"]),
    ("train-name-300-chars", [*TRAIN, "--name", "a" * 300], None, {}, ["is not a file name", "at most 120"]),
    ("train-name-not-utf8", [*TRAIN, "--name", os.fsdecode(b"caf\xe9")], None, {},
     ["--name 'caf\\xe9' is not a file name"]),
]


@pytest.mark.parametrize("case, args, setup, env, needles", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_before_any_work(mirror, tmp_path, monkeypatch, capsys, case, args, setup, env,
                                               needles):
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(tmp=tmp_path))
    extra = setup(tmp_path) if setup else []
    takes_out = args[0] not in ("fetch", "list", "reproduce") and "--out" not in extra and "--plan" not in extra
    out = ["--out", str(tmp_path / "out")] if takes_out else []
    code, _, err = _main(capsys, *args, *extra, *out)
    _one_line(code, err, *needles)
    assert not (tmp_path / "out" / "rows.sqlite").exists() and not (tmp_path / "out" / "checkpoint.safetensors").exists()


@pytest.mark.parametrize("damage, needles", [
    ("corrupt", ["checksum mismatch", "srcnn-sr-x2.safetensors"]),
    ("cardless", ["has no model card srcnn-sr-x2.json", "restore the card"]),
])
def test_damaged_per_level_weights_are_found_before_any_work(mirror, tmp_path, capsys, per_level, damage, needles):
    """A corrupt weights file used to surface at the first restoration, in a worker; a lost card was reported as
    a level the network was never trained for."""
    per_level(_per_level(tmp_path, damage))
    code, _, err = _main(capsys, *EVAL_SR[:6], "--methods", "srcnn", "--quiet", "--out", str(tmp_path / "out"))
    _one_line(code, err, *needles)
    assert "--allow-untrained-levels" not in err and not (tmp_path / "out" / "rows.sqlite").exists()


# ---------------------------------------------------------------- the right result instead of an error

def test_jobs_are_bounded_by_cores_and_work_and_lists_deduplicated(mirror, tmp_path, capsys):
    from redbench.evaluation.runner import resolve_jobs
    cores = os.cpu_count() or 1
    assert resolve_jobs(100000, 5) == min(cores, 5) and resolve_jobs(0, 1) == 1 and resolve_jobs(0) == cores
    code, stdout, err = _main(capsys, *SR2[:-3], "--methods", "bicubic,bicubic", "--scale", "2,2", "--jobs", "100000",
                              "--quiet", "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert f"--jobs 100000 reduced to {min(cores, 5)}" in err and "(5 computed" in stdout
    assert "--methods lists bicubic more than once" in err and "--scale lists 2 more than once" in err
    assert len(pd.read_csv(tmp_path / "out" / "rows.csv")) == 5


def test_sigterm_during_parallel_eval_saves_rows_and_ends_workers(mirror, tmp_path):
    """SIGTERM used to kill the parent at once: no rows.csv, no message, loky workers left running."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_bench.py"), "--task", "denoise", "--sigma", "30",
                             "--datasets", "set12", "--methods", "bm3d", "--jobs", "2", "--quiet", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, REDBENCH_NO_REEXEC="1"))
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            with sqlite3.connect(out / "rows.sqlite") as db:
                if db.execute("SELECT count(*) FROM rows").fetchone()[0] >= 1:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    lines = [line for line in err.strip().splitlines() if "restorations to run" not in line]
    assert len(lines) == 1 and lines[0].startswith("interrupted by SIGTERM: finished rows are saved"), err
    rows = pd.read_csv(out / "rows.csv")
    with sqlite3.connect(out / "rows.sqlite") as db:
        assert 1 <= len(rows) == db.execute("SELECT count(*) FROM rows").fetchone()[0] < 12
    time.sleep(1)
    workers = {int(worker.split(":")[1]) for worker in rows.worker}
    assert workers and not [pid for pid in workers if Path(f"/proc/{pid}").exists()], workers


def test_replaced_folder_image_is_computed_again(mirror, tmp_path, capsys):
    """A dir: image replaced under the same name used to reuse the old file's row (rows were keyed by name)."""
    from redbench.evaluation import runner
    from redbench.core.hashing import file_sha256
    path = _gray(tmp_path / "mine", "photo.png", seed=1)
    args = [*EVAL_DN, "--datasets", f"dir:{tmp_path / 'mine'}", "--out", str(tmp_path / "out")]
    assert _main(capsys, *args)[0] == 0
    first = pd.read_csv(tmp_path / "out" / "rows.csv")
    old_sha = file_sha256(path)
    time.sleep(0.01)
    _gray(tmp_path / "mine", "photo.png", seed=2)
    runner.load_method.cache_clear()
    code, stdout, err = _main(capsys, *args)
    assert code == 0 and "(1 computed, 0 reused" in stdout, err
    rows = pd.read_csv(tmp_path / "out" / "rows.csv")
    new_sha = file_sha256(path)
    assert set(rows.image) == {f"photo@{old_sha[:12]}", f"photo@{new_sha[:12]}"} and len(first) == 1
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["datasets"][f"dir:{tmp_path / 'mine'}"]["files"]["photo"]["sha256"] == new_sha
    code, stdout, _ = _main(capsys, *args)
    assert "(0 computed, 1 reused" in stdout


def test_sixteen_bit_png_is_scaled_not_clipped(mirror, tmp_path, capsys):
    from redbench.datasets.catalog import get_spec
    from redbench.datasets.images import ground_truth
    eight = _gray(tmp_path / "mine", "eight.png", seed=3)
    pixels = np.asarray(Image.open(eight)).astype(np.uint16) * 257          # the same image stored as 16 bits
    Image.fromarray(pixels).save(tmp_path / "mine" / "sixteen.png")
    assert Image.open(tmp_path / "mine" / "sixteen.png").mode.startswith("I;16")
    spec = get_spec(f"dir:{tmp_path / 'mine'}")
    for task in ("denoise", "sr"):
        assert np.array_equal(ground_truth(str(tmp_path / "mine" / "sixteen.png"), spec, task),
                              ground_truth(str(eight), spec, task))
    code, _, err = _main(capsys, *EVAL_DN, "--datasets", f"dir:{tmp_path / 'mine'}", "--out", str(tmp_path / "out"))
    assert code == 0, err
    rows = pd.read_csv(tmp_path / "out" / "rows.csv")
    assert rows.psnr.between(15, 30).all()          # scored as the image it is (a clipped one scores far off)


def test_imported_psnr_out_of_range_is_reported_and_recomputed(mirror, tmp_path, capsys):
    out = tmp_path / "out"
    assert _main(capsys, *SR2, "--out", str(out))[0] == 0
    good = pd.read_csv(out / "rows.csv")
    edited = good.copy()
    edited.loc[0, "psnr"] = 999.0                     # weights recorded: it would be reused and shown in bold
    (out / "rows.sqlite").unlink()
    edited.to_csv(out / "rows.csv", index=False)
    code, stdout, err = _main(capsys, *SR2, "--out", str(out))
    assert code == 0 and "(1 computed, 4 reused" in stdout, err
    assert "psnr 999.0" in err
    assert sorted(pd.read_csv(out / "rows.csv").psnr) == sorted(good.psnr)
    assert "999" not in (out / "table_sr_set5.md").read_text()


def test_locked_store_names_the_lock_not_free_space(tmp_path, monkeypatch):
    from redbench.evaluation import rows
    rows.ResultStore(tmp_path).close()
    holder = sqlite3.connect(tmp_path / "rows.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(rows, "BUSY_SECONDS", 0.2)
    try:
        with pytest.raises(UserError) as caught:
            rows.ResultStore(tmp_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    message = str(caught.value)
    assert "locked" in message and "another process" in message and "free space" not in message
    assert "\n" not in message


def test_check_number_refuses_nan_infinities_and_out_of_range():
    from redbench.core.checks import check_number, parse_list
    for value in (float("nan"), float("inf"), -1, 0, "3", True):
        with pytest.raises(UserError, match="^--x must be positive"):
            check_number("--x", value, positive=True)
    check_number("--x", 3, positive=True, integer=True)
    check_number("--x", None, positive=True)
    assert parse_list("--m", None) is None and parse_list("--m", " a, b ,a") == ["a", "b"]
    with pytest.raises(UserError, match="names nothing"):
        parse_list("--m", " , ")


# ---------------------------------------------------------------- GPU archives: refused whole, nothing installed

def _add(archive: Path, name: str, kind: str = "file") -> None:
    import io
    import tarfile
    info = tarfile.TarInfo(name)
    if kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    data = b"step,patches\n1,1\n" if kind == "file" else b""
    info.size = len(data)
    mode = "w:gz" if archive.name.endswith(".gz") else "w"
    with tarfile.open(archive) as old:
        members = [(m, old.extractfile(m).read() if m.isfile() else None) for m in old.getmembers()]
    with tarfile.open(archive, mode) as tar:
        for member, blob in members:
            tar.addfile(member, io.BytesIO(blob) if blob is not None else None)
        tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("archive, member, kind", [
    ("logs.tar.gz", "logs/..", "file"),                 # the case: OSError after the weights were installed
    ("logs.tar.gz", "logs/../../escape.csv", "file"),   # used to be renamed to its base name and installed
    ("logs.tar.gz", "/tmp/absolute.csv", "file"),
    ("logs.tar.gz", "logs/link.csv", "symlink"),
    ("weights-1.tar", "../evil.json", "file"),
    ("weights-1.tar", "notes.txt", "file"),
])
def test_archive_with_an_unexpected_member_is_refused_whole(tmp_path, archive, member, kind):
    from redbench.training.gpu_results import pack, unpack
    _tiny_net(tmp_path / "trained", "tiny-denoise", seed=1)
    log = tmp_path / "work" / "tiny-denoise" / "log.csv"
    log.parent.mkdir(parents=True)
    log.write_text("step,patches\n1,1\n")
    results = tmp_path / "results"
    pack(tmp_path / "trained", [log], [], results)
    _add(results / archive, member, kind)
    weights_dir, log_dir = tmp_path / "weights", tmp_path / "logs"
    with pytest.raises(UserError, match=f"unexpected member '{member}'") as caught:
        unpack(results, weights_dir, log_dir)
    assert "nothing was installed" in str(caught.value) and "\n" not in str(caught.value)
    assert not weights_dir.exists() and not log_dir.exists() and not (tmp_path / "escape.csv").exists()
    # the same archives without the stray member install as before
    pack(tmp_path / "trained", [log], [], results)
    assert unpack(results, weights_dir, log_dir) == (["tiny-denoise"], [])
    assert (log_dir / "tiny-denoise.csv").is_file()


# ---------------------------------------------------------------- the third battery (issue 26): the right result

def test_file_name_that_is_not_utf8_is_recorded_escaped(mirror, tmp_path, capsys):
    """Used to be a traceback in runinfo.dataset_digest ('surrogates not allowed'), after the work."""
    from redbench.core.hashing import file_sha256
    _gray(tmp_path / "mine", os.fsdecode(b"caf\xe9.png"))
    _gray(tmp_path / "mine", "plain.png", seed=1)
    args = [*EVAL_DN, "--datasets", f"dir:{tmp_path / 'mine'}", "--out", str(tmp_path / "out")]
    code, stdout, err = _main(capsys, *args)
    assert code == 0 and "(2 computed" in stdout, err
    sha = file_sha256(os.fsencode(tmp_path / "mine") + b"/caf\xe9.png")
    assert sorted(pd.read_csv(tmp_path / "out" / "rows.csv").image)[0] == f"caf\\xe9@{sha[:12]}"
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    files = record["datasets"][f"dir:{tmp_path / 'mine'}"]["files"]
    assert files["caf\\xe9"] == {"file": "caf\\xe9.png", "sha256": sha}
    assert _main(capsys, *args)[1].count("(0 computed, 2 reused") == 1     # the escaped name keys its row


def test_folded_and_long_folder_names_get_a_table_each(mirror, tmp_path, capsys):
    """'col a' and 'col_a' used to share one table file (the second overwrote the first), and a folder under a
    long path failed with ENAMETOOLONG writing its table, after the rows were computed."""
    long = tmp_path.joinpath(*["d" * 120] * 3, "photos")                 # its name folded: 380 characters
    for folder, seed in ((tmp_path / "col a", 1), (tmp_path / "col_a", 2), (long, 3)):
        _gray(folder, "x.png", seed=seed)
    names = [f"dir:{tmp_path / 'col a'}", f"dir:{tmp_path / 'col_a'}", f"dir:{long}"]
    code, stdout, err = _main(capsys, *EVAL_DN, "--datasets", ",".join(names), "--out", str(tmp_path / "out"))
    assert code == 0 and "(3 computed" in stdout, err
    tables = sorted((tmp_path / "out").glob("table_denoise_dir_*.md"))
    assert len(tables) == 3 and all(len(t.name) < 100 for t in tables)
    rows = pd.read_csv(tmp_path / "out" / "rows.csv").set_index("dataset")
    for name in names:
        shown = [t for t in tables if name in t.read_text()]
        assert len(shown) == 1 and f"**{rows.loc[name, 'psnr']:.2f}**" in shown[0].read_text(), name


def test_paper_value_is_looked_up_only_at_a_level_the_paper_has():
    """--sigma 30.9 used to be compared with the paper's sigma 30 (int(level)): '29.01 (paper 28.49, +0.52)'."""
    from redbench.evaluation.comparison import published_value
    from redbench.evaluation.tables import render_table
    assert published_value("denoise", "set12", "bm3d", 30.9, "psnr") is None
    assert published_value("denoise", "set12", "bm3d", 30.0, "psnr") == published_value("denoise", "set12", "bm3d", 30,
                                                                                        "psnr") is not None
    rows = pd.DataFrame([{"task": "denoise", "dataset": "set12", "image": f"{i:02d}", "method": "bm3d", "level": level,
                          "psnr": 29.01, "ssim": 0.8, "seconds": 1.0} for i in range(1, 13) for level in (30, 30.9)])
    lines = {line.split("|")[2].strip(): line for line in render_table(rows, "denoise", "set12").splitlines()
             if line.startswith("| PSNR")}
    assert "(paper" in lines["30"] and "(paper" not in lines["30.9"] and "29.01" in lines["30.9"]


def test_non_finite_network_output_is_an_error_naming_the_weights(mirror, tmp_path, capsys):
    """Finite weights that overflow (1e38 everywhere): the output used to be cast to a black image and scored."""
    import torch
    from safetensors.torch import load_file, save_file

    from redbench.core.hashing import file_sha256
    method = _tiny_net(tmp_path / "w", "overflows", seed=1)
    path = tmp_path / "w" / "overflows.safetensors"
    save_file({k: torch.full_like(v, 1e38) for k, v in load_file(path).items()}, path)
    card = tmp_path / "w" / "overflows.json"
    card.write_text(json.dumps(dict(json.loads(card.read_text()), sha256=file_sha256(path))))
    code, _, err = _main(capsys, *EVAL_DN[:4], "--methods", method, "--datasets", "set12", "--jobs", "1", "--quiet",
                         "--out", str(tmp_path / "out"))
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert "weights 'overflows' gave a NaN or infinite output" in errors[0]
    assert len(pd.read_csv(tmp_path / "out" / "rows.csv")) == 0          # nothing scored, the store kept


def test_unparsable_dask_address_is_one_error_line_and_nothing_computed(mirror, tmp_path, capsys):
    """Used to be a ValueError traceback from dask's address parser."""
    pytest.importorskip("dask.distributed")
    code, _, err = _main(capsys, *EVAL_SR, "--backend", "dask", "--scheduler", "garbage::::", "--out",
                         str(tmp_path / "out"))
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert "cannot reach the dask scheduler at garbage::::" in errors[0]
    assert len(pd.read_csv(tmp_path / "out" / "rows.csv")) == 0


def test_reproduce_budget_scale_nan_is_refused_before_any_work(monkeypatch, capsys):
    """--budget-scale nan (or <= 0) used to start the reproduction: training budgets of nan minutes."""
    from redbench import reproduce

    def never(*args, **kwargs):
        raise AssertionError("the reproduction started")
    monkeypatch.setattr(reproduce, "reproduce", never)
    for value in ("nan", "0", "-1", "inf"):
        code, _, err = _main(capsys, "reproduce", "--budget-scale", value)
        _one_line(code, err, "--budget-scale must be positive", value)


def test_readme_states_the_pixel_bound_the_code_applies():
    from PIL import Image

    from redbench.datasets.images import MAX_PIXELS_DEFAULT, MAX_PIXELS_ENV
    text = " ".join((ROOT / "README.md").read_text().split())
    side = int(MAX_PIXELS_DEFAULT ** 0.5)
    assert f"at most {side} x {side} = {MAX_PIXELS_DEFAULT:,} by default" in text and side ** 2 == MAX_PIXELS_DEFAULT
    assert f"`{MAX_PIXELS_ENV}` raises or lowers the bound" in text
    assert f"decompression-bomb limit ({2 * Image.MAX_IMAGE_PIXELS:,} pixels)" in text


def test_imported_integers_beyond_64_bits_are_recomputed_not_a_traceback(mirror, tmp_path, capsys):
    """A rows.csv whose seed reads 1e30 or noise_seed 10**23 used to stop the import with OverflowError (SQLite)."""
    out = tmp_path / "out"
    assert _main(capsys, *SR2, "--out", str(out))[0] == 0
    good = pd.read_csv(out / "rows.csv", dtype=str)
    edited = good.copy()
    edited.loc[0, "seed"], edited.loc[1, "noise_seed"] = "1e30", str(10**23)
    (out / "rows.sqlite").unlink()
    edited.to_csv(out / "rows.csv", index=False)
    code, stdout, err = _main(capsys, *SR2, "--out", str(out))
    assert code == 0 and "(2 computed, 3 reused" in stdout and "Traceback" not in err, err
    assert sorted(pd.read_csv(out / "rows.csv", dtype=str).seed) == sorted(good.seed)
