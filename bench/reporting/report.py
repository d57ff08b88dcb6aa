"""results/REPORT.md: the reproduction report, rendered as markdown from a ReportInput (report_data.py).

This module only renders: the input is loaded by report_data.load_input and analysed by findings.py. Every
sentence about the networks (devices, batch sizes, budgets, validation) is generated here from the model cards
and run records in the input.
"""
from __future__ import annotations

from pathlib import Path

from redbench.methods.paper_numbers import AMBIGUITIES, SOURCE

from redbench.reporting.analysis import runtime_table
from redbench.core.atomic import write_text_atomic
from redbench.evaluation.comparison import deviation_notes, paper_levels, role_text
from redbench.core.defaults import LEVEL_NAME
from redbench.reporting.findings import (
    BELOW_DB,
    DEPTHS,
    OURS,
    OURS_SINGLE,
    OURS_SINGLE_X8,
    OURS_X8,
    WITHIN_DB,
    below_input,
    below_paper,
    depth_order,
    experiment_groups,
    headline_rows,
    main_rows,
    method_costs,
    missing_cells,
    network_rows,
    paired_rows,
    pairs,
    paper_differences,
    training_groups,
    validation_protocols,
    with_headline,
)
from redbench.core.markdown import md_table
from redbench.reporting.released import section as released_section
from redbench.reporting.report_data import ReportInput
from redbench.evaluation.tables import (
    IDENTITY,
    NOTES,
    SHORT_NOTES,
    level_text,
    method_label,
    render_single_vs_separate,
    render_table,
)
from redbench.core.weights_id import short_weights_id, weights_name

# ---------------------------------------------------------------- markdown helpers


def duration(seconds) -> str:
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _span(low, high, show) -> str:
    return show(low) if show(low) == show(high) else f"{show(low)} to {show(high)}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ('' if n == 1 else 's')


# ---------------------------------------------------------------- sentences from the model cards

def training_sentence(cards) -> str:
    """Where and how the networks behind the rows trained, from their model cards, grouped by device and batch."""
    from redbench.training.config import RECIPES
    if not cards:
        return ''
    parts = []
    for g in training_groups(cards):
        lrs = g['lrs']
        lr = '' if not lrs else f", peak lr {lrs[0]:g}" + ('' if len(lrs) == 1 else f" to {lrs[-1]:g}")
        schedule = f" ({RECIPES[g['recipe']][1]} schedule{lr})" if g['recipe'] in RECIPES else lr
        parts.append(f"{len(g['names'])} on {g['device']} at batch {g['batch_size']}, {g['precision']}, recipe "
                     f"'{g['recipe']}'{schedule}, {_span(*g['patches'], lambda x: f'{x:,}')} patches and "
                     f"{_span(*g['wall_seconds'], duration)} each")
    paper = RECIPES.get('paper')
    reference = (f" The paper's recipe is kept as recipe 'paper': a {paper[1]} lr of {paper[0]:g}." if paper else '')
    return (f"The {_count(len(cards), 'network')} behind these rows trained, by their model cards: "
            + '; '.join(parts) + '.' + reference + " Each one's budget is in Shipped networks.")


def validation_sentence(cards) -> str:
    """How the cards' validation PSNR was measured (the 'val PSNR' column of Shipped networks)."""
    counted = validation_protocols(cards)
    if not counted:
        return ''
    return 'Validation PSNR (val PSNR): ' + '; '.join(
        f"{protocol}" + ('' if len(counted) == 1 else f" ({_count(n, 'network')})")
        for protocol, n in sorted(counted.items(), key=lambda x: -x[1])) + '.'


def experiments_sentence(cards) -> str:
    """The budgets of the training experiments behind the figures, from their model cards."""
    if not cards:
        return ''
    parts = [f"{', '.join(g['names'])}: {g['budget']}, recipe '{g['recipe']}'"
             + (f" at lr {g['lr']:g}" if g['lr'] else '') + f", batch {g['batch_size']}; validation: {g['val_protocol']}"
             for g in experiment_groups(cards)]
    return 'The training experiments behind the figures ran, by their model cards: ' + '. '.join(parts) + '.'


