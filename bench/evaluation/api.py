"""The Python API of the package top (README, "Use the networks"), loaded on first use by redbench.__getattr__:

    net = redbench.load_network("red30", "denoise", 50)      # torch module in eval mode, net.card its model card
    out = redbench.restore(noisy, "red30", sigma=50)          # numpy on 0..255 in and out (a torch tensor too)
    redbench.psnr(clean, out), redbench.ssim(clean, out)      # the harness's calibrated metrics
    redbench.list_networks()                                  # the installed networks, one dict each

restore runs the method exactly as `eval` does (evaluation/restoration.py, the one code path), so its output on
the evaluation's input is the evaluation's output.
"""
from __future__ import annotations

import numpy as np

from redbench.core.defaults import LEVEL_NAME
from redbench.core.errors import UserError
from redbench.core.metrics import psnr, ssim

__all__ = ["load_network", "restore", "psnr", "ssim", "list_networks"]


def load_network(name: str, task: str, level=None, device: str = "cpu"):
    """The torch network of method `name` (red30, red30-single, srcnn, net:PATH, ...) for `task` at `level`
    (sigma or scale; a per-level family needs it), in eval mode on `device`, with its model card as `.card`.
    It is a copy: training or changing it leaves what restore and eval use untouched."""
    import copy

    from redbench.methods.red_family import load_network as load_weights
    from redbench.methods.torch_inference import resolve_device
    from redbench.methods.weights import WEIGHTS_DIR
    from redbench.core.degradations import make_degradation
    _check_task(task)
    if name.endswith("+"):
        raise UserError(f"'{name}' is the x8 self-ensemble of {name[:-1]}, eight passes of one network, not a "
                        f"network of its own: load '{name[:-1]}' (redbench.restore runs '{name}').")
    method = _method(name, task)
    if hasattr(method, "card_for"):            # one network per level
        if level is None:
            raise UserError(f"{name} has one network per {LEVEL_NAME[task]} "
                            f"({', '.join(f'{lvl:g}' for lvl in method.trained_levels())}): give the level.")
        card = method.card_for(make_degradation(task, level))
        ref = card.name if method.directory == WEIGHTS_DIR else str(method.directory / card.name)
    elif hasattr(method, "weights_name"):      # one network for every level
        if level is not None:
            _check_trained(method, task, level, allow_untrained=False)
        ref = method.weights_name
    else:
        raise UserError(f"'{name}' is a classical method, not a network; redbench.restore runs it "
                        f"(redbench.list_networks() names the networks).")
    net, card = load_weights(ref, device=resolve_device(device))
    net = copy.deepcopy(net)
    net.card = card
    return net.eval()


def restore(image, method: str, sigma: float | None = None, scale: int | None = None, color: str = "gray",
            device: str = "cpu", allow_untrained: bool = False) -> np.ndarray:
    """`image` restored by `method` (any registry method, + for the x8 ensemble, or net:PATH): a noisy image with
    sigma=, or a low-resolution one with scale= (it comes back `scale` times larger). Takes numpy or torch,
    (H, W) gray or (H, W, 3) RGB (a tensor may be (3, H, W) or (1, C, H, W)) on 0..255; returns float64 numpy on
    0..255, unclipped and unrounded as the metrics receive it. Colour: SR on Y with Cb and Cr enlarged by
    bicubic; denoising on gray (color='gray', a gray result) or channel by channel (color='channels')."""
    from redbench.evaluation.restoration import restore_image
    from redbench.evaluation.runner import load_method
    from redbench.methods.torch_inference import resolve_device
    if (sigma is None) == (scale is None):
        raise UserError("give exactly one of sigma= (denoising) or scale= (super-resolution).")
    task, level = ("denoise", sigma) if sigma is not None else ("sr", scale)
    level = _level(task, level)
    found = load_method(method, task)
    _check_trained(found, task, level, allow_untrained)
    resolved = resolve_device(device)
    if resolved != "cpu":
        found = load_method(method, task, resolved)
    return restore_image(found, as_array(image), task, level, color)


def list_networks(results: str = "results") -> list[dict]:
    """One dict per installed network (methods/weights/*.json): what `redbench list networks` prints."""
    from redbench.evaluation.zoo import networks
    return networks(results)


def as_array(image) -> np.ndarray:
    """A numpy (H, W) or (H, W, C) image from numpy or a torch tensor ((H, W), (C, H, W) or (1, C, H, W))."""
    if type(image).__module__.startswith("torch"):
        array = image.detach().cpu().numpy()
        if array.ndim == 4 and array.shape[0] == 1:
            array = array[0]
        if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[2] not in (1, 3):
            array = np.moveaxis(array, 0, -1)
        return array.astype(np.float64)
    array = np.asarray(image)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise UserError(f"an image is a numeric array on 0..255, got {array.dtype}.")
    return array.astype(np.float64)


def _level(task: str, level):
    from redbench.core.degradations import parse_levels
    return parse_levels(task, str(level))[0]


def _check_task(task: str) -> None:
    from redbench.core.defaults import TASKS
    if task not in TASKS:
        raise UserError(f"unknown task '{task}': use {' or '.join(TASKS)}.")


def _method(name: str, task: str):
    from redbench.evaluation.runner import load_method
    return load_method(name, task)


def _check_trained(method, task: str, level, allow_untrained: bool) -> None:
    """A network used at a level it was not trained for is an error (as in eval), unless allowed."""
    from redbench.methods.registry import check_trained
    check_trained(method.name, method, task, level, allow_untrained, "pass allow_untrained=True")
