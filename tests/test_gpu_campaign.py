"""The one-shot GPU campaign script, run whole on the CPU with tiny budgets: archives within the device
machine's limits, with every network's weights and card, that unpack (sha256-checked) and load."""
import os
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import torch

from redbench.datasets.catalog import get_spec
from redbench.datasets.fetch import dataset_files
from redbench.methods import weights
from redbench.training.gpu_results import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES
from redbench.training.vector_patches import VectorPatchSource
from tests.conftest import ROOT

PLAN = """
[campaign]
train_set = "set12"
[defaults]
gpu_batch_size = 4
[[network]]
name = "red10-denoise-single"
model = "red10"
task = "denoise"
levels = "10,30"
priority = 1
cpu_patches = 8
gpu_patches = 8
[[network]]
name = "red10-denoise-s30"
model = "red10"
task = "denoise"
levels = "30"
priority = 2
cpu_patches = 4
gpu_patches = 8
init = "red10-denoise-single"
[[network]]
name = "srcnn-sr"
model = "srcnn"
task = "sr"
levels = "2,3"
priority = 3
cpu_patches = 8
gpu_patches = 8
train_set = "set5"
"""
NAMES = ["red10-denoise-s30", "srcnn-sr"]   # trained on the "device"; red10-denoise-single is seeded


