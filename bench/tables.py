"""Paper-shaped result tables (Mao, Shen & Yang, NIPS 2016, Tables 1-7).

Input is a tidy DataFrame with one row per (dataset, image, method, level) and
columns task, dataset, image, method, level, psnr, ssim, seconds.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pandas as pd

from redbench.methods.paper_numbers import PUBLISHED, TABLE_TITLES

from .atomic import write_text_atomic
from .comparison import SINGLE_TABLE, paper_dataset, paper_method, paper_table, published
from .defaults import LEVEL_NAME

NOTES = {
    'set12': "SUBSTITUTE: Set12 instead of the paper's 14 images; "
             "absolute numbers are not comparable.",
    'bsd200': "Size: BSD200 at FULL size; the paper used images 'resized to smaller "
              "ones' (1/2 inferred), so our numbers are not directly comparable.",
    'bsd200-half': "Size: BSD200 at 1/2 size (bicubic); the paper used images 'resized "
                   "to smaller ones', and the factor 1/2 is inferred, not stated.",
}
# The identity baseline of each task: the degraded input itself, scored like a method.
IDENTITY = {'denoise': 'noisy', 'sr': 'bicubic'}
_BASELINES = ('noisy', 'bicubic', 'bm3d', 'tv')
# per-level networks (Tables 1-5), then the single all-level ones (Tables 6-7); each followed by its x8 ensemble
_NETS = ('srcnn', 'red10', 'red10+', 'red20', 'red20+', 'red30', 'red30+',
         'red10-single', 'red10-single+', 'red20-single', 'red20-single+', 'red30-single', 'red30-single+')
_METRICS = (('PSNR', 'psnr', 2), ('SSIM', 'ssim', 4))
_FORMATS = ('markdown', 'latex')


@dataclass(frozen=True)
class _Cell:
    value: Optional[float]          # the number that competes for bold
    paper: Optional[float] = None   # published counterpart, shown beside it
    empty: str = '–'                # shown when value is None: '–' no such published cell, 'not run' no rows


def _num(x) -> Optional[float]:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _method_key(method: str):
    if method in _BASELINES:
        return (0, _BASELINES.index(method), method)
    if method in _NETS:
        return (1, _NETS.index(method), method)
    return (2, 0, method)


def method_label(method: str, path_parts: int = 1) -> str:
    """Column header for one of our methods: experiment networks ('net:<path>') by their weights' name, or by the
    last `path_parts` components of their path."""
    if method.startswith('net:'):
        plus = '+' if method.endswith('+') else ''
        return f"net {'/'.join(Path(method[4:].rstrip('+')).parts[-path_parts:])}{plus}"
    return method


def method_labels(methods: list[str]) -> dict[str, str]:
    """Column headers for methods shown side by side: two trained networks whose weights share a name (two runs'
    `net:runs/a/red10` and `net:runs/b/red10`) get as much of their paths as tells them apart."""
    labels = {m: method_label(m) for m in methods}
    counts = Counter(labels.values())
    for label in [v for v, n in counts.items() if n > 1]:
        clashing = [m for m in methods if labels[m] == label]
        longest = max(len(Path(m[4:].rstrip('+')).parts) for m in clashing)
        parts = next((n for n in range(2, longest) if len({method_label(m, n) for m in clashing}) == len(clashing)),
                     longest)
        labels.update({m: method_label(m, parts) for m in clashing})
    return labels


def _published(table, dataset, method, level, attr) -> Optional[float]:
    entry = published(table, dataset, method, level)
    return None if entry is None else getattr(entry, attr)


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean psnr/ssim/seconds and image count per (task, dataset, method, level)."""
    keys = ['task', 'dataset', 'method', 'level']
    # sum in image order: a mean on a rounding boundary then shows the same digits in every table
    rows = rows.sort_values(keys + ['image'], kind='stable')
    out = rows.groupby(keys, sort=True).agg(
        psnr=('psnr', 'mean'), ssim=('ssim', 'mean'), seconds=('seconds', 'mean'),
        n_images=('image', 'nunique'))
    return out.reset_index()


def _subset(rows: pd.DataFrame, task: str, dataset: str) -> pd.DataFrame:
    sub = rows[(rows['task'] == task) & (rows['dataset'] == dataset)]
    if sub.empty:
        raise ValueError(f"no rows for task={task!r} dataset={dataset!r}")
    return sub


def _image_count(sub: pd.DataFrame, summ: pd.DataFrame) -> str:
    n = sub['image'].nunique()
    low = int(summ['n_images'].min())
    return f"{n} images" if low == n else f"{n} images (some cells average only {low})"


def level_text(task: str, level) -> str:
    """How a level is shown: sigma as a number, a scale as x<scale>."""
    lvl = int(level) if float(level).is_integer() else level
    return f"x{lvl}" if task == 'sr' else str(lvl)


def _esc_latex(text: str) -> str:
    special = {'\\': r'\textbackslash{}', '&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#',
               '_': r'\_', '{': r'\{', '}': r'\}', '~': r'\textasciitilde{}',
               '^': r'\textasciicircum{}', '–': '--', 'σ': r'$\sigma$'}
    return ''.join(special.get(ch, ch) for ch in text)


