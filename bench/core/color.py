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


# MATLAB rgb2ycbcr on 0..255: [Y; Cb; Cr] = OFFSET + YCBCR @ [R; G; B] / 255, and ycbcr2rgb its exact inverse
_YCBCR = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255.0
_OFFSET = np.array([16.0, 128.0, 128.0])


def rgb2ycbcr(image: np.ndarray) -> np.ndarray:
    """Float Y, Cb, Cr planes (H, W, 3) of an RGB image on 0..255, unrounded (rgb2y rounds Y to 8 bits)."""
    return image[..., :3].astype(np.float64) @ _YCBCR.T + _OFFSET


def ycbcr2rgb(image: np.ndarray) -> np.ndarray:
    """Float RGB on 0..255 from Y, Cb, Cr planes (H, W, 3): MATLAB ycbcr2rgb, unclipped and unrounded."""
    return (np.asarray(image, dtype=np.float64) - _OFFSET) @ np.linalg.inv(_YCBCR).T
