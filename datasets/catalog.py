"""The benchmark sets: one `DatasetSpec` each, with the checksum files it is made of.

A new dataset is one entry in `SPECS` plus one `checksums/<name>.tsv`
(`relpath<TAB>sha256<TAB>url`, sha256 `-` when it is not yet known).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    checksum_files: tuple[str, ...]   # names under datasets/checksums/, without .tsv
    tasks: tuple[str, ...]            # 'denoise' and/or 'sr'
    # How the stored file becomes the ground truth:
    #   'gray'  - MATLAB rgb2gray of a colour file (a gray file is used as is)
    #   'y'     - Y of MATLAB rgb2ycbcr (BT.601, 16..235), for SR
    color: str = "gray"
    half_size: bool = False           # MATLAB bicubic 1/2 after conversion (the paper's BSD200)
    verified: bool = True             # False: the checksums are not known, files are used unverified
    paper_role: str = ""
    aliases: tuple[str, ...] = field(default=())


SPECS: dict[str, DatasetSpec] = {}


def _add(spec: DatasetSpec) -> None:
    SPECS[spec.name] = spec


_add(DatasetSpec("set5", "Set5 (Bevilacqua et al. 2012), 5 colour images", ("set5",), ("sr",), color="y",
                 paper_role="Table 3 (SR)"))
_add(DatasetSpec("set14", "Set14 (Zeyde et al. 2010), 14 images", ("set14",), ("sr",), color="y",
                 paper_role="Table 4 (SR)"))
_add(DatasetSpec("bsd100", "BSD100 = BSDS300 test = BSDS500 val, 100 JPEGs", ("bsds500_val",), ("sr", "denoise"),
                 color="y", paper_role="Table 5 (SR)"))
_add(DatasetSpec("bsd200", "BSD200 = BSDS500 test, 200 JPEGs, gray, full size", ("bsds500_test",), ("denoise",),
                 paper_role="Table 2 (denoise), full-size variant"))
_add(DatasetSpec("bsd200-half", "BSD200 gray, MATLAB bicubic 1/2 size (the paper's 'resized to smaller ones')",
                 ("bsds500_test",), ("denoise",), half_size=True,
                 paper_role="Table 2 (denoise); the 1/2 factor is inferred from MemNet's BSD200_halfsize"))
_add(DatasetSpec("bsd300-train", "The paper's 300 training images = BSDS500 train + val", ("bsds500_train", "bsds500_val"),
                 ("denoise", "sr"), paper_role="training set"))
_add(DatasetSpec("bsds500-train", "BSDS500 train alone (200), disjoint from BSD100/BSD68", ("bsds500_train",),
                 ("denoise", "sr"), paper_role="training set without test overlap"))
_add(DatasetSpec("set12", "Set12 (DnCNN test set), 12 gray images", ("set12",), ("denoise",),
                 paper_role="substitute for the paper's 14 images (Table 1)"))
_add(DatasetSpec("bsd68", "BSD68 (DnCNN test set), 68 gray images, a subset of BSDS500 val", ("bsd68",), ("denoise",)))
_add(DatasetSpec("fourteen", "The paper's 14 denoising images (MemNet S14 BMPs, unnamed)", ("fourteen",), ("denoise",),
                 verified=False, paper_role="Table 1 (denoise); checksums unverified, not in the shared mirror"))
