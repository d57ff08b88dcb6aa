"""What every method implements: restore(degraded, degradation) -> restored image."""
from __future__ import annotations

import numpy as np


class Method:
    """A restoration method. Images are float64 2-D arrays on the 0..255 scale.

    `degradation` is the object that made the input (GaussianNoise with .sigma,
    BicubicSR with .scale), so non-blind methods read the true parameters from it.
    """
    name: str = ""
    tasks: tuple[str, ...] = ()
    # torch methods use threads themselves; the runner gives each worker a share of the cores
    uses_torch: bool = False

    def restore(self, degraded: np.ndarray, degradation) -> np.ndarray:
        raise NotImplementedError

    def weights_id(self, degradation) -> str:
        """Names exactly what produces the output at this degradation, so a stored result is reused only
        while it still holds: '<weights name>@<sha256>' for a trained network, a digest of the
        parameters for a classical method. Results are keyed by it."""
        return "none"

    def trained_levels(self) -> tuple | None:
        """The levels (sigma or scale) this method was trained for; None: it works at any level."""
        return None
