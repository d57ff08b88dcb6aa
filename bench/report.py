"""results/REPORT.md: the reproduction report, rendered from stored rows and run.json files only.

Nothing is restored again here: every number comes from rows.csv files under
the results folder, the run.json beside them, the published numbers and the
model cards of the shipped weights.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from redbench.methods.paper_numbers import AMBIGUITIES, SOURCE

from .analysis import paired_difference, runtime_table
from .atomic import write_text_atomic
from .comparison import held_to, paper_levels, paper_table, published, published_value
from .coverage import set_sizes, with_coverage
from .defaults import LEVEL_NAME
from .markdown import md_table
from .released import section as released_section
from .rows import KEY
from .runner import installed_rows
from .tables import (
    IDENTITY,
    NOTES,
    level_text,
    method_label,
    render_single_vs_separate,
    render_table,
    short_weights,
    summarize,
    write_tables,
)

# Our RED30 per level (compared with Tables 1-5) and our single all-level RED30 (Tables 6-7).
OURS = 'red30'
OURS_SINGLE = 'red30-single'
# Each gets its x8 self-ensemble column beside it, run or not: the authors' code always averages x8.
OURS_X8, OURS_SINGLE_X8 = OURS + '+', OURS_SINGLE + '+'
# Baselines our RED30s are paired against, per task.
PAIRED = {'denoise': ('bm3d',), 'sr': ('bicubic', 'srcnn')}
BELOW_DB = 0.1


# ---------------------------------------------------------------- loading

def _rows_files(results_dir: Path) -> list[Path]:
    return sorted(results_dir.rglob('rows.csv'))


def load_rows(results_dir: Path, weights_now=None) -> tuple[pd.DataFrame, dict]:
    """All rows.csv under results_dir concatenated, only those of the installed weights (see installed_rows;
    `weights_now(task, method, level, clip)` overrides the lookup); a key found twice keeps its first copy.

    Also returns {'files': {folder: n_rows}, 'duplicates': n_dropped, 'stale': n_left_out}.
    """
    results_dir = Path(results_dir)
    frames, files = [], {}
    for path in _rows_files(results_dir):
        frame = pd.read_csv(path, dtype={'image': str})
        files[_rel(path.parent, results_dir)] = len(frame)
        # where each row is stored, so the report can name the folder a missing cell's command writes to
        frames.append(frame.assign(folder=_rel(path.parent, results_dir)))
    if not frames:
        raise ValueError(f"no rows.csv under {results_dir}")
    rows = pd.concat(frames, ignore_index=True)
    rows, stale = installed_rows(rows, weights_now)
    # the same cell computed by two runs must not count twice in the means
    keys = rows[KEY].astype(str)
    duplicated = keys.duplicated(keep='first')
    return rows[~duplicated].reset_index(drop=True), {'files': files, 'duplicates': int(duplicated.sum()),
                                                      'stale': stale}


def load_runs(results_dir: Path) -> list[tuple[str, dict]]:
    """(folder relative to results_dir, run record) for every run that wrote into a folder, oldest first.

    runs.jsonl keeps every run (run.json only the latest that computed), so it is read when present;
    a folder with only run.json contributes that one record.
    """
    results_dir = Path(results_dir)
    out = []
    for path in sorted(results_dir.rglob('run.json')):
        folder, history = _rel(path.parent, results_dir), path.with_name('runs.jsonl')
        if history.is_file():
            out += [(folder, json.loads(line)) for line in history.read_text().splitlines() if line.strip()]
        else:
            out.append((folder, json.loads(path.read_text())))
    return out


def _computing(runs) -> list[tuple[str, dict]]:
    """Runs that computed rows; cached reruns (computed 0) add nothing to the results."""
    return [(f, r) for f, r in runs if r.get('totals', {}).get('computed', 1) != 0]


def load_cards(weights_dir: Path | None = None) -> list:
    from redbench.methods.weights import WEIGHTS_DIR, read_card
    directory = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    return [read_card(p.stem, directory) for p in sorted(directory.glob('*.json'))]


def _rel(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return rel if rel != '.' else './'


# ---------------------------------------------------------------- markdown helpers

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
    return sorted(((t, d) for t, d in pairs), key=lambda p: (paper_table(*p) or 99, p[0], p[1]))


def _levels(rows: pd.DataFrame, task: str, dataset: str) -> list:
    sub = rows[(rows['task'] == task) & (rows['dataset'] == dataset)]
    return sorted(sub['level'].unique())


# ---------------------------------------------------------------- sections

def _run_scope(run: dict) -> str:
    config = run.get('config') or {}
    if not config:
        return '?'
    levels = ','.join(f"{float(x):g}" for x in config.get('levels', []))
    methods = ', '.join(method_label(m) for m in config.get('methods', []))
    return f"{methods} on {', '.join(config.get('datasets', []))} at {levels}"


def _section_runs(runs, row_info, context) -> str:
    lines = []
    computing = _computing(runs)
    for folder, run in computing:
        git = run.get('git', {})
        commit = str(git.get('commit', 'unknown'))[:12] + (' (dirty tree)' if git.get('dirty') else '')
        machine = run.get('machine', {})
        totals = run.get('totals', {})
        wall = totals.get('wall_seconds')
        lines.append([folder, f"`{run.get('command', '?')}`", commit, run.get('date', '?'),
                      f"{machine.get('cpus', '?')} CPUs", _run_scope(run), totals.get('computed', '?'),
                      _duration(wall) if wall is not None else '?'])
    rows_per_folder = ', '.join(f"{f} {n}" for f, n in sorted(row_info['files'].items()))
    text = ['## What was run', '',
            'Every run that computed rows, from each folder\'s runs.jsonl (run.json where there is none); '
            f'{len(runs) - len(computing)} cached reruns that computed nothing are left out. '
            f'Rows per folder now: {rows_per_folder}.', '',
            md_table(['folder', 'command', 'commit', 'date', 'machine', 'methods, datasets, levels',
                       'rows computed', 'wall time'], lines)]
    no_json = sorted(set(row_info['files']) - {f for f, _ in runs})
    if no_json:
        text.append(f"Rows without a run.json beside them: {', '.join(no_json)}.\n")
    if row_info.get('stale'):
        text.append(f"{row_info['stale']} stored rows were made by weights or parameters that are no longer installed "
                    "(or did not record them); they stay in the stores but are left out of this report.\n")
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
    from redbench.datasets.catalog import SPECS
    lines = []
    for dataset in sorted(rows['dataset'].unique()):
        spec = SPECS.get(dataset)
        n = rows.loc[rows['dataset'] == dataset, 'image'].nunique()
        lines.append([dataset, spec.description if spec else '?', spec.paper_role if spec else '',
                      n, _digests(runs, dataset)])
    notes = [f"- {NOTES[d]}" for d in sorted(rows['dataset'].unique()) if d in NOTES]
    text = ['## Data', '',
            'Digest: sha256 over the sorted per-file checksums (`redbench.runinfo.dataset_digest`), '
            'first 16 hex digits.', '',
            md_table(['dataset', 'description', 'role in the paper', 'images', 'digest'], lines)]
    if notes:
        text += ['Substitutes and size changes:', '', *notes, '']
    return '\n'.join(text)


def _is_experiment(method: str) -> bool:
    """Experiment networks ('net:<weights>', e.g. the section 2.2 network) stay out of the main tables."""
    return method.startswith('net:')


def main_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the main tables: no experiment networks, and only the paper's levels where the paper has a table."""
    keep = ~rows['method'].map(_is_experiment)
    for task, dataset in _pairs(rows):
        levels = paper_levels(task, dataset)
        if levels is not None:
            cell = (rows['task'] == task) & (rows['dataset'] == dataset)
            keep &= ~cell | rows['level'].isin(levels)
    return rows[keep]


