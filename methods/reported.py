"""Methods the paper compares against that are not implemented here: published numbers only.

They show up as '<paper header> (paper)' columns in the tables, from methods/paper_numbers.py.
"""
from __future__ import annotations

from redbench.methods.base import register_method
from redbench.methods.paper_numbers import PUBLISHED

# Paper columns that are our own runnable methods (or the single model of Tables 6/7, compared in its own table).
_IMPLEMENTED = {"bm3d", "srcnn", "red10", "red20", "red30", "red30-single"}
_DENOISE_TABLES = (1, 2, 6)


def _unavailable(task: str):
    raise AssertionError("reported-only methods are never instantiated")


for _name in sorted({p.method for p in PUBLISHED} - _IMPLEMENTED):
    _cells = [p for p in PUBLISHED if p.method == _name]
    _tasks = tuple(sorted({"denoise" if p.table in _DENOISE_TABLES else "sr" for p in _cells}))
    _tables = ", ".join(str(t) for t in sorted({p.table for p in _cells}))
    register_method(_name, tasks=_tasks, reported_only=True,
                    description=f"{_cells[0].column}: published numbers only (paper Tables {_tables})")(_unavailable)
