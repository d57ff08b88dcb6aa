r"""A Table (table_model.py) as LaTeX to \input into a paper.

Each file is one or more `table` floats that need only booktabs: methods as columns and levels as rows, a PSNR
block then an SSIM block, the best number of a row in bold and the second best underlined, a short caption and a
\label. Columns that do not fit \textwidth of a one-column article (10pt, \small in the table) go into further
tabulars of the same float, and tabulars that would make a float taller than a page into further floats. A second
table holds ours minus paper for the methods both have. The long notes (weights, deviations, the published value
beside each of ours) are in the markdown.
"""
from __future__ import annotations

from itertools import combinations, pairwise
from math import comb

from redbench.evaluation.table_model import DIGITS, METRICS, PAPER, Cell, Column, Table, row_ranks

TEXTWIDTH_PT = 345.0     # \textwidth of the standard one-column article at 10pt, default margins
TABCOLSEP_PT = 4.0       # set in each float; the article default is 6pt
MARGIN_PT = 6.0          # kept free of the estimate below, which is only an estimate
TEXTHEIGHT_PT = 550.0    # its \textheight: a float taller than that does not fit a page
LINE_PT = 11.0           # \small's baselineskip
RULES_PT = 30.0          # booktabs rules and the skips around a tabular or a caption, generously
HEADER_CHARS = 7         # a longer header is wrapped at '-' or ' ' into lines of about this length
GROUPS = {PAPER: 'Paper', 'ours': 'Ours'}

_SPECIAL = {'\\': r'\textbackslash{}', '&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#', '_': r'\_', '{': r'\{',
            '}': r'\}', '~': r'\textasciitilde{}', '^': r'\textasciicircum{}', '–': '--', 'σ': r'$\sigma$',
            '×': r'$\times$'}

# Advance widths in pt of Computer Modern at \small (9pt), a little on the wide side: what a column needs.
_NARROW = set('.,;:il!|\'')
_WIDE = set('mwMW+=')


def esc(text: str) -> str:
    return ''.join(_SPECIAL.get(ch, ch) for ch in text)


def text_width(text: str, bold: bool = False, scale: float = 1.0) -> float:
    width = 0.0
    for ch in text:
        if ch.isdigit():
            w = 5.4 if bold else 4.7
        elif ch in _NARROW:
            w = 2.6
        elif ch in _WIDE:
            w = 7.6
        elif ch.isupper():
            w = 7.2
        elif ch in '-()/[] ':
            w = 3.7
        else:
            w = 5.0
        width += w * (1.1 if bold and not ch.isdigit() else 1.0)
    return width * scale


def header_lines(name: str) -> list[str]:
    """`name` broken after '-' or at ' ' into lines of at most HEADER_CHARS (a longer piece stays whole)."""
    pieces, piece = [], ''
    for ch in name:
        if ch == ' ':
            pieces.append(piece)
            piece = ''
            continue
        piece += ch
        if ch == '-':
            pieces.append(piece)
            piece = ''
    pieces.append(piece)
    lines = ['']
    for p in (p for p in pieces if p):
        joined = lines[-1] + ('' if not lines[-1] or lines[-1].endswith('-') else ' ') + p
        if lines[-1] and len(joined) > HEADER_CHARS:
            lines.append(p)
        else:
            lines[-1] = joined
    return lines


def header_tex(name: str) -> str:
    lines = header_lines(name)
    if len(lines) == 1:
        return esc(lines[0])
    return r'\begin{tabular}[b]{@{}c@{}}' + r'\\'.join(esc(x) for x in lines) + r'\end{tabular}'


def level_tex(task: str, level) -> str:
    lvl = int(level) if float(level).is_integer() else level
    return rf'$\times${lvl}' if task == 'sr' else str(lvl)


def _level_width(task: str, level) -> float:
    lvl = int(level) if float(level).is_integer() else level
    return text_width(str(lvl)) + (7.6 if task == 'sr' else 0.0)


