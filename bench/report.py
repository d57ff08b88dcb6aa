"""results/REPORT.md: the reproduction report, rendered from stored rows and run.json files only.

Nothing is restored again here: every number comes from rows.csv files under
the results folder, the run.json beside them, the published numbers and the
model cards of the shipped weights.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from methods.paper_numbers import lookup

from .analysis import paired_difference, runtime_table
from .rows import KEY
from .tables import (_SINGLE_TABLE, NOTES, _level_text, _paper_dataset, _paper_table, _write_atomic,
                     render_single_vs_separate, render_table, summarize)

OURS = 'red30'
# Baselines RED30 is paired against, per task.
PAIRED = {'denoise': ('bm3d',), 'sr': ('bicubic', 'srcnn')}
BELOW_DB = 0.1


# ---------------------------------------------------------------- loading

def _rows_files(results_dir: Path) -> list[Path]:
    return sorted(results_dir.rglob('rows.csv'))


def load_rows(results_dir: Path) -> tuple[pd.DataFrame, dict]:
    """All rows.csv under results_dir concatenated; a key found twice keeps its first copy.

    Also returns {'files': {folder: n_rows}, 'duplicates': n_dropped}.
    """
    results_dir = Path(results_dir)
    frames, files = [], {}
    for path in _rows_files(results_dir):
        frame = pd.read_csv(path, dtype={'image': str})
        files[_rel(path.parent, results_dir)] = len(frame)
        frames.append(frame)
    if not frames:
        raise ValueError(f"no rows.csv under {results_dir}")
    rows = pd.concat(frames, ignore_index=True)
    # the same cell computed by two runs must not count twice in the means
    keys = rows[KEY].astype(str)
    duplicated = keys.duplicated(keep='first')
    return rows[~duplicated].reset_index(drop=True), {'files': files, 'duplicates': int(duplicated.sum())}


def load_runs(results_dir: Path) -> list[tuple[str, dict]]:
    """(folder relative to results_dir, run.json contents) for each run.json, sorted by folder."""
    results_dir = Path(results_dir)
    return [(_rel(p.parent, results_dir), json.loads(p.read_text()))
            for p in sorted(results_dir.rglob('run.json'))]


def load_cards(weights_dir: Path | None = None) -> list:
    from methods.weights import WEIGHTS_DIR, read_card
    directory = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    return [read_card(p.stem, directory) for p in sorted(directory.glob('*.json'))]


def _rel(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return rel if rel != '.' else './'


# ---------------------------------------------------------------- markdown helpers

def _md_table(headers: list[str], lines: list[list]) -> str:
    def esc(x):
        return str(x).replace('|', r'\|')
    out = ['| ' + ' | '.join(esc(h) for h in headers) + ' |', '|' + '---|' * len(headers)]
    out += ['| ' + ' | '.join(esc(c) for c in line) + ' |' for line in lines]
    return '\n'.join(out) + '\n'


def _duration(seconds) -> str:
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _pairs(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(task, dataset) pairs, paper tables first in table order, then the rest by name."""
    pairs = rows[['task', 'dataset']].drop_duplicates().itertuples(index=False)
    return sorted(((t, d) for t, d in pairs), key=lambda p: (_paper_table(*p) or 99, p[0], p[1]))


def _levels(rows: pd.DataFrame, task: str, dataset: str) -> list:
    sub = rows[(rows['task'] == task) & (rows['dataset'] == dataset)]
    return sorted(sub['level'].unique())


# ---------------------------------------------------------------- sections

def _section_runs(runs, row_info, context) -> str:
    lines = []
    for folder, run in runs:
        git = run.get('git', {})
        commit = str(git.get('commit', 'unknown'))[:12] + (' (dirty tree)' if git.get('dirty') else '')
        machine = run.get('machine', {})
        wall = run.get('totals', {}).get('wall_seconds')
        lines.append([folder, f"`{run.get('command', '?')}`", commit, run.get('date', '?'),
                      f"{machine.get('cpus', '?')} CPUs", row_info['files'].get(folder, 0),
                      _duration(wall) if wall is not None else '?'])
    text = ['## What was run', '',
            _md_table(['folder', 'command', 'commit', 'date', 'machine', 'rows', 'wall time'], lines)]
    no_json = sorted(set(row_info['files']) - {f for f, _ in runs})
    if no_json:
        text.append(f"Rows without a run.json beside them: {', '.join(no_json)}.\n")
    if row_info['duplicates']:
        text.append(f"{row_info['duplicates']} rows appeared in more than one folder; "
                    "the first copy (folders in name order) was kept.\n")
    if context.get('commands'):
        text += ['Other commands (training, figures):', '', '```',
                 *context['commands'], '```', '']
    return '\n'.join(text)


def _digests(runs, dataset) -> str:
    found = sorted({(d['sha256'], bool(d.get('verified', True)))
                    for _, run in runs for name, d in run.get('datasets', {}).items() if name == dataset})
    if not found:
        return 'not recorded'
    text = ', '.join(f"`{sha[:16]}`" + ('' if ok else ' (unverified files)') for sha, ok in found)
    return text + (' — DIFFERENT image sets across runs' if len(found) > 1 else '')


