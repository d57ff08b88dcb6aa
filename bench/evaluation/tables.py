"""Paper-shaped result tables (Mao, Shen & Yang, NIPS 2016, Tables 1-7).

Input is a tidy DataFrame with one row per (dataset, image, method, level) and columns task, dataset, image,
method, level, psnr, ssim, seconds. A table is built once (table_model.Table) and rendered as the markdown full
view, the markdown paper view (table_markdown.py) and LaTeX (table_latex.py).
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pandas as pd
from redbench.datasets.catalog import SPECS
from redbench.methods.paper_numbers import PUBLISHED, TABLE_TITLES

from redbench.core.atomic import write_text_atomic
from redbench.evaluation.comparison import (
    SINGLE_TABLE,
    paper_dataset,
    paper_method,
    paper_table,
    published,
)
from redbench.evaluation.coverage import set_sizes, with_coverage
from redbench.core.defaults import LEVEL_NAME
from redbench.core.names import file_label
from redbench.evaluation.table_latex import latex, latex_files
from redbench.evaluation.table_markdown import full_view, paper_view
from redbench.evaluation.table_model import METRICS, OURS, PAPER, Captions, Cell, Column, Table, level_text
from redbench.core.weights_id import short_weights_id

__all__ = ['IDENTITY', 'NOTES', 'build_single_vs_separate', 'build_table', 'covered_summary', 'file_label',
           'level_text', 'method_label', 'method_labels', 'method_order', 'render_single_vs_separate', 'render_table',
           'summarize', 'write_tables']

# How a set differs from the paper's, in full (markdown captions) and in a few words (LaTeX captions): from each
# set's PaperRole (datasets/catalog.py).
NOTES = {name: spec.role.note for name, spec in SPECS.items() if spec.role.note}
SHORT_NOTES = {name: spec.role.short for name, spec in SPECS.items() if spec.role.short}
# The identity baseline of each task: the degraded input itself, scored like a method.
IDENTITY = {'denoise': 'noisy', 'sr': 'bicubic'}
IDENTITY_TEXT = {'noisy': 'the noisy input', 'bicubic': 'the bicubic-upscaled input'}
_BASELINES = ('noisy', 'bicubic', 'bm3d', 'tv')
# per-level networks (Tables 1-5), then the single all-level ones (Tables 6-7); each followed by its x8 ensemble
_NETS = ('srcnn', 'red10', 'red10+', 'red20', 'red20+', 'red30', 'red30+',
         'red10-single', 'red10-single+', 'red20-single', 'red20-single+', 'red30-single', 'red30-single+')
_FORMATS = ('markdown', 'paper', 'latex')


def method_order(method: str):
    """Sort key of our methods: the baselines, then the networks in the paper's order, then the rest by name."""
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


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _published(table, dataset, method, level, attr) -> float | None:
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


def _image_count(summ: pd.DataFrame) -> str:
    n = int(summ['n_total'].iloc[0])
    low = int(summ['n_images'].min())
    return f"{n} images" if low >= n else f"{n} images (some cells average only {low})"


def _levels_note(task: str, levels) -> str:
    """The levels this table has rows for (the paper's caption may name others)."""
    return f", {LEVEL_NAME[task]} " + ', '.join(level_text(task, lvl) for lvl in levels)


def _weights_note(sub: pd.DataFrame) -> str:
    """Which weights (network sha256 or parameter digest) each of our columns was computed with."""
    if 'weights' not in sub.columns:
        return ''
    parts = []
    for method in sorted(sub['method'].unique(), key=method_order):
        used = sub[sub['method'] == method].groupby('weights')['level'].unique()
        names = [f"{short_weights_id(w)}" + ('' if len(used) == 1 else
                                           f" ({', '.join(f'{float(lv):g}' for lv in sorted(lvls))})")
                 for w, lvls in used.items()]
        parts.append(f"{method} {'; '.join(names)}")
    return ' Weights: ' + ', '.join(parts) + '.'


def _caption(head: str, dataset: str, count: str, body: str) -> str:
    note = NOTES.get(dataset)
    return ' '.join(x for x in (head, f"Dataset: {dataset}, {count}.", body, note) if x)


def _partial_note(summ: pd.DataFrame, methods=None) -> str:
    """The "(n/N)" note, where the table shows a partial cell (of `methods`, default all)."""
    shown = summ if methods is None else summ[summ['method'].isin(methods)]
    if not shown['partial'].any():
        return ''
    return (" (n/N): a mean over n of the set's N images (a run not finished), never bold and not compared with "
            "the paper.")


