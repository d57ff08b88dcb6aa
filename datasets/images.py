"""Turn a stored file into the 2-D ground truth the paper's protocol scores against."""
from __future__ import annotations

import numpy as np

from redbench.color import rgb2gray, rgb2y
from redbench.errors import UserError
from redbench.resize import imresize, to_uint8

from .catalog import DatasetSpec


def _unreadable(path: str, exc: Exception) -> UserError:
    return UserError(f"cannot read image {path} ({exc}); replace the file or delete it (a file of a listed dataset "
                     f"is then fetched again).")


def read_image(path: str) -> np.ndarray:
    """uint8 array, (H, W) or (H, W, 3); a clear error if the file is not an image."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode not in ("L", "RGB"):
                im = im.convert("RGB") if im.mode in ("RGBA", "P", "CMYK", "YCbCr") else im.convert("L")
            return np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def check_image(path: str) -> None:
    """The same error as read_image for a file that is not a readable image, from its structure only (fast)."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def ground_truth(path: str, spec: DatasetSpec, task: str | None = None) -> np.ndarray:
    """float64 2-D image with integer values in 0..255 (`task` picks gray or Y for a spec whose color is 'task')."""
    image = read_image(path)
    color = spec.color
    if color == "task":
        if task is None:
            raise ValueError(f"{spec.name}: ground truth needs the task (gray for denoising, Y for SR)")
        color = "y" if task == "sr" else "gray"
    if color == "y":
        plane = rgb2y(image)
    else:
        plane = rgb2gray(image)
    if spec.half_size:
        # MATLAB: imresize(uint8, 1/2) returns uint8, so the half-size set is 8-bit too
        plane = to_uint8(imresize(plane, 0.5))
    return plane.astype(np.float64)
