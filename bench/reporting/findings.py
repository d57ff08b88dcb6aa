"""The report's analyses, each a function of the ReportInput returning plain rows (dicts), rendered by report.py.

Every mean comes from the input's summary (tables.covered_summary, computed once); a partial cell (a mean over
fewer images than the set has, coverage.py) is never compared with the paper or with its input.
"""
from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from redbench.reporting.analysis import paired_difference
from redbench.evaluation.comparison import held_to, paper_levels, paper_table, published, published_value
from redbench.reporting.released import released_cells
from redbench.reporting.report_data import ReportInput
from redbench.evaluation.tables import IDENTITY, method_order
from redbench.core.weights_id import is_parameter_digest, weights_name

# Our RED30 per level (compared with Tables 1-5) and our single all-level RED30 (Tables 6-7).
OURS = 'red30'
OURS_SINGLE = 'red30-single'
# Each gets its x8 self-ensemble column beside it, run or not: the authors' code always averages x8.
OURS_X8, OURS_SINGLE_X8 = OURS + '+', OURS_SINGLE + '+'
# Baselines our RED30s are paired against, per task.
PAIRED = {'denoise': ('bm3d',), 'sr': ('bicubic', 'srcnn')}
BELOW_DB = 0.1
# The paper's depth claim (sections 4.1-4.2): in Tables 1-5, the deeper per-level network is never worse.
DEPTHS = ('red30', 'red20', 'red10')


def pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(task, dataset) pairs, paper tables first in table order, then the rest by name."""
    found = frame[['task', 'dataset']].drop_duplicates().itertuples(index=False)
    return sorted(((t, d) for t, d in found), key=lambda p: (paper_table(*p) or 99, p[0], p[1]))


def is_experiment(method: str) -> bool:
    """Experiment networks ('net:<weights>', e.g. the section 2.2 network) stay out of the main tables."""
    return method.startswith('net:')


def main_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows (or summary rows) of the main tables: no experiment networks, and only the paper's levels where the
    paper has a table."""
    keep = ~frame['method'].map(is_experiment)
    for task, dataset in pairs(frame):
        levels = paper_levels(task, dataset)
        if levels is not None:
            cell = (frame['task'] == task) & (frame['dataset'] == dataset)
            keep &= ~cell | frame['level'].isin(levels)
    return frame[keep]


def below_input(inp: ReportInput) -> list[dict]:
    """Cells where a method's mean PSNR or SSIM is below the identity baseline's (its own input). A partial
    cell, of the method or of the baseline, is left out."""
    out = []
    for (task, dataset, level), cell in inp.summary.groupby(['task', 'dataset', 'level']):
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


def below_paper(inp: ReportInput, margin: float = BELOW_DB) -> list[dict]:
    """Cells where our RED30 mean PSNR is more than `margin` dB below the published RED30 it stands for.

    OURS is checked against the per-level RED30 (Tables 1-5), OURS_SINGLE against the single-model RED30
    (Tables 6-7); the difference is of the 2-decimal numbers the tables show. Partial cells are left out."""
    out = []
    summary = inp.summary
    for method in (OURS, OURS_SINGLE):
        for r in summary[(summary['method'] == method) & ~summary['partial']].itertuples(index=False):
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


def _weights_used(rows: pd.DataFrame) -> dict:
    """{(task, dataset, level, method): 'name, ...'}: the networks (weights names) behind each cell."""
    if 'weights' not in rows.columns or rows.empty:
        return {}
    names = rows.assign(name=rows['weights'].map(weights_name))
    return {key: ', '.join(sorted(set(group))) for key, group
            in names.groupby(['task', 'dataset', 'level', 'method'])['name']}


def depth_order(inp: ReportInput) -> list[dict]:
    """Per cell of Tables 1-5 with any per-level RED row: the mean PSNR of each depth and whether deeper >= shallower.

    Compared on the 2-decimal numbers the tables show; a partial cell counts as not run. state: 'holds' (all three
    depths, in order), 'breaks' (some deeper network below a shallower one; `breaks` names the pairs) or 'open' (a
    depth has no complete cell yet). `weights` names the network each depth used (from the rows)."""
    summary = main_rows(inp.summary)
    summary = summary[summary['method'].isin(DEPTHS) & ~summary['partial']]
    used = _weights_used(inp.rows[inp.rows['method'].isin(DEPTHS)])
    out = []
    for (task, dataset, level), cell in summary.groupby(['task', 'dataset', 'level']):
        if paper_levels(task, dataset) is None:
            continue
        psnr = {r.method: round(float(r.psnr), 2) for r in cell.itertuples(index=False)}
        present = [m for m in DEPTHS if m in psnr]
        breaks = [(a, b) for i, a in enumerate(present) for b in present[i + 1:] if psnr[a] < psnr[b]]
        state = 'breaks' if breaks else ('holds' if len(present) == len(DEPTHS) else 'open')
        weights = {m: used[(task, dataset, level, m)] for m in present if (task, dataset, level, m) in used}
        out.append({'task': task, 'dataset': dataset, 'level': level, 'psnr': psnr, 'state': state,
                    'breaks': breaks, 'weights': weights})
    return out