def _section_tables(rows) -> str:
    rows = main_rows(rows)
    text = ['## Tables 1-5: means per dataset and level', '',
            f'Every published cell of the paper\'s table is shown: the paper\'s other methods as "(paper)" '
            f'columns, and in each of our cells the published value of the same method and ours minus paper. '
            f'{OURS} is one network per level, as the paper\'s Tables 1-5 RED-Net; it and {OURS_X8} (x8 '
            f'flip/rotate average; the authors\' released code always averages x8, see Protocol) have a column in '
            f'every table, with "not run" where there are no rows (commands in the Protocol section). Levels other '
            f'than the paper\'s, and experiment networks, are in the figure notes.', '']
    for task, dataset in _pairs(rows):
        always = (OURS, OURS_X8) if paper_levels(task, dataset) is not None else ()
        text.append(render_table(rows, task, dataset, 'markdown', always=always))
    return '\n'.join(text)


def _section_single(rows) -> str:
    text = ['## Tables 6-7: one network for all levels', '',
            f'Our {OURS_SINGLE} is one network for all noise levels (all scales), as the paper\'s Tables 6-7 '
            f'model, and {OURS_SINGLE_X8} its x8 average; both are compared with the paper\'s single-model value.', '']
    rows = main_rows(rows)
    ours = rows[rows['method'] == OURS_SINGLE]
    pairs = [p for p in _pairs(ours) if paper_levels(*p) is not None] if not ours.empty else []
    if not pairs:
        return '\n'.join(text + [f'No {OURS_SINGLE} rows.', ''])
    for task, dataset in pairs:
        text.append(render_single_vs_separate(rows, task, dataset, OURS_SINGLE, 'markdown'))
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


