"""PSNR and SSIM as the field's MATLAB code computes them.

The output is clipped and rounded to 8 bits first; SR crops `shave` border
pixels; SSIM follows Wang et al.'s ssim_index.m: 11x11 Gaussian window with
sigma 1.5, K = (0.01, 0.03), L = 255, population statistics, mean over the
'valid' part of the map (no automatic downsampling).
"""
from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from redbench.core.resize import to_uint8


# SSIM's Gaussian window (sigma 1.5, truncated at 3.5 sigma) is 11x11: a scored region narrower than this has no
# SSIM (skimage raises), so smaller images are refused before a run starts (runner.check_image_sizes)
SSIM_WINDOW = 11


def _crop(image: np.ndarray, shave: int) -> np.ndarray:
    return image[shave:-shave, shave:-shave] if shave > 0 else image


def psnr(reference: np.ndarray, restored: np.ndarray, shave: int = 0) -> float:
    ref = _crop(np.asarray(reference, dtype=np.float64), shave)
    out = _crop(to_uint8(restored).astype(np.float64), shave)
    mse = np.mean((ref - out) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def ssim(reference: np.ndarray, restored: np.ndarray, shave: int = 0) -> float:
    ref = _crop(np.asarray(reference, dtype=np.float64), shave)
    out = _crop(to_uint8(restored).astype(np.float64), shave)
    return float(structural_similarity(ref, out, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=255.0, K1=0.01, K2=0.03))
