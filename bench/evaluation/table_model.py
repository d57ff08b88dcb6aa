"""One paper-shaped table, apart from its format: columns of cells keyed by (metric, level), and which numbers
rank best and second best in their row. tables.py fills it from the rows; table_markdown.py and table_latex.py
render it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# (row label, summary column, decimals shown)
METRICS = (('PSNR', 'psnr', 2), ('SSIM', 'ssim', 4))
DIGITS = {label: digits for label, _, digits in METRICS}
# where a column's numbers come from
PAPER = 'paper'   # published only (Mao et al. 2016)
OURS = 'ours'     # our means, each beside the published value of the same method where there is one


@dataclass(frozen=True)
class Cell:
    value: float | None = None     # our mean, or the published number of a PAPER column
    paper: float | None = None     # the published counterpart of one of our means
    empty: str = '–'                  # shown when value is None: '–' no such cell, 'not run' no rows
    n_images: int | None = None    # images our mean is over
    n_total: int | None = None     # images the set has

    @property
    def partial(self) -> bool:
        """A mean over fewer images than the set has."""
        return self.value is not None and self.n_images is not None and self.n_total is not None \
            and self.n_images < self.n_total

    @property
    def ranked(self) -> bool:
        """Competes for best and second best (a partial mean never does)."""
        return self.value is not None and not self.partial

    @property
    def compared(self) -> bool:
        """Shown beside its published counterpart: a partial mean is not."""
        return self.paper is not None and not self.partial

    def difference(self, digits: int) -> float | None:
        """Ours minus paper, of the numbers as shown (so the text adds up); None where there is none."""
        if self.value is None or not self.compared:
            return None
        # +0.0 turns -0.0 into 0.0, so it prints as +0.00
        return round(round(self.value, digits) - self.paper, digits) + 0.0


@dataclass(frozen=True)
class Column:
    name: str                                   # short header: the paper's ('EPLL', 'RED30') or our method label
    header: str                                 # full-view header: 'EPLL (paper)', 'red30'
    source: str                                 # PAPER or OURS
    cells: Mapping[tuple[str, Any], Cell] = field(default_factory=dict)

    def cell(self, metric: str, level) -> Cell:
        return self.cells.get((metric, level), Cell())


@dataclass(frozen=True)
class Captions:
    full: str            # the markdown full view: dataset, counts, columns, weights, notes
    paper: str = ''      # the markdown paper view ('' where the paper has no table)
    latex: str = ''      # the LaTeX table: which paper table, dataset, what the columns are
    difference: str = ''  # the LaTeX "ours minus paper" table


@dataclass(frozen=True)
class Table:
    task: str
    dataset: str
    levels: tuple
    level_name: str                        # 'sigma' or 'scale'
    columns: tuple[Column, ...]            # the full view, in display order
    captions: Captions
    paper_columns: tuple[Column, ...] = ()  # the paper view: the paper's columns in its order, ours where we ran them
    label: str = ''                        # LaTeX \label, e.g. tab:redbench-denoise-set12

    def rows(self):
        """(metric, level) in display order: a PSNR block, then an SSIM block."""
        return [(label, level) for label, _, _ in METRICS for level in self.levels]


def level_text(task: str, level) -> str:
    """How a level is shown: sigma as a number, a scale as x<scale>."""
    lvl = int(level) if float(level).is_integer() else level
    return f"x{lvl}" if task == 'sr' else str(lvl)


def ranks(numbers: list[float | None], digits: int) -> list[int]:
    """1 for the best of the numbers as shown (rounded to `digits`), 2 for the second best, 0 otherwise;
    None takes no part. Ties share a rank."""
    shown = sorted({round(x, digits) for x in numbers if x is not None}, reverse=True)
    place = {value: i + 1 for i, value in enumerate(shown[:2])}
    return [0 if x is None else place.get(round(x, digits), 0) for x in numbers]


def row_ranks(columns, metric: str, level) -> list[int]:
    """ranks() of the ranked cells of one row across `columns`."""
    cells = [col.cell(metric, level) for col in columns]
    return ranks([c.value if c.ranked else None for c in cells], DIGITS[metric])
