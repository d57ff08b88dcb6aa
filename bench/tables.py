"""Paper-shaped result tables (Mao, Shen & Yang, NIPS 2016, Tables 1-7).

Input is a tidy DataFrame with one row per (dataset, image, method, level) and
columns task, dataset, image, method, level, psnr, ssim, seconds.
"""
from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pandas as pd

from methods.paper_numbers import PUBLISHED, TABLE_TITLES, lookup

PAPER_TABLE = {'fourteen': 1, 'set12': 1, 'bsd200': 2, 'bsd200-half': 2,
               'set5': 3, 'set14': 4, 'bsd100': 5}
_TABLE_TASK = {1: 'denoise', 2: 'denoise', 3: 'sr', 4: 'sr', 5: 'sr', 6: 'denoise', 7: 'sr'}
_SINGLE_TABLE = {'denoise': 6, 'sr': 7}
# Our dataset name -> the dataset name the published numbers are filed under.
_PAPER_DATASET = {'set12': 'fourteen', 'bsd200-half': 'bsd200'}
NOTES = {
    'set12': "SUBSTITUTE: Set12 instead of the paper's 14 images; "
             "absolute numbers are not comparable.",
    'bsd200': "Size: BSD200 at FULL size; the paper used images 'resized to smaller "
              "ones' (1/2 inferred), so our numbers are not directly comparable.",
    'bsd200-half': "Size: BSD200 at 1/2 size (bicubic); the paper used images 'resized "
                   "to smaller ones', and the factor 1/2 is inferred, not stated.",
}
_BASELINES = ('bicubic', 'bm3d', 'tv', 'epll', 'ncsr', 'pclr', 'pgpd', 'wnnm')
_NETS = ('srcnn', 'red10', 'red20', 'red30', 'red30+')
_METRICS = (('PSNR', 'psnr', 2), ('SSIM', 'ssim', 4))
_FORMATS = ('markdown', 'latex')


@dataclass(frozen=True)
class _Cell:
    value: Optional[float]          # the number that competes for bold
    paper: Optional[float] = None   # published counterpart, shown beside it


def _num(x) -> Optional[float]:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _method_key(method: str):
    if method in _BASELINES:
        return (0, _BASELINES.index(method), method)
    if method in _NETS:
        return (1, _NETS.index(method), method)
    return (2, 0, method)


def _paper_table(task: str, dataset: str) -> Optional[int]:
    table = PAPER_TABLE.get(dataset)
    return table if table is not None and _TABLE_TASK[table] == task else None


def _paper_dataset(dataset: str) -> str:
    return _PAPER_DATASET.get(dataset, dataset)