def _our_cells(summ: pd.DataFrame, method: str, table, dataset, levels, paper_as: str | None = None) -> dict:
    """Our means for `method`, each beside the published value of `paper_as` (default: its own column)."""
    by_level = summ[summ['method'] == method].set_index('level')
    total = int(summ['n_total'].iloc[0])
    cells = {}
    for label, attr, _ in METRICS:
        for level in levels:
            have = level in by_level.index
            cells[(label, level)] = Cell(
                _num(by_level.at[level, attr]) if have else None,
                _published(table, dataset, paper_as or method, level, attr), 'not run',
                int(by_level.at[level, 'n_images']) if have else None, total)
    return cells


def _paper_cells(table, dataset, method, levels) -> dict:
    return {(label, level): Cell(_published(table, dataset, method, level, attr))
            for label, attr, _ in METRICS for level in levels}


def _paper_columns(table, dataset) -> dict[str, str]:
    """{method: the paper's column header}, in the paper's column order."""
    return {p.method: p.column for p in PUBLISHED if p.table == table and p.dataset == paper_dataset(dataset)}


def covered_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """summarize() with n_total and partial (coverage.py), set sizes counted per task: the one summary of a set of
    rows, computed once and handed to every table and analysis that reads means."""
    if rows.empty:
        return with_coverage(summarize(rows), {})
    return pd.concat([with_coverage(summarize(sub), set_sizes(sub)) for _, sub in rows.groupby('task', sort=True)],
                     ignore_index=True)


def _summary_of(summary: pd.DataFrame | None, sub: pd.DataFrame, task: str, dataset: str) -> pd.DataFrame:
    """The part of a covered_summary for one task and dataset; computed from `sub` when none is given."""
    if summary is None:
        return covered_summary(sub)
    return summary[(summary['task'] == task) & (summary['dataset'] == dataset)].reset_index(drop=True)


def _label(task: str, dataset: str, suffix: str = '') -> str:
    return f"tab:redbench-{task}-{file_label(dataset)}{suffix}"


def _levels_text(task: str, levels) -> str:
    if task == 'sr':
        return 'scale ' + ', '.join(f"×{level_text(task, lv)[1:]}" for lv in levels)
    return 'σ = ' + ', '.join(level_text(task, lv) for lv in levels)


def _method_notes(methods) -> str:
    """What our column names mean, for the names present."""
    notes = [f"{m} = {IDENTITY_TEXT[m]}" for m in IDENTITY_TEXT if m in methods]
    if any(m.endswith('+') for m in methods):
        notes.append("+ = x8 flip/rotate self-ensemble")
    if any(paper_method(m).endswith('-single') for m in methods):
        notes.append("-single = one network for all levels")
    return '; '.join(notes)


def _latex_captions(task, dataset, summ, levels, table, ours) -> tuple[str, str]:
    """The LaTeX caption of the main table and of its ours-minus-paper table: which table, set, columns."""
    set_text = f"{dataset} ({int(summ['n_total'].iloc[0])} images), {_levels_text(task, levels)}"
    note = f" ({SHORT_NOTES[dataset]})" if dataset in SHORT_NOTES else ''
    names = _method_notes(ours)
    names = f" ({names})" if names else ''
    partial = (' A superscript (n/N) marks a mean over n of the N images, left out of the ranking.'
               if summ['partial'].any() else '')
    if table is None:
        main = (f"Average PSNR (dB) and SSIM on {set_text}; the paper has no table for this set. "
                f"Columns: our methods{names}. Best in bold, second best underlined.{partial}")
        return main, ''
    main = (f"Average PSNR (dB) and SSIM on {set_text}: our reproduction of Mao et al. (2016), Table {table}{note}. "
            f"Paper: published values; Ours: our means{names}. Best in bold, second best underlined.{partial}")
    plus = "; an x8 column (+) is compared with the paper's plain network" if any(
        m.endswith('+') and published(table, dataset, m, lv) is not None for m in ours for lv in levels) else ''
    diff = (f"Ours minus published (Mao et al. 2016, Table {table}), PSNR (dB) and SSIM on {dataset}{note}{plus}. "
            f"-- : no published value, or a mean over part of the set.")
    return main, diff


