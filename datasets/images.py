"""Turn a stored file into the 2-D ground truth the paper's protocol scores against."""
from __future__ import annotations

import numpy as np

from redbench.core.color import rgb2gray, rgb2y
from redbench.core.errors import UserError
from redbench.core.resize import imresize, to_uint8

from redbench.datasets.catalog import DatasetSpec


def _unreadable(path: str, exc: Exception) -> UserError:
    return UserError(f"cannot read image {path} ({exc}); replace the file or delete it (a file of a listed dataset "
                     f"is then fetched again).")


# Pillow modes of 16-bit gray: scaled to 8 bits by v * 255 / 65535, rounded (an 8-bit image stored as 16 bits,
# v = 257 k, gives back k exactly). 16-bit colour PNGs Pillow itself decodes to 8-bit RGB(A) by their high bytes.
SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")
# 32-bit integer and float pixels have no agreed 0..255 scale: refused rather than guessed at or clipped
REFUSED_MODES = {"I": "32-bit integer", "F": "32-bit float"}


def _errors():
    from PIL import Image, UnidentifiedImageError
    return UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError


def _check_mode(path: str, mode: str) -> None:
    if mode in REFUSED_MODES:
        raise UserError(f"image {path} has {REFUSED_MODES[mode]} pixels (Pillow mode {mode}), which have no 0..255 "
                        f"scale; save it as an 8- or 16-bit PNG.")


def read_image(path: str) -> np.ndarray:
    """uint8 array, (H, W) or (H, W, 3); a clear error if the file is not an image. 16-bit gray is scaled to
    8 bits explicitly, never clipped; 32-bit pixels are refused (see SIXTEEN_BIT, REFUSED_MODES)."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.load()
            _check_mode(path, im.mode)
            if im.mode in SIXTEEN_BIT:
                wide = np.asarray(im).astype(np.float64)
                return np.floor(wide * (255.0 / 65535.0) + 0.5).astype(np.uint8)
            if im.mode not in ("L", "RGB"):
                im = im.convert("RGB") if im.mode in ("RGBA", "RGBX", "P", "CMYK", "YCbCr") else im.convert("L")
            return np.asarray(im, dtype=np.uint8)
    except _errors() as exc:
        raise _unreadable(path, exc) from None


def check_image(path: str) -> tuple[int, int]:
    """(width, height) of an image file, from its header and structure only (fast); the same error as
    read_image for a file that is not a readable image or whose pixels are refused."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            _check_mode(path, im.mode)
            size = im.size
            im.verify()
    except _errors() as exc:
        raise _unreadable(path, exc) from None
    return size


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