def network_rows(inp: ReportInput) -> list[dict]:
    """Per model card behind the rows: the mean test PSNR of each of its cells (plain network, not its x8
    ensemble) beside the published value that cell is held to; a partial cell has no published value."""
    used = _weights_used(inp.rows[~inp.rows['method'].str.endswith('+')])
    summary = inp.summary.set_index(['task', 'dataset', 'level', 'method'])
    out = []
    for card in inp.cards:
        keys = [k for k, names in used.items() if card.name in names.split(', ')]
        cells = []
        # in the summary's order: task, dataset, method, level
        for task, dataset, level, method in sorted(keys, key=lambda k: (k[0], k[1], k[3], k[2])):
            r = summary.loc[(task, dataset, level, method)]
            partial = bool(r['partial'])
            cells.append({'task': task, 'dataset': dataset, 'level': level, 'method': method,
                          'psnr': round(float(r['psnr']), 2), 'partial': partial,
                          'n_images': int(r['n_images']), 'n_total': int(r['n_total']),
                          'paper': None if partial else published_value(task, dataset, method, level, 'psnr')})
        out.append({'card': card, 'cells': cells})
    return out


def paired_rows(inp: ReportInput) -> list[dict]:
    """paired_difference of our RED30s (per level, single) against each PAIRED baseline, where both have rows."""
    rows, out = inp.rows, []
    for task, dataset in pairs(rows):
        sub = rows[(rows['task'] == task) & (rows['dataset'] == dataset)]
        for ours in (OURS, OURS_SINGLE):
            for baseline in PAIRED.get(task, ()):
                for level in sorted(sub['level'].unique()):
                    if {ours, baseline} <= set(sub.loc[sub['level'] == level, 'method']):
                        out.append(paired_difference(rows, ours, baseline, task, dataset, level, inp.n_boot,
                                                     inp.seed))
    return out


def missing_cells(inp: ReportInput) -> list[dict]:
    """Our RED30 cells of the paper's tables that have no rows (shown 'not run'), grouped for one command each.

    One entry per (task, folder, levels, datasets): {'task', 'folder', 'levels', 'datasets', 'methods'}."""
    rows = main_rows(inp.rows)
    gaps: dict[tuple, list[str]] = {}
    for task, dataset in pairs(rows):
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


def paper_differences(inp: ReportInput) -> list[dict]:
    """Per (task, dataset, method): the mean of ours minus published over the levels both have complete cells of
    (per-level networks against Tables 1-5, single networks against Tables 6-7, x8 against its network's value)."""
    summary = inp.summary
    summary = summary[~summary['method'].map(is_experiment) & ~summary['partial']]
    diffs: dict[tuple, list[tuple[float, float]]] = {}
    for r in summary.itertuples(index=False):
        psnr, ssim = (published_value(r.task, r.dataset, r.method, r.level, attr) for attr in ('psnr', 'ssim'))
        if psnr is not None:
            diffs.setdefault((r.task, r.dataset, r.method), []).append((r.psnr - psnr, r.ssim - ssim))
    return [{'task': task, 'dataset': dataset, 'method': method, 'levels': len(values),
             'psnr': sum(v[0] for v in values) / len(values), 'ssim': sum(v[1] for v in values) / len(values)}
            for (task, dataset, method), values in sorted(diffs.items())]


# ---------------------------------------------------------------- what the model cards say

def _lr(card) -> float | None:
    """The peak learning rate a card's network trained with: its own setting, else its recipe's."""
    from redbench.training.config import RECIPES
    given = (card.extra.get('train_config') or {}).get('lr')
    return float(given) if given else (RECIPES[card.recipe][0] if card.recipe in RECIPES else None)


def training_groups(cards) -> list[dict]:
    """The cards grouped by where and how they trained: device, batch size, recipe and precision, with the names,
    the learning rates and the range of patches and wall time in each group; most networks first."""
    groups: dict[tuple, list] = {}
    for card in cards:
        groups.setdefault((card.device, card.batch_size, card.recipe, card.precision), []).append(card)
    out = []
    for (device, batch, recipe, precision), members in groups.items():
        out.append({'device': device, 'batch_size': batch, 'recipe': recipe, 'precision': precision,
                    'names': [c.name for c in members], 'lrs': sorted({_lr(c) for c in members if _lr(c)}),
                    'patches': (min(c.total_patches for c in members), max(c.total_patches for c in members)),
                    'wall_seconds': (min(c.wall_seconds for c in members), max(c.wall_seconds for c in members))})
    return sorted(out, key=lambda g: (-len(g['names']), g['device'], g['batch_size']))


def validation_protocols(cards) -> Counter:
    """How the cards' validation PSNR was measured, counted, with each card's own level list written as 'its
    levels' so that networks validated alike at different levels count together."""
    return Counter(re.sub(r'levels \[[^\]]*\]', 'its levels', c.val_protocol) for c in cards if c.val_protocol)