def build_table(rows: pd.DataFrame, task: str, dataset: str, always: tuple[str, ...] = (),
                summary: pd.DataFrame | None = None) -> Table:
    """Levels as rows, methods as columns; a PSNR block then an SSIM block.

    `always`: methods that get a column even without rows ('not run' cells), e.g. red30+ beside red30.
    `summary`: covered_summary of the same rows, when the caller has it already.
    """
    sub = _subset(rows, task, dataset)
    summ = _summary_of(summary, sub, task, dataset)
    levels = tuple(sorted(summ['level'].unique()))
    ours = sorted(set(summ['method'].unique()) | set(always), key=method_order)
    table = paper_table(task, dataset)
    headers = _paper_columns(table, dataset)
    labels = method_labels(ours)
    our_columns = {m: Column(labels[m], labels[m], OURS, _our_cells(summ, m, table, dataset, levels)) for m in ours}
    # the paper's other columns keep their own headers; a column of ours carries its published value instead
    mine = {paper_method(o) for o in ours}
    columns = [Column(header, f"{header} (paper)", PAPER, _paper_cells(table, dataset, m, levels))
               for m, header in headers.items() if m not in mine]
    columns += list(our_columns.values())
    # the paper view: the paper's columns in its order, ours under the paper's header where we ran the method
    paper_columns = []
    for m, header in headers.items():
        mine = [o for o in ours if paper_method(o) == m]
        if not mine:
            paper_columns.append(Column(header, f"{header} (paper)", PAPER, _paper_cells(table, dataset, m, levels)))
        for o in mine:
            col = our_columns[o]
            paper_columns.append(Column(header + o[len(m):], col.header, OURS, col.cells))
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
    count = _image_count(summ) + _levels_note(task, levels)
    full = _caption(head, dataset, count, body + _partial_note(summ) + _weights_note(sub))
    paper = ''
    if table is not None:
        shown = [o for o in ours if paper_method(o) in headers]
        paper = ' '.join(x for x in (
            f"Table {table} (paper view): {TABLE_TITLES[table]}", f"Dataset: {dataset}, {count}.",
            f"The paper's columns in its order (Mao et al. 2016, Table {table}); where we ran the method, each cell is "
            f"ours / paper" + (", an x8 column (+) against the paper's plain network" if any(
                o.endswith('+') for o in shown) else '') + ". Bold: best number in row." + _partial_note(summ, shown),
            NOTES.get(dataset),
            f"Our other columns, the weights and ours minus paper: table_{task}_{file_label(dataset)}.md.") if x)
    latex_caption, diff_caption = _latex_captions(task, dataset, summ, levels, table, ours)
    return Table(task, dataset, levels, LEVEL_NAME[task], tuple(columns),
                 Captions(full, paper, latex_caption, diff_caption), tuple(paper_columns), _label(task, dataset))