# What the paper's text says, what the authors' released test code does (public, footnote 1 of the paper:
# bitbucket.org/chhshen/image-denoising), and what this harness does, on the points where they differ.
PROTOCOL = (
    ("x8 flip/rotate averaging",
     "Section 2.4 offers it as an option that 'can lead to slightly better' results; the tables do not say "
     "whether it was used",
     "its MATLAB netforward averages the eight flips/rotations for every task",
     f"`{OURS}` and `{OURS_SINGLE}` are one forward pass, `{OURS_X8}` and `{OURS_SINGLE_X8}` the x8 average; "
     "each pair is compared with the same published RED30 value"),
    ("SR border",
     "not stated",
     "its demos score PSNR over the whole image, with no border shave",
     "`scale` pixels are shaved before PSNR and SSIM (the SRCNN/VDSR convention; the bicubic calibration "
     "test pins it against the literature's bicubic values), so our SR numbers are of the interior only"),
    ("denoising border", "not stated", "no shave", "no shave"),
)


def missing_cells(rows: pd.DataFrame) -> list[dict]:
    """Commands for our RED30 cells of the paper's tables that have no rows (shown 'not run').

    One entry per (task, folder, levels, datasets): {'task', 'folder', 'levels', 'datasets', 'methods'}.
    """
    rows = main_rows(rows)
    gaps: dict[tuple, list[str]] = {}
    for task, dataset in _pairs(rows):
        levels = paper_levels(task, dataset)
        if levels is None:
            continue
        sub = rows[(rows['task'] == task) & (rows['dataset'] == dataset)]
        folder = sub['folder'].mode().iloc[0] if 'folder' in sub else '.'
        for method in (OURS, OURS_X8, OURS_SINGLE, OURS_SINGLE_X8):
            have = set(sub.loc[sub['method'] == method, 'level'])
            missing = tuple(lvl for lvl in levels if lvl not in have)
            if missing:
                gaps.setdefault((task, folder, missing, method), []).append(dataset)
    merged: dict[tuple, list[str]] = {}
    for (task, folder, levels, method), datasets in gaps.items():
        merged.setdefault((task, folder, levels, tuple(datasets)), []).append(method)
    return [{'task': t, 'folder': f, 'levels': list(lv), 'datasets': list(d), 'methods': m}
            for (t, f, lv, d), m in merged.items()]


def _section_protocol(rows, results_dir) -> str:
    text = ['## Protocol: the paper\'s text, the authors\' released code, this harness', '',
            'The authors\' released test code (footnote 1 of the paper) differs from the paper\'s text on two '
            'points, as described in issue 11 (the code itself is not reachable from the machine that rendered '
            'this report, so that description was not re-checked here). Both readings are given: RED30 and '
            'RED30+ columns, and the shave stated here.', '',
            md_table(['point', 'paper text', 'authors\' released test code', 'this harness'],
                      [list(p) for p in PROTOCOL]),
            f'Published numbers: {SOURCE}. Only numbers printed in the paper are labelled "paper"; its SR '
            'tables have no bicubic column, so our bicubic column has no paper value (the literature\'s '
            'bicubic values are in tests/test_calibration.py, with their source).', '',
            'How unclear places in the paper\'s text were read:', '', *[f'- {a}' for a in AMBIGUITIES], '']
    missing = missing_cells(rows)
    if missing:
        text += ['Cells shown "not run", and the commands that fill them (x8 costs 8 restorations; red10/20/30 '
                 'and red30-single need their weights in methods/weights/, from the training campaign, '
                 'campaign/plan.toml):', '', '```']
        for m in missing:
            flag = LEVEL_NAME[m['task']]
            levels = ','.join(f"{float(x):g}" for x in m['levels'])
            text.append(f"python run_bench.py --task {m['task']} --{flag} {levels} --datasets {','.join(m['datasets'])} "
                        f"--methods {','.join(m['methods'])} --out {Path(results_dir).as_posix()}/{m['folder']}")
        text += ['```', '']
    return '\n'.join(text)