# ---------------------------------------------------------------- sections

HEADLINE_FIGURE_TITLE = 'Every cell: our red30 minus the published RED30'


def _headline(inp: ReportInput) -> list[str]:
    """The report's first screen: our RED30 per set against both yardsticks, a table and one figure."""
    rows = headline_rows(with_headline(inp).headline)
    if not rows:
        return []

    def mean(x):
        # +0.0 turns a -0.00 into +0.00
        return '–' if x is None else f"{round(x['mean'], 2) + 0.0:+.2f}"

    def within(x):
        return '–' if x is None else f"{x['within']}/{x['cells']}"
    lines = [[r['task'], r['dataset'], mean(r['paper']), within(r['paper']), mean(r['released']),
              within(r['released'])] for r in rows]
    totals = {y: [r[y] for r in rows if r[y] is not None] for y in ('paper', 'released')}
    overall = '; '.join(f"{sum(x['within'] for x in found)} of {sum(x['cells'] for x in found)} cells within "
                        f"{WITHIN_DB:g} dB of {'the paper' if y == 'paper' else 'the released networks'}"
                        for y, found in totals.items() if found)
    text = [f"**Headline.** Our {OURS} (one network per level, one forward pass) minus the published RED30, "
            f"mean PSNR (dB) over each set's levels: against the paper (Tables 1-5) and against the authors' "
            f"released networks as later papers measured them; within {WITHIN_DB:g} dB: cells whose difference, "
            f"on the numbers as the tables show them, is at most that. Overall: {overall}.", '',
            md_table(['task', 'set', 'vs paper (dB)', f'within {WITHIN_DB:g} dB', 'vs released (dB)',
                      f'within {WITHIN_DB:g} dB'], lines)]
    if inp.headline_figure:
        text += [f'![{HEADLINE_FIGURE_TITLE}]({inp.headline_figure})', '']
    text += ['Per set and method, and for x8 and the single network: "Ours minus the paper"; the released '
             'networks: "Against the authors\' released networks"; the substitute sets: "Data".', '']
    return text


def _section_paper_differences(inp: ReportInput) -> str:
    lines = [[d['task'], d['dataset'], method_label(d['method']), d['levels'], f"{d['psnr']:+.2f}",
              f"{d['ssim']:+.4f}", SHORT_NOTES.get(d['dataset'], '')] for d in paper_differences(inp)]
    if not lines:
        return ''
    return '\n'.join(['## Ours minus the paper, per set and method', '',
                      'Mean difference to the paper (ours minus published, PSNR in dB and SSIM, averaged over the '
                      'levels both have; per-level networks against Tables 1-5, red30-single against Tables 6-7, an '
                      'x8 ensemble against the same value as its network; a mean over part of a set is left out), '
                      'computed from the stored rows.', '',
                      md_table(['task', 'set', 'method', 'levels', 'PSNR (dB)', 'SSIM', 'note'], lines)])


def _parameters(found) -> str:
    if found is None:
        return 'no model card'
    return '–' if not found else ' / '.join(f"{n:,}" for n in found)


