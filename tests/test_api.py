"""The Python API at the package top (issue 23): the README's example runs as written, the API's output is the
evaluation's for the same input, the package loads it lazily, and bad input is one UserError."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import redbench
from redbench.core.errors import UserError
from tests.conftest import ROOT


def test_readme_use_the_networks_example_runs_as_written(capsys):
    text = (ROOT / "README.md").read_text()
    block = text.split("## Use the networks", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    before, after = (float(x) for x in lines[0].split("PSNR ")[1].split(" dB, ")[0].split(" dB -> "))
    assert after > before + 5, lines[0]                     # the network denoises
    assert lines[1] == "red30-denoise-s30 1035201 parameters"
    cards = len(list((ROOT / "methods" / "weights").glob("*.json")))
    assert lines[2] == f"(96, 96) {cards} networks installed"


def _set12_item(task, level, method):
    from redbench.datasets.fetch import dataset_files
    from redbench.evaluation.rows import row_image
    from redbench.evaluation.runner import WorkItem
    dataset = "set12" if task == "denoise" else "set5"
    ref = dataset_files(dataset)[0]
    return WorkItem(task, dataset, row_image(ref), ref.path, method, level, 0, False, threads=0)


@pytest.mark.parametrize("task, level, method", [("denoise", 30, "red10"), ("denoise", 50, "tv"),
                                                 ("sr", 2, "red10"), ("sr", 3, "bicubic")])
def test_api_output_is_the_evaluations(mirror, task, level, method):
    from redbench.evaluation.runner import degrade, evaluate_item
    item = _set12_item(task, level, method)
    row, evaluated = evaluate_item(item)
    degradation, degraded, target, _ = degrade(item)
    if task == "denoise":
        ours = redbench.restore(degraded, method, sigma=level)
    else:   # the API takes the low-resolution image and enlarges it as the evaluation does
        from redbench.datasets.catalog import get_spec
        from redbench.datasets.images import ground_truth
        clean = ground_truth(item.path, get_spec(item.dataset), task)
        ours = redbench.restore(degradation.downscale(clean), method, scale=level)
    assert np.array_equal(ours, evaluated)
    shave = degradation.shave
    assert round(redbench.psnr(target, ours, shave), 4) == row["psnr"]
    assert round(redbench.ssim(target, ours, shave), 5) == row["ssim"]


def test_restore_takes_torch_tensors_and_colour(mirror):
    import torch
    rng = np.random.default_rng(1)
    gray = rng.uniform(0, 255, (40, 36))
    out = redbench.restore(gray, "red10", sigma=30)
    assert np.array_equal(redbench.restore(torch.from_numpy(gray), "red10", sigma=30), out)
    assert np.array_equal(redbench.restore(torch.from_numpy(gray)[None, None], "red10", sigma=30), out)
    rgb = rng.uniform(0, 255, (40, 36, 3))
    assert redbench.restore(rgb, "red10", sigma=30).shape == (40, 36)
    channels = redbench.restore(rgb, "red10", sigma=30, color="channels")
    assert channels.shape == (40, 36, 3)
    assert np.array_equal(channels[..., 1], redbench.restore(rgb[..., 1], "red10", sigma=30))
    chw = torch.from_numpy(np.moveaxis(rgb, -1, 0).copy())
    assert np.array_equal(redbench.restore(chw, "red10", sigma=30, color="channels"), channels)
    assert redbench.restore(rgb, "bicubic", scale=3).shape == (120, 108, 3)


def test_load_network_is_an_eval_mode_copy_with_its_card():
    net = redbench.load_network("red30", "denoise", 50)
    assert not net.training and net.card.name == "red30-denoise-s50"
    assert sum(p.numel() for p in net.parameters()) == 1_035_201
    single = redbench.load_network("red30-single", "sr")
    assert single.card.name == "red30-sr-single" and single.card.levels == [2, 3, 4]
    assert redbench.load_network("net:red10-denoise-s30", "denoise").card.name == "red10-denoise-s30"
    noisy = np.random.default_rng(2).uniform(0, 255, (24, 24))
    before = redbench.restore(noisy, "red30", sigma=50)
    import torch
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    assert np.array_equal(redbench.restore(noisy, "red30", sigma=50), before)   # the copy is the user's


def test_metrics_are_the_harness_metrics_and_networks_are_listed():
    from redbench.core import metrics
    assert redbench.psnr is metrics.psnr and redbench.ssim is metrics.ssim
    names = [row["name"] for row in redbench.list_networks()]
    assert names == sorted(p.stem for p in (ROOT / "methods" / "weights").glob("*.json"))


@pytest.mark.parametrize("call, message", [
    (lambda: redbench.restore(np.zeros((8, 8)), "red30"), "exactly one of sigma="),
    (lambda: redbench.restore(np.zeros((8, 8)), "red30", sigma=30, scale=2), "exactly one of sigma="),
    (lambda: redbench.restore(np.zeros((8, 8)), "red30", sigma=25), "has no network for sigma 25"),
    (lambda: redbench.restore(np.zeros((8, 8)), "red30", sigma=300), "invalid sigma 300"),
    (lambda: redbench.restore(np.zeros((8, 8, 5)), "red10", sigma=30), "got shape (8, 8, 5)"),
    (lambda: redbench.restore(np.array([["a"]]), "red10", sigma=30), "numeric array"),
    (lambda: redbench.restore(np.zeros((8, 8)), "red10", sigma=30, color="rgb"), "unknown colour mode"),
    (lambda: redbench.restore(np.zeros((8, 8)), "nosuch", sigma=30), "unknown method 'nosuch'"),
    (lambda: redbench.load_network("red30", "denoise"), "give the level"),
    (lambda: redbench.load_network("red30", "denoise", 25), "no network for sigma 25"),
    (lambda: redbench.load_network("red30-single", "denoise", 25), "no network for sigma 25"),
    (lambda: redbench.load_network("red30+", "denoise", 50), "x8 self-ensemble"),
    (lambda: redbench.load_network("bm3d", "denoise", 50), "classical method"),
    (lambda: redbench.load_network("red30", "deblur", 50), "unknown task 'deblur'"),
])
def test_bad_api_input_is_one_user_error(call, message):
    with pytest.raises(UserError) as info:
        call()
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_api_loads_lazily_from_the_evaluation_layer():
    # `import redbench` imports no layer: the API module loads on first use
    code = ("import sys, redbench; assert 'redbench.evaluation.api' not in sys.modules and 'torch' not in "
            "sys.modules; redbench.psnr; assert 'redbench.evaluation.api' in sys.modules; print(sorted(redbench.API))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert set(redbench.API) <= set(dir(redbench))
    layers = {part: rank for rank, (_, parts) in enumerate(redbench.LAYERS) for part in parts}
    for name, module in redbench.API.items():
        assert layers[module.split(".")[1]] == layers["evaluation"], (name, module)
        assert Path(ROOT / "bench" / (module.split(".", 1)[1].replace(".", "/") + ".py")).is_file()
    with pytest.raises(AttributeError):
        redbench.no_such_name
    # LAYERS itself is unchanged by the API
    assert [name for name, _ in redbench.LAYERS][0] == "foundation" and len(redbench.LAYERS) == 6
