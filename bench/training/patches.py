"""Random 50x50 training pairs (input, target) drawn from whole training images.

Denoise: clean gray patches plus Gaussian noise whose sigma is drawn per patch
from the training levels (one level = the per-sigma model, several = the
paper's single model). SR: the bicubic down-up input is computed once per
whole image and scale (so patches have no resize border effects) and aligned
patches are cut from input and target. Everything lives on the training
device, and the draws come from one seeded generator per rank.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from redbench.datasets.catalog import DatasetSpec
from redbench.datasets.fetch import ImageRef
from redbench.datasets.images import ground_truth
from redbench.core.degradations import BicubicSR, noisy_batch
from redbench.core.dihedral import dihedral
from redbench.core.errors import UserError


class PatchSource:
    def __init__(self, task: str, levels: list, refs: list[ImageRef], spec: DatasetSpec, patch: int = 50,
                 device: str = "cpu", seed: int = 0, rank: int = 0, augment: bool = True):
        self.task, self.levels, self.patch, self.device, self.augment = task, list(levels), patch, device, augment
        # two streams per rank, never shared with another rank's streams
        self.generator = torch.Generator(device="cpu").manual_seed(seed * 100003 + 2 * rank)
        self.noise_generator = torch.Generator(device=device).manual_seed(seed * 100003 + 2 * rank + 1)
        self.targets: list[torch.Tensor] = []
        self.inputs: dict[int, list[torch.Tensor]] = {}
        # SR images are cropped to a multiple of every scale, so the bicubic input lines up with the target;
        # 12 serves the usual 2/3/4 (and keeps their patches as they were), other scales widen it
        crop = math.lcm(12, *(int(s) for s in self.levels)) if task == "sr" else 1
        for ref in refs:
            clean = ground_truth(ref.path, spec)
            if task == "sr":
                clean = clean[: clean.shape[0] - clean.shape[0] % crop, : clean.shape[1] - clean.shape[1] % crop]
            if min(clean.shape) < patch:
                raise UserError(f"training image {ref.name} is {clean.shape[1]}x{clean.shape[0]} after cropping to a "
                                f"multiple of {crop}, smaller than --patch {patch}: use a smaller patch or fewer scales.")
            self.targets.append(torch.from_numpy((clean / 255.0).astype(np.float32)).to(device))
            if task == "sr":
                for scale in self.levels:
                    degraded = BicubicSR(int(scale)).apply(clean)
                    self.inputs.setdefault(int(scale), []).append(
                        torch.from_numpy((degraded / 255.0).astype(np.float32)).to(device))

    def _randint(self, high: int, n: int = 1) -> torch.Tensor:
        return torch.randint(0, high, (n,), generator=self.generator)

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.patch
        images = self._randint(len(self.targets), n).tolist()
        level_ids = self._randint(len(self.levels), n).tolist()
        transforms = self._randint(8, n).tolist() if self.augment else [0] * n
        inputs, targets = [], []
        for image, level_id, t in zip(images, level_ids, transforms):
            target = self.targets[image]
            h, w = target.shape
            y = int(self._randint(h - p + 1)); x = int(self._randint(w - p + 1))
            tgt = target[y:y + p, x:x + p]
            if self.task == "sr":
                inp = self.inputs[int(self.levels[level_id])][image][y:y + p, x:x + p]
            else:
                inp = None
            if t:
                tgt = dihedral(tgt, t)
                inp = dihedral(inp, t) if inp is not None else None
            targets.append(tgt)
            inputs.append(inp)
        target_batch = torch.stack(targets).unsqueeze(1)
        if self.task == "sr":
            input_batch = torch.stack(inputs).unsqueeze(1)
        else:
            sigmas = torch.tensor([float(self.levels[i]) / 255.0 for i in level_ids], device=self.device)
            input_batch = noisy_batch(target_batch, sigmas, self.noise_generator)
        return input_batch.contiguous(), target_batch.contiguous()

    def state(self) -> dict[str, torch.Tensor]:
        return {"rng.patches": self.generator.get_state(), "rng.noise": self.noise_generator.get_state().cpu()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["rng.patches"])
        self.noise_generator.set_state(state["rng.noise"].cpu())   # CUDA generators also take a CPU ByteTensor