def _section_costs(inp: ReportInput) -> str:
    """Parameters (model cards) and seconds per image (rows) of every method in the tables."""
    costs = method_costs(inp)
    if not costs:
        return ''
    cpus = sorted({str(run.get('machine', {}).get('cpus', '?')) for _, run in inp.runs})
    devices = sorted({(run.get('device') or {}).get('name') for _, run in _computing(inp.runs)} - {None})
    where = f"machines with {', '.join(cpus) or '?'} CPUs" + (f"; networks on {', '.join(devices)} where a run "
                                                              "record names it" if devices else
                                                              "; no run record names a GPU")
    text = ['## Methods: parameters and seconds per image', '',
            'Parameters: learned parameters of the networks behind the rows, counted from their model cards '
            '(per-level networks of one architecture have the same count; an x8 ensemble has its network\'s); '
            '– for a classical method (nothing trained). Seconds: the median of `restore()` per image over each '
            'set\'s rows, '
            f'measured inside workers that shared the machine ({where}); compare within a set only.', '']
    for task in sorted({c['task'] for c in costs}):
        mine = [c for c in costs if c['task'] == task]
        timed = {d for c in mine for d in c['seconds']}
        sets = [d for t, d in pairs(inp.summary) if t == task and d in timed]
        lines = [[method_label(c['method']), _parameters(c['parameters']),
                  *[f"{c['seconds'][d]:.3f}" if d in c['seconds'] else '–' for d in sets]] for c in mine]
        text += [f"{'Denoising' if task == 'denoise' else 'Super-resolution'}:", '',
                 md_table(['method', 'parameters', *[f's/image {d}' for d in sets]], lines)]
    return '\n'.join(text)


def _computing(runs) -> list:
    """Runs that computed rows; cached reruns (computed 0) add nothing to the results."""
    return [(f, r) for f, r in runs if r.get('totals', {}).get('computed', 1) != 0]


def _run_scope(run: dict) -> str:
    config = run.get('config') or {}
    if not config:
        return '?'
    levels = ','.join(f"{float(x):g}" for x in config.get('levels', []))
    methods = ', '.join(method_label(m) for m in config.get('methods', []))
    return f"{methods} on {', '.join(config.get('datasets', []))} at {levels}"


def _machine(run: dict) -> str:
    text = f"{run.get('machine', {}).get('cpus', '?')} CPUs"
    device = (run.get('device') or {}).get('name')
    return text + (f"; networks on {device}" if device else '')


def _section_runs(inp: ReportInput) -> str:
    lines = []
    computing = _computing(inp.runs)
    for folder, run in computing:
        git = run.get('git', {})
        commit = str(git.get('commit', 'unknown'))[:12] + (' (dirty tree)' if git.get('dirty') else '')
        totals = run.get('totals', {})
        wall = totals.get('wall_seconds')
        lines.append([folder, f"`{run.get('command', '?')}`", commit, run.get('date', '?'), _machine(run),
                      _run_scope(run), totals.get('computed', '?'), duration(wall) if wall is not None else '?'])
    sources = inp.sources
    rows_per_folder = ', '.join(f"{f} {n}" for f, n in sorted(sources.files.items()))
    text = ['## What was run', '',
            'Every run that computed rows, from each folder\'s runs.jsonl (run.json where there is none); '
            f'{len(inp.runs) - len(computing)} cached reruns that computed nothing are left out. '
            f'Rows per folder now: {rows_per_folder}.', '',
            md_table(['folder', 'command', 'commit', 'date', 'machine', 'methods, datasets, levels',
                      'rows computed', 'wall time'], lines)]
    no_json = sorted(set(sources.files) - {f for f, _ in inp.runs})
    if no_json:
        text.append(f"Rows without a run.json beside them: {', '.join(no_json)}.\n")
    if sources.stale:
        text.append(f"{sources.stale} stored rows were made by weights or parameters that are no longer installed "
                    "(or did not record them); they stay in the stores but are left out of this report.\n")
    if sources.other_draws:
        text.append(f"{sources.other_draws} stored rows are of another seed or noise clipping than the one each "
                    "cell shows; they are left out, so no mean mixes two noise draws.\n")
    if sources.duplicates:
        text.append(f"{sources.duplicates} rows appeared in more than one folder; "
                    "the first copy (folders in name order) was kept.\n")
    if inp.commands:
        text += ['Other commands (training, figures):', '', '```', *inp.commands, '```', '']
    return '\n'.join(text)


