"""Restore an image with a method, and score it: the one code path of `eval` (runner.evaluate), `verify`,
`redbench restore` and the Python API (redbench.restore), so all four give the same output for the same input.

The methods restore one 2-D plane on 0..255 (gray for denoising, Y for SR, as the paper's protocol scores them).
restore_image adds what a user's own image needs around that: an SR input is the low-resolution image, enlarged
by MATLAB bicubic before the network as in the evaluation; a colour image is restored on Y for SR (Cb and Cr
enlarged by bicubic alone) and on gray for denoising, or channel by channel with color='channels'.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from redbench.core.color import rgb2gray, rgb2ycbcr, ycbcr2rgb
from redbench.core.degradations import make_degradation
from redbench.core.errors import UserError
from redbench.core.metrics import psnr, ssim
from redbench.core.resize import to_uint8

# how a colour image is denoised: 'gray' = MATLAB rgb2gray first (the evaluation's protocol, gray output);
# 'channels' = R, G and B each denoised as a gray image by the same network (colour output)
COLOR_MODES = ("gray", "channels")


@dataclass
class Restored:
    image: np.ndarray              # float64 on 0..255 as the method returned it (unclipped, unrounded)
    seconds: float                 # the method's time alone
    psnr: float | None = None      # against the target, when one was given, rounded as the results rows are
    ssim: float | None = None


def score(target: np.ndarray, restored: np.ndarray, shave: int = 0) -> tuple[float, float]:
    """(PSNR, SSIM) as a results row stores them. A colour pair (H, W, 3): PSNR over all three channels, SSIM the
    mean of the channels' SSIMs."""
    if restored.ndim == 3:
        value = np.mean([ssim(target[..., c], restored[..., c], shave) for c in range(restored.shape[2])])
    else:
        value = ssim(target, restored, shave)
    return round(psnr(target, restored, shave), 4), round(float(value), 5)


def restore_plane(method, degraded: np.ndarray, degradation, target: np.ndarray | None = None) -> Restored:
    """Run `method` on one degraded plane (the exact input of the evaluation) and score it against `target`."""
    start = time.perf_counter()
    restored = method.restore(degraded, degradation)
    seconds = time.perf_counter() - start
    if restored.shape != degraded.shape:
        raise RuntimeError(f"{method.name} returned shape {restored.shape}, expected {degraded.shape}")
    result = Restored(restored, seconds)
    if target is not None:
        result.psnr, result.ssim = score(target, restored, degradation.shave)
    return result


def restore_image(method, image: np.ndarray, task: str, level, color: str = "gray") -> np.ndarray:
    """An already-degraded image restored: the noisy image (denoise), or the low-resolution one (sr), which comes
    back `level` times larger. (H, W) or (H, W, 3) on 0..255 in; float64 on 0..255 out, gray for a gray image and
    for colour denoised with color='gray', else RGB."""
    if color not in COLOR_MODES:
        raise UserError(f"unknown colour mode '{color}': use {' or '.join(COLOR_MODES)}.")
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise UserError(f"an image is (height, width) gray or (height, width, 3) RGB, got shape {image.shape}.")
    degradation = make_degradation(task, level)
    if task == "sr":
        return enlarge(method, image, degradation)
    if image.ndim == 2:
        return restore_plane(method, image, degradation).image
    if color == "gray":
        return restore_plane(method, rgb2gray(to_uint8(image)).astype(np.float64), degradation).image
    return np.stack([restore_plane(method, image[..., c], degradation).image for c in range(3)], axis=-1)


def enlarge(method, low: np.ndarray, degradation, shape: tuple[int, int] | None = None) -> np.ndarray:
    """SR of a low-resolution image: the network on Y (bicubic-enlarged, as in the evaluation), Cb and Cr enlarged
    by bicubic alone. Y, Cb and Cr are first rounded to 8 bits, as MATLAB's rgb2ycbcr of an 8-bit image gives
    them (the evaluation's Y)."""
    if low.ndim == 2:
        return restore_plane(method, degradation.upscale(low, shape), degradation).image
    planes = to_uint8(rgb2ycbcr(low)).astype(np.float64)
    y = restore_plane(method, degradation.upscale(planes[..., 0], shape), degradation).image
    return combine_ycbcr(y, [degradation.upscale(planes[..., c], shape) for c in (1, 2)])


def combine_ycbcr(y: np.ndarray, chroma: list[np.ndarray]) -> np.ndarray:
    """RGB on 0..255 from a restored Y and enlarged Cb, Cr (MATLAB ycbcr2rgb)."""
    return ycbcr2rgb(np.stack([y, *chroma], axis=-1))
