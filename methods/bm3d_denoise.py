"""BM3D (Dabov et al. 2007) from the `bm3d` package (non-commercial licence), given the true sigma."""
from __future__ import annotations

import numpy as np

from redbench.core.errors import UserError

from redbench.methods.base import Method, parameter_digest, register_method

INSTALL = ("method bm3d needs the package 'bm3d' (free for non-commercial use only, see README): "
           "pip install bm3d, or drop bm3d from --methods.")


def _bm3d_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("bm3d")
    except PackageNotFoundError:
        raise UserError(INSTALL) from None


@register_method("bm3d", tasks=("denoise",), description="BM3D, pip package bm3d (Makinen et al.), true sigma")
class BM3D(Method):
    def restore(self, degraded, degradation):
        try:
            import bm3d
        except ImportError:
            raise UserError(INSTALL) from None
        # the package works on any scale as long as sigma_psd matches it
        return np.asarray(bm3d.bm3d(degraded, sigma_psd=float(degradation.sigma)), dtype=np.float64)

    def weights_id(self, degradation) -> str:
        # the package's default profile and stages: a new release may change them, so it is in the key
        return parameter_digest("bm3d", {"bm3d": _bm3d_version(), "sigma_psd": float(degradation.sigma),
                                         "profile": "np", "stage": "all"})