def _digests(runs, dataset) -> str:
    found = sorted({(d['sha256'], bool(d.get('verified', True)))
                    for _, run in runs for name, d in run.get('datasets', {}).items() if name == dataset})
    if not found:
        return 'not recorded'
    text = ', '.join(f"`{sha[:16]}`" + ('' if ok else ' (unverified files)') for sha, ok in found)
    return text + (' — DIFFERENT image sets across runs' if len(found) > 1 else '')


def _section_data(inp: ReportInput) -> str:
    from redbench.datasets.catalog import SPECS
    rows = inp.rows
    datasets = sorted(rows['dataset'].unique())
    lines = []
    for dataset in datasets:
        spec = SPECS.get(dataset)
        n = rows.loc[rows['dataset'] == dataset, 'image'].nunique()
        lines.append([dataset, spec.description if spec else '?', role_text(dataset) if spec else '',
                      n, _digests(inp.runs, dataset)])
    notes = [f"- {note}" for note in deviation_notes(datasets)]
    text = ['## Data', '',
            'Digest: sha256 over the sorted per-file checksums (`redbench.evaluation.runinfo.dataset_digest`), '
            'first 16 hex digits.', '',
            md_table(['dataset', 'description', 'role in the paper', 'images', 'digest'], lines)]
    if notes:
        text += ['Substitutes and size changes:', '', *notes, '']
    return '\n'.join(text)


def _section_tables(inp: ReportInput) -> str:
    rows, summary = main_rows(inp.rows), main_rows(inp.summary)
    text = ['## Tables 1-5: means per dataset and level', '',
            f'Every published cell of the paper\'s table is shown: the paper\'s other methods as "(paper)" '
            f'columns, and in each of our cells the published value of the same method and ours minus paper. '
            f'{OURS} is one network per level, as the paper\'s Tables 1-5 RED-Net; it and {OURS_X8} (x8 '
            f'flip/rotate average; the authors\' released code always averages x8, see Protocol) have a column in '
            f'every table, with "not run" where there are no rows (commands in the Protocol section). Levels other '
            f'than the paper\'s, and experiment networks, are in the figure notes.', '']
    for task, dataset in pairs(rows):
        if paper_levels(task, dataset) is not None:
            text.append(render_table(rows, task, dataset, 'markdown', always=(OURS, OURS_X8), summary=summary))
    return '\n'.join(text)


def _section_other_sets(inp: ReportInput) -> str:
    """Sets the paper has no table for (BSD68, a user's own folder): our numbers only, out of Tables 1-5."""
    rows, summary = main_rows(inp.rows), main_rows(inp.summary)
    others = [(task, dataset) for task, dataset in pairs(rows) if paper_levels(task, dataset) is None]
    if not others:
        return ''
    text = ['## Other sets', '', 'Sets the paper has no table for: our numbers only.', '']
    for task, dataset in others:
        text.append(render_table(rows, task, dataset, 'markdown', summary=summary))
    return '\n'.join(text)


def _section_single(inp: ReportInput) -> str:
    text = ['## Tables 6-7: one network for all levels', '',
            f'Our {OURS_SINGLE} is one network for all noise levels (all scales), as the paper\'s Tables 6-7 '
            f'model, and {OURS_SINGLE_X8} its x8 average; both are compared with the paper\'s single-model value.', '']
    rows, summary = main_rows(inp.rows), main_rows(inp.summary)
    ours = rows[rows['method'] == OURS_SINGLE]
    found = [p for p in pairs(ours) if paper_levels(*p) is not None] if not ours.empty else []
    if not found:
        return '\n'.join(text + [f'No {OURS_SINGLE} rows.', ''])
    for task, dataset in found:
        text.append(render_single_vs_separate(rows, task, dataset, OURS_SINGLE, 'markdown', summary=summary))
    return '\n'.join(text)