def _cell_text(cell: _Cell, digits: int, bold: bool, fmt: str) -> str:
    if cell.value is None:
        text = '--' if fmt == 'latex' and cell.empty == '–' else cell.empty
    else:
        text = f"{cell.value:.{digits}f}"
        if bold:
            text = rf"\textbf{{{text}}}" if fmt == 'latex' else f"**{text}**"
    if cell.paper is not None:
        note = f"paper {cell.paper:.{digits}f}"
        if cell.value is not None:
            # Difference of the shown (rounded) numbers, so the text adds up; +0.0 avoids "-0.00".
            note += f", {round(round(cell.value, digits) - cell.paper, digits) + 0.0:+.{digits}f}"
        text += f" ({note})"
    return text


def _render(columns, levels, task, caption, fmt) -> str:
    """columns: list of (header, {(metric, level): _Cell}); bold the row maximum."""
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, got {fmt!r}")
    lines = []
    for label, _, digits in _METRICS:
        for level in levels:
            cells = [col.get((label, level), _Cell(None)) for _, col in columns]
            shown = [round(c.value, digits) for c in cells if c.value is not None]
            best = max(shown) if shown else None
            texts = [_cell_text(c, digits, c.value is not None and round(c.value, digits) == best, fmt)
                     for c in cells]
            lines.append((label, level_text(task, level), texts))
    headers = ['Metric', LEVEL_NAME[task]] + [h for h, _ in columns]
    if fmt == 'markdown':
        return _markdown(caption, headers, lines)
    return _latex(caption, headers, lines)


def _markdown(caption, headers, lines) -> str:
    esc = [h.replace('|', r'\|') for h in headers]
    out = [caption, '', '| ' + ' | '.join(esc) + ' |',
           '|' + '---|' * 2 + '---:|' * (len(headers) - 2)]
    out += ['| ' + ' | '.join([m, lvl] + texts) + ' |' for m, lvl, texts in lines]
    return '\n'.join(out) + '\n'


def _latex(caption, headers, lines) -> str:
    out = [r'\begin{table}[t]', r'\centering', rf'\caption{{{_esc_latex(caption)}}}',
           r'\begin{tabular}{ll' + 'c' * (len(headers) - 2) + '}', r'\hline',
           ' & '.join(_esc_latex(h) for h in headers) + r' \\', r'\hline']
    prev = None
    for metric, lvl, texts in lines:
        if prev is not None and metric != prev:
            out.append(r'\hline')
        prev = metric
        # Cell texts are built from numbers and fixed words; only '\textbf' is markup.
        out.append(' & '.join([metric, lvl] + texts) + r' \\')
    out += [r'\hline', r'\end{tabular}', r'\end{table}']
    return '\n'.join(out) + '\n'


def _levels_note(task: str, levels) -> str:
    """The levels this table has rows for (the paper's caption may name others)."""
    return f", {LEVEL_NAME[task]} " + ', '.join(level_text(task, lvl) for lvl in levels)


def _weights_note(sub: pd.DataFrame) -> str:
    """Which weights (network sha256 or parameter digest) each of our columns was computed with."""
    if 'weights' not in sub.columns:
        return ''
    parts = []
    for method in sorted(sub['method'].unique(), key=_method_key):
        used = sub[sub['method'] == method].groupby('weights')['level'].unique()
        names = [f"{short_weights(w)}" + ('' if len(used) == 1 else
                                           f" ({', '.join(f'{float(lv):g}' for lv in sorted(lvls))})")
                 for w, lvls in used.items()]
        parts.append(f"{method} {'; '.join(names)}")
    return ' Weights: ' + ', '.join(parts) + '.'


def short_weights(weights: str) -> str:
    """'name@sha256' as 'name@' and the first 12 hex digits; anything else unchanged."""
    name, _, digest = str(weights).rpartition('@')
    return f"{name}@{digest[:12]}" if name else str(weights)


def _caption(head: str, dataset: str, count: str, body: str) -> str:
    note = NOTES.get(dataset)
    return ' '.join(x for x in (head, f"Dataset: {dataset}, {count}.", body, note) if x)


def _our_cells(summ: pd.DataFrame, method: str, table, dataset, levels, paper_as: Optional[str] = None) -> dict:
    """Our means for `method`, each beside the published value of `paper_as` (default: its own column)."""
    by_level = summ[summ['method'] == method].set_index('level')
    cells = {}
    for label, attr, _ in _METRICS:
        for level in levels:
            ours = _num(by_level.at[level, attr]) if level in by_level.index else None
            cells[(label, level)] = _Cell(ours, _published(table, dataset, paper_as or method, level, attr), 'not run')
    return cells


def _paper_cells(table, dataset, method, levels) -> dict:
    return {(label, level): _Cell(_published(table, dataset, method, level, attr))
            for label, attr, _ in _METRICS for level in levels}


