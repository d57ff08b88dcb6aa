"""RED-Net (Mao, Shen & Yang, NIPS 2016): the network only; weights and inference live in red_family.py.

N/2 convolutions then N/2 deconvolutions (3x3, stride 1, padding 1, ReLU, no pooling).
Layers are numbered 1..N along the chain; the output of encoder layer i is
mirrored by decoder layer N-i (same size and width). Skip styles:
  'red'  - symmetric skips every `span` layers: the output of conv i (i = span, 2*span, ... < N/2)
           is added to the pre-activation of deconv N-i, then ReLU (the paper's design);
  'he'   - He et al. style block shortcuts: every `span` layers the block input is added
           to the block output before its ReLU (paper Figure 3c);
  'none' - a plain chain (RED10 and the no-skip ablations).
The last deconvolution maps to the image channels without ReLU; the input is
added back, so the network learns the residual.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class REDConfig:
    depth: int = 30
    width: int = 64
    channels: int = 1
    skip: str = "red"       # 'red' | 'he' | 'none'
    span: int = 2
    residual: bool = True   # add the input to the output (the paper's residual learning)

    def as_dict(self) -> dict:
        return asdict(self)


def skip_pairs(config: REDConfig) -> list[tuple[int, int]]:
    """(source layer, destination layer) pairs, layers numbered 1..depth; source 0 is never used."""
    n, half = config.depth, config.depth // 2
    if config.skip == "none":
        return []
    if config.skip == "red":
        return [(i, n - i) for i in range(config.span, half, config.span)]
    if config.skip == "he":
        return [(j - config.span, j) for j in range(2 * config.span, n, config.span)]
    raise ValueError(f"unknown skip style '{config.skip}': use 'red', 'he' or 'none'")


class Deconvolution(nn.ConvTranspose2d):
    """nn.ConvTranspose2d that, stride 1 on the CPU, computes the convolution it equals.

    With stride 1, a transposed convolution is a convolution with the kernel flipped and its in/out maps
    swapped, padded by k-1-p. oneDNN runs that forward and backward about 11% faster than its transposed
    kernel (bf16, 64 maps, 50x50: RED20 training 33.6 -> 37.0 patches/s; docs/training.md). Same
    parameters and state_dict as nn.ConvTranspose2d, same result; other cases go to PyTorch's own.
    """

    def forward(self, h: torch.Tensor, output_size=None) -> torch.Tensor:
        k, p = self.kernel_size, self.padding
        if (output_size is not None or h.device.type != 'cpu' or self.stride != (1, 1) or self.dilation != (1, 1)
                or self.groups != 1 or self.output_padding != (0, 0) or self.padding_mode != 'zeros'
                or any(pi > ki - 1 for ki, pi in zip(k, p))):
            return super().forward(h, output_size)
        weight = self.weight.transpose(0, 1).flip(2, 3)
        return F.conv2d(h, weight, self.bias, padding=(k[0] - 1 - p[0], k[1] - 1 - p[1]))


class REDNet(nn.Module):
    def __init__(self, config: REDConfig = REDConfig()):
        super().__init__()
        if config.depth < 2 or config.depth % 2:
            raise ValueError(f"RED depth must be an even number >= 2, got {config.depth}")
        self.config = config
        half, w, c = config.depth // 2, config.width, config.channels
        self.encoder = nn.ModuleList(
            nn.Conv2d(c if i == 0 else w, w, 3, padding=1) for i in range(half))
        self.decoder = nn.ModuleList(
            Deconvolution(w, c if i == half - 1 else w, 3, padding=1) for i in range(half))
        self.skips = {dst: src for src, dst in skip_pairs(config)}

    @property
    def layers(self) -> list[nn.Module]:
        return list(self.encoder) + list(self.decoder)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = {}   # layer index -> post-ReLU output, only for layers a skip reads
        sources = set(self.skips.values())
        h = x
        n = self.config.depth
        for index, layer in enumerate(self.layers, start=1):
            h = layer(h)
            if index in self.skips:
                h = h + outputs[self.skips[index]]
            if index < n:
                h = torch.relu(h)
                if index in sources:
                    outputs[index] = h
        return x + h if self.config.residual else h


def red(depth: int, **kwargs) -> REDNet:
    """The paper's models: RED10 has no skips, deeper ones have symmetric skips every two layers."""
    skip = kwargs.pop("skip", "none" if depth <= 10 else "red")
    return REDNet(REDConfig(depth=depth, skip=skip, **kwargs))


@dataclass(frozen=True)
class StridedConfig:
    """Paper Figure 3(a): 5 conv + 5 deconv with stride 3 (243 -> 1 -> 243), with or without skips."""
    layers: int = 5
    width: int = 64
    channels: int = 1
    skips: bool = True

    @property
    def input_size(self) -> int:
        return 3 ** self.layers

    def as_dict(self) -> dict:
        return asdict(self)


class StridedRED(nn.Module):
    def __init__(self, config: StridedConfig = StridedConfig()):
        super().__init__()
        self.config = config
        n, w, c = config.layers, config.width, config.channels
        self.encoder = nn.ModuleList(nn.Conv2d(c if i == 0 else w, w, 3, stride=3) for i in range(n))
        self.decoder = nn.ModuleList(nn.ConvTranspose2d(w, c if i == n - 1 else w, 3, stride=3) for i in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = []
        h = x
        for conv in self.encoder:
            h = torch.relu(conv(h))
            features.append(h)
        n = self.config.layers
        for j, deconv in enumerate(self.decoder, start=1):
            h = deconv(h)
            if j < n:
                if self.config.skips:
                    h = h + features[n - 1 - j]   # mirrored encoder map, same size
                h = torch.relu(h)
        return x + h if self.config.skips else h
