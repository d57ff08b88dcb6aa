import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from redbench.evaluation.runner import RunConfig, run
from tests.conftest import ROOT, drop_rows


def _config(out, **kw):
    base = dict(task="sr", levels=[2, 3], datasets=["set5"], methods=["bicubic"], out=str(out), jobs=1)
    base.update(kw)
    return RunConfig(**base)


def test_rows_tables_and_resume(mirror, tmp_path):
    totals = run(_config(tmp_path), [], progress=False)
    assert totals["computed"] == 10
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert {"task", "dataset", "image", "method", "level", "psnr", "ssim", "seconds"} <= set(rows.columns)
    assert len(rows) == 10 and rows.groupby("level").psnr.mean().round(2).tolist() == [33.66, 30.39]
    assert (tmp_path / "table_sr_set5.md").is_file()
    assert all((tmp_path / f"table_sr_set5_{layout}.tex").is_file() for layout in ("column", "page"))
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["datasets"]["set5"]["images"] == 5 and record["packages"]["torch"]
    assert record["git"]["commit"] and record["config"]["seed"] == 0
    # an interrupted run: three rows never reached the store, a rerun computes exactly those
    drop_rows(tmp_path, 3)
    assert run(_config(tmp_path), [], progress=False)["computed"] == 3
    again = pd.read_csv(tmp_path / "rows.csv").sort_values(["level", "image"]).reset_index(drop=True)
    assert again.psnr.tolist() == rows.sort_values(["level", "image"]).psnr.tolist()
    assert run(_config(tmp_path), [], progress=False)["computed"] == 0


def test_noise_is_seeded_per_image_and_sigma(mirror, tmp_path):
    from redbench.core.degradations import GaussianNoise, noise_seed
    s1 = noise_seed(0, "set12", "01", 30)
    assert s1 == noise_seed(0, "set12", "01", 30) != noise_seed(0, "set12", "02", 30) != noise_seed(1, "set12", "01", 30)
    import numpy as np
    clean = np.full((4, 4), 250.0)
    noisy = GaussianNoise(50).apply(clean, s1)
    assert noisy.max() > 255                       # not clipped by default, as the paper's code
    assert GaussianNoise(50, clip=True).apply(clean, s1).max() <= 255
    run(_config(tmp_path, task="denoise", levels=[30], datasets=["set12"], methods=["tv"]), [], progress=False)
    rows = pd.read_csv(tmp_path / "rows.csv", dtype={"image": str})
    assert rows.noise_seed.tolist() == [noise_seed(0, "set12", i, 30) for i in rows.image]


def test_parallel_rows_equal_sequential(mirror, tmp_path):
    run(_config(tmp_path / "a", task="denoise", levels=[50], datasets=["set12"], methods=["tv"]), [], progress=False)
    run(_config(tmp_path / "b", task="denoise", levels=[50], datasets=["set12"], methods=["tv"], jobs=2), [],
        progress=False)
    key = ["image"]
    a = pd.read_csv(tmp_path / "a" / "rows.csv", dtype={"image": str}).sort_values(key).reset_index(drop=True)
    b = pd.read_csv(tmp_path / "b" / "rows.csv", dtype={"image": str}).sort_values(key).reset_index(drop=True)
    assert a[["image", "psnr", "ssim", "noise_seed"]].equals(b[["image", "psnr", "ssim", "noise_seed"]])


