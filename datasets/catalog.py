"""The benchmark sets: one `DatasetSpec` each, with the checksum files it is made of, and those lists read.

A new dataset is one entry in `SPECS` plus one `checksums/<name>.tsv`
(`relpath<TAB>sha256<TAB>url`, sha256 `-` when it is not yet known).
`dir:PATH` names a folder of the user's own images instead (`folder_spec`).
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from redbench.core.errors import UserError
from redbench.core.names import is_printable, printable_name

FOLDER_PREFIX = "dir:"


@dataclass(frozen=True)
class PaperRole:
    """Where a set stands in the paper: the one record of which published table it is compared with, under which
    of the paper's sets its numbers are filed, and how it differs from that set. comparison.py (which cell each
    of our numbers is held to), the table captions and the report's deviations are all derived from it."""
    table: int | None = None        # the paper's Table 1-5 this set is compared with (None: none)
    paper_set: str | None = None    # the paper's set it stands for, when it is not that set itself
    note: str = ""                  # how it differs from the paper's set, stated beside every comparison
    short: str = ""                 # the note in a few words, for a LaTeX caption
    use: str = ""                   # a role other than a test set, e.g. 'training set'


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    checksum_files: tuple[str, ...]   # names under datasets/checksums/, without .tsv
    tasks: tuple[str, ...]            # 'denoise' and/or 'sr'
    # How the stored file becomes the ground truth:
    #   'gray'  - MATLAB rgb2gray of a colour file (a gray file is used as is)
    #   'y'     - Y of MATLAB rgb2ycbcr (BT.601, 16..235), for SR
    #   'task'  - gray for denoising, Y for SR (a folder of the user's own images)
    color: str = "gray"
    half_size: bool = False           # MATLAB bicubic 1/2 after conversion (the paper's BSD200)
    verified: bool = True             # False: the checksums are not known, files are used unverified
    role: PaperRole = PaperRole()
    aliases: tuple[str, ...] = field(default=())
    folder: str | None = None         # dir:PATH sets: the folder; its files are hashed, not checked against a list


SPECS: dict[str, DatasetSpec] = {}


def _add(spec: DatasetSpec) -> None:
    SPECS[spec.name] = spec


_add(DatasetSpec("set5", "Set5 (Bevilacqua et al. 2012), 5 colour images", ("set5",), ("sr",), color="y",
                 role=PaperRole(3)))
_add(DatasetSpec("set14", "Set14 (Zeyde et al. 2010), 14 images", ("set14",), ("sr",), color="y",
                 role=PaperRole(4)))
_add(DatasetSpec("bsd100", "BSD100 = BSDS300 test = BSDS500 val, 100 JPEGs", ("bsds500_val",), ("sr", "denoise"),
                 color="y", role=PaperRole(5)))
_add(DatasetSpec("bsd200", "BSD200 = BSDS500 test, 200 JPEGs, gray, full size", ("bsds500_test",), ("denoise",),
                 role=PaperRole(2, note="Size: BSD200 at FULL size; the paper used images 'resized to smaller ones' "
                                        "(1/2 inferred), so our numbers are not directly comparable.",
                                short="BSD200 at full size; the paper's images were smaller")))
_add(DatasetSpec("bsd200-half", "BSD200 gray, MATLAB bicubic 1/2 size (the paper's 'resized to smaller ones')",
                 ("bsds500_test",), ("denoise",), half_size=True,
                 role=PaperRole(2, "bsd200", note="Size: BSD200 at 1/2 size (bicubic); the paper used images "
                                                  "'resized to smaller ones', and the factor 1/2 is inferred, not stated.",
                                short="BSD200 at half size, our reading of the paper's images resized to smaller ones")))
_add(DatasetSpec("bsd300-train", "The paper's 300 training images = BSDS500 train + val", ("bsds500_train", "bsds500_val"),
                 ("denoise", "sr"), role=PaperRole(use="training set")))
_add(DatasetSpec("bsds500-train", "BSDS500 train alone (200), disjoint from BSD100/BSD68", ("bsds500_train",),
                 ("denoise", "sr"), role=PaperRole(use="training set without test overlap")))
