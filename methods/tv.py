"""Total-variation denoising (Chambolle 2004, scikit-image) with a weight per sigma.

The weights were chosen on BSDS500 *training* images only, never on a test set:
`python scripts/tune_tv.py` regenerates methods/tv_weights.json. Sigmas between
tuned ones get a weight interpolated linearly in sigma.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from redbench.methods.base import Method, parameter_digest, register_method

WEIGHTS_FILE = Path(__file__).parent / "tv_weights.json"


def tv_weight(sigma: float) -> float:
    table = json.loads(WEIGHTS_FILE.read_text())["weights"]
    sigmas = np.array(sorted(float(s) for s in table))
    values = np.array([table[f"{s:g}"] for s in sigmas])
    return float(np.interp(sigma, sigmas, values))


def tv_denoise(degraded: np.ndarray, weight: float) -> np.ndarray:
    from skimage.restoration import denoise_tv_chambolle
    # skimage's weight is relative to the intensity scale: work on 0..1 as the tuning did
    return denoise_tv_chambolle(degraded / 255.0, weight=weight) * 255.0


@register_method("tv", tasks=("denoise",), description="TV denoising (Chambolle), weight per sigma tuned on BSDS500 train")
class TV(Method):
    def restore(self, degraded, degradation):
        return tv_denoise(degraded, tv_weight(degradation.sigma))

    def weights_id(self, degradation) -> str:
        # the weight actually used at this sigma (retuning another sigma keeps these rows) and the
        # scikit-image release that runs Chambolle's iterations
        from importlib.metadata import version
        return parameter_digest("tv", {"weight": tv_weight(degradation.sigma), "scale": "0..1",
                                       "scikit-image": version("scikit-image")})