def _cli(*args, env_extra=None):
    import os
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, str(ROOT / "run_bench.py"), *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.mark.parametrize("args, message", [
    (["--task", "denoise", "--sigma", "-5"], "invalid sigma -5"),
    (["--task", "sr", "--scale", "2.5"], "invalid scale 2.5"),
    (["--task", "sr", "--methods", "bicubc"], "Did you mean 'bicubic'"),
    (["--task", "sr", "--methods", "bm3d"], "cannot do task 'sr'"),
    (["--task", "denoise", "--datasets", "set5"], "not a denoise set"),
    (["--task", "sr", "--datasets", "bsd1000"], "unknown dataset 'bsd1000'"),
    (["--task", "sr", "--data-dir", "/nonexistent"], "does not exist"),
    (["--task", "denoise", "--scale", "2"], "--scale is for --task sr"),
])
def test_bad_input_is_one_line_and_exit_2(mirror, tmp_path, args, message):
    result = _cli(*args, "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "rows.csv").exists()


def test_corrupt_rows_file_is_reported(mirror, tmp_path):
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    result = _cli("--task", "sr", "--methods", "bicubic", "--datasets", "set5", "--out", str(tmp_path))
    assert result.returncode == 2 and "not a redbench rows file" in result.stderr


def _own_images(mirror, folder):
    """A folder of a user's own images: gray and colour, PNG, BMP, TIFF and JPEG."""
    from PIL import Image
    folder.mkdir()
    Image.open(mirror / "set12" / "01.png").save(folder / "gray.png")
    Image.open(mirror / "set5" / "baby.png").crop((0, 0, 120, 96)).save(folder / "colour.bmp")
    Image.open(mirror / "set5" / "bird.png").save(folder / "bird.tif")
    Image.open(mirror / "set5" / "head.png").convert("RGB").save(folder / "head.jpeg", quality=95)
    (folder / "notes.txt").write_text("not an image, not a dataset file")
    return folder


def test_folder_of_own_images_is_a_dataset(mirror, tmp_path, monkeypatch):
    from redbench.datasets.catalog import get_spec
    from redbench.datasets.images import ground_truth
    from redbench.core.hashing import file_sha256
    folder = _own_images(mirror, tmp_path / "mine")
    monkeypatch.chdir(tmp_path)
    result = _cli("--task", "denoise", "--sigma", "30", "--datasets", "dir:mine", "--methods", "noisy,tv",
                  "--jobs", "1", "--quiet", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr[-2000:]
    name = f"dir:{folder}"                                   # made absolute where the command was typed
    rows = pd.read_csv(tmp_path / "out" / "rows.csv")
    # a folder's rows are keyed by name@sha256[:12]: a file replaced under its name is computed afresh
    assert set(rows.dataset) == {name} and sorted(rows[rows.method == "tv"].image) == [
        f"{stem}@{file_sha256(next(folder.glob(stem + '.*')))[:12]}" for stem in ("bird", "colour", "gray", "head")]
    record = json.loads((tmp_path / "out" / "run.json").read_text())["datasets"][name]
    assert record["folder"] == str(folder) and record["images"] == 4
    assert record["files"]["head"] == {"file": "head.jpeg", "sha256": file_sha256(folder / "head.jpeg")}
    assert list((tmp_path / "out").glob("table_denoise_dir_*mine_*.md"))
    # denoising scores gray (MATLAB rgb2gray), SR scores Y, as for the listed sets
    spec = get_spec(name)
    gray, y = (ground_truth(str(folder / "colour.bmp"), spec, task) for task in ("denoise", "sr"))
    assert gray.shape == y.shape == (96, 120) and y.min() >= 16 and not np.array_equal(gray, y)
    sr = run(_config(tmp_path / "sr", task="sr", levels=[2], datasets=[name]), [], progress=False)
    assert sr["computed"] == 4


@pytest.mark.parametrize("case, message", [
    ("missing", "no folder"),
    ("empty", "no PNG, BMP, TIFF or JPEG images"),
    ("unreadable", "cannot read image"),
    ("twice", "two images named 'gray'"),
])
def test_folder_dataset_errors_are_one_line(mirror, tmp_path, case, message):
    folder = tmp_path / "mine"
    if case != "missing":
        folder.mkdir()
    if case == "unreadable":
        (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    if case == "twice":
        _own_images(mirror, tmp_path / "src")
        for source in ("gray.png", "colour.bmp"):
            (folder / ("gray" + Path(source).suffix)).write_bytes((tmp_path / "src" / source).read_bytes())
    result = _cli("--task", "denoise", "--datasets", f"dir:{folder}", "--methods", "noisy",
                  "--out", str(tmp_path / "o"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr
