"""What every method implements (restore(degraded, degradation) -> restored image), and how it registers."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from redbench.core.weights_id import PARAMS_SUFFIX, format_weights_id


def parameter_digest(name: str, parameters: dict) -> str:
    """'<name>-params@<16 hex>': identifies a classical method's exact settings in the results store."""
    text = json.dumps(parameters, sort_keys=True, default=str)
    return format_weights_id(f"{name}{PARAMS_SUFFIX}", hashlib.sha256(text.encode()).hexdigest()[:16])


@dataclass(frozen=True)
class MethodEntry:
    name: str
    factory: Callable
    tasks: tuple[str, ...]
    description: str
    ensemble: bool = False        # supports the '+' suffix (x8 flip/rotate self-ensemble)
    reported_only: bool = False   # published numbers only, nothing to run
    origin: str = "redbench"      # or 'plugin <distribution>'
    # (task, level) -> the weights id at that level, read from model cards alone: lets the report tell which rows
    # the installed weights made without loading a network (None: build the method and ask it)
    weights_from_cards: Callable | None = None


# every registered method by name; registry.registered() reads it after loading them all
METHODS: dict[str, MethodEntry] = {}


def register_method(name: str, tasks: tuple[str, ...], description: str = "", ensemble: bool = False,
                    reported_only: bool = False, weights_from_cards: Callable | None = None):
    """Register a Method class (or a factory(task=...) returning a method) as `name`, for `tasks`.

    A registered class without its own `name` and `tasks` gets these. `weights_from_cards(task, level)`: see
    MethodEntry."""
    def decorator(factory):
        if name in METHODS:
            raise ValueError(f"method '{name}' registered twice")
        METHODS[name] = MethodEntry(name, factory, tuple(tasks), description, ensemble, reported_only,
                                    weights_from_cards=weights_from_cards)
        if isinstance(factory, type):
            if not getattr(factory, "name", None):
                factory.name = name
            if not getattr(factory, "tasks", None):
                factory.tasks = tuple(tasks)
        return factory
    return decorator



class Method:
    """A restoration method. Images are float64 2-D arrays on the 0..255 scale.

    `degradation` is the object that made the input (GaussianNoise with .sigma,
    BicubicSR with .scale), so non-blind methods read the true parameters from it.
    """
    name: str = ""                  # @register_method fills in name and tasks of the class it registers
    tasks: tuple[str, ...] = ()
    # torch methods use threads themselves; the runner gives each worker a share of the cores
    uses_torch: bool = False
    # where a torch method runs its networks ('cpu' or 'cuda'; the runner sets it with `on_device`)
    device: str = "cpu"

    def __init__(self, task: str | None = None):
        """The registry builds every method as factory(task=...); one that does not depend on it ignores it."""

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
                                {"class": f"{_module(type(self))}.{type(self).__qualname__}", **plain})

    def trained_levels(self) -> tuple | None:
        """The levels (sigma or scale) this method was trained for; None: it works at any level."""
        return None

    def on_device(self, device: str) -> Method:
        """Run on `device` from now on (torch methods; the others compute on the CPU whatever it says)."""
        self.device = device
        return self

    def cards(self) -> list:
        """The model cards of the networks behind this method (run.json records them); none for a classical one."""
        return []

    def missing_card(self, level) -> str | None:
        """Why `level` has no network, when the reason is a lost model card (a one-line error); None otherwise."""
        return None


def _module(cls: type) -> str:
    """The class's module as digests name it: without the 'redbench.' of the package namespace, so results
    stored before the namespace existed (module 'methods.noisy') keep their key."""
    return cls.__module__.removeprefix("redbench.")
