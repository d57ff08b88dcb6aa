r"""A Table (table_model.py) as LaTeX to \input into a paper, in two layouts written side by side.

Each table is written as float-free tabular files (the `_tabular` files: a font size, \tabcolsep and one or more
tabulars, nothing else) and one thin wrapper per layout that puts them in floats with a caption and a \label:

- `column`: a `table` float sized to \columnwidth of a two-column paper (COLUMN_PT);
- `page`: a `table*` float sized to \textwidth (PAGE_PT); in a one-column paper `table*` is a plain `table`.

Methods are columns and levels rows, a PSNR block then an SSIM block, the best number of a row in bold and the
second best underlined. The widths are measured with the Computer Modern glyph widths of the font size
(cm_widths.py, read from the TFM files): a layout takes \small, or \footnotesize where that needs fewer floats
or tabulars, and columns that still do not fit go into further tabulars; tabulars that would make a float taller
than a page go into further floats, each with its own tabular file. Never \resizebox. A second table holds ours
minus paper for the methods both have. The long notes (weights, deviations, the published value beside each of
ours) are in the markdown.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, pairwise
from math import ceil, comb

from redbench.evaluation.cm_widths import SIGMA, TIMES, WIDTHS
from redbench.evaluation.table_model import DIGITS, METRICS, PAPER, Cell, Column, Table, row_ranks

TABCOLSEP_PT = 4.0       # set in each tabular file; the article default is 6pt
MARGIN_PT = 4.0          # kept free: kerning and rounding the glyph sums do not see
RULES_PT = 30.0          # booktabs rules and the skips around a tabular, generously
CAPTION_SKIP_PT = 22.0   # \abovecaptionskip, the \medskip under the caption and a little more
HEADER_CHARS = 7         # a longer header is wrapped at '-' or ' ' into lines of about this length
GROUPS = {PAPER: 'Paper', 'ours': 'Ours'}


@dataclass(frozen=True)
class FontSize:
    command: str        # the LaTeX size command
    size: int           # its point size in a 10pt article: cmr<size>, cmbx<size>
    baseline: float     # its \baselineskip
    script: int = 6     # the size of a \textsuperscript at this size


SMALL, FOOTNOTESIZE = FontSize(r'\small', 9, 11.0), FontSize(r'\footnotesize', 8, 9.5)
NORMAL = FontSize(r'\normalsize', 10, 12.0, 7)   # the captions


@dataclass(frozen=True)
class Layout:
    name: str           # the file-name suffix
    environment: str    # the float
    width: float        # pt the tabulars must fit
    height: float       # \textheight: a float must not be taller
    where: str          # what the width is, for the README and the docstrings


# The standard article at 10pt: \columnwidth of [twocolumn] 229.5pt, \textwidth 345pt, \textheight 550pt (the
# narrowest of the common classes: CVPR's column is 237pt, IEEEtran's 252pt; their \textwidth is wider).
COLUMN = Layout('column', 'table', 229.5, 550.0, r"\columnwidth of a two-column paper")
PAGE = Layout('page', 'table*', 345.0, 550.0, r"\textwidth (one-column paper, or both columns of a two-column one)")
LAYOUTS = (COLUMN, PAGE)

_SPECIAL = {'\\': r'\textbackslash{}', '&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#', '_': r'\_', '{': r'\{',
            '}': r'\}', '~': r'\textasciitilde{}', '^': r'\textasciicircum{}', '–': '--', 'σ': r'$\sigma$',
            '×': r'$\times$'}


def esc(text: str) -> str:
    return ''.join(_SPECIAL.get(ch, ch) for ch in text)


def text_width(text: str, size: int = SMALL.size, bold: bool = False) -> float:
    """Width in pt of plain `text` set in Computer Modern roman (or bold) at `size` pt, as esc() writes it."""
    glyphs = WIDTHS[f"{'cmbx' if bold else 'cmr'}{size}"]
    em = glyphs['M'] * 1.2   # no glyph is wider than this
    width = 0.0
    for ch in text:
        if ch == ' ':
            width += glyphs['I'] * 0.9        # an interword space is about 0.33em
        elif ch == 'σ':
            width += SIGMA.get(size, SIGMA[min(SIGMA)] * size / min(SIGMA))
        elif ch == '×':
            width += TIMES.get(size, TIMES[min(TIMES)] * size / min(TIMES))
        elif ch in '–_{}':
            width += glyphs['0']              # en dash, \_ and braces are at most half an em
        else:
            width += glyphs.get(ch, em)
    return width


@dataclass(frozen=True)
class Shown:
    """One cell as LaTeX and what its width is measured from."""
    tex: str
    plain: str                 # the text it prints, measured at the table's font
    bold: bool = False
    script: str = ''           # a superscript, measured at the script size

    def width(self, font: FontSize) -> float:
        return text_width(self.plain, font.size, self.bold) + (text_width(self.script, font.script)
                                                               if self.script else 0.0)


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


def _level_value(level):
    return int(level) if float(level).is_integer() else level


def level_tex(task: str, level) -> str:
    return rf'$\times${_level_value(level)}' if task == 'sr' else str(_level_value(level))


def _level_plain(task: str, level) -> str:
    return f"×{_level_value(level)}" if task == 'sr' else str(_level_value(level))


def _level_header(table: Table) -> str:
    return 'Scale' if table.task == 'sr' else r'$\sigma$'


def number_shown(cell: Cell, digits: int, rank: int) -> Shown:
    if cell.value is None:
        return Shown('--', '–')
    text = f"{cell.value:.{digits}f}"
    tex = rf'\textbf{{{text}}}' if rank == 1 else rf'\underline{{{text}}}' if rank == 2 else text
    if cell.partial:
        script = f"({cell.n_images}/{cell.n_total})"
        return Shown(tex + rf'\textsuperscript{{{script}}}', text, rank == 1, script)
    return Shown(tex, text, rank == 1)


def number_tex(cell: Cell, digits: int, rank: int) -> str:
    return number_shown(cell, digits, rank).tex


def _column_width(column: Column, cells: list[Shown], font: FontSize) -> float:
    return max([c.width(font) for c in cells] + [text_width(x, font.size) for x in header_lines(column.name)]) \
        + 2 * TABCOLSEP_PT


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


@dataclass(frozen=True)
class Grid:
    """One LaTeX table (the main one or ours minus paper) before it is laid out: its columns and their cells."""
    table: Table
    columns: tuple[Column, ...]
    cells: dict              # {(column index, metric, level): Shown}
    caption: str
    label: str

    @property
    def groups(self) -> bool:
        return len({c.source for c in self.columns}) > 1

    def widths(self, font: FontSize) -> list[float]:
        return [_column_width(col, [self.cells[(i, m, lv)] for m, lv in self.table.rows()], font)
                for i, col in enumerate(self.columns)]

    def first_width(self, font: FontSize) -> float:
        """The level column, with its one \\tabcolsep (the outer side is @{})."""
        texts = ['Scale' if self.table.task == 'sr' else 'σ'] + [_level_plain(self.table.task, lv)
                                                                for lv in self.table.levels]
        return max(text_width(t, font.size) for t in texts) + TABCOLSEP_PT

    def parts(self, layout: Layout, font: FontSize) -> list[list[int]]:
        # the outer \tabcolsep of the last column is @{}: one TABCOLSEP_PT given back
        room = layout.width - MARGIN_PT - self.first_width(font) + TABCOLSEP_PT
        boundaries = frozenset(i for i in range(1, len(self.columns))
                               if self.columns[i].source != self.columns[i - 1].source)
        return split(self.widths(font), room, boundaries)

    def tabular_height(self, part: list[int], font: FontSize) -> float:
        r"""About how tall a tabular is: its lines at `font` and the booktabs rules and the skip above it."""
        header = max(len(header_lines(self.columns[i].name)) for i in part)
        lines = header + int(self.groups) + len(METRICS) * (1 + len(self.table.levels))
        return font.baseline * lines + RULES_PT


def arrangement(grid: Grid, layout: Layout, font: FontSize) -> tuple[list[list[int]], list[list[int]]]:
    """(column indices per tabular, tabular indices per float) of `grid` in `layout` at `font`: the parts from the
    measured widths, then as many tabulars per float as fit the page height under the caption."""
    parts = grid.parts(layout, font)
    groups = stack([grid.tabular_height(p, font) for p in parts],
                   layout.height - _caption_height(grid.caption, layout))
    return parts, groups


def font_for(grid: Grid, layout: Layout) -> FontSize:
    r"""\small, unless \footnotesize needs fewer floats or fewer tabulars in this layout."""
    def count(font):
        parts, groups = arrangement(grid, layout, font)
        return len(groups), len(parts)
    return FOOTNOTESIZE if count(FOOTNOTESIZE) < count(SMALL) else SMALL


def _caption_height(caption: str, layout: Layout) -> float:
    return NORMAL.baseline * ceil(text_width(caption, NORMAL.size) / layout.width + 0.5) + CAPTION_SKIP_PT


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


def _tabular(grid: Grid, part: list[int]) -> list[str]:
    table, n = grid.table, len(part) + 1
    out = [r'\begin{tabular}{@{}l' + 'c' * len(part) + '@{}}', r'\toprule']
    if grid.groups:
        out += _group_rows([grid.columns[i] for i in part])
    out += [' & '.join([_level_header(table)] + [header_tex(grid.columns[i].name) for i in part]) + r' \\']
    for label, _, _ in METRICS:
        out += [r'\midrule', rf'\multicolumn{{{n}}}{{@{{}}l@{{}}}}{{{"PSNR (dB)" if label == "PSNR" else label}}} \\']
        for level in table.levels:
            out.append(' & '.join([level_tex(table.task, level)] + [grid.cells[(i, label, level)].tex for i in part])
                       + r' \\')
    out += [r'\bottomrule', r'\end{tabular}']
    return out


@dataclass(frozen=True)
class Float:
    """One float of a layout: its float-free tabular text (the `_tabular` file) and its caption and label."""
    tabular: str
    caption: str
    label: str


def floats(grid: Grid, layout: Layout) -> list[Float]:
    """The floats of `grid` in `layout`: the font and the column parts from the measured widths, then as many
    tabulars per float as fit the page height under the caption."""
    font = font_for(grid, layout)
    parts, groups = arrangement(grid, layout, font)
    out = []
    for f, members in enumerate(groups):
        body = [rf'{{{font.command}\setlength{{\tabcolsep}}{{{TABCOLSEP_PT:g}pt}}%']
        for j, k in enumerate(members):
            if j:
                body.append(r'\par\medskip')
            body += _tabular(grid, parts[k])
        body += [r'\par}', '']
        caption = esc(grid.caption) if f == 0 else rf'Continued from Table~\ref{{{grid.label}}}.'
        out.append(Float('\n'.join(body), caption, grid.label if f == 0 else f"{grid.label}-{f + 1}"))
    return out


def _main(table: Table) -> Grid:
    columns = tuple(table.columns)
    cells = {}
    for metric, level in table.rows():
        for i, (col, rank) in enumerate(zip(columns, row_ranks(columns, metric, level))):
            cells[(i, metric, level)] = number_shown(col.cell(metric, level), DIGITS[metric], rank)
    return Grid(table, columns, cells, table.captions.latex, table.label)


def _difference(table: Table) -> Grid | None:
    """Ours minus paper, for our columns with a published counterpart at some level."""
    columns = tuple(c for c in table.columns
                    if c.source != PAPER and any(x.paper is not None for x in c.cells.values()))
    if not columns:
        return None
    cells = {}
    for metric, level in table.rows():
        digits = DIGITS[metric]
        for i, col in enumerate(columns):
            diff = col.cell(metric, level).difference(digits)
            # measured as '+': a math minus is as wide as a plus (a text hyphen is not)
            cells[(i, metric, level)] = (Shown('--', '–') if diff is None
                                         else Shown(f"${diff:+.{digits}f}$", f"+{abs(diff):.{digits}f}"))
    return Grid(table, columns, cells, table.captions.difference, table.label + '-diff')


def grids(table: Table) -> list[tuple[str, Grid]]:
    """(file-name part, Grid): the main table, then ours minus paper where there is any."""
    diff = _difference(table)
    return [('', _main(table))] + ([('_diff', diff)] if diff is not None else [])


# \input a file beside the wrapper, wherever the wrapper is input from (\CurrentFilePath: LaTeX 2020-10 and later)
_HERE = r'\ifdefined\CurrentFilePath\ifx\CurrentFilePath\empty\else\CurrentFilePath/\fi\fi '


def _float(layout: Layout, fl: Float, content: str) -> list[str]:
    return [rf'\begin{{{layout.environment}}}[tbp]', r'\centering', rf'\caption{{{fl.caption}}}',
            rf'\label{{{fl.label}}}', r'\medskip', content.rstrip('\n'), rf'\end{{{layout.environment}}}', '']


def wrapper(layout: Layout, placed: list[tuple[Float, str]]) -> str:
    """The thin wrapper of one table in `layout`: each float with its caption and label around its tabular file."""
    out = [f"% {layout.environment} floats sized to {layout.where}; the tabulars are in the _tabular files beside"]
    for fl, name in placed:
        out += _float(layout, fl, rf'\input{{{_HERE}{name}}}')
    return '\n'.join(out)


def latex_files(table: Table, stem: str) -> dict[str, str]:
    """{file name: text}: per table (main, `_diff`) and layout, the wrapper `<stem><part>_<layout>.tex` and its
    float-free tabular files `<stem><part>_<layout>_tabular.tex` (`_tabular2.tex`, ... for continued floats)."""
    out = {}
    for part, grid in grids(table):
        for layout in LAYOUTS:
            placed = []
            for f, fl in enumerate(floats(grid, layout)):
                name = f"{stem}{part}_{layout.name}_tabular{'' if f == 0 else f + 1}.tex"
                out[name] = fl.tabular
                placed.append((fl, name))
            out[f"{stem}{part}_{layout.name}.tex"] = wrapper(layout, placed)
    return out


def latex(table: Table, layout: Layout = PAGE) -> str:
    """One layout as a single text, the tabulars inline in their floats (what its wrapper gives when \\input)."""
    return '\n'.join(line for _, grid in grids(table) for fl in floats(grid, layout)
                     for line in _float(layout, fl, fl.tabular))
