"""Run a 2-D image through a fully convolutional torch network, tiled so memory stays bounded.

Tiles overlap by a margin at least as wide as the network's receptive-field
radius, and only each tile's centre is kept, so the tiled output equals the
untiled one up to floating-point summation order.
"""
from __future__ import annotations

import numpy as np
import torch

from redbench.core.defaults import DEVICES
from redbench.core.errors import UserError


def resolve_device(requested: str = "auto") -> str:
    """'auto' -> 'cuda' when a CUDA GPU is visible, else 'cpu'; 'cuda' without one is a one-line error.
    The one place that decides where networks run, for evaluation and training alike."""
    if requested not in DEVICES:
        raise UserError(f"unknown device '{requested}': use {', '.join(DEVICES)}.")
    available = torch.cuda.is_available()
    if requested == "cuda" and not available:
        raise UserError("--device cuda, but torch sees no CUDA GPU here; use --device auto or --device cpu.")
    return "cuda" if requested == "cuda" or (requested == "auto" and available) else "cpu"


def device_name(device: str) -> str:
    """What run.json records: the GPU's name, or the CPU with the threads torch uses."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name()
    threads = torch.get_num_threads()
    return f"CPU, {threads} thread{'s' if threads != 1 else ''}"


def exact_fp32(device: str) -> None:
    """Evaluation is fp32 everywhere: on a GPU, forbid the TF32 tensor-core path that cuDNN and cuBLAS may take
    for fp32 convolutions and matrix products (10-bit mantissa), so GPU rows agree with CPU rows."""
    if device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False


@torch.no_grad()
def apply_network(net: torch.nn.Module, image: np.ndarray, tile: int = 0, margin: int = 32,
                  device: str = "cpu") -> np.ndarray:
    """`image` on 0..255; the network works on 0..1 on `device` (where `net` must be). tile=0 runs the whole
    image at once."""
    exact_fp32(device)
    x = torch.from_numpy((np.asarray(image, dtype=np.float32) / 255.0))[None, None].to(device)
    if device == "cpu":
        x = x.contiguous(memory_format=torch.channels_last)
    h, w = image.shape
    if tile <= 0 or (h <= tile and w <= tile):
        return net(x)[0, 0].float().cpu().numpy().astype(np.float64) * 255.0
    out = np.empty((h, w), dtype=np.float64)
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(top + tile, h), min(left + tile, w)
            t0, l0 = max(top - margin, 0), max(left - margin, 0)
            b0, r0 = min(bottom + margin, h), min(right + margin, w)
            piece = net(x[..., t0:b0, l0:r0].contiguous())[0, 0].float().cpu().numpy()
            out[top:bottom, left:right] = piece[top - t0:bottom - t0, left - l0:right - l0] * 255.0
    return out