def _section_data(rows, runs) -> str:
    from datasets.catalog import SPECS
    lines = []
    for dataset in sorted(rows['dataset'].unique()):
        spec = SPECS.get(dataset)
        n = rows.loc[rows['dataset'] == dataset, 'image'].nunique()
        lines.append([dataset, spec.description if spec else '?', spec.paper_role if spec else '',
                      n, _digests(runs, dataset)])
    notes = [f"- {NOTES[d]}" for d in sorted(rows['dataset'].unique()) if d in NOTES]
    text = ['## Data', '',
            'Digest: sha256 over the sorted per-file checksums (`bench.runinfo.dataset_digest`), '
            'first 16 hex digits.', '',
            _md_table(['dataset', 'description', 'role in the paper', 'images', 'digest'], lines)]
    if notes:
        text += ['Substitutes and size changes:', '', *notes, '']
    return '\n'.join(text)


def _section_tables(rows) -> str:
    text = ['## Tables 1-5: means per dataset and level', '']
    for task, dataset in _pairs(rows):
        text.append(render_table(rows, task, dataset, 'markdown'))
    return '\n'.join(text)


def _section_single(rows) -> str:
    text = ['## Tables 6-7: one network for all levels', '',
            f'Our {OURS} is a single model per task, so it is compared with the paper\'s single model.', '']
    ours = rows[rows['method'] == OURS]
    pairs = _pairs(ours) if not ours.empty else []
    if not pairs:
        return '\n'.join(text + [f'No {OURS} rows.', ''])
    for task, dataset in pairs:
        text.append(render_single_vs_separate(rows, task, dataset, OURS, 'markdown'))
    return '\n'.join(text)


def _section_figures(context) -> str:
    figures = context.get('figures') or {}
    notes = context.get('figure_notes') or {}
    text = ['## Figures', '']
    if not figures:
        text.append('No figures were given.\n')
    for title, path in figures.items():
        text += [f'### {title}', '', f'![{title}]({path})', '']
        if isinstance(notes, dict) and title in notes:
            text += [notes[title], '']
    if isinstance(notes, str):
        text += [notes, '']
    elif isinstance(notes, (list, tuple)):
        text += [*notes, '']
    return '\n'.join(text)


def paired_rows(rows: pd.DataFrame, n_boot: int = 10000, seed: int = 0) -> list[dict]:
    """paired_difference of OURS against each PAIRED baseline, for every set/level with both."""
    out = []
    for task, dataset in _pairs(rows):
        for baseline in PAIRED.get(task, ()):
            for level in _levels(rows, task, dataset):
                sub = rows[(rows['task'] == task) & (rows['dataset'] == dataset) & (rows['level'] == level)]
                if {OURS, baseline} <= set(sub['method']):
                    out.append(paired_difference(rows, OURS, baseline, task, dataset, level, n_boot, seed))
    return out


def _section_paired(rows, n_boot, seed) -> str:
    lines = [[r['task'], r['dataset'], _level_text(r['task'], r['level']), f"{r['a']} - {r['b']}", r['n'],
              f"{r['mean_diff']:+.3f}", f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
              f"{round(r['share_a_wins'] * r['n'])}/{r['n']} ({r['share_a_wins']:.0%})"]
             for r in paired_rows(rows, n_boot, seed)]
    text = ['## Paired comparisons', '',
            f'Per-image PSNR difference, {OURS} minus baseline, over the images both have. '
            f'CI: 95% percentile bootstrap of the mean over images ({n_boot} resamples, numpy seed {seed}). '
            f'Wins: images where {OURS} has the strictly higher PSNR.', '']
    if not lines:
        return '\n'.join(text + ['No set/level has both RED30 and a baseline.', ''])
    headers = ['task', 'dataset', 'level', 'comparison', 'images', 'mean diff (dB)', '95% CI (dB)', 'wins']
    return '\n'.join(text + [_md_table(headers, lines)])


def _section_runtime(rows, runs) -> str:
    table = runtime_table(rows)
    lines = [[r.task, r.dataset, r.method, _level_text(r.task, r.level), r.n,
              f"{r.median_s:.3f}", f"{r.mean_s:.3f}"] for r in table.itertuples(index=False)]
    cpus = sorted({str(run.get('machine', {}).get('cpus', '?')) for _, run in runs})
    return '\n'.join(['## Runtime', '',
                      'Seconds of `restore()` per image, measured inside a worker that shared the machine '
                      f"with other workers (machines with {', '.join(cpus) or '?'} CPUs); "
                      'compare methods within one run only.', '',
                      _md_table(['task', 'dataset', 'method', 'level', 'images', 'median s', 'mean s'], lines)])


