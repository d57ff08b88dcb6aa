"""Run a 2-D image through a fully convolutional torch network, tiled so memory stays bounded.

Tiles overlap by a margin at least as wide as the network's receptive-field
radius, and only each tile's centre is kept, so the tiled output equals the
untiled one up to floating-point summation order.
"""
from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def apply_network(net: torch.nn.Module, image: np.ndarray, tile: int = 0, margin: int = 32,
                  device: str = "cpu") -> np.ndarray:
    """`image` on 0..255; the network works on 0..1. tile=0 runs the whole image at once."""
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
