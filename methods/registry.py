"""Method registry: `@register_method('name', tasks=(...))` on a class or factory.

`get_method('red30+')` builds the x8 self-ensemble of any method registered
with `ensemble=True`; unknown names get a did-you-mean error.

Methods come from the modules of this package and from other installed packages: an entry point
in the group `redbench.methods` (README, "Methods") names a class or factory; loading it imports its
module, where `@register_method` registers it, or, undecorated, it is registered under the entry
point's name with its own `tasks` attribute.
"""
from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, replace
from typing import Callable

from redbench.errors import UserError


@dataclass(frozen=True)
class MethodEntry:
    name: str
    factory: Callable
    tasks: tuple[str, ...]
    description: str
    ensemble: bool = False        # supports the '+' suffix (x8 flip/rotate self-ensemble)
    reported_only: bool = False   # published numbers only, nothing to run
    origin: str = "redbench"      # or 'plugin <distribution>'


ENTRY_POINT_GROUP = "redbench.methods"
_REGISTRY: dict[str, MethodEntry] = {}
_PLUGIN_ERRORS: dict[str, str] = {}   # entry point name -> why it did not load


def register_method(name: str, tasks: tuple[str, ...], description: str = "", ensemble: bool = False,
                    reported_only: bool = False):
    def decorator(factory):
        if name in _REGISTRY:
            raise ValueError(f"method '{name}' registered twice")
        _REGISTRY[name] = MethodEntry(name, factory, tuple(tasks), description, ensemble, reported_only)
        return factory
    return decorator


def registered() -> dict[str, MethodEntry]:
    _load_all()
    return dict(_REGISTRY)


def plugin_errors() -> dict[str, str]:
    """{entry point name: error} for method plugins that failed to load (they are left out)."""
    _load_all()
    return dict(_PLUGIN_ERRORS)


def entry(name: str) -> MethodEntry:
    _load_all()
    base = name[:-1] if name.endswith("+") else name
    if base.startswith("net:"):
        return _weights_entry(base)
    if base not in _REGISTRY and base in _PLUGIN_ERRORS:
        raise UserError(f"method '{base}' comes from a plugin that failed to load ({_PLUGIN_ERRORS[base]}); "
                        f"fix or reinstall the package that provides it.")
    if base not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        runnable = sorted(n for n, e in _REGISTRY.items() if not e.reported_only)
        raise UserError(f"unknown method '{name}'.{hint} Runnable methods: {', '.join(runnable)}.")
    found = _REGISTRY[base]
    if name.endswith("+") and not found.ensemble:
        raise UserError(f"method '{base}' has no self-ensemble variant ('{name}'); only learned methods do.")
    return found


def check_method(name: str, task: str) -> MethodEntry:
    found = entry(name)
    if found.reported_only:
        raise UserError(f"'{name}' has published numbers only (no implementation here); they appear in the "
                        f"tables automatically, so drop it from --methods.")
    if task not in found.tasks:
        raise UserError(f"method '{name}' cannot do task '{task}' (it does: {', '.join(found.tasks)}); "
                        f"pick another method or task.")
    return found


def get_method(name: str, task: str):
    """A ready-to-use method instance for `task`."""
    found = check_method(name, task)
    method = found.factory(task=task)
    if name.endswith("+"):
        from .ensemble import SelfEnsemble
        method = SelfEnsemble(method)
    return method


def _weights_entry(name: str) -> MethodEntry:
    """'net:<weights>' evaluates any trained network: a name in methods/weights/ or a path without suffix."""
    from .red import TrainedNetwork
    from .weights import read_card, split_ref
    card = read_card(*split_ref(name[4:]))
    return MethodEntry(name, lambda task: TrainedNetwork(name, task, name[4:]), (card.task,),
                       f"trained network {name[4:]}", ensemble=True)


_LOADED = False


def _load_all() -> None:
    # Importing the method modules fills the registry; one line per method file.
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from . import bicubic, bm3d_denoise, noisy, red, reported, srcnn, tv  # noqa: F401
    _load_plugins()


def _load_plugins() -> None:
    """Register the methods of other installed packages (entry point group `redbench.methods`).

    A plugin that fails to import is left out with a one-line warning; naming it later says why."""
    from importlib.metadata import entry_points
    for point in entry_points(group=ENTRY_POINT_GROUP):
        before = set(_REGISTRY)
        origin = f"plugin {point.dist.name}" if point.dist is not None else "plugin"
        try:
            loaded = point.load()
            if point.name not in _REGISTRY and not any(e.factory is loaded for e in _REGISTRY.values()):
                tasks = tuple(getattr(loaded, "tasks", ()) or ())
                if not callable(loaded) or not tasks:
                    raise TypeError(f"{point.value} is not a method class with a `tasks` attribute")
                doc = (getattr(loaded, "__doc__", None) or "").strip().split("\n")[0]
                register_method(point.name, tasks=tasks, description=getattr(loaded, "description", "") or doc,
                                ensemble=bool(getattr(loaded, "ensemble", False)))(loaded)
        except Exception as exc:   # a broken plugin must not take the built-in methods down with it
            _PLUGIN_ERRORS[point.name] = f"{point.value}: {type(exc).__name__}: {exc}"
            print(f"warning: method plugin '{point.name}' ({origin}) did not load and is left out: "
                  f"{_PLUGIN_ERRORS[point.name]}", file=sys.stderr)
            continue
        for name in set(_REGISTRY) - before:
            _REGISTRY[name] = replace(_REGISTRY[name], origin=origin)
