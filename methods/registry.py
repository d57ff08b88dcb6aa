"""Method lookup: every registered method, by name, ready to use.

Methods register with `@register_method('name', tasks=(...))` (base.py) on a class or factory;
this module loads them all first: the modules of this package (the import line in `_load_all`)
and the methods of other installed packages, by entry point in the group `redbench.methods`
(README, "Methods"): loading the entry point imports its module, where `@register_method`
registers it, or, undecorated, it is registered under the entry point's name with its own
`tasks` attribute. `get_method('red30+')` builds the x8 self-ensemble of any method registered
with `ensemble=True`; unknown names get a did-you-mean error.
"""
from __future__ import annotations

import difflib
import sys
from dataclasses import replace

from redbench.core.defaults import levels_slashed
from redbench.core.errors import UserError
from redbench.core.weights_id import format_weights_id

from redbench.methods.base import METHODS, MethodEntry, register_method

ENTRY_POINT_GROUP = "redbench.methods"
_PLUGIN_ERRORS: dict[str, str] = {}   # entry point name -> why it did not load


def registered() -> dict[str, MethodEntry]:
    _load_all()
    return dict(METHODS)


def plugin_errors() -> dict[str, str]:
    """{entry point name: error} for method plugins that failed to load (they are left out)."""
    _load_all()
    return dict(_PLUGIN_ERRORS)


def entry(name: str) -> MethodEntry:
    _load_all()
    base = name[:-1] if name.endswith("+") else name
    if base.startswith("net:"):
        return _weights_entry(base)
    if base not in METHODS and base in _PLUGIN_ERRORS:
        raise UserError(f"method '{base}' comes from a plugin that failed to load ({_PLUGIN_ERRORS[base]}); "
                        f"fix or reinstall the package that provides it.")
    if base not in METHODS:
        close = difflib.get_close_matches(name, list(METHODS), n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        runnable = sorted(n for n, e in METHODS.items() if not e.reported_only)
        raise UserError(f"unknown method '{name}'.{hint} Runnable methods: {', '.join(runnable)}.")
    found = METHODS[base]
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
        from redbench.methods.ensemble import SelfEnsemble
        method = SelfEnsemble(method)
    return method


def _weights_entry(name: str) -> MethodEntry:
    """'net:<weights>' evaluates any trained network: a name in methods/weights/ or a path without suffix."""
    from redbench.core.names import is_printable, printable_name
    from redbench.methods.red_family import TrainedNetwork
    from redbench.methods.weights import read_card, split_ref
    if not is_printable(name):   # the method's name keys every row (SQLite, CSV and the tables are UTF-8 text)
        raise UserError(f"method {printable_name(name)}: the path is not valid UTF-8; rename the folder, or link to "
                        f"the weights from a UTF-8 path (ln -s) and give that.")
    card = read_card(*split_ref(name[4:]))
    return MethodEntry(name, lambda task: TrainedNetwork(name, task, name[4:]), (card.task,),
                       f"trained network {name[4:]}", ensemble=True,
                       weights_from_cards=lambda task, level: format_weights_id(card.name, card.sha256))


def trained_at(method, level) -> bool:
    """The one rule for "is this method trained at this level": a method with trained levels (a network) only at
    those, any other method at every level. `method` is an instance (get_method)."""
    trained = method.trained_levels()
    return trained is None or float(level) in {float(t) for t in trained}


def untrained_levels(method, levels) -> list:
    """The levels of `levels` at which `method` has no trained network (trained_at), in the order given."""
    return [level for level in levels if not trained_at(method, level)]


def check_trained(name: str, method, task: str, level, allow_untrained: bool, how_to_allow: str) -> None:
    """One method at one level, for a command or call that runs it (restore, the Python API): check_trained_pairs
    for that one pair."""
    check_trained_pairs([(name, method, level)], task, allow_untrained, how_to_allow)


def check_trained_pairs(pairs: list, task: str, allow_untrained: bool, how_to_allow: str) -> None:
    """The one home of the untrained-level rule's words, for every caller: `pairs` are (name, method, level) to run
    (a method is an instance, get_method). A lost model card is said as such, not as a level never trained; a level
    a method has no network for is an error unless allowed, naming the first such pair and how many more there are
    (eval checks all of its methods and levels at once); `how_to_allow` says how to allow it in the caller's terms
    (a flag, an argument)."""
    from redbench.core.defaults import LEVEL_NAME
    untrained = [(name, method, level) for name, method, level in pairs if not trained_at(method, level)]
    for _, method, level in untrained:
        missing = method.missing_card(level)
        if missing:
            raise UserError(missing)
    if untrained and not allow_untrained:
        name, method, level = untrained[0]
        trained = levels_slashed(method.trained_levels())
        more = len(untrained) - 1
        others = ("" if not more else ", nor does 1 more method/level pair" if more == 1 else
                  f", nor do {more} more method/level pairs")
        raise UserError(f"{name} has no network for {LEVEL_NAME[task]} {float(level):g} (trained: {trained}){others}: "
                        f"use a trained level, or {how_to_allow} to run it anyway.")


def installed_weights_id(name: str, task: str, level, clip: bool = False) -> str:
    """The weights id `name` has at `level` with the weights installed now (what its rows are keyed by). Read
    from the model cards where the method can (MethodEntry.weights_from_cards), so no network is loaded; else
    from a built method. Raises UserError where there is none (weights gone, no network at this level)."""
    from redbench.core.degradations import make_degradation
    found = check_method(name, task)
    if found.weights_from_cards is not None:   # an x8 ensemble runs its network unchanged: the same id
        return found.weights_from_cards(task, level)
    return get_method(name, task).weights_id(make_degradation(task, level, clip))


_LOADED = False


def _load_all() -> None:
    # Importing the method modules fills the registry; one line per method file.
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from redbench.methods import bicubic, bm3d_denoise, noisy, red_family, reported, srcnn, tv  # noqa: F401
    _load_plugins()


def _load_plugins() -> None:
    """Register the methods of other installed packages (entry point group `redbench.methods`).

    A plugin that fails to import is left out with a one-line warning; naming it later says why."""
    from importlib.metadata import entry_points
    for point in entry_points(group=ENTRY_POINT_GROUP):
        before = set(METHODS)
        origin = f"plugin {point.dist.name}" if point.dist is not None else "plugin"
        try:
            loaded = point.load()
            if point.name not in METHODS and not any(e.factory is loaded for e in METHODS.values()):
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
        for name in set(METHODS) - before:
            METHODS[name] = replace(METHODS[name], origin=origin)
