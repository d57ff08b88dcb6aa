"""The table files of a results folder: one writer, under one rule for which rows reach a table.

`eval` writes its folder's tables after a run and `reproduce` rewrites those of its folders before the report;
both call write_folder_tables, so a table shows the same rows whoever wrote it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from redbench.core.csv_cells import restore_frame
from redbench.evaluation.installed import WeightsLookup, installed_rows
from redbench.evaluation.rows import select_current

if TYPE_CHECKING:
    import pandas as pd

ROWS_CSV = 'rows.csv'


class TableRows(NamedTuple):
    rows: pd.DataFrame      # the rows a table shows
    stale: int              # left out: made by weights or parameters no longer installed
    other_draws: int        # left out: another seed or clip setting of a cell that shows one


def read_rows_csv(folder: Path) -> pd.DataFrame:
    import pandas as pd
    # rows.csv quotes a formula-like name ('=1+1.png'); the frame holds the name itself, as the store does
    return restore_frame(pd.read_csv(Path(folder) / ROWS_CSV, dtype={'image': str}))


def table_rows(frame: pd.DataFrame, current: dict | None = None, weights_now: WeightsLookup | None = None
               ) -> TableRows:
    """The one rule: the rows of the weights installed now (installed.installed_rows), then per cell one
    (weights, seed, clip), so a mean never mixes two noise draws (rows.select_current: the current run's where it
    covers the cell, else the most recently written). rows.csv records no write time; its rows count as written
    together, and the store's frame (with `written`) tells them apart."""
    rows, stale = installed_rows(frame, weights_now)
    timed = rows if 'written' in rows.columns else rows.assign(written=0.0)
    chosen = select_current(timed, current or {})
    return TableRows(chosen.drop(columns='written'), stale, len(timed) - len(chosen))


def write_folder_tables(folder: Path, frame: pd.DataFrame | None = None, current: dict | None = None,
                        weights_now: WeightsLookup | None = None) -> list[Path]:
    """Write `folder`'s table files (tables.write_tables) from `frame` (default: the folder's rows.csv) under
    table_rows' rule; `current[(task, method, level)] = (weights, seed, clip)` names a run's own cells."""
    from redbench.evaluation.tables import write_tables
    frame = read_rows_csv(folder) if frame is None else frame
    return write_tables(table_rows(frame, current, weights_now).rows, Path(folder))