def test_gpu_campaign_script_on_cpu(mirror, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    prep = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_prepare.py"), "--plan", str(plan),
                           "--bundle", str(tmp_path / "bundle"), "--no-wheels", "--limit-mib", "100000"],
                          capture_output=True, text=True, env=env)
    assert prep.returncode == 0, prep.stderr
    # the installed networks meet this plan's tiny budgets, so the call would seed (read) all three
    assert "the call reads 3 installed networks" in prep.stdout
    assert (tmp_path / "bundle" / "datasets" / "set5").is_dir() and (tmp_path / "bundle" / "datasets" / "bsds500").is_dir()

    # a committed network that already meets its budget is seeded: skipped, fine-tuned from, not sent back
    seed = tmp_path / "seed"
    seed.mkdir()
    for suffix in (".safetensors", ".json"):
        (seed / f"red10-denoise-single{suffix}").write_bytes((weights.WEIGHTS_DIR / f"red10-denoise-single{suffix}").read_bytes())
    results = tmp_path / "results"
    rows_root = tmp_path / "device-results"   # the call's evaluation: a small stand-in for reproduce --networks-only
    env.update(SEED=str(seed), DEVICE="cpu", PLAN=str(plan), BUNDLE=str(tmp_path / "bundle"), WORK=str(tmp_path / "work"),
               OUT=str(results), PYTHON=sys.executable, EVAL="1", ROWS_ROOT=str(rows_root),
               INSTALL_DIR=str(tmp_path / "device-weights"),   # never this checkout's methods/weights
               EVAL_CMD=f"run_bench.py --task sr --scale 2 --datasets set5 --methods bicubic --quiet --jobs 1 "
                        f"--out {rows_root / 'reproduce' / 'sr'}")
    installed = {p.name: p.read_bytes() for p in weights.WEIGHTS_DIR.iterdir()}
    run = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_campaign.sh")], capture_output=True, text=True,
                         env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert {p.name: p.read_bytes() for p in weights.WEIGHTS_DIR.iterdir()} == installed   # this checkout untouched
    assert "preflight: all 3 networks train." in run.stdout and "plan complete" in run.stdout
    assert "seeded 1 networks already at their GPU budget: red10-denoise-single" in run.stdout
    assert "| red10-denoise-s30 | CPU" in run.stdout and "patches/s" in run.stdout

    archives = sorted(results.iterdir())
    assert [a.name for a in archives] == ["logs.tar.gz", "weights-1.tar"]
    sizes = [a.stat().st_size for a in archives]
    assert len(archives) <= MAX_FILES and max(sizes) <= MAX_FILE_BYTES and sum(sizes) <= MAX_TOTAL_BYTES
    with tarfile.open(results / "weights-1.tar") as tar:
        assert sorted(tar.getnames()) == sorted(f"{n}{s}" for n in NAMES for s in (".json", ".safetensors"))
    with tarfile.open(results / "logs.tar.gz") as tar:
        assert {f"logs/{n}.csv" for n in NAMES} | {"summary.md", "train.log", "preflight.log", "eval.log",
                                                   "rows/reproduce/sr/rows.csv"} <= set(tar.getnames())
    assert sorted(p.name for p in (tmp_path / "device-weights").glob("*.json")) == [f"{n}.json" for n in NAMES]
    s30 = weights.read_card("red10-denoise-s30", tmp_path / "work" / "weights")
    assert s30.init.startswith("red10-denoise-single@" + weights.read_card("red10-denoise-single", seed).sha256[:8])

    here = tmp_path / "results-here"
    unpack = [sys.executable, str(ROOT / "scripts" / "gpu_unpack.py"), str(results),
              "--weights-dir", str(tmp_path / "weights"), "--log-dir", str(tmp_path / "logs"), "--rows-root", str(here)]
    done = subprocess.run(unpack, capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "unpacked 2 networks" in done.stdout, done.stderr
    assert "merged evaluated rows: reproduce/sr +5" in done.stdout
    merged = (here / "reproduce" / "sr" / "rows.csv").read_text().splitlines()
    assert merged[0].endswith(",weights,device") and len(merged) == 6 and all(line.endswith(",cpu") for line in merged[1:])
    for name in NAMES:
        state, card = weights.load(name, tmp_path / "weights")
        assert card.device.startswith("CPU") and card.patches_seen == 8 and card.storage == "float16"
        assert all(v.dtype == torch.float32 for v in state.values())
    assert {p.name for p in (tmp_path / "logs").iterdir()} >= {f"{n}.csv" for n in NAMES}
    assert {p.name.split("-", 1)[1] for p in (tmp_path / "logs" / "runs").iterdir()} == {"summary.md", "train.log",
                                                                                          "preflight.log", "eval.log"}
    again = subprocess.run(unpack, capture_output=True, text=True, env=env)   # rows already here are kept, not doubled
    assert "reproduce/sr +0" in again.stdout and len((here / "reproduce" / "sr" / "rows.csv").read_text().splitlines()) == 6

    # a damaged archive is refused in one line
    data = bytearray((results / "weights-1.tar").read_bytes())
    data[2048] ^= 0xFF
    (results / "weights-1.tar").write_bytes(bytes(data))
    bad = subprocess.run(unpack, capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and len(bad.stderr.strip().splitlines()) == 1


def test_a_call_over_the_device_limit_fails_here_with_what_slimming_frees(mirror, tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_prepare.py"), "--call", "eval", "--datasets",
                             "set5", "--bundle", str(tmp_path / "bundle"), "--no-wheels", "--limit-mib", "1"],
                            capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 2 and (tmp_path / "bundle" / "datasets" / "set5").is_dir()
    # Set5's network cells: red10/20/30 per scale (9), red30-single, srcnn per scale (3)
    assert "datasets set5 " in result.stdout and "the call reads 13 installed networks" in result.stdout
    assert result.stderr.startswith("error: the call would carry") and "--slim frees" in result.stderr


def test_gpu_campaign_fails_fast_without_a_bundle(tmp_path):
    env = dict(os.environ, BUNDLE=str(tmp_path / "none"), WORK=str(tmp_path / "w"), OUT=str(tmp_path / "o"),
               PYTHON=sys.executable)
    run = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_campaign.sh")], capture_output=True, text=True, env=env)
    assert run.returncode == 3 and "gpu_prepare.py" in run.stderr


@pytest.mark.parametrize("task, levels, dataset", [("denoise", [10, 50], "set12"), ("sr", [2, 4], "set5")])
def test_vector_patches_are_aligned_crops_under_one_dihedral_transform(mirror, task, levels, dataset):
    source = VectorPatchSource(task, levels, dataset_files(dataset), get_spec(dataset), patch=20, seed=3)
    n, height, width = source.targets.shape
    # code every pixel by (image, row, col); SR inputs carry the same code plus their scale's index
    code = (torch.arange(n)[:, None, None] * 1e6 + torch.arange(height)[None, :, None] * 1e3
            + torch.arange(width)[None, None, :]).double()
    source.targets = code
    if task == "sr":
        source.inputs = torch.stack([code + 0.25 * i for i in range(len(levels))])
    inputs, targets = source.batch(64)
    for inp, tgt in zip(inputs[:, 0].numpy(), targets[:, 0].numpy()):
        image, rows, cols = tgt // 1e6, (tgt % 1e6) // 1e3, tgt % 1e3
        assert len(np.unique(image)) == 1                                    # one image
        assert len(np.unique(rows)) == 20 and np.ptp(rows) == 19            # a contiguous 20x20 block
        assert len(np.unique(cols)) == 20 and np.ptp(cols) == 19
        if task == "sr":
            assert np.allclose(inp - tgt, (inp - tgt).flat[0])              # input aligned with its target
            assert (inp - tgt).flat[0] in (0.0, 0.25)
        else:
            assert 5 < 255 * np.std(inp - tgt) < 80                         # noised at sigma 10 or 50 (of 255)


@pytest.mark.parametrize("arrived, installed, gains, replaced", [
    (dict(complete=False), {}, None, False),                        # a snapshot of a network the call cut off
    ({}, {}, [0.05, -0.01, 0.04, -0.02], False),                    # a gain the held-out images disagree on
    ({}, {}, [0.020, 0.030, 0.025, 0.035], True),                   # a gain the paired validation resolves
    ({}, {}, [], False),                                            # cannot be compared: the installed one stays
    ({}, dict(complete=False), None, True),                         # the installed one is itself a snapshot
])
def test_unpack_replaces_an_installed_network_only_by_a_better_one(tmp_path, arrived, installed, gains, replaced):
    """More patches are not enough (a GPU budget at batch 128 is fewer updates than a CPU one at batch 16):
    a network that came back replaces the installed one only when it is finished and the ship rule's paired
    validation (tests/test_paired_validation.py runs the real one) resolves its gain."""
    import json

    from redbench.core.errors import UserError
    from redbench.training.gpu_results import pack, unpack
    from redbench.training.paired_validation import PairedScore, PairedValidation
    name = "red10-denoise-s30"
    sent, here = tmp_path / "sent", tmp_path / "here"
    base = dict(json.loads((weights.WEIGHTS_DIR / f"{name}.json").read_text()), complete=True)
    compared = []

    def validate(candidate, reference, data_dir=None, device="cpu"):
        compared.append(tuple(weights.read_card(*weights.split_ref(ref)).git_commit for ref in (candidate, reference)))
        if not gains:
            raise UserError("kept no image out of training in common")
        return PairedValidation("c@1", "i@2", "bsds500-train", (30,),
                                tuple(PairedScore(f"im{i}", 30.0, 25.0 + g, 25.0) for i, g in enumerate(gains)))
    other = weights.read_card("red10-denoise-s50")     # other weights of the same architecture arrive
    for folder, source, changes in ((sent, other.name, dict(arrived, git_commit="arrived", sha256=other.sha256)),
                                    (here, name, installed)):
        folder.mkdir()
        (folder / f"{name}.safetensors").write_bytes((weights.WEIGHTS_DIR / f"{source}.safetensors").read_bytes())
        (folder / f"{name}.json").write_text(json.dumps(dict(base, **changes)))
    (sent / f"{name}.csv").write_text("step,patches\n1,8\n")
    pack(sent, [sent / f"{name}.csv"], [], tmp_path / "results")
    before = (here / f"{name}.json").read_text()
    assert unpack(tmp_path / "results", here, tmp_path / "logs", validate=validate) == \
        (([name], []) if replaced else ([], [name]))
    assert compared == ([] if gains is None else [("arrived", base["git_commit"])])   # the arrival vs the installed
    assert (here / f"{name}.json").read_text() == ((sent / f"{name}.json").read_text() if replaced else before)
    assert (tmp_path / "logs" / f"{name}.csv").exists() == replaced   # a kept-out network's log goes to runs/
    assert len(list((tmp_path / "logs").glob(f"runs/*-{name}.csv"))) == (not replaced)
    assert unpack(tmp_path / "results", tmp_path / "empty", tmp_path / "logs") == ([name], [])   # nothing installed
