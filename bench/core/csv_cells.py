"""CSV cells a spreadsheet cannot execute: every CSV redbench writes goes through `writer` or `write_frame`.

A spreadsheet opening a CSV runs a text cell that begins with `=`, `+`, `-` or `@` as a formula, and a leading tab
or carriage return can hide such a start (CSV injection). An image named `=1+1.png` in a `dir:` set would be such a
cell in rows.csv. As OWASP recommends, such a cell is written with a leading `'`, which a spreadsheet shows as
text and does not display. Numbers are never touched: a float such as -0.5 is written as it is, and so is a text
cell that is a plain decimal number, which a spreadsheet reads as that number and runs nothing.

The quote is undone when redbench reads its CSVs back (`restore`, `restore_frame`), so the exact text survives a
round trip. To keep that exact, a cell that already begins with quotes before such a character (`'=x`) gets one
more quote too; `restore` removes exactly one quote, and only from a cell that `neutral` would have quoted.
"""
from __future__ import annotations

import csv
import re

# the first characters OWASP lists as starting a formula (or hiding one behind whitespace)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _would_run(text: str) -> bool:
    """Whether `text`, past any leading quotes, starts a formula (a plain number aside)."""
    bare = text.lstrip(QUOTE)
    if not bare.startswith(FORMULA_START):
        return False
    return bare != text or not _PLAIN_NUMBER.fullmatch(text)


def neutral(value):
    """The cell to write for `value`: text that would run as a formula gets a leading quote; anything else
    (numbers, None, harmless text) is returned as it is."""
    if isinstance(value, str) and _would_run(value):
        return QUOTE + value
    return value


def restore(value):
    """The text `neutral` was given, from the cell it wrote (a cell it did not change is returned as it is)."""
    if isinstance(value, str) and value.startswith(QUOTE) and _would_run(value[1:]):
        return value[1:]
    return value


class _Writer:
    """csv.writer whose rows pass through `neutral`."""

    def __init__(self, fh, **kwargs):
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, cells):
        return self._writer.writerow([neutral(cell) for cell in cells])

    def writerows(self, rows):
        for cells in rows:
            self.writerow(cells)


def writer(fh, **kwargs) -> _Writer:
    """A csv.writer (same arguments) that neutralises every cell."""
    return _Writer(fh, **kwargs)


def neutral_frame(frame):
    """A copy of a pandas DataFrame to write with `to_csv`: text cells, column names and index labels neutral."""
    out = frame.copy()
    for column in _text_columns(out):
        out[column] = out[column].map(neutral)
    out.columns = out.columns.map(neutral)
    out.index = out.index.map(neutral)
    return out


def write_frame(frame, path, **kwargs) -> None:
    """frame.to_csv(path, **kwargs) with every cell neutral. Lines end in CRLF, as csv.writer's do, so a cell
    holding a carriage return is quoted (with pandas' '\n' it would be left bare and split the line)."""
    neutral_frame(frame).to_csv(path, lineterminator="\r\n", **kwargs)


def restore_frame(frame):
    """A DataFrame read from a CSV that `neutral_frame` or `writer` wrote, with its text cells restored."""
    out = frame.copy()
    for column in _text_columns(out):
        out[column] = out[column].map(restore)
    return out


def _text_columns(frame) -> list:
    """The columns that may hold text (object or string dtype); numeric and boolean ones are left alone."""
    from pandas.api.types import is_numeric_dtype
    return [column for column in frame.columns if not is_numeric_dtype(frame[column])]