def _level_header(table: Table) -> str:
    return 'Scale' if table.task == 'sr' else r'$\sigma$'


def number_tex(cell: Cell, digits: int, rank: int) -> str:
    if cell.value is None:
        return '--'
    text = f"{cell.value:.{digits}f}"
    if rank == 1:
        text = rf'\textbf{{{text}}}'
    elif rank == 2:
        text = rf'\underline{{{text}}}'
    if cell.partial:
        text += rf'\textsuperscript{{({cell.n_images}/{cell.n_total})}}'
    return text


def _number_width(cell: Cell, digits: int, rank: int) -> float:
    if cell.value is None:
        return text_width('--')
    width = text_width(f"{cell.value:.{digits}f}", bold=rank == 1)
    if cell.partial:
        width += text_width(f"({cell.n_images}/{cell.n_total})", scale=0.7)
    return width


def _column_width(column: Column, texts_width: float) -> float:
    return max([texts_width] + [text_width(x) for x in header_lines(column.name)]) + 2 * TABCOLSEP_PT


def _greedy_cuts(widths: list[float], room: float) -> tuple[int, ...]:
    cuts, used = [], 0.0
    for i, w in enumerate(widths):
        if used and used + w > room:
            cuts.append(i)
            used = 0.0
        used += w
    return tuple(cuts)


def split(widths: list[float], room: float, boundaries: frozenset = frozenset()) -> list[list[int]]:
    """Column indices in consecutive parts whose widths each fit `room`: as few parts as a greedy fill needs;
    among those, cuts at `boundaries` (an index that starts a new group of columns) first, then the most even."""
    parts = len(_greedy_cuts(widths, room)) + 1
    n = len(widths)
    best = None
    # a few columns into a few parts is a small search; a very wide table keeps the greedy fill
    tries = combinations(range(1, n), parts - 1) if comb(n - 1, parts - 1) <= 100_000 else [_greedy_cuts(widths, room)]
    for cuts in tries:
        bounds = (0, *cuts, n)
        sizes = [sum(widths[a:b]) for a, b in pairwise(bounds)]
        if max(sizes) > room:
            continue
        score = (sum(c not in boundaries for c in cuts), max(sizes))
        if best is None or score < best[0]:
            best = (score, bounds)
    bounds = best[1] if best is not None else tuple(range(n + 1))   # nothing fits: one column per part
    return [list(range(a, b)) for a, b in pairwise(bounds)]


def _group_rows(columns: list[Column]) -> list[str]:
    """The 'Paper' / 'Ours' header above each run of columns, and its rules; none when all are one kind."""
    runs, start = [], 0
    for i in range(1, len(columns) + 1):
        if i == len(columns) or columns[i].source != columns[start].source:
            runs.append((start, i, columns[start].source))
            start = i
    cells = [rf'\multicolumn{{{b - a}}}{{c}}{{{GROUPS[src]}}}' for a, b, src in runs]
    rules = ''.join(rf'\cmidrule(lr){{{a + 2}-{b + 1}}}' for a, b, _ in runs)
    return [' & '.join([''] + cells) + r' \\', rules]


def _tabular(table: Table, columns: list[Column], texts: dict, groups: bool) -> list[str]:
    """columns: (index, Column) pairs; texts: {(index, metric, level): cell text}."""
    n = len(columns) + 1
    out = [r'\begin{tabular}{@{}l' + 'c' * len(columns) + '@{}}', r'\toprule']
    if groups:
        out += _group_rows([c for _, c in columns])
    out += [' & '.join([_level_header(table)] + [header_tex(c.name) for _, c in columns]) + r' \\']
    for label, _, _ in METRICS:
        out += [r'\midrule', rf'\multicolumn{{{n}}}{{@{{}}l@{{}}}}{{{"PSNR (dB)" if label == "PSNR" else label}}} \\']
        for level in table.levels:
            out.append(' & '.join([level_tex(table.task, level)] + [texts[(i, label, level)] for i, _ in columns])
                       + r' \\')
    out += [r'\bottomrule', r'\end{tabular}']
    return out


