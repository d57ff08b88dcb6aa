"""The paper's x8 self-ensemble: restore each flip/rotation, undo it, average."""
from __future__ import annotations

import numpy as np

from redbench.core.dihedral import dihedral, undo_dihedral

from redbench.methods.base import Method


class SelfEnsemble(Method):
    def __init__(self, inner: Method):
        self.inner = inner
        self.name = inner.name + "+"
        self.tasks = inner.tasks
        self.uses_torch = inner.uses_torch

    def restore(self, degraded, degradation):
        outputs = [undo_dihedral(self.inner.restore(np.ascontiguousarray(dihedral(degraded, t)), degradation), t)
                   for t in range(8)]
        return np.mean(outputs, axis=0)

    # the ensemble runs the inner method unchanged: same weights, same trained levels
    def weights_id(self, degradation) -> str:
        return self.inner.weights_id(degradation)

    def trained_levels(self):
        return self.inner.trained_levels()

    def cards(self) -> list:
        return self.inner.cards()

    def missing_card(self, level) -> str | None:
        return self.inner.missing_card(level)

    def on_device(self, device: str) -> "SelfEnsemble":
        self.inner.on_device(device)
        self.device = device
        return self
