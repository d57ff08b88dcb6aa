"""--device: where networks run. Without a GPU nothing changes; rows and run.json say where they were computed."""
import json
import sqlite3
import subprocess
import sys
from contextlib import closing

import pandas as pd
import pytest

from redbench.core.errors import UserError
from redbench.methods import torch_inference
from redbench.evaluation.rows import ResultStore
from redbench.evaluation.runner import RunConfig, run
from tests.conftest import ROOT


def test_auto_picks_cuda_only_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch_inference.torch.cuda, "is_available", lambda: False)
    assert torch_inference.resolve_device("auto") == "cpu" and torch_inference.resolve_device("cpu") == "cpu"
    with pytest.raises(UserError, match="torch sees no CUDA GPU here; use --device auto or --device cpu"):
        torch_inference.resolve_device("cuda")
    with pytest.raises(UserError, match="unknown device 'tpu'"):
        torch_inference.resolve_device("tpu")
    monkeypatch.setattr(torch_inference.torch.cuda, "is_available", lambda: True)
    assert torch_inference.resolve_device("auto") == "cuda" and torch_inference.resolve_device("cpu") == "cpu"


def test_cpu_and_auto_give_the_same_rows_and_record_the_device(mirror, tmp_path):
    """On a machine without a GPU, --device auto is the CPU: the same numbers, the device in rows and run.json."""
    config = dict(task="denoise", levels=[30], datasets=["set12"], methods=["noisy", "red10"], jobs=1)
    run(RunConfig(out=str(tmp_path / "cpu"), device="cpu", **config), [], progress=False)
    run(RunConfig(out=str(tmp_path / "auto"), device="auto", **config), [], progress=False)
    cpu, auto = (pd.read_csv(tmp_path / name / "rows.csv").sort_values(["method", "image"]) for name in ("cpu", "auto"))
    assert cpu["psnr"].tolist() == auto["psnr"].tolist() and set(cpu["device"]) == {"cpu"}
    record = json.loads((tmp_path / "auto" / "run.json").read_text())
    assert record["device"] == {"requested": "auto", "networks_on": "cpu"} and record["config"]["device"] == "auto"


def test_device_cuda_without_a_gpu_is_one_line(mirror, tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = subprocess.run([sys.executable, str(ROOT / "run_bench.py"), "--task", "denoise", "--sigma", "30",
                             "--datasets", "set12", "--methods", "red10", "--device", "cuda", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stderr.strip() == (
        "error: --device cuda, but torch sees no CUDA GPU here; use --device auto or --device cpu.")
    assert not (tmp_path / "rows.csv").exists()


def test_a_store_from_before_the_device_column_gains_it(tmp_path):
    with closing(sqlite3.connect(tmp_path / "rows.sqlite")) as db:   # the schema as it was
        db.executescript("""
            CREATE TABLE rows (task TEXT NOT NULL, dataset TEXT NOT NULL, image TEXT NOT NULL, method TEXT NOT NULL,
                weights TEXT NOT NULL, level REAL NOT NULL, seed INTEGER NOT NULL, clip INTEGER NOT NULL,
                psnr REAL, ssim REAL, seconds REAL, noise_seed INTEGER, worker TEXT, written REAL NOT NULL,
                PRIMARY KEY (task, dataset, image, method, weights, level, seed, clip)) WITHOUT ROWID;
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('csv_import', 'no rows.csv');
            INSERT INTO rows VALUES ('sr', 'set5', 'baby', 'bicubic', 'w', 2, 0, 0, 30.0, 0.9, 0.1, 0, 'h:1', 1.0);
        """)
    store = ResultStore(tmp_path)
    try:
        store.add({"task": "sr", "dataset": "set5", "image": "bird", "method": "bicubic", "weights": "w", "level": 2,
                   "seed": 0, "clip": False, "psnr": 31.0, "ssim": 0.9, "seconds": 0.1, "noise_seed": 0,
                   "worker": "h:1", "device": "cuda"})
        rows = {r["image"]: r for r in store.read()[0]}
        store.export_csv()
    finally:
        store.close()
    assert rows["baby"]["device"] is None and rows["bird"]["device"] == "cuda"
    exported = pd.read_csv(tmp_path / "rows.csv", dtype={"device": str}, keep_default_na=False)
    assert dict(zip(exported["image"], exported["device"])) == {"baby": "", "bird": "cuda"}
