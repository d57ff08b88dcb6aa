"""The second yardstick: the authors' *released* RED30 as later papers measured it, with each value's source.

Kept apart from methods/paper_numbers.py (the numbers printed in Mao, Shen & Yang, NIPS 2016): these were
measured by other authors on standard test sets the paper did not use (BSD68, Set12), with the networks the
authors released. Their test code (`netforward.m` of the release) averages the 8 flips and rotations, and their
deploy file has 128 feature maps per hidden layer, where the paper's text describes 64; so our x8 ensemble
(`red30+`) and our 128-map network (`red30-c128+`) are the like-for-like columns. Each paper's own BM3D column
is kept too, beside ours: it shows that the protocols agree, so a gap is the networks', not the measurement's.
tests/test_released_numbers.py pins every value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Source:
    paper: str          # short citation
    table: str          # where in it
    row: str            # the row or column label the value is printed under

    def cite(self) -> str:
        return f"{self.paper}, {self.table}"


MWCNN = Source("Liu et al., MWCNN, CVPRW 2018", "Table 1", "RED30")
MWCNN_BM3D = Source("Liu et al., MWCNN, CVPRW 2018", "Table 1", "BM3D")
RNAN = Source("Zhang et al., RNAN, ICLR 2019", "Table 3", "RED")
RNAN_BM3D = Source("Zhang et al., RNAN, ICLR 2019", "Table 3", "BM3D")


@dataclass(frozen=True)
class Released:
    dataset: str                 # our dataset name: 'bsd68', 'set12'
    method: str                  # 'red30': the authors' released RED30; 'bm3d': that paper's BM3D
    level: int                   # sigma
    psnr: float
    ssim: Optional[float]        # None where the source prints no SSIM for the cell
    source: Source


RELEASED: tuple[Released, ...] = (
    Released("set12", "red30", 50, 27.34, 0.7897, MWCNN),
    Released("set12", "bm3d", 50, 26.72, None, MWCNN_BM3D),
    *(Released("bsd68", "red30", sigma, psnr, None, RNAN)
      for sigma, psnr in ((10, 33.99), (30, 28.50), (50, 26.37), (70, 25.10))),
    *(Released("bsd68", "bm3d", sigma, psnr, None, RNAN_BM3D)
      for sigma, psnr in ((10, 33.31), (30, 27.76), (50, 25.62), (70, 24.44))),
)

# What the release is, from its files (the authors' test code, mirrored as ved27/RED-net on GitHub).
RELEASED_NETWORK = {
    "deploy file": "model/REDNet_ch1.prototxt",
    "layers": 30,               # 15 convolutions and 15 deconvolutions, 3x3
    "feature maps": 128,        # on every hidden layer
    "skip every": 2,            # layers
    "ensemble": 8,              # netforward.m averages the 8 flips and rotations
    "per level": True,          # one model per noise level
}

# Our method -> the released-network cell it is compared with (its own published BM3D for ours).
COMPARED_WITH = {"red30": "red30", "red30+": "red30", "red30-c128": "red30", "red30-c128+": "red30", "bm3d": "bm3d"}


def released(dataset: str, method: str, level) -> Optional[Released]:
    """The released-network (or that paper's BM3D) value our `method` is compared with, or None."""
    target = COMPARED_WITH.get(method)
    return next((r for r in RELEASED if r.dataset == dataset and r.method == target and r.level == float(level)), None)


def cells() -> list[tuple[str, int]]:
    """(dataset, sigma) of every cell the yardstick has, in a stable order."""
    return sorted({(r.dataset, r.level) for r in RELEASED}, key=lambda c: (c[0] != "bsd68", c[0], c[1]))