def build_single_vs_separate(rows: pd.DataFrame, task: str, dataset: str,
                             single_method: str = 'red30-single', summary: pd.DataFrame | None = None) -> Table:
    """Tables 6/7: our single model (plain and x8) and the identity baseline against the paper's
    single-model RED30 (Tables 6/7) and its per-level RED30 (Tables 1-5)."""
    sub = _subset(rows, task, dataset)
    if not (sub['method'] == single_method).any():
        raise ValueError(f"no rows for method {single_method!r}")
    identity, ensemble = IDENTITY[task], single_method + '+'
    summ = _summary_of(summary, sub, task, dataset)   # set sizes from every method's rows
    summ = summ[summ['method'].isin([single_method, ensemble, identity])].reset_index(drop=True)
    sub = sub[sub['method'].isin([single_method, ensemble, identity])]
    levels = tuple(sorted(summ.loc[summ['method'] == single_method, 'level'].unique()))
    single, separate = SINGLE_TABLE[task], paper_table(task, dataset)
    columns = [Column(single_method, f"{single_method} (ours, single model)", OURS,
                      _our_cells(summ, single_method, single, dataset, levels, 'red30-single')),
               Column(ensemble, f"{ensemble} (ours, single model, x8)", OURS,
                      _our_cells(summ, ensemble, single, dataset, levels, 'red30-single'))]
    if identity in set(summ['method']):
        columns.append(Column(identity, identity, OURS, _our_cells(summ, identity, None, dataset, levels)))
    if separate is not None:
        columns.append(Column(f"RED30, Table {separate}", f"RED30 per level (paper, Table {separate})", PAPER,
                              _paper_cells(separate, dataset, 'red30', levels)))
    columns.append(Column(f"RED30 single, Table {single}", f"RED30 single model (paper, Table {single})", PAPER,
                          _paper_cells(single, dataset, 'red30-single', levels)))
    head = f"Table {single}: {TABLE_TITLES[single]}"
    body = (f"Our columns: means, each with the paper's single-model value and ours minus paper (PSNR and "
            f"SSIM); {identity} = the degraded input itself (identity baseline); other columns: published; "
            f"not run = no rows here. Bold: best in row.")
    count = _image_count(summ) + _levels_note(task, levels)
    full = _caption(head, dataset, count, body + _partial_note(summ) + _weights_note(sub))
    note = f" ({SHORT_NOTES[dataset]})" if dataset in SHORT_NOTES else ''
    partial = (' A superscript (n/N) marks a mean over n of the N images, left out of the ranking.'
               if summ['partial'].any() else '')
    latex_caption = (f"Average PSNR (dB) and SSIM on {dataset} ({int(summ['n_total'].iloc[0])} images), "
                     f"{_levels_text(task, levels)}, with one network for all levels: our reproduction of Mao et al. "
                     f"(2016), Table {single}{note}. Ours: {_method_notes([single_method, ensemble, identity])}; "
                     f"Paper: its RED30 per level and its single RED30. Best in bold, second best underlined.{partial}")
    diff_caption = (f"Ours minus the single-model RED30 published in Mao et al. (2016), Table {single}, PSNR (dB) and "
                    f"SSIM on {dataset}{note}. -- : no published value, or a mean over part of the set.")
    return Table(task, dataset, levels, LEVEL_NAME[task], tuple(columns),
                 Captions(full, '', latex_caption, diff_caption), (), _label(task, dataset, '-single'))


def render(table: Table, fmt: str = 'markdown') -> str:
    """fmt: 'markdown' (the full view), 'paper' (the markdown paper view; '' where the paper has no table) or
    'latex'."""
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, got {fmt!r}")
    return {'markdown': full_view, 'paper': paper_view, 'latex': latex}[fmt](table)


def render_table(rows: pd.DataFrame, task: str, dataset: str, fmt: str = 'markdown',
                 always: tuple[str, ...] = (), summary: pd.DataFrame | None = None) -> str:
    """build_table, rendered as `fmt` (see render)."""
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, got {fmt!r}")
    return render(build_table(rows, task, dataset, always, summary), fmt)


def render_single_vs_separate(rows: pd.DataFrame, task: str, dataset: str,
                              single_method: str = 'red30-single', fmt: str = 'markdown',
                              summary: pd.DataFrame | None = None) -> str:
    """build_single_vs_separate, rendered as `fmt` (markdown or latex)."""
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, got {fmt!r}")
    return render(build_single_vs_separate(rows, task, dataset, single_method, summary), fmt)


def write_tables(rows: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per (task, dataset): table_<task>_<dataset>.md (the full view), _paper.md (the paper view, where the paper
    has a table for the set) and the LaTeX files (table_latex.latex_files: a wrapper per layout, _column.tex and
    _page.tex, beside its float-free _tabular files); then tables.md, every full view. Returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths, markdown = [], []
    pairs = rows[['task', 'dataset']].drop_duplicates().sort_values(['task', 'dataset'])
    summary = covered_summary(rows)
    for task, dataset in pairs.itertuples(index=False):
        table = build_table(rows, task, dataset, summary=summary)
        markdown.append(render(table, 'markdown'))
        stem = f"table_{task}_{file_label(dataset)}"
        texts = {f"{stem}.md": markdown[-1], f"{stem}_paper.md": render(table, 'paper'),
                 **latex_files(table, stem)}
        # LaTeX files an earlier layout wrote and this one does not (an old single .tex, a continued float)
        for old in [out_dir / f"{stem}.tex", *out_dir.glob(f"{stem}_column*.tex"), *out_dir.glob(f"{stem}_page*.tex"),
                    *out_dir.glob(f"{stem}_diff_*.tex")]:
            if old.name not in texts:
                old.unlink(missing_ok=True)
        for name, text in texts.items():
            if text:
                path = out_dir / name
                write_text_atomic(path, text)
                paths.append(path)
    combined = out_dir / 'tables.md'
    write_text_atomic(combined, '\n'.join(markdown))
    paths.append(combined)
    return paths
