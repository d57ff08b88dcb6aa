"""Methods the paper compares against that are not implemented here: published numbers only.

They show up as '(paper)' columns in the tables from methods/paper_numbers.py.
"""
from __future__ import annotations

from .paper_numbers import PUBLISHED
from .registry import register_method

_IMPLEMENTED = {"bm3d", "bicubic", "srcnn", "red10", "red20", "red30", "red30-single"}


def _unavailable(task: str):
    raise AssertionError("reported-only methods are never instantiated")


for _name in sorted({p.method for p in PUBLISHED} - _IMPLEMENTED):
    _tasks = tuple(sorted({"denoise" if p.table in (1, 2, 6) else "sr" for p in PUBLISHED if p.method == _name}))
    register_method(_name, tasks=_tasks, reported_only=True, description="published numbers only")(_unavailable)
