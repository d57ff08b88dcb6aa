"""Degradations: each is a small frozen dataclass that methods receive as is.

A method gets the degraded image *and* the degradation object (sigma, scale),
so a non-blind method such as BM3D reads the true sigma from it. Every degradation
has the shape of the `Degradation` protocol.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from redbench.core.defaults import LEVEL_NAME
from redbench.core.errors import UserError
from redbench.core.resize import imresize, modcrop


@runtime_checkable
class Degradation(Protocol):
    """What evaluation, training and the methods rely on."""
    task: str                     # 'denoise' or 'sr'

    @property
    def level(self) -> float: ...        # sigma on 0..255, or the SR scale

    @property
    def shave(self) -> int: ...          # border pixels left out of PSNR/SSIM

    def apply(self, clean: np.ndarray, seed: int) -> np.ndarray: ...     # the degraded input (float64, 0..255)

    def target(self, clean: np.ndarray) -> np.ndarray: ...               # what the output is scored against


def noise_seed(seed: int, dataset: str, image: str, sigma: float) -> int:
    """A stable 63-bit seed per (seed, dataset, image, sigma), independent of run order and method."""
    digest = hashlib.sha256(f"{seed}/{dataset}/{image}/{sigma:g}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@dataclass(frozen=True)
class GaussianNoise:
    sigma: float
    clip: bool = False   # the paper's code does not clip the noisy input

    task = "denoise"

    @property
    def level(self) -> float:
        return self.sigma

    @property
    def shave(self) -> int:
        return 0

    def target(self, clean: np.ndarray) -> np.ndarray:
        return clean

    def apply(self, clean: np.ndarray, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        noisy = clean + self.sigma * rng.standard_normal(clean.shape)
        return np.clip(noisy, 0, 255) if self.clip else noisy


def noisy_batch(clean, sigmas, generator):
    """Training's Gaussian noise, the torch twin of GaussianNoise.apply for a batch on its device: clean (N, 1, H, W,
    0..1 scale) plus standard normal noise from `generator` times each patch's sigma (N values, 0..1 scale)."""
    import torch   # only training needs torch here
    noise = torch.randn(clean.shape, generator=generator, device=clean.device)
    return clean + noise * sigmas.view(-1, 1, 1, 1)


@dataclass(frozen=True)
class BicubicSR:
    """Bicubic down then up by `scale` (MATLAB imresize, float), the SRCNN/RED-Net SR input."""
    scale: int

    task = "sr"

    @property
    def level(self) -> int:
        return self.scale

    @property
    def shave(self) -> int:
        return self.scale

    def target(self, clean: np.ndarray) -> np.ndarray:
        return modcrop(clean, self.scale)

    def downscale(self, clean: np.ndarray) -> np.ndarray:
        return imresize(self.target(clean), 1.0 / self.scale)

    def upscale(self, low: np.ndarray, shape: tuple[int, int] | None = None) -> np.ndarray:
        """The network's input from a low-resolution image: MATLAB bicubic up by `scale` (to `shape` if given)."""
        return imresize(low, self.scale, out_shape=shape)

    def apply(self, clean: np.ndarray, seed: int = 0) -> np.ndarray:
        return self.upscale(self.downscale(clean), self.target(clean).shape)


def parse_levels(task: str, text: str) -> list:
    """'10,30,50' -> [10, 30, 50] with a clear error for anything invalid."""
    values = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise UserError(f"invalid {LEVEL_NAME.get(task, 'level')} '{part}': give numbers separated by commas.") from None
        if task == "denoise":
            if not (0 < value <= 255):
                raise UserError(f"invalid sigma {part}: noise sigma must be in (0, 255] on the 0..255 scale.")
            if float(f"{value:g}") != value:   # every table, file and key writes a level as {:g}
                raise UserError(f"invalid sigma {part}: give at most 6 significant digits (it would be shown and "
                                f"filed as {value:g}, a different sigma).")
            values.append(int(value) if value.is_integer() else value)
        else:
            if not value.is_integer() or not (2 <= value <= 8):
                raise UserError(f"invalid scale {part}: SR scale must be an integer from 2 to 8.")
            values.append(int(value))
    if not values:
        raise UserError("no levels given: pass e.g. --sigma 10,30,50,70 or --scale 2,3,4.")
    return values


def make_degradation(task: str, level, clip_noise: bool = False) -> Degradation:
    if task == "denoise":
        return GaussianNoise(level, clip=clip_noise)
    if task == "sr":
        return BicubicSR(int(level))
    raise UserError(f"unknown task '{task}': use 'denoise' or 'sr'.")
