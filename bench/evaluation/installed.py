"""Which stored rows the installed weights made: the rule by which tables and the report show today's methods.

The results stores keep the rows of earlier weights (and rows imported without a weights record), and a run
never reuses them; by the same rule they never reach a table or the report. The installed weights id of each
(task, method, level) is read from the model cards where the method can (methods.registry.installed_weights_id),
so rendering a report loads no network.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from redbench.core.errors import UserError

if TYPE_CHECKING:   # pandas loads lazily, as in the runner
    import pandas as pd

# (task, method, level, clip) -> the weights id installed now, or None where the method has none at that level
WeightsLookup = Callable[[str, str, float, bool], "str | None"]


def installed_lookup() -> WeightsLookup:
    """The installed weights id of (task, method, level, clip), from the registry, each asked once."""
    from redbench.methods.registry import installed_weights_id
    known: dict = {}

    def lookup(task: str, method: str, level: float, clip: bool) -> str | None:
        key = (task, method, float(level), bool(clip))
        if key not in known:
            try:
                known[key] = installed_weights_id(method, task, level, clip)
            except UserError:   # weights gone, or no network at this level
                known[key] = None
        return known[key]
    return lookup


def installed_rows(rows: pd.DataFrame, weights_now: WeightsLookup | None = None) -> tuple[pd.DataFrame, int]:
    """Only the rows made by the weights (or parameters) installed now, and how many others were left out.
    `weights_now(task, method, level, clip)` overrides the lookup (tests)."""
    import pandas as pd
    if 'weights' not in rows.columns:
        return rows.iloc[0:0], len(rows)
    lookup = weights_now or installed_lookup()
    asked: dict = {}

    def installed(task: str, method: str, level, clip) -> str | None:
        key = (task, method, float(level), str(clip).lower() == 'true')
        if key not in asked:
            asked[key] = lookup(*key)
        return asked[key]

    keep = [installed(task, method, level, clip) == weights for task, method, level, clip, weights
            in rows[['task', 'method', 'level', 'clip', 'weights']].itertuples(index=False)]
    keep = pd.Series(keep, index=rows.index, dtype=bool)
    return rows[keep].reset_index(drop=True), int((~keep).sum())