def _paper_columns(table, dataset) -> dict[str, str]:
    """{method: the paper's column header}, in the paper's column order."""
    return {p.method: p.column for p in PUBLISHED if p.table == table and p.dataset == paper_dataset(dataset)}


def render_table(rows: pd.DataFrame, task: str, dataset: str, fmt: str = 'markdown',
                 always: tuple[str, ...] = ()) -> str:
    """Levels as rows, methods as columns; a PSNR block then an SSIM block.

    `always`: methods that get a column even without rows ('not run' cells), e.g. red30+ beside red30.
    """
    sub = _subset(rows, task, dataset)
    summ = summarize(sub)
    levels = sorted(summ['level'].unique())
    ours = sorted(set(summ['method'].unique()) | set(always), key=_method_key)
    table = paper_table(task, dataset)
    headers = _paper_columns(table, dataset)
    # the paper's other columns keep their own headers; a column of ours carries its published value instead
    columns = [(f"{header} (paper)", _paper_cells(table, dataset, m, levels))
               for m, header in headers.items() if m not in {paper_method(o) for o in ours}]
    labels = method_labels(ours)
    columns += [(labels[m], _our_cells(summ, m, table, dataset, levels)) for m in ours]
    identity = IDENTITY.get(task)
    if table is None:
        head, body = f"{task} results on {dataset}.", "All numbers are ours; the paper has no table for this dataset."
    else:
        head = f"Table {table}: {TABLE_TITLES[table]}"
        body = (f"Plain columns: our means. '(paper)' columns: published only, under the paper's own headers "
                f"(Mao et al. 2016, Table {table}). 'paper' in our cells: the published value of the same "
                f"method (red30+ against the paper's RED30), then ours minus paper, for PSNR and SSIM; "
                f"– = no such published cell; not run = no rows here. Bold: best in row.")
    if identity in ours:
        body += f" {identity} = the degraded input itself (identity baseline)."
    caption = _caption(head, dataset, _image_count(sub, summ) + _levels_note(task, levels), body + _weights_note(sub))
    return _render(columns, levels, task, caption, fmt)


def render_single_vs_separate(rows: pd.DataFrame, task: str, dataset: str,
                              single_method: str = 'red30-single', fmt: str = 'markdown') -> str:
    """Tables 6/7: our single model (plain and x8) and the identity baseline against the paper's
    single-model RED30 (Tables 6/7) and its per-level RED30 (Tables 1-5)."""
    sub = _subset(rows, task, dataset)
    if not (sub['method'] == single_method).any():
        raise ValueError(f"no rows for method {single_method!r}")
    identity, ensemble = IDENTITY[task], single_method + '+'
    sub = sub[sub['method'].isin([single_method, ensemble, identity])]
    summ = summarize(sub)
    levels = sorted(summ.loc[summ['method'] == single_method, 'level'].unique())
    single, separate = SINGLE_TABLE[task], paper_table(task, dataset)
    columns = [(f"{single_method} (ours, single model)",
                _our_cells(summ, single_method, single, dataset, levels, 'red30-single')),
               (f"{ensemble} (ours, single model, x8)",
                _our_cells(summ, ensemble, single, dataset, levels, 'red30-single'))]
    if identity in set(summ['method']):
        columns.append((identity, _our_cells(summ, identity, None, dataset, levels)))
    if separate is not None:
        columns.append((f"RED30 per level (paper, Table {separate})",
                        _paper_cells(separate, dataset, 'red30', levels)))
    columns.append((f"RED30 single model (paper, Table {single})",
                    _paper_cells(single, dataset, 'red30-single', levels)))
    head = f"Table {single}: {TABLE_TITLES[single]}"
    body = (f"Our columns: means, each with the paper's single-model value and ours minus paper (PSNR and "
            f"SSIM); {identity} = the degraded input itself (identity baseline); other columns: published; "
            f"not run = no rows here. Bold: best in row.")
    caption = _caption(head, dataset, _image_count(sub, summ) + _levels_note(task, levels), body + _weights_note(sub))
    return _render(columns, levels, task, caption, fmt)


def file_label(dataset: str) -> str:
    """`dataset` as part of a file name (dir:/a/b -> dir_a_b)."""
    return re.sub(r'[^A-Za-z0-9._-]+', '_', dataset).strip('_')


def write_tables(rows: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write table_<task>_<dataset>.md/.tex per pair and tables.md; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, markdown = [], []
    pairs = rows[['task', 'dataset']].drop_duplicates().sort_values(['task', 'dataset'])
    for task, dataset in pairs.itertuples(index=False):
        md = render_table(rows, task, dataset, 'markdown')
        markdown.append(md)
        for ext, text in (('md', md), ('tex', render_table(rows, task, dataset, 'latex'))):
            path = out_dir / f"table_{task}_{file_label(dataset)}.{ext}"
            write_text_atomic(path, text)
            paths.append(path)
    combined = out_dir / 'tables.md'
    write_text_atomic(combined, '\n'.join(markdown))
    paths.append(combined)
    return paths
