"""The training campaign: per-level networks, the plan runner, signals, resume and precision."""
import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from redbench.core.degradations import GaussianNoise
from redbench.core.errors import UserError
from redbench.methods import weights
from redbench.methods.red_family import PerLevelNetwork
from redbench.methods.red_network import red
from redbench.methods.torch_inference import apply_network
from redbench.training import precision
from redbench.training.campaign import load_plan, run_plan
from redbench.training.checkpoint import load_checkpoint
from tests.conftest import ROOT


def _card(name, levels):
    return weights.ModelCard(name=name, architecture="red", config=red(10).config.as_dict(), task="denoise",
                             levels=levels, recipe="fast", iterations=1, patches_seen=1, batch_size=1, patch_size=50,
                             train_set="x", device="cpu", wall_seconds=0.0, budget="test", val_psnr=None,
                             val_protocol="", git_commit="", seed=0)


def test_per_level_network_picks_the_level_and_names_its_weights(tmp_path):
    nets = {}
    for sigma in (30, 50):
        torch.manual_seed(sigma)
        nets[sigma] = red(10)
        weights.save(nets[sigma].state_dict(), _card(f"red10-denoise-s{sigma}", [sigma]), tmp_path)
    weights.save(red(10).state_dict(), _card("red10-denoise-single", [10, 30, 50]), tmp_path)   # not per level
    method = PerLevelNetwork("red10", "denoise", "red10-denoise", tmp_path)
    assert method.trained_levels() == (30, 50)
    sha30 = weights.read_card("red10-denoise-s30", tmp_path).sha256
    assert method.weights_id(GaussianNoise(30)) == f"red10-denoise-s30@{sha30}"
    noisy = np.random.default_rng(0).uniform(0, 255, (40, 40))
    expected = apply_network(nets[30].eval(), noisy)
    assert np.abs(method.restore(noisy, GaussianNoise(30)) - expected).max() < 1e-3
    with pytest.raises(UserError, match=r"no network for sigma 10; trained levels: 30, 50"):
        method.restore(noisy, GaussianNoise(10))


def test_precision_follows_cpu_flags(monkeypatch):
    assert precision.resolve_precision("auto", "cuda") == "bf16"
    assert precision.resolve_precision("fp32", "cuda") == "fp32"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert precision.resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert precision.resolve_precision("auto", "cpu") == "bf16"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"amx_bf16"}))
    assert precision.resolve_precision("auto", "cpu") == "bf16"
    with pytest.raises(UserError, match="unknown precision"):
        precision.resolve_precision("fp8", "cpu")


PLAN = """
[campaign]
snapshot_minutes = 0
train_set = "bsds500-train"
[defaults]
batch_size = 4
[[network]]
name = "red10-denoise-s30"
model = "red10"
task = "denoise"
levels = "30"
priority = 2
cpu_patches = 8
gpu_patches = 8
init = "red10-denoise-single"
lr = 3e-4
[[network]]
name = "red10-denoise-single"
model = "red10"
task = "denoise"
levels = "10,30"
priority = 1
cpu_patches = 16
gpu_patches = 16
"""