def experiment_groups(cards) -> list[dict]:
    """The training experiments grouped by budget, recipe, learning rate and batch size, from their cards."""
    groups: dict[tuple, list[str]] = {}
    for card in cards:
        groups.setdefault((card.budget, card.recipe, _lr(card), card.batch_size, card.val_protocol),
                          []).append(card.name)
    return [{'budget': b, 'recipe': r, 'lr': lr, 'batch_size': n, 'val_protocol': v, 'names': names}
            for (b, r, lr, n, v), names in groups.items()]


# ---------------------------------------------------------------- the headline: our RED30 against both yardsticks

WITHIN_DB = 0.1   # a cell "within" the published value: |ours - published| <= this, on the numbers as shown


def _shown_gap(ours: float, published: float) -> float:
    """Ours minus published on the 2-decimal numbers the tables show."""
    return round(round(ours, 2) - published, 2) + 0.0


def headline_cells(inp: ReportInput) -> list[dict]:
    """Every complete cell of our per-level RED30 (OURS, one pass) beside a published RED30: the paper's (Tables
    1-5) and the authors' released networks as later papers measured them (released.py). One dict per cell:
    task, dataset, level, yardstick ('paper' or 'released'), ours, published, gap."""
    out = []
    summary = main_rows(inp.summary)
    mine = summary[(summary['method'] == OURS) & ~summary['partial']]
    for r in mine.itertuples(index=False):
        entry = published(paper_table(r.task, r.dataset), r.dataset, OURS, r.level)
        if entry is not None:
            out.append({'task': r.task, 'dataset': r.dataset, 'level': r.level, 'yardstick': 'paper',
                        'ours': float(r.psnr), 'published': entry.psnr, 'gap': _shown_gap(r.psnr, entry.psnr)})
    for c in released_cells(inp.summary):
        if c.method == OURS and c.complete:
            out.append({'task': 'denoise', 'dataset': c.dataset, 'level': c.level, 'yardstick': 'released',
                        'ours': c.psnr, 'published': c.published.psnr, 'gap': _shown_gap(c.psnr, c.published.psnr)})
    return out


def with_headline(inp: ReportInput) -> ReportInput:
    """The input with its headline cells, computed here once; the figure and the report's first screen read them."""
    if inp.headline is not None:
        return inp
    from dataclasses import replace
    return replace(inp, headline=tuple(headline_cells(inp)))


def headline_rows(cells) -> list[dict]:
    """Per task and set (paper tables first, as pairs() orders them), per yardstick: cells compared, the mean gap
    and how many are within WITHIN_DB; a yardstick without cells for the set is None."""
    frame = pd.DataFrame(list(cells), columns=['task', 'dataset', 'level', 'yardstick', 'ours', 'published', 'gap'])
    out = []
    for task, dataset in pairs(frame):
        row = {'task': task, 'dataset': dataset}
        for yardstick in ('paper', 'released'):
            gaps = frame.loc[(frame['task'] == task) & (frame['dataset'] == dataset)
                             & (frame['yardstick'] == yardstick), 'gap']
            row[yardstick] = None if gaps.empty else {
                'cells': len(gaps), 'mean': float(gaps.mean()), 'within': int((gaps.abs() <= WITHIN_DB + 1e-9).sum())}
        out.append(row)
    return out


# ---------------------------------------------------------------- what each method costs

def parameter_count(card) -> int | None:
    """Learned parameters of the network a model card describes (None: the card's config builds no network)."""
    from redbench.methods.architectures import network_for_card

    from redbench.core.errors import UserError
    try:
        return sum(p.numel() for p in network_for_card(card).parameters())
    except UserError:
        return None


def method_costs(inp: ReportInput) -> list[dict]:
    """Per task and method of the main tables: the parameters of the networks behind its rows (from their model
    cards; an x8 ensemble has its network's), and the median seconds per image of each set (over its rows).
    parameters: the sorted distinct counts; [] for a classical method (its rows name a parameter digest, nothing
    trained); None where a network's model card is not installed or builds no network."""
    rows = main_rows(inp.rows)
    cards = {c.name: c for c in inp.cards}
    counts: dict[str, int | None] = {}
    out = []
    for (task, method), sub in rows.groupby(['task', 'method'], sort=False):
        ids = set(sub['weights']) if 'weights' in sub else set()
        names = sorted({weights_name(w) for w in ids if not is_parameter_digest(w)})
        for name in names:
            if name not in counts:
                counts[name] = parameter_count(cards[name]) if name in cards else None
        found = [counts[n] for n in names]
        seconds = sub.groupby('dataset')['seconds'].median()
        out.append({'task': task, 'method': method, 'networks': names,
                    'parameters': None if None in found or not ids else sorted(set(found)),
                    'seconds': {d: float(s) for d, s in seconds.items()}})
    order = {m: i for i, m in enumerate(sorted({o['method'] for o in out}, key=method_order))}
    return sorted(out, key=lambda o: (o['task'], order[o['method']]))