def below_input(rows: pd.DataFrame) -> list[dict]:
    """Cells where a method's mean PSNR or SSIM is below the identity baseline's (its own input). A partial
    cell (a mean over part of the set, see coverage.py), of the method or of the baseline, is left out."""
    summ = with_coverage(summarize(rows), set_sizes(rows))
    out = []
    for (task, dataset, level), cell in summ.groupby(['task', 'dataset', 'level']):
        base = cell[cell['method'] == IDENTITY.get(task)]
        if base.empty or base.iloc[0]['partial']:
            continue
        ref = base.iloc[0]
        for r in cell[(cell['method'] != ref['method']) & ~cell['partial']].itertuples(index=False):
            worse = [m for m in ('psnr', 'ssim') if getattr(r, m) < ref[m]]
            if worse:
                out.append({'task': task, 'dataset': dataset, 'level': level, 'method': r.method,
                            'identity': ref['method'], 'metrics': worse, 'psnr': r.psnr, 'ssim': r.ssim,
                            'identity_psnr': ref['psnr'], 'identity_ssim': ref['ssim']})
    return out


def _section_identity(rows) -> str:
    text = ['## Cells below their own input', '',
            'Mean PSNR or SSIM lower than the identity baseline of the same cell (noisy = the noisy input, '
            'bicubic = the SR input), i.e. the method made its input worse.', '']
    identities = [m for m in IDENTITY.values() if m in set(rows['method'])]
    if not identities:
        return '\n'.join(text + ['No identity-baseline rows, so this was not checked.', ''])
    cells = below_input(rows)
    if not cells:
        return '\n'.join(text + ['None.', ''])
    lines = [[c['task'], c['dataset'], level_text(c['task'], c['level']), method_label(c['method']),
              ' and '.join(m.upper() for m in c['metrics']), f"{c['psnr']:.2f} / {c['ssim']:.4f}",
              f"{c['identity_psnr']:.2f} / {c['identity_ssim']:.4f}"] for c in cells]
    return '\n'.join(text + [md_table(['task', 'dataset', 'level', 'method', 'below in', 'method PSNR / SSIM',
                                        'input PSNR / SSIM'], lines)])


def paired_rows(rows: pd.DataFrame, n_boot: int = 10000, seed: int = 0) -> list[dict]:
    """paired_difference of our RED30s (per level, single) against each PAIRED baseline, where both have rows."""
    out = []
    for task, dataset in _pairs(rows):
        for ours in (OURS, OURS_SINGLE):
            for baseline in PAIRED.get(task, ()):
                for level in _levels(rows, task, dataset):
                    sub = rows[(rows['task'] == task) & (rows['dataset'] == dataset) & (rows['level'] == level)]
                    if {ours, baseline} <= set(sub['method']):
                        out.append(paired_difference(rows, ours, baseline, task, dataset, level, n_boot, seed))
    return out


def _section_paired(rows, n_boot, seed) -> str:
    lines = [[r['task'], r['dataset'], level_text(r['task'], r['level']), f"{r['a']} - {r['b']}", r['n'],
              f"{r['mean_diff']:+.3f}", f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
              f"{round(r['share_a_wins'] * r['n'])}/{r['n']} ({r['share_a_wins']:.0%})"]
             for r in paired_rows(rows, n_boot, seed)]
    text = ['## Paired comparisons', '',
            f'Per-image PSNR difference, our RED30 ({OURS} or {OURS_SINGLE}) minus baseline, over the images both '
            f'have. CI: 95% percentile bootstrap of the mean over images ({n_boot} resamples, numpy seed {seed}). '
            f'Wins: images where our RED30 has the strictly higher PSNR.', '']
    if not lines:
        return '\n'.join(text + ['No set/level has both RED30 and a baseline.', ''])
    headers = ['task', 'dataset', 'level', 'comparison', 'images', 'mean diff (dB)', '95% CI (dB)', 'wins']
    return '\n'.join(text + [md_table(headers, lines)])


