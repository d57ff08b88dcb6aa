"""The one rule for what ships: whether a newly trained network replaces the installed one of its name.

Used by --ship-if-better (train.py), so by every `continues = true` network of a campaign plan, and by the
unpacking of a GPU call's networks (gpu_results.py). A finished network replaces a snapshot; a snapshot never
replaces a finished network; otherwise the two are compared on the held-out images at full size
(paired_validation.py) and the newcomer ships only when its mean paired gain exceeds the half-width of the
95% interval, i.e. the whole interval lies above zero. More patches are not enough: at batch 128 a GPU budget
is fewer updates than a CPU one at batch 16, and a gain the validation cannot resolve would invalidate every
stored row of the installed network for nothing a reader could trust.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redbench.core.errors import UserError
from redbench.methods import weights as weights_io
from redbench.training.paired_validation import PairedValidation, paired_validation


def gain_is_resolved(mean: float, half_width: float) -> bool:
    """A gain counts only when it exceeds the half-width of its interval (so the interval excludes zero and every
    loss); a nan mean or an infinite half-width (one image) never does."""
    return mean > half_width


@dataclass(frozen=True)
class ShipDecision:
    ships: bool
    reason: str
    validation: PairedValidation | None = None


def decide(installed_ref: str, arrived_ref: str, data_dir: str | None = None, device: str = "cpu",
           validate: Callable[..., PairedValidation] | None = None) -> ShipDecision:
    """Whether the network at `arrived_ref` replaces the one at `installed_ref` (names in methods/weights/ or
    paths without suffix), and why, in words for the log. `validate` compares them (default: paired_validation,
    looked up when called)."""
    installed = weights_io.read_card(*weights_io.split_ref(installed_ref))
    arrived = weights_io.read_card(*weights_io.split_ref(arrived_ref))
    if not installed.complete:
        return ShipDecision(True, f"the installed {installed.name} is itself an unfinished snapshot")
    if not arrived.complete:
        return ShipDecision(False, f"the new {arrived.name} is an unfinished snapshot and the installed one is "
                                   f"finished")
    if arrived.sha256 == installed.sha256:
        return ShipDecision(False, "its weights are the installed ones (the same sha256)")
    try:
        validation = (validate or paired_validation)(arrived_ref, installed_ref, data_dir=data_dir, device=device)
    except UserError as exc:
        return ShipDecision(False, f"the two cannot be compared ({exc}), so the installed network stays")
    low, high = validation.interval
    words = (f"paired gain {validation.mean:+.4f} dB over {len(validation.images)} held-out images at full size, "
             f"95% interval [{low:+.4f}, {high:+.4f}] dB")
    if gain_is_resolved(validation.mean, validation.half_width):
        return ShipDecision(True, f"{words}: the gain exceeds the interval's half-width", validation)
    return ShipDecision(False, f"{words}: the gain does not exceed the interval's half-width "
                               f"({validation.half_width:.4f} dB)", validation)
