"""Colour conversions exactly as MATLAB's, since published numbers depend on them."""
from __future__ import annotations

import numpy as np

from redbench.core.resize import to_uint8

# MATLAB rgb2gray: the BT.601 luma weights as MATLAB rounds them in rgb2gray.m
_GRAY = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])
# MATLAB rgb2ycbcr, Y row (BT.601, studio range 16..235, inputs 0..255)
_Y = np.array([65.481, 128.553, 24.966]) / 255.0


def rgb2gray(image: np.ndarray) -> np.ndarray:
    """uint8 gray like MATLAB rgb2gray(uint8); a 2-D image passes unchanged."""
    if image.ndim == 2:
        return image
    return to_uint8(image[..., :3].astype(np.float64) @ _GRAY)


def rgb2y(image: np.ndarray) -> np.ndarray:
    """uint8 Y of MATLAB rgb2ycbcr(uint8); a 2-D image passes unchanged (as the SRCNN scripts do)."""
    if image.ndim == 2:
        return image
    return to_uint8(16.0 + image[..., :3].astype(np.float64) @ _Y)