def _section_runtime(rows, runs) -> str:
    table = runtime_table(rows)
    lines = [[r.task, r.dataset, method_label(r.method), level_text(r.task, r.level), r.n,
              f"{r.median_s:.3f}", f"{r.mean_s:.3f}"] for r in table.itertuples(index=False)]
    cpus = sorted({str(run.get('machine', {}).get('cpus', '?')) for _, run in runs})
    return '\n'.join(['## Runtime', '',
                      'Seconds of `restore()` per image, measured inside a worker that shared the machine '
                      f"with other workers (machines with {', '.join(cpus) or '?'} CPUs); "
                      'compare methods within one run only.', '',
                      md_table(['task', 'dataset', 'method', 'level', 'images', 'median s', 'mean s'], lines)])


def below_paper(rows: pd.DataFrame, margin: float = BELOW_DB) -> list[dict]:
    """Cells where our RED30 mean PSNR is more than `margin` dB below the published RED30 it stands for.

    OURS is checked against the per-level RED30 (Tables 1-5), OURS_SINGLE against the single-model
    RED30 (Tables 6-7); the difference is of the 2-decimal numbers the tables show.
    """
    out = []
    for method in (OURS, OURS_SINGLE):
        for r in summarize(rows[rows['method'] == method]).itertuples(index=False):
            table = held_to(r.task, r.dataset, method)
            entry = published(table, r.dataset, method, r.level)
            if entry is None:
                continue
            diff = round(round(r.psnr, 2) - entry.psnr, 2)
            if diff < -margin:
                out.append({'task': r.task, 'dataset': r.dataset, 'level': r.level, 'table': table, 'method': method,
                            'paper_method': entry.method, 'ours': float(r.psnr), 'paper': entry.psnr,
                            'diff': diff, 'n_images': int(r.n_images)})
    return out


def _section_below(rows) -> str:
    cells = below_paper(rows)
    text = [f'## Cells where our RED30 is more than {BELOW_DB} dB below the paper', '',
            f'Mean PSNR of our {OURS} against the paper\'s per-level RED30 (Tables 1-5) and of our {OURS_SINGLE} '
            'against its single-model RED30 (Tables 6-7). Substitute sets (see Data) make some of these '
            'comparisons indicative only.', '']
    if not cells:
        return '\n'.join(text + ['None.', ''])
    lines = [[f"Table {c['table']}", c['dataset'], level_text(c['task'], c['level']), c['method'],
              c['paper_method'], f"{c['ours']:.2f}", f"{c['paper']:.2f}", f"{c['diff']:+.2f}",
              NOTES.get(c['dataset'], '')] for c in cells]
    return '\n'.join(text + [md_table(['table', 'dataset', 'level', 'ours', 'paper column', 'ours (dB)',
                                        'paper (dB)', 'ours - paper', 'note'], lines)])


# The paper's depth claim (sections 4.1-4.2): in Tables 1-5, the deeper per-level network is never worse.
DEPTHS = ('red30', 'red20', 'red10')


def depth_order(rows: pd.DataFrame) -> list[dict]:
    """Per cell of Tables 1-5 with any per-level RED row: the mean PSNR of each depth and whether deeper >= shallower.

    Compared on the 2-decimal numbers the tables show. state: 'holds' (all three depths, in order), 'breaks'
    (some deeper network below a shallower one; `breaks` names the pairs) or 'open' (a depth has no rows yet).
    `weights` names the network each depth used (from the rows), for its training budget.
    """
    rows = main_rows(rows)
    rows = rows[rows['method'].isin(DEPTHS)]
    out = []
    for (task, dataset, level), cell in summarize(rows).groupby(['task', 'dataset', 'level']):
        if paper_levels(task, dataset) is None:
            continue
        psnr = {r.method: round(float(r.psnr), 2) for r in cell.itertuples(index=False)}
        present = [m for m in DEPTHS if m in psnr]
        breaks = [(a, b) for i, a in enumerate(present) for b in present[i + 1:] if psnr[a] < psnr[b]]
        state = 'breaks' if breaks else ('holds' if len(present) == len(DEPTHS) else 'open')
        used = rows[(rows['task'] == task) & (rows['dataset'] == dataset) & (rows['level'] == level)]
        weights = {}
        if 'weights' in used.columns:
            for method, names in used.groupby('method')['weights']:
                weights[method] = ', '.join(sorted({str(w).split('@')[0] for w in names}))
        out.append({'task': task, 'dataset': dataset, 'level': level, 'psnr': psnr, 'state': state,
                    'breaks': breaks, 'weights': weights})
    return out


