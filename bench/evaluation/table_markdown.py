"""A Table (table_model.py) as markdown, in two views.

The full view has every column: the paper's other methods as '(paper)' columns, then all of ours, each of our
cells with the published value of the same method and ours minus paper. The paper view has the columns of the
paper's table in its order, each of ours as "ours / paper" under the paper's header.
"""
from __future__ import annotations

from redbench.evaluation.table_model import DIGITS, OURS, Cell, Table, level_text, ranks, row_ranks


def number_text(cell: Cell, digits: int, rank: int) -> str:
    """Our mean or a published number; a partial mean with (n/N); the best in bold."""
    if cell.value is None:
        return cell.empty
    text = f"{cell.value:.{digits}f}"
    if rank == 1:
        text = f"**{text}**"
    return f"{text} ({cell.n_images}/{cell.n_total})" if cell.partial else text


def full_cell_text(cell: Cell, digits: int, rank: int) -> str:
    text = number_text(cell, digits, rank)
    if cell.compared:
        note = f"paper {cell.paper:.{digits}f}"
        if cell.value is not None:
            note += f", {cell.difference(digits):+.{digits}f}"
        text += f" ({note})"
    return text


def _table(caption: str, headers: list[str], lines: list[list[str]]) -> str:
    esc = [h.replace('|', r'\|') for h in headers]
    out = [caption, '', '| ' + ' | '.join(esc) + ' |', '|' + '---|' * 2 + '---:|' * (len(headers) - 2)]
    out += ['| ' + ' | '.join(line) + ' |' for line in lines]
    return '\n'.join(out) + '\n'


def full_view(table: Table) -> str:
    lines = []
    for metric, level in table.rows():
        places = row_ranks(table.columns, metric, level)
        lines.append([metric, level_text(table.task, level)]
                     + [full_cell_text(col.cell(metric, level), DIGITS[metric], rank)
                        for col, rank in zip(table.columns, places)])
    return _table(table.captions.full, ['Metric', table.level_name] + [c.header for c in table.columns], lines)


def paper_view(table: Table) -> str:
    """'' where the paper has no table for this set."""
    if not table.paper_columns:
        return ''
    lines = []
    for metric, level in table.rows():
        digits = DIGITS[metric]
        cells = [col.cell(metric, level) for col in table.paper_columns]
        # every number shown competes: our complete means and the published values
        numbers = []
        for col, cell in zip(table.paper_columns, cells):
            numbers.append(cell.value if cell.ranked else None)
            numbers.append(cell.paper if col.source == OURS and cell.compared else None)
        places = ranks(numbers, digits)
        texts = []
        for i, (col, cell) in enumerate(zip(table.paper_columns, cells)):
            text = number_text(cell, digits, places[2 * i])
            if col.source == OURS and cell.compared:
                paper = f"{cell.paper:.{digits}f}"
                text += f" / {'**' + paper + '**' if places[2 * i + 1] == 1 else paper}"
            texts.append(text)
        lines.append([metric, level_text(table.task, level)] + texts)
    return _table(table.captions.paper, ['Metric', table.level_name] + [c.name for c in table.paper_columns], lines)
