"""What every method implements: restore(degraded, degradation) -> restored image."""
from __future__ import annotations

import hashlib
import json

import numpy as np


def parameter_digest(name: str, parameters: dict) -> str:
    """'<name>-params@<16 hex>': identifies a classical method's exact settings in the results store."""
    text = json.dumps(parameters, sort_keys=True, default=str)
    return f"{name}-params@{hashlib.sha256(text.encode()).hexdigest()[:16]}"


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
        parameters for a classical method. Results are keyed by it.

        The default digests the class and its plain (JSON-able) attributes; a method whose output
        depends on more (a weight table, a package version) overrides this."""
        plain = {k: v for k, v in sorted(vars(self).items()) if isinstance(v, (str, int, float, bool, type(None)))}
        return parameter_digest(self.name or type(self).__name__,
                                {"class": f"{type(self).__module__}.{type(self).__qualname__}", **plain})

    def trained_levels(self) -> tuple | None:
        """The levels (sigma or scale) this method was trained for; None: it works at any level."""
        return None