def _published(table, dataset, method, level, attr) -> Optional[float]:
    if table is None:
        return None
    entry = lookup(table, _paper_dataset(dataset), method, int(level))
    return None if entry is None else getattr(entry, attr)


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean psnr/ssim/seconds and image count per (task, dataset, method, level)."""
    keys = ['task', 'dataset', 'method', 'level']
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


def _level_text(task: str, level) -> str:
    lvl = int(level) if float(level).is_integer() else level
    return f"x{lvl}" if task == 'sr' else str(lvl)


def _esc_latex(text: str) -> str:
    special = {'\\': r'\textbackslash{}', '&': r'\&', '%': r'\%', '$': r'\$', '#': r'\#',
               '_': r'\_', '{': r'\{', '}': r'\}', '~': r'\textasciitilde{}',
               '^': r'\textasciicircum{}', '–': '--'}
    return ''.join(special.get(ch, ch) for ch in text)


def _cell_text(cell: _Cell, digits: int, bold: bool, fmt: str) -> str:
    if cell.value is None:
        text = '--' if fmt == 'latex' else '–'
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
            lines.append((label, _level_text(task, level), texts))
    headers = ['Metric', 'sigma' if task == 'denoise' else 'scale'] + [h for h, _ in columns]
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


def _caption(head: str, dataset: str, count: str, body: str) -> str:
    note = NOTES.get(dataset)
    return ' '.join(x for x in (head, f"Dataset: {dataset}, {count}.", body, note) if x)


def _our_cells(summ: pd.DataFrame, method: str, table, dataset, levels) -> dict:
    by_level = summ[summ['method'] == method].set_index('level')
    cells = {}
    for label, attr, _ in _METRICS:
        for level in levels:
            ours = _num(by_level.at[level, attr]) if level in by_level.index else None
            cells[(label, level)] = _Cell(ours, _published(table, dataset, method, level, attr))
    return cells


def _paper_cells(table, dataset, method, levels) -> dict:
    return {(label, level): _Cell(_published(table, dataset, method, level, attr))
            for label, attr, _ in _METRICS for level in levels}


def render_table(rows: pd.DataFrame, task: str, dataset: str, fmt: str = 'markdown') -> str:
    """Levels as rows, methods as columns; a PSNR block then an SSIM block."""
    sub = _subset(rows, task, dataset)
    summ = summarize(sub)
    levels = sorted(summ['level'].unique())
    ours = sorted(summ['method'].unique(), key=_method_key)
    table = _paper_table(task, dataset)
    paper_only = sorted({p.method for p in PUBLISHED if p.table == table
                         and p.dataset == _paper_dataset(dataset)} - set(ours), key=_method_key)
    columns = [(f"{m} (paper)", _paper_cells(table, dataset, m, levels)) for m in paper_only]
    columns += [(m, _our_cells(summ, m, table, dataset, levels)) for m in ours]
    if table is None:
        head, body = f"{task} results on {dataset}.", "All numbers are ours; the paper has no table for this dataset."
    else:
        head = f"Table {table} ({TABLE_TITLES[table]})."
        body = (f"Plain columns: our means. '(paper)' columns and 'paper' values: published "
                f"(Mao et al. 2016, Table {table}, '{_paper_dataset(dataset)}'); differences are "
                f"ours minus paper; – = not published or not found. Bold: best in row.")
    return _render(columns, levels, task, _caption(head, dataset, _image_count(sub, summ), body), fmt)


def render_single_vs_separate(rows: pd.DataFrame, task: str, dataset: str,
                              single_method: str = 'red30', fmt: str = 'markdown') -> str:
    """Tables 6/7: our single model vs the paper's per-level RED30 and single-model RED30."""
    sub = _subset(rows, task, dataset)
    sub = sub[sub['method'] == single_method]
    if sub.empty:
        raise ValueError(f"no rows for method {single_method!r}")
    summ = summarize(sub)
    levels = sorted(summ['level'].unique())
    single, separate = _SINGLE_TABLE[task], _paper_table(task, dataset)
    by_level = summ.set_index('level')
    ours = {(label, lvl): _Cell(_num(by_level.at[lvl, attr]),
                                _published(single, dataset, 'red30-single', lvl, attr))
            for label, attr, _ in _METRICS for lvl in levels}
    columns = [(f"{single_method} (ours, single model)", ours)]
    if separate is not None:
        columns.append((f"red30 per level (paper, Table {separate})",
                        _paper_cells(separate, dataset, 'red30', levels)))
    columns.append((f"red30-single (paper, Table {single})",
                    _paper_cells(single, dataset, 'red30-single', levels)))
    head = f"Table {single} ({TABLE_TITLES[single]})."
    body = ("First column: our single model's means, with the paper's single-model value and "
            "ours minus paper; other columns: published; – = not published or not found. "
            "Bold: best in row.")
    return _render(columns, levels, task, _caption(head, dataset, _image_count(sub, summ), body), fmt)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix='.tmp')
    with os.fdopen(fd, 'w', encoding='utf-8') as fh:
        fh.write(text)
    os.replace(tmp, path)


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
            path = out_dir / f"table_{task}_{dataset}.{ext}"
            _write_atomic(path, text)
            paths.append(path)
    combined = out_dir / 'tables.md'
    _write_atomic(combined, '\n'.join(markdown))
    paths.append(combined)
    return paths
