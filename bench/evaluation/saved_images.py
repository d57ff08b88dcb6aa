"""`eval --save-images DIR`: every restored image of a run as an 8-bit PNG, DIR/<dataset>/<method>/<level>/<image>.png.

The PNG holds exactly what was scored: the output clipped and rounded to 8 bits as the metrics see it
(core/metrics). A folder of one's own images (dir:PATH) is filed under dir-<folder name>.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from redbench.core.defaults import LEVEL_NAME
from redbench.core.resize import to_uint8


def dataset_folder(dataset: str) -> str:
    """A folder name for a dataset, the tables' file label: listed sets keep their name; a dir: set's label
    carries a digest of its whole path, so two folders of one name never share a folder here."""
    from redbench.core.names import file_label
    return file_label(dataset)


def level_folder(task: str, level) -> str:
    """'sigma50' or 'x2' (the level as the command line gives it)."""
    return f"{LEVEL_NAME[task]}{float(level):g}" if task == "denoise" else f"x{int(level)}"


def saved_path(directory, item) -> Path:
    """Where the restored image of a work item goes. A dir: row's image is '<name>@<sha256[:12]>': the file is
    named by <name>."""
    from redbench.core.names import file_label
    name = item.image.rsplit("@", 1)[0] if "@" in item.image else item.image
    return Path(directory) / dataset_folder(item.dataset) / file_label(item.method) / level_folder(item.task, item.level) \
        / f"{name}.png"


def write_png(path: Path, image: np.ndarray) -> None:
    """An 8-bit PNG (gray or RGB) of a float image on 0..255, clipped and rounded as the metrics do; written
    atomically so an interrupted run leaves no half file."""
    from PIL import Image

    from redbench.core.atomic import atomic_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Image.fromarray(to_uint8(image)).save(tmp, format="PNG")


def save_restored(directory, item, image: np.ndarray) -> Path:
    path = saved_path(directory, item)
    write_png(path, image)
    return path