def test_plan_trains_in_priority_order_finetunes_and_archives(mirror, tmp_path, capsys):
    (tmp_path / "plan.toml").write_text(PLAN)
    publish = tmp_path / "weights"
    run_plan(tmp_path / "plan.toml", niceness=0, publish_dir=str(publish))
    out = capsys.readouterr().out
    assert out.index("== red10-denoise-single") < out.index("== red10-denoise-s30")
    single = weights.read_card("red10-denoise-single", publish)
    child = weights.read_card("red10-denoise-s30", publish)
    assert single.complete and single.patches_seen == single.patches_planned == 16 and single.storage == "float16"
    assert child.init == f"red10-denoise-single@{single.sha256}" and child.levels == [30]
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())   # checkpoints dropped
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["red10-denoise-s30.csv", "red10-denoise-single.csv"]
    (tmp_path / "work" / "red10-denoise-s30").mkdir(parents=True)                 # a checkpoint left behind here
    (tmp_path / "work" / "red10-denoise-s30" / "checkpoint.safetensors").write_bytes(b"old")
    run_plan(tmp_path / "plan.toml", status_only=True, publish_dir=str(publish))  # shown done, as run_plan sees it
    assert "| done (stale checkpoint here) |" in capsys.readouterr().out
    run_plan(tmp_path / "plan.toml", niceness=0, publish_dir=str(publish))        # finished: nothing to train
    out = capsys.readouterr().out
    assert "== red10" not in out and "red10-denoise-s30: finished elsewhere; its checkpoint here was dropped." in out
    assert not (tmp_path / "work" / "red10-denoise-s30").exists()
    run_plan(tmp_path / "plan.toml", status_only=True, publish_dir=str(publish))
    status = capsys.readouterr().out
    assert "| 1 | red10-denoise-single | scratch | 16 / 16 | 100% |" in status and sum("| done | CPU" in line for line in status.splitlines()) == 2


@pytest.mark.parametrize("text, message", [
    (PLAN.replace('lr = 3e-4', 'learning_rate = 3e-4'), "unknown keys \\['learning_rate'\\]"),
    (PLAN.replace('init = "red10-denoise-single"', 'init = "red30-denoise-single"'), "which the plan does not train"),
    (PLAN.replace("priority = 1", "priority = 3"), "smaller priority number"),
    ("[[network]\n", "not valid TOML"),
])
def test_plan_errors_are_one_line(tmp_path, text, message):
    (tmp_path / "plan.toml").write_text(text)
    with pytest.raises(UserError, match=message):
        load_plan(tmp_path / "plan.toml")


def _log_steps(path):
    with open(path) as fh:
        return [int(row["step"]) for row in csv.DictReader(fh)]


def test_sigterm_checkpoints_and_resume_trims_the_log(mirror, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "run_bench.py"), "train", "--model", "red10", "--task", "denoise",
           "--levels", "30", "--patches", "100000", "--batch-size", "2", "--patch", "24", "--train-set", "set12",
           "--out", str(out), "--log-every", "1", "--val-every", "100000", "--checkpoint-seconds", "100000",
           "--threads", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.time() + 120
    while time.time() < deadline and not ((out / "log.csv").exists() and len(_log_steps(out / "log.csv")) >= 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    assert "SIGTERM: checkpoint saved at step" in output
    model = red(10)
    _, counters = load_checkpoint(out / "checkpoint.safetensors", model, torch.optim.Adam(model.parameters()))
    steps = _log_steps(out / "log.csv")
    assert steps[-1] == counters["step"] >= 3
    # a kill between a log row and the next checkpoint leaves rows past it: resuming drops them
    with open(out / "log.csv", "a") as fh:
        fh.write(f"{counters['step'] + 1},0,0,0,0,\n{counters['step'] + 2},0,0,0,0,\n")
    result = subprocess.run(cmd + ["--stop-after", "2"], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 log rows past the checkpoint dropped" in result.stdout
    assert _log_steps(out / "log.csv") == list(range(1, counters["step"] + 3))


def test_default_methods_leave_out_networks_not_yet_trained(monkeypatch):
    from redbench import cli
    from redbench.methods import registry
    from redbench.methods.base import Method

    class Fake(Method):
        def __init__(self, levels):
            self.levels = levels

        def trained_levels(self):
            return self.levels

    def fake_get_method(name, task):
        if name == "red10":
            raise UserError("red10 has no trained per-level networks")
        return Fake({"bm3d": None, "red20": (30,), "red30": (10, 30, 50, 70)}[name])

    monkeypatch.setattr(registry, "get_method", fake_get_method)
    notes = []
    kept = cli.trained_defaults("denoise", [10, 30, 50, 70], ["bm3d", "red10", "red20", "red30"], notes)
    assert kept == ["bm3d", "red30"]
    assert notes[0].startswith("note: default method red10 left out: red10 has no trained per-level networks")
    assert notes[1].startswith("note: default method red20 left out: no trained network yet for 10, 50, 70")
