"""Turn a stored file into the 2-D ground truth the paper's protocol scores against."""
from __future__ import annotations

import os
import warnings

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


# Every image read is bounded in pixels, checked from the file's header before any pixel is decoded: a
# 12,000 x 12,000 PNG (a few MB on disk) decodes to GBs in every worker, and the float64 planes and methods
# after it take several times that. $REDBENCH_MAX_PIXELS raises or lowers the bound; Pillow's own
# decompression-bomb limit (Image.MAX_IMAGE_PIXELS * 2, about 179 Mpx) still caps it.
MAX_PIXELS_ENV = "REDBENCH_MAX_PIXELS"
MAX_PIXELS_DEFAULT = 4096 * 4096


def max_pixels() -> int:
    """The bound on width x height of any image read: $REDBENCH_MAX_PIXELS, default MAX_PIXELS_DEFAULT."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return MAX_PIXELS_DEFAULT
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise UserError(f"{MAX_PIXELS_ENV}={text!r} is not a pixel count: give a whole number >= 1 (default "
                        f"{MAX_PIXELS_DEFAULT}, 4096 x 4096), or unset it.")
    return int(text)


def check_pixels(path: str, width: int, height: int) -> None:
    """Refuse an image of more than max_pixels() pixels (call it with the header's size, before decoding)."""
    bound = max_pixels()
    if width * height > bound:
        raise UserError(f"image {path} is {width}x{height} = {width * height:,} pixels, over the bound of "
                        f"{bound:,} ({MAX_PIXELS_ENV}); shrink or crop it, or raise {MAX_PIXELS_ENV} if this "
                        f"machine has the memory.")


def _errors():
    from PIL import Image, UnidentifiedImageError
    return UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError


def _check_mode(path: str, mode: str) -> None:
    if mode in REFUSED_MODES:
        raise UserError(f"image {path} has {REFUSED_MODES[mode]} pixels (Pillow mode {mode}), which have no 0..255 "
                        f"scale; save it as an 8- or 16-bit PNG.")


def open_image(path: str):
    """The PIL image of `path`, opened lazily (header only) and checked against max_pixels() and the refused
    pixel modes before anything is decoded; every image read goes through here. Use it in a `with`."""
    from PIL import Image
    bound = max_pixels()
    try:
        with warnings.catch_warnings():   # Pillow warns above 89 Mpx; the bound below decides, in one line
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise UserError(f"image {path} is over Pillow's decompression-bomb limit ({exc}); the bound is "
                        f"{bound:,} pixels ({MAX_PIXELS_ENV}): shrink or crop it.") from None
    except _errors() as exc:
        raise _unreadable(path, exc) from None
    try:
        check_pixels(path, *im.size)
        _check_mode(path, im.mode)
    except UserError:
        im.close()
        raise
    return im


def read_image(path: str) -> np.ndarray:
    """uint8 array, (H, W) or (H, W, 3); a clear error if the file is not an image or has more pixels than
    max_pixels(). 16-bit gray is scaled to 8 bits explicitly, never clipped; 32-bit pixels are refused (see
    SIXTEEN_BIT, REFUSED_MODES)."""
    with open_image(path) as im:
        try:
            im.load()
            if im.mode in SIXTEEN_BIT:
                wide = np.asarray(im).astype(np.float64)
                return np.floor(wide * (255.0 / 65535.0) + 0.5).astype(np.uint8)
            if im.mode not in ("L", "RGB"):
                im = im.convert("RGB") if im.mode in ("RGBA", "RGBX", "P", "CMYK", "YCbCr") else im.convert("L")
            return np.asarray(im, dtype=np.uint8)
        except _errors() as exc:
            raise _unreadable(path, exc) from None


def image_size(path: str) -> tuple[int, int]:
    """(width, height) of an image file from its header alone (fast), with open_image's checks."""
    with open_image(path) as im:
        return im.size


def check_image(path: str) -> tuple[int, int]:
    """(width, height) of an image file, after decoding it whole: the same error as read_image, now, for a file
    that is not a readable image, has too many pixels or pixels that are refused. A header and Pillow's verify()
    are not enough: a truncated JPEG passes both and fails only when a worker decodes it, after work started."""
    image = read_image(path)
    return image.shape[1], image.shape[0]


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
