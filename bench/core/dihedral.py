"""The 8 flips/rotations of an image (the dihedral group of the square), for numpy arrays and torch tensors.

The x8 self-ensemble (methods/ensemble.py) and the training patch augmentation both use these."""
from __future__ import annotations


def dihedral(image, t: int):
    """Transform t (0..7) of the last two axes: a left-right flip if t & 4, then t & 3 quarter turns."""
    if t & 4:
        image = _flip(image)
    return _rot90(image, t & 3)


def undo_dihedral(image, t: int):
    """The inverse of dihedral(., t)."""
    image = _rot90(image, -(t & 3))
    return _flip(image) if t & 4 else image


def _flip(image):
    return image.flip(-1) if _is_tensor(image) else image[..., ::-1]


def _rot90(image, k: int):
    if _is_tensor(image):
        return image.rot90(k, (-2, -1))
    import numpy as np
    return np.rot90(image, k, axes=(-2, -1))


def _is_tensor(image) -> bool:
    return type(image).__module__.startswith("torch")