def _section_figures(inp: ReportInput) -> str:
    text = ['## Figures', '']
    if not inp.figures:
        text.append('No figures were given.\n')
    for figure in inp.figures:
        text += [f'### {figure.title}', '', f'![{figure.title}]({figure.path})', '']
        if figure.note:
            text += [figure.note, '']
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
# How our noise differs from the paper's whatever the rows: a property of the code (degradations.noise_seed).
NOISE = ("Noise: numpy PCG64 streams seeded per (seed, dataset, image, sigma), not MATLAB randn; the noisy input "
         "is not clipped, as in the paper's code.")


def _section_protocol(inp: ReportInput) -> str:
    text = ['## Protocol: the paper\'s text, the authors\' released code, this harness', '',
            'Where the authors\' released test code (footnote 1 of the paper) and the paper\'s text differ, both '
            'readings are given: RED30 and RED30+ columns, and the border shave stated here.', '',
            md_table(['point', 'paper text', 'authors\' released test code', 'this harness'],
                     [list(p) for p in PROTOCOL]),
            f'Published numbers: {SOURCE}. Only numbers printed in the paper are labelled "paper"; its SR '
            'tables have no bicubic column, so our bicubic column has no paper value (the literature\'s '
            'bicubic values are in tests/test_calibration.py, with their source).', '',
            'How unclear places in the paper\'s text were read:', '', *[f'- {a}' for a in AMBIGUITIES], '']
    missing = missing_cells(inp)
    if missing:
        text += ['Cells shown "not run", and the commands that fill them (x8 costs 8 restorations; red10/20/30 '
                 'and red30-single need their weights in methods/weights/, from the training campaign, '
                 'campaign/plan.toml):', '', '```']
        for m in missing:
            flag = LEVEL_NAME[m['task']]
            levels = ','.join(f"{float(x):g}" for x in m['levels'])
            text.append(f"python run_bench.py --task {m['task']} --{flag} {levels} --datasets {','.join(m['datasets'])} "
                        f"--methods {','.join(m['methods'])} --out {Path(inp.results_dir).as_posix()}/{m['folder']}")
        text += ['```', '']
    return '\n'.join(text)


def _section_identity(inp: ReportInput) -> str:
    text = ['## Cells below their own input', '',
            'Mean PSNR or SSIM lower than the identity baseline of the same cell (noisy = the noisy input, '
            'bicubic = the SR input), i.e. the method made its input worse. A mean over part of a set is left out.',
            '']
    identities = [m for m in IDENTITY.values() if m in set(inp.rows['method'])]
    if not identities:
        return '\n'.join(text + ['No identity-baseline rows, so this was not checked.', ''])
    cells = below_input(inp)
    if not cells:
        return '\n'.join(text + ['None.', ''])
    lines = [[c['task'], c['dataset'], level_text(c['task'], c['level']), method_label(c['method']),
              ' and '.join(m.upper() for m in c['metrics']), f"{c['psnr']:.2f} / {c['ssim']:.4f}",
              f"{c['identity_psnr']:.2f} / {c['identity_ssim']:.4f}"] for c in cells]
    return '\n'.join(text + [md_table(['task', 'dataset', 'level', 'method', 'below in', 'method PSNR / SSIM',
                                       'input PSNR / SSIM'], lines)])


def _section_paired(inp: ReportInput) -> str:
    lines = [[r['task'], r['dataset'], level_text(r['task'], r['level']), f"{r['a']} - {r['b']}", r['n'],
              f"{r['mean_diff']:+.3f}", f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
              f"{round(r['share_a_wins'] * r['n'])}/{r['n']} ({r['share_a_wins']:.0%})"]
             for r in paired_rows(inp)]
    text = ['## Paired comparisons', '',
            f'Per-image PSNR difference, our RED30 ({OURS} or {OURS_SINGLE}) minus baseline, over the images both '
            f'have. CI: 95% percentile bootstrap of the mean over images ({inp.n_boot} resamples, numpy seed '
            f'{inp.seed}). Wins: images where our RED30 has the strictly higher PSNR.', '']
    if not lines:
        return '\n'.join(text + ['No set/level has both RED30 and a baseline.', ''])
    headers = ['task', 'dataset', 'level', 'comparison', 'images', 'mean diff (dB)', '95% CI (dB)', 'wins']
    return '\n'.join(text + [md_table(headers, lines)])