def _section_depth(rows, cards) -> str:
    cells = depth_order(rows)
    text = ['## Depth: RED30 >= RED20 >= RED10 in Tables 1-5', '',
            'The paper\'s claim that the deeper network does better (sections 4.1-4.2), checked on our per-level '
            'networks cell by cell (mean PSNR as the tables show it). "not run" means there are no rows of that '
            'depth\'s installed network yet. Patches seen come from each network\'s card ("A after B": A patches of '
            'fine-tuning after the B of the single network it started from): a break between networks trained on '
            'very different budgets says more about the budget than about depth. What was measured about each break '
            'is in docs/training.md (Where the networks stand).', '']
    if not cells:
        return '\n'.join(text + ['No per-level RED rows.', ''])
    by_name = {c.name: c for c in cards}

    def lineage(name: str) -> str:
        # a fine-tuned network's patches, then those of the network it started from
        card = by_name.get(name)
        if card is None:
            return '?'
        parent = card.init.split('@')[0] if card.init else None
        return f"{card.patches_seen:,}" + (f" after {by_name[parent].patches_seen:,}" if parent in by_name else '')

    def budget(weights: str) -> str:
        return ' + '.join(lineage(w) for w in weights.split(', ')) if weights else '-'

    lines = []
    for c in cells:
        values = [f"{c['psnr'][m]:.2f}" if m in c['psnr'] else 'not run' for m in DEPTHS]
        verdict = {'holds': 'holds', 'open': 'open',
                   'breaks': 'breaks: ' + ', '.join(f"{a} < {b}" for a, b in c['breaks'])}[c['state']]
        lines.append([c['task'], c['dataset'], level_text(c['task'], c['level']), *values, verdict,
                      ' / '.join(budget(c['weights'].get(m, '')) for m in DEPTHS)])
    counts = {s: sum(c['state'] == s for c in cells) for s in ('holds', 'breaks', 'open')}
    text.append(f"{counts['holds']} cells hold, {counts['breaks']} break, {counts['open']} are open "
                f"(of {len(cells)} with rows).")
    text.append('')
    return '\n'.join(text + [md_table(['task', 'dataset', 'level', *DEPTHS, 'deeper >= shallower',
                                        'patches seen (RED30 / RED20 / RED10)'], lines)])


def network_rows(rows: pd.DataFrame, cards: list) -> list[dict]:
    """Per model card behind the rows: its budget, and the mean test PSNR of each of its cells (plain network,
    not its x8 ensemble) beside the published value that cell is held to."""
    named = rows.assign(network=rows['weights'].astype(str).str.split('@').str[0]) if 'weights' in rows else None
    out = []
    for card in cards:
        cells = []
        if named is not None:
            mine = named[(named['network'] == card.name) & ~named['method'].str.endswith('+')]
            for r in summarize(mine).itertuples(index=False):
                paper = published_value(r.task, r.dataset, r.method, r.level, 'psnr')
                level = level_text(r.task, r.level)
                cells.append({'dataset': r.dataset, 'level': f"σ{level}" if r.task == 'denoise' else level,
                              'method': r.method,
                              'psnr': round(float(r.psnr), 2), 'paper': paper})
        out.append({'card': card, 'cells': cells})
    return out


def _section_networks(rows, cards) -> str:
    text = ['## Shipped networks', '',
            'Each network behind the rows above, from its model card: where and how long it trained, and its mean '
            'test PSNR per cell beside the paper\'s value for that cell (ours / paper, difference). The paper '
            'trained each network for days on a GPU.', '']
    entries = network_rows(rows, cards)
    if not entries:
        return '\n'.join(text + ['No trained network made these rows.', ''])
    lines = []
    for e in entries:
        c = e['card']
        planned = f" of {c.patches_planned:,}" if c.patches_planned and c.patches_planned > c.patches_seen else ''
        cells = '; '.join(f"{x['dataset']} {x['level']}: {x['psnr']:.2f}"
                          + (f" / {x['paper']:.2f} ({x['psnr'] - x['paper']:+.2f})" if x['paper'] is not None else '')
                          for x in e['cells'])
        init = short_weights(c.init) if c.init else 'scratch'
        lines.append([c.name, ', '.join(f'{x:g}' for x in c.levels), init, c.device, c.precision,
                      f"{c.patches_seen:,}{planned}" + ('' if c.complete else ' (snapshot)'),
                      f"{c.iterations} x {c.batch_size}", _duration(c.wall_seconds),
                      f"{c.val_psnr:.2f}" if c.val_psnr is not None else '-', cells or '-'])
    return '\n'.join(text + [md_table(['network', 'levels', 'init', 'device', 'precision', 'patches seen',
                                        'steps x batch', 'wall time', 'val PSNR', 'test PSNR: ours / paper (diff)'],
                                       lines)])


