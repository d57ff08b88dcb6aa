"""Training batches cut, flipped and noised on the device in a few batched tensor operations.

All training images live in one zero-padded tensor on the device (portrait images are
transposed so the padding stays small). A batch draws image, level, position and one of
the 8 flips/rotations per patch from one device generator, gathers every patch with one
advanced-indexing operation, and adds noise with one `randn`: no Python loop over patches
and no host synchronisation, so a GPU step never waits for the CPU. The loop sampler in
patches.py stays the CPU default: there a step costs ~1 s and sampling is noise.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from redbench.datasets.catalog import DatasetSpec
from redbench.datasets.fetch import ImageRef
from redbench.datasets.images import ground_truth
from redbench.core.degradations import BicubicSR, noisy_batch
from redbench.core.errors import UserError

SR_CROP = 12   # SR images are cropped to a multiple of 12 so every scale 2/3/4 divides them


@lru_cache(maxsize=8)
def prepared_images(paths: tuple[str, ...], spec: DatasetSpec, task: str, scales: tuple[int, ...]
                    ) -> tuple[list[np.ndarray], dict[int, list[np.ndarray]]]:
    """Ground truths (landscape) and, for SR, their bicubic inputs per scale; cached because a
    campaign trains many networks on the same images in one process."""
    targets, inputs = [], {scale: [] for scale in scales}
    for path in paths:
        clean = ground_truth(path, spec)
        if clean.shape[0] > clean.shape[1]:
            clean = clean.T
        if task == "sr":
            clean = clean[: clean.shape[0] - clean.shape[0] % SR_CROP, : clean.shape[1] - clean.shape[1] % SR_CROP]
            for scale in scales:
                inputs[scale].append(np.ascontiguousarray(BicubicSR(scale).apply(clean)))
        targets.append(np.ascontiguousarray(clean))
    return targets, inputs


def _stack(images: list[np.ndarray], height: int, width: int, device: str) -> torch.Tensor:
    batch = np.zeros((len(images), height, width), dtype=np.float32)
    for i, image in enumerate(images):
        batch[i, : image.shape[0], : image.shape[1]] = image / 255.0
    return torch.from_numpy(batch).to(device)


class VectorPatchSource:
    def __init__(self, task: str, levels: list, refs: list[ImageRef], spec: DatasetSpec, patch: int = 50,
                 device: str = "cpu", seed: int = 0, rank: int = 0, augment: bool = True):
        self.task, self.patch, self.device, self.augment = task, patch, device, augment
        scales = tuple(int(s) for s in levels) if task == "sr" else ()
        targets, inputs = prepared_images(tuple(r.path for r in refs), spec, task, scales)
        small = [t.shape for t in targets if t.shape[0] < patch or t.shape[1] < patch]
        if small:
            raise UserError(f"training images smaller than the {patch}x{patch} patch: {small[:3]}; use a larger --train-set "
                            f"or a smaller --patch.")
        height, width = max(t.shape[0] for t in targets), max(t.shape[1] for t in targets)
        self.targets = _stack(targets, height, width, device)
        self.inputs = torch.stack([_stack(inputs[s], height, width, device) for s in scales]) if scales else None
        sizes = torch.tensor([t.shape for t in targets], dtype=torch.float32, device=device)
        self.room = sizes - patch + 1      # positions a patch can start at, per image (rows, cols)
        self.sigmas = torch.tensor([float(v) / 255.0 for v in levels], device=device)
        self.levels = len(levels)
        self.offsets = torch.arange(patch, device=device)
        self.generator = torch.Generator(device=device).manual_seed(seed * 100003 + 2 * rank)

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        g, dev = self.generator, self.device
        image = torch.randint(0, self.targets.shape[0], (n,), generator=g, device=dev)
        level = torch.randint(0, self.levels, (n,), generator=g, device=dev)
        start = (torch.rand((n, 2), generator=g, device=dev) * self.room[image]).long()
        rows = (start[:, 0:1] + self.offsets)[:, :, None]
        cols = (start[:, 1:2] + self.offsets)[:, None, :]
        target = self.targets[image[:, None, None], rows, cols]
        if self.task == "sr":
            source = self.inputs[level[:, None, None], image[:, None, None], rows, cols]
            pair = torch.stack([source, target], dim=1)                 # n, 2, p, p: one transform for both
        else:
            pair = target[:, None]
        if self.augment:   # three independent bits give all 8 flips/rotations of a square patch
            bits = torch.randint(0, 8, (n, 1, 1, 1), generator=g, device=dev)
            pair = torch.where((bits & 1).bool(), pair.transpose(-1, -2), pair)
            pair = torch.where((bits & 2).bool(), pair.flip(-2), pair)
            pair = torch.where((bits & 4).bool(), pair.flip(-1), pair)
        if self.task == "sr":
            return pair[:, 0:1].contiguous(), pair[:, 1:2].contiguous()
        target = pair.contiguous()
        return noisy_batch(target, self.sigmas[level], g).contiguous(), target

    def state(self) -> dict[str, torch.Tensor]:
        return {"rng.vector": self.generator.get_state().cpu()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        if "rng.vector" in state:
            self.generator.set_state(state["rng.vector"].cpu())
