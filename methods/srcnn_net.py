"""SRCNN-style network (Dong et al. 2014, 9-5-5, 64/32 filters) on bicubic-upscaled Y.

Same-size padding so output and input align (the original trains 'valid'
convolutions on 33x33 patches; padding keeps the harness's full-image scoring).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class SRCNNConfig:
    f1: int = 9
    f2: int = 5
    f3: int = 5
    n1: int = 64
    n2: int = 32
    channels: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


class SRCNN(nn.Module):
    def __init__(self, config: SRCNNConfig = SRCNNConfig()):
        super().__init__()
        self.config = config
        c = config
        self.body = nn.Sequential(
            nn.Conv2d(c.channels, c.n1, c.f1, padding=c.f1 // 2), nn.ReLU(inplace=True),
            nn.Conv2d(c.n1, c.n2, c.f2, padding=c.f2 // 2), nn.ReLU(inplace=True),
            nn.Conv2d(c.n2, c.channels, c.f3, padding=c.f3 // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