def detected_deviations(rows: pd.DataFrame, cards: list) -> list[str]:
    """Protocol differences visible in the rows, the dataset catalog and the model cards."""
    from redbench.datasets.catalog import SPECS
    out = []
    datasets = sorted(rows['dataset'].unique())
    out += [NOTES[d] for d in datasets if d in NOTES]
    out += [f"{d}: checksums are not verified; the files are used as found." for d in datasets
            if d in SPECS and not SPECS[d].verified]
    clipped = rows[rows['clip'].astype(str).str.lower() == 'true'] if 'clip' in rows else rows.iloc[:0]
    if not clipped.empty:
        out.append(f"{len(clipped)} denoising rows clip the noisy input to [0, 255]; the paper's code does not.")
    if cards:
        out.append(f"The {len(cards)} networks behind these rows trained on far smaller budgets than the paper's: "
                   "see Shipped networks for each one's patches, device and wall time.")
    return out


def _section_deviations(rows, cards, context) -> str:
    given = list(context.get('deviations') or [])
    text = ["## Deviations from the paper's protocol", '']
    text += [f"- {d}" for d in given + detected_deviations(rows, cards)]
    return '\n'.join(text + ['']) if len(text) > 2 else '\n'.join(text + ['None recorded.', ''])


# ---------------------------------------------------------------- entry point

def render_report_text(results_dir: Path, context: dict | None = None) -> str:
    context = dict(context or {})
    rows, row_info = load_rows(results_dir, context.get('weights_now'))
    runs = load_runs(results_dir)
    # budgets only of the weights that made rows (the folder may hold newer, unused ones)
    used = {w.get('weights') for _, run in runs for w in (run.get('weights') or {}).values() if isinstance(w, dict)}
    used |= {str(w).split('@')[0] for w in rows['weights'].unique()} if 'weights' in rows.columns else set()
    cards = [c for c in load_cards(context.get('weights_dir')) if c.name in used]
    n_boot, seed = int(context.get('n_boot', 10000)), int(context.get('seed', 0))
    head = [f"# {context.get('title', 'RED-Net reproduction report')}", '',
            'Rendered by `redbench.report.render_report` from stored rows and run.json files; '
            'no restoration was rerun for this report.', '']
    if context.get('summary'):
        head += [context['summary'], '']
    sections = [_section_runs(runs, row_info, context), _section_data(rows, runs),
                _section_protocol(rows, results_dir), _section_tables(rows), _section_single(rows),
                released_section(rows, cards),
                _section_identity(rows), _section_figures(context), _section_paired(rows, n_boot, seed),
                _section_runtime(rows, runs), _section_below(rows), _section_depth(rows, cards),
                _section_networks(rows, cards), _section_deviations(rows, cards, context)]
    return '\n'.join(head) + '\n' + '\n'.join(s.rstrip('\n') + '\n' for s in sections)


def write_folder_tables(results_dir: Path) -> list[Path]:
    """Each folder's table files from its own rows.csv, only the rows of the installed weights."""
    paths = []
    for path in _rows_files(Path(results_dir)):
        frame, _ = installed_rows(pd.read_csv(path, dtype={'image': str}))
        paths += write_tables(frame, path.parent)
    return paths


def render_report(results_dir: Path, out_md: Path, context: dict) -> Path:
    """Render the report from every rows.csv under results_dir; written atomically to out_md.

    context: figures ({title: relative path}), figure_notes (dict by title, or text),
    deviations (list of str), commands (list of str), optional title, summary,
    weights_dir (model cards; default methods/weights), n_boot, seed.
    """
    out_md = Path(out_md)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_md, render_report_text(Path(results_dir), context))
    return out_md