def below_paper(rows: pd.DataFrame, method: str = OURS, margin: float = BELOW_DB) -> list[dict]:
    """Cells where our mean PSNR is more than `margin` dB below a published RED30 value.

    Each cell is checked against the per-level RED30 (Tables 1-5) and the single-model
    RED30 (Tables 6-7); the difference is of the 2-decimal numbers the tables show.
    """
    summ = summarize(rows[rows['method'] == method])
    out = []
    for r in summ.itertuples(index=False):
        refs = [(_paper_table(r.task, r.dataset), 'red30'), (_SINGLE_TABLE[r.task], 'red30-single')]
        for table, paper_method in refs:
            entry = None if table is None else lookup(table, _paper_dataset(r.dataset), paper_method, int(r.level))
            if entry is None or entry.psnr is None:
                continue
            diff = round(round(r.psnr, 2) - entry.psnr, 2)
            if diff < -margin:
                out.append({'task': r.task, 'dataset': r.dataset, 'level': r.level, 'table': table,
                            'paper_method': paper_method, 'ours': float(r.psnr), 'paper': entry.psnr,
                            'diff': diff, 'n_images': int(r.n_images)})
    return out


def _section_below(rows) -> str:
    cells = below_paper(rows)
    text = [f'## Cells where our RED30 is more than {BELOW_DB} dB below the paper', '',
            'Mean PSNR of our red30 against the paper\'s per-level RED30 (Tables 1-5) and '
            'single-model RED30 (Tables 6-7). Substitute sets (see Data) make some of these '
            'comparisons indicative only.', '']
    if not cells:
        return '\n'.join(text + ['None.', ''])
    lines = [[f"Table {c['table']}", c['dataset'], _level_text(c['task'], c['level']), c['paper_method'],
              f"{c['ours']:.2f}", f"{c['paper']:.2f}", f"{c['diff']:+.2f}", NOTES.get(c['dataset'], '')]
             for c in cells]
    return '\n'.join(text + [_md_table(['table', 'dataset', 'level', 'paper column', 'ours', 'paper',
                                        'ours - paper', 'note'], lines)])


def detected_deviations(rows: pd.DataFrame, cards: list) -> list[str]:
    """Protocol differences visible in the rows, the dataset catalog and the model cards."""
    from datasets.catalog import SPECS
    out = []
    datasets = sorted(rows['dataset'].unique())
    out += [NOTES[d] for d in datasets if d in NOTES]
    out += [f"{d}: checksums are not verified; the files are used as found." for d in datasets
            if d in SPECS and not SPECS[d].verified]
    clipped = rows[rows['clip'].astype(str).str.lower() == 'true'] if 'clip' in rows else rows.iloc[:0]
    if not clipped.empty:
        out.append(f"{len(clipped)} denoising rows clip the noisy input to [0, 255]; the paper's code does not.")
    for card in cards:
        out.append(f"Training budget of {card.name} ({card.task}, levels {', '.join(f'{x:g}' for x in card.levels)}): "
                   f"{card.iterations} iterations, {card.patches_seen} patches seen "
                   f"(batch {card.batch_size}, patch {card.patch_size}), on {card.device}, "
                   f"wall time {_duration(card.wall_seconds)}"
                   + (f", budget '{card.budget}'" if card.budget else '')
                   + f"; trained on {card.train_set}.")
    return out


def _section_deviations(rows, cards, context) -> str:
    given = list(context.get('deviations') or [])
    text = ["## Deviations from the paper's protocol", '']
    text += [f"- {d}" for d in given + detected_deviations(rows, cards)]
    return '\n'.join(text + ['']) if len(text) > 2 else '\n'.join(text + ['None recorded.', ''])


# ---------------------------------------------------------------- entry point

def render_report_text(results_dir: Path, context: dict | None = None) -> str:
    context = dict(context or {})
    rows, row_info = load_rows(results_dir)
    runs = load_runs(results_dir)
    cards = load_cards(context.get('weights_dir'))
    n_boot, seed = int(context.get('n_boot', 10000)), int(context.get('seed', 0))
    head = [f"# {context.get('title', 'RED-Net reproduction report')}", '',
            'Rendered by `bench.report.render_report` from stored rows and run.json files; '
            'no restoration was rerun for this report.', '']
    if context.get('summary'):
        head += [context['summary'], '']
    sections = [_section_runs(runs, row_info, context), _section_data(rows, runs), _section_tables(rows),
                _section_single(rows), _section_figures(context), _section_paired(rows, n_boot, seed),
                _section_runtime(rows, runs), _section_below(rows), _section_deviations(rows, cards, context)]
    return '\n'.join(head) + '\n' + '\n'.join(s.rstrip('\n') + '\n' for s in sections)


def render_report(results_dir: Path, out_md: Path, context: dict) -> Path:
    """Render the report from every rows.csv under results_dir; written atomically to out_md.

    context: figures ({title: relative path}), figure_notes (dict by title, or text),
    deviations (list of str), commands (list of str), optional title, summary,
    weights_dir (model cards; default methods/weights), n_boot, seed.
    """
    out_md = Path(out_md)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(out_md, render_report_text(Path(results_dir), context))
    return out_md