def _floats(table: Table, columns: list[Column], texts: dict, widths: list[float], caption: str,
            label: str) -> list[str]:
    room = TEXTWIDTH_PT - MARGIN_PT - max([text_width('Scale' if table.task == 'sr' else 'xx')]
                                          + [_level_width(table.task, lv) for lv in table.levels]) - TABCOLSEP_PT
    boundaries = frozenset(i for i in range(1, len(columns)) if columns[i].source != columns[i - 1].source)
    parts = split(widths, room, boundaries)
    groups = len({c.source for c in columns}) > 1
    floats = stack([_tabular_height(table, [columns[i] for i in part], groups) for part in parts],
                   TEXTHEIGHT_PT - _caption_height(caption))
    out = []
    for f, members in enumerate(floats):
        out += [r'\begin{table}[tbp]', r'\centering', r'\small', rf'\setlength{{\tabcolsep}}{{{TABCOLSEP_PT:g}pt}}',
                rf'\caption{{{esc(caption)}}}' if f == 0 else rf'\caption{{Continued from Table~\ref{{{label}}}.}}',
                rf'\label{{{label}}}' if f == 0 else rf'\label{{{label}-{f + 1}}}',
                r'\medskip']   # the article's caption skips are made for a caption below the table
        for j, k in enumerate(members):
            if j:
                out.append(r'\par\medskip')
            out += _tabular(table, [(i, columns[i]) for i in parts[k]], texts, groups)
        out += [r'\end{table}', '']
    return out


def _tabular_height(table: Table, columns: list[Column], groups: bool) -> float:
    r"""About how tall a tabular is: its lines at \small (11pt apart), the booktabs rules and the skip above it."""
    header = max(len(header_lines(c.name)) for c in columns)
    lines = header + int(groups) + len(METRICS) * (1 + len(table.levels))
    return LINE_PT * lines + RULES_PT


def _caption_height(caption: str) -> float:
    return LINE_PT * (1 + int(text_width(caption) // TEXTWIDTH_PT)) + RULES_PT


def stack(heights: list[float], room: float) -> list[list[int]]:
    """Tabular indices per float, in order: as many in one float as fit `room` (always at least one)."""
    floats, used = [[]], 0.0
    for k, h in enumerate(heights):
        if floats[-1] and used + h > room:
            floats.append([])
            used = 0.0
        floats[-1].append(k)
        used += h
    return floats


def _main(table: Table) -> list[str]:
    columns = list(table.columns)
    texts, widths = {}, [0.0] * len(columns)
    for metric, level in table.rows():
        for i, (col, rank) in enumerate(zip(columns, row_ranks(columns, metric, level))):
            cell = col.cell(metric, level)
            texts[(i, metric, level)] = number_tex(cell, DIGITS[metric], rank)
            widths[i] = max(widths[i], _number_width(cell, DIGITS[metric], rank))
    widths = [_column_width(c, w) for c, w in zip(columns, widths)]
    return _floats(table, columns, texts, widths, table.captions.latex, table.label)


def _difference(table: Table) -> list[str]:
    """Ours minus paper, for our columns with a published counterpart at some level."""
    columns = [c for c in table.columns if c.source != PAPER and any(x.paper is not None for x in c.cells.values())]
    if not columns:
        return []
    texts, widths = {}, [0.0] * len(columns)
    for metric, level in table.rows():
        digits = DIGITS[metric]
        for i, col in enumerate(columns):
            diff = col.cell(metric, level).difference(digits)
            text = '--' if diff is None else f"${diff:+.{digits}f}$"
            texts[(i, metric, level)] = text
            widths[i] = max(widths[i], text_width(f"{0 if diff is None else diff:+.{digits}f}"))
    widths = [_column_width(c, w) for c, w in zip(columns, widths)]
    return _floats(table, columns, texts, widths, table.captions.difference, table.label + '-diff')


def latex(table: Table) -> str:
    return '\n'.join(_main(table) + _difference(table))
