"""Turn a stored file into the 2-D ground truth the paper's protocol scores against."""
from __future__ import annotations

import numpy as np

from bench.color import rgb2gray, rgb2y
from bench.errors import UserError
from bench.resize import imresize, to_uint8

from .catalog import DatasetSpec


def read_image(path: str) -> np.ndarray:
    """uint8 array, (H, W) or (H, W, 3); a clear error if the file is not an image."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode not in ("L", "RGB"):
                im = im.convert("RGB") if im.mode in ("RGBA", "P", "CMYK", "YCbCr") else im.convert("L")
            return np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise UserError(f"cannot read image {path} ({exc}); replace the file or delete it so it is fetched again.") from None


def ground_truth(path: str, spec: DatasetSpec) -> np.ndarray:
    """float64 2-D image with integer values in 0..255."""
    image = read_image(path)
    if spec.color == "y":
        plane = rgb2y(image)
    else:
        plane = rgb2gray(image)
    if spec.half_size:
        # MATLAB: imresize(uint8, 1/2) returns uint8, so the half-size set is 8-bit too
        plane = to_uint8(imresize(plane, 0.5))
    return plane.astype(np.float64)
