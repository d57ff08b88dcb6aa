"""Validation during training: held-out BSDS500-train crops, never a test image, scored as the evaluation scores."""
from __future__ import annotations

import numpy as np
import torch

from redbench.core.degradations import make_degradation
from redbench.core.metrics import psnr
from redbench.datasets.catalog import get_spec
from redbench.datasets.images import ground_truth
from redbench.methods.red_network import StridedConfig
from redbench.methods.torch_inference import apply_network
from redbench.training.config import TrainConfig
from redbench.training.holdout import VAL_SET, split_images

# Validation: centre crops of the held-out VAL_SET images (holdout.py)
VAL_CROP = 128


def split_holdout(config: TrainConfig) -> tuple[list, list]:
    """(training refs, validation refs): the last `holdout` BSDS500-train images never train (holdout.py)."""
    return split_images(config.holdout, config.train_set, config.data_dir)


def validation_crop(model: torch.nn.Module) -> int:
    """The side of the validation crops: VAL_CROP, or the one input size a fixed-size network takes (Figure 3(a))."""
    return model.config.input_size if isinstance(model.config, StridedConfig) else VAL_CROP


def validation_set(config: TrainConfig, levels: list, held: list, crop: int) -> list[tuple]:
    """(target, degraded input, degradation) per held-out image and level, on centre crops of side `crop`."""
    spec = get_spec(VAL_SET)
    pairs = []
    for i, ref in enumerate(held):
        clean = ground_truth(ref.path, spec)
        h, w = clean.shape
        clean = clean[(h - crop) // 2:(h - crop) // 2 + crop, (w - crop) // 2:(w - crop) // 2 + crop]
        for level in levels:
            degradation = make_degradation(config.task, level)
            pairs.append((degradation.target(clean), degradation.apply(clean, seed=1000 + i), degradation))
    return pairs


@torch.no_grad()
def validate(model: torch.nn.Module, pairs, device: str) -> float:
    """Mean PSNR over the validation pairs, in fp32 (the evaluation's precision)."""
    if not pairs:
        return float("nan")
    model.eval()
    scores = [psnr(target, apply_network(model, degraded, device=device), shave=degradation.shave)
              for target, degraded, degradation in pairs]
    model.train()
    return float(np.mean(scores))