def _section_runtime(inp: ReportInput) -> str:
    table = runtime_table(inp.rows)
    lines = [[r.task, r.dataset, method_label(r.method), level_text(r.task, r.level), r.n,
              f"{r.median_s:.3f}", f"{r.mean_s:.3f}"] for r in table.itertuples(index=False)]
    cpus = sorted({str(run.get('machine', {}).get('cpus', '?')) for _, run in inp.runs})
    return '\n'.join(['## Runtime', '',
                      'Seconds of `restore()` per image, measured inside a worker that shared the machine '
                      f"with other workers (machines with {', '.join(cpus) or '?'} CPUs); "
                      'compare methods within one run only.', '',
                      md_table(['task', 'dataset', 'method', 'level', 'images', 'median s', 'mean s'], lines)])


def _section_below(inp: ReportInput) -> str:
    cells = below_paper(inp)
    text = [f'## Cells where our RED30 is more than {BELOW_DB} dB below the paper', '',
            f'Mean PSNR of our {OURS} against the paper\'s per-level RED30 (Tables 1-5) and of our {OURS_SINGLE} '
            'against its single-model RED30 (Tables 6-7); a mean over part of a set is left out. Substitute sets '
            '(see Data) make some of these comparisons indicative only.', '']
    if not cells:
        return '\n'.join(text + ['None.', ''])
    lines = [[f"Table {c['table']}", c['dataset'], level_text(c['task'], c['level']), c['method'],
              c['paper_method'], f"{c['ours']:.2f}", f"{c['paper']:.2f}", f"{c['diff']:+.2f}",
              NOTES.get(c['dataset'], '')] for c in cells]
    return '\n'.join(text + [md_table(['table', 'dataset', 'level', 'ours', 'paper column', 'ours (dB)',
                                       'paper (dB)', 'ours - paper', 'note'], lines)])


def _section_depth(inp: ReportInput) -> str:
    cells = depth_order(inp)
    text = ['## Depth: RED30 >= RED20 >= RED10 in Tables 1-5', '',
            'The paper\'s claim that the deeper network does better (sections 4.1-4.2), checked on our per-level '
            'networks cell by cell (mean PSNR as the tables show it). "not run" means there are no rows of that '
            'depth\'s installed network yet (or a mean over part of the set). Patches seen come from each network\'s '
            'card ("A after B": A patches of fine-tuning after the B of the single network it started from): a '
            'break between networks trained on very different budgets says more about the budget than about depth.',
            '']
    if not cells:
        return '\n'.join(text + ['No per-level RED rows.', ''])
    by_name = {c.name: c for c in inp.cards}

    def lineage(name: str) -> str:
        # a fine-tuned network's patches, then those of the network it started from
        card = by_name.get(name)
        if card is None:
            return '?'
        parent = weights_name(card.init) if card.init else None
        return f"{card.total_patches:,}" + (f" after {by_name[parent].total_patches:,}" if parent in by_name else '')

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


def network_cell(x: dict) -> str:
    level = level_text(x['task'], x['level'])
    where = f"{x['dataset']} {'σ' + level if x['task'] == 'denoise' else level}: {x['psnr']:.2f}"
    if x['partial']:
        return where + f" ({x['n_images']}/{x['n_total']})"
    return where + (f" / {x['paper']:.2f} ({x['psnr'] - x['paper']:+.2f})" if x['paper'] is not None else '')