_add(DatasetSpec("set12", "Set12 (DnCNN test set), 12 gray images", ("set12",), ("denoise",),
                 role=PaperRole(1, "fourteen", note="SUBSTITUTE: Set12 instead of the paper's 14 images; absolute "
                                                    "numbers are not comparable.",
                                short="Set12 stands in for the paper's 14 images")))
_add(DatasetSpec("bsd68", "BSD68 (DnCNN test set), 68 gray images, a subset of BSDS500 val", ("bsd68",), ("denoise",)))
_add(DatasetSpec("fourteen", "The paper's 14 denoising images (MemNet S14 BMPs, unnamed)", ("fourteen",), ("denoise",),
                 verified=False, role=PaperRole(1)))


def folder_name(name: str) -> str:
    """'dir:PATH' with PATH made absolute (the name is part of every row's key and of the noise seed, so it
    must not depend on where a command was typed); other names unchanged."""
    if not name.startswith(FOLDER_PREFIX):
        return name
    path = name[len(FOLDER_PREFIX):]
    if not path:
        raise UserError("dataset 'dir:' names no folder: write dir:PATH, e.g. --datasets dir:./my-images.")
    absolute = os.path.abspath(os.path.expanduser(path))
    if not is_printable(absolute):
        # the name keys every row (SQLite, CSV and the tables are UTF-8 text); a file name inside is escaped
        # instead (fetch.folder_files), but the folder's path must lead the workers back to the folder
        raise UserError(f"dataset dir:{printable_name(absolute)}: the folder's path is not valid UTF-8; rename the "
                        f"folder, or link to it from a UTF-8 path (ln -s) and give that.")
    return FOLDER_PREFIX + absolute


def folder_spec(name: str) -> DatasetSpec:
    """The spec of 'dir:PATH': every image in the folder, gray for denoising and Y for SR."""
    folder = folder_name(name)[len(FOLDER_PREFIX):]
    if not os.path.isdir(folder):
        raise UserError(f"dataset {name}: no folder {folder}; give a folder of PNG/BMP/TIFF/JPEG images.")
    return DatasetSpec(folder_name(name), f"images in {folder}", (), ("denoise", "sr"), color="task",
                       role=PaperRole(use="the user's own images"), folder=folder)


def get_spec(name: str) -> DatasetSpec:
    if name.startswith(FOLDER_PREFIX):
        return folder_spec(name)
    if name in SPECS:
        return SPECS[name]
    close = difflib.get_close_matches(name, list(SPECS), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise UserError(f"unknown dataset '{name}'.{hint} Known: {', '.join(sorted(SPECS))}, or dir:PATH for a folder "
                    f"of your own images.")


# The checksum lists: one line per file of a set (relpath, sha256 or '-', url), the images every run evaluates.
CHECKSUM_DIR = Path(__file__).parent / "checksums"


@dataclass(frozen=True)
class FileEntry:
    relpath: str
    sha256: str | None   # None: not yet known, used unverified
    url: str

    @property
    def stem(self) -> str:
        return Path(self.relpath).stem


@lru_cache(maxsize=None)
def read_checksums(name: str) -> tuple[FileEntry, ...]:
    """The entries of datasets/checksums/<name>.tsv (relpath, sha256 or '-', url)."""
    entries = []
    with open(CHECKSUM_DIR / f"{name}.tsv") as fh:
        for line in fh:
            if not line.strip():
                continue
            rel, sha, url = line.rstrip("\n").split("\t")
            entries.append(FileEntry(rel, None if sha == "-" else sha, url))
    return tuple(entries)


def image_count(name: str) -> int | None:
    """How many images the dataset has: the entries of its checksum lists, which are the images every run
    evaluates. None for a folder of the user's own images (its files may change) and for an unknown name."""
    if name.startswith(FOLDER_PREFIX):
        return None
    spec = SPECS.get(name)
    if spec is None:
        return None
    return sum(len(read_checksums(checksum_file)) for checksum_file in spec.checksum_files)