def _section_networks(inp: ReportInput) -> str:
    text = ['## Shipped networks', '',
            'Each network behind the rows above, from its model card: where and how long it trained, and its mean '
            'test PSNR per cell beside the paper\'s value for that cell (ours / paper, difference); a mean over n '
            'of the set\'s N images reads (n/N) and is not compared.']
    validation = validation_sentence(inp.cards)
    text += [validation, ''] if validation else ['']
    entries = network_rows(inp)
    if not entries:
        return '\n'.join(text + ['No trained network made these rows.', ''])
    lines = []
    for e in entries:
        c = e['card']
        planned = f" of {c.patches_planned:,}" if c.patches_planned and c.patches_planned > c.patches_seen else ''
        cells = '; '.join(network_cell(x) for x in e['cells'])
        init = short_weights_id(c.init) if c.init else 'scratch'
        lines.append([c.name, ', '.join(f'{x:g}' for x in c.levels), init, c.device, c.precision,
                      f"{c.patches_seen:,}{planned}" + ('' if c.complete else ' (snapshot)'),
                      f"{c.iterations} x {c.batch_size}", duration(c.wall_seconds),
                      f"{c.val_psnr:.2f}" if c.val_psnr is not None else '-', cells or '-'])
    return '\n'.join(text + [md_table(['network', 'levels', 'init', 'device', 'precision', 'patches seen',
                                       'steps x batch', 'wall time', 'val PSNR', 'test PSNR: ours / paper (diff)'],
                                      lines)])


def _srcnn_sentence(inp: ReportInput) -> str:
    rows = inp.rows[inp.rows['method'] == 'srcnn']
    if rows.empty or 'weights' not in rows.columns:
        return ''
    names = sorted({weights_name(w) for w in rows['weights']})
    return (f"srcnn is our own SRCNN-style network, trained by this repository ({', '.join(names)}), not the "
            "authors' released model; the paper's SRCNN column is shown beside it.")


def detected_deviations(inp: ReportInput) -> list[str]:
    """Protocol differences visible in the rows, the dataset catalog and the model cards."""
    from redbench.datasets.catalog import SPECS
    rows = inp.rows
    datasets = sorted(rows['dataset'].unique())
    out = deviation_notes(datasets)
    out += [f"{d}: checksums are not verified; the files are used as found." for d in datasets
            if d in SPECS and not SPECS[d].verified]
    if (rows['task'] == 'denoise').any():
        out.append(NOISE)
    clipped = rows[rows['clip'].astype(str).str.lower() == 'true'] if 'clip' in rows else rows.iloc[:0]
    if not clipped.empty:
        out.append(f"{len(clipped)} denoising rows clip the noisy input to [0, 255]; the paper's code does not.")
    out += [s for s in (training_sentence(inp.cards), _srcnn_sentence(inp), experiments_sentence(inp.experiments))
            if s]
    return out


def _section_deviations(inp: ReportInput) -> str:
    text = ["## Deviations from the paper's protocol", '']
    text += [f"- {d}" for d in [*inp.deviations, *detected_deviations(inp)]]
    return '\n'.join(text + ['']) if len(text) > 2 else '\n'.join(text + ['None recorded.', ''])


# ---------------------------------------------------------------- entry point

def render_report_text(inp: ReportInput) -> str:
    head = [f"# {inp.title}", '', *_headline(inp),
            'Rendered by `redbench.reporting.report.render_report` from stored rows and run.json files; '
            'no restoration was rerun for this report.', '']
    sections = [_section_runs(inp), _section_data(inp), _section_protocol(inp), _section_tables(inp),
                _section_single(inp), _section_paper_differences(inp), released_section(inp.summary, list(inp.cards)),
                _section_other_sets(inp), _section_identity(inp), _section_figures(inp), _section_paired(inp),
                _section_costs(inp), _section_runtime(inp), _section_below(inp), _section_depth(inp),
                _section_networks(inp), _section_deviations(inp)]
    return '\n'.join(head) + '\n' + '\n'.join(s.rstrip('\n') + '\n' for s in sections if s)


def render_report(inp: ReportInput, out_md: Path) -> Path:
    """Render the report of `inp` (report_data.load_input); written atomically to out_md."""
    out_md = Path(out_md)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_md, render_report_text(inp))
    return out_md
