"""Tests for bench/reporting/analysis.py, bench/reporting/report.py and bench/reporting/visual.py on hand-made rows."""
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from redbench.reporting.analysis import (
    paired_difference,
    per_image_table,
    runtime_table,
    write_per_image_csv,
)
from redbench.reporting.findings import below_input, below_paper, depth_order, network_rows
from redbench.methods.weights import ModelCard
from redbench.reporting.report import render_report
from redbench.reporting.report_data import Figure, ReportInput, load_input
from redbench.reporting.visual import busiest_crop, detailed_crop

ROOT = Path(__file__).resolve().parent.parent

# (dataset, method, level) -> PSNR per image. Paper RED30 on 'fourteen': 29.17 at sigma 30, 26.81 at 50;
# the single-model RED30 (Table 6): 29.09 and 26.75.


def _full(values, n):
    """`values` for the first images and their mean for the rest: a cell holds every image of its set (a partial
    one is not ranked, compared or checked against its input; see coverage.py), and its mean is that of `values`."""
    return tuple(values) + (sum(values) / len(values),) * (n - len(values))


_DENOISE_IMAGES = tuple(f'{i:02d}' for i in range(1, 13))     # Set12 has 12 images
_DENOISE = {key: _full(values, 12) for key, values in {
    ('bm3d', 30): (28.90, 29.40, 28.10, 29.00), ('red30', 30): (29.30, 29.60, 28.90, 29.20),  # mean 29.25
    ('bm3d', 50): (26.20, 26.90, 25.80, 26.40), ('red30', 50): (26.40, 26.80, 26.20, 26.60),  # mean 26.50
    ('red30-single', 30): (29.00, 29.20, 28.80, 29.00), ('red30-single', 50): (26.00, 26.40, 26.30, 26.50),
    ('noisy', 30): (18.60, 18.70, 18.50, 18.60), ('noisy', 50): (26.50, 26.60, 26.40, 26.60),  # 50: above bm3d
}.items()}
_SR_IMAGES = ('baby', 'bird', 'butterfly', 'head', 'woman')     # Set5
_SR = {key: _full(values, 5) for key, values in {
    ('bicubic', 2): (33.90, 35.10, 27.40), ('srcnn', 2): (36.60, 38.50, 31.90), ('red30', 2): (37.90, 39.80, 34.10),
}.items()}
_DEVIATION = 'Trained for minutes on 2 CPU cores instead of days on a GPU.'


def _rows(task, dataset, images, grid):
    out = []
    for (method, level), values in grid.items():
        for image, psnr in zip(images, values):
            out.append(dict(task=task, dataset=dataset, image=image, method=method, level=level, psnr=psnr,
                            ssim=round(psnr / 40, 5), seconds=3.0 if method == 'bm3d' else 0.5, seed=0,
                            noise_seed=0, clip=False, worker='test:1', weights='installed'))
    return pd.DataFrame(out)


def _run_json(folder, command, dataset, weights=None):
    record = {'command': command, 'date': '2026-01-02T03:04:05+0000', 'git': {'commit': 'abc123' * 7, 'dirty': False},
              'machine': {'cpus': 2}, 'datasets': {dataset: {'images': 4, 'sha256': 'f' * 64, 'verified': True}},
              'weights': weights or {}, 'totals': {'wall_seconds': 12.5}}
    (folder / 'run.json').write_text(json.dumps(record))


@pytest.fixture
def results(tmp_path):
    """results/{denoise,sr}/rows.csv + run.json, and a weights folder with one model card."""
    root = tmp_path / 'results'
    for name, frame, cmd, dataset in (
            ('denoise', _rows('denoise', 'set12', _DENOISE_IMAGES, _DENOISE), 'python run_bench.py --task denoise', 'set12'),
            ('sr', _rows('sr', 'set5', _SR_IMAGES, _SR), 'python run_bench.py --task sr', 'set5')):
        (root / name).mkdir(parents=True)
        frame.to_csv(root / name / 'rows.csv', index=False)
        # the denoise run names the weights of red30-single, so the report lists that card's budget
        _run_json(root / name, cmd, dataset, {'red30-single': {'weights': 'red30-denoise-single'}} if name == 'denoise' else None)
    weights = tmp_path / 'weights'
    weights.mkdir()
    card = ModelCard(name='red30-denoise-single', architecture='red', config={}, task='denoise', levels=[10, 30, 50, 70],
                     recipe='test', iterations=1234, patches_seen=39488, batch_size=32, patch_size=50,
                     train_set='bsd300-train', device='cpu', wall_seconds=720.0, budget='12 min on 2 CPU cores',
                     val_psnr=None, val_protocol='', git_commit='abc', seed=0)
    (weights / 'red30-denoise-single.json').write_text(json.dumps(asdict(card)))
    (weights / 'unused.json').write_text(json.dumps(asdict(card) | {'name': 'unused'}))
    return root, weights


def _all_rows():
    return pd.concat([_rows('denoise', 'set12', _DENOISE_IMAGES, _DENOISE), _rows('sr', 'set5', _SR_IMAGES, _SR)],
                     ignore_index=True)


def _installed(task, method, level, clip):
    return 'installed'


def _render(results, tmp_path, name='REPORT.md', **fields):
    root, weights = results
    report_input = load_input(root, weights_now=_installed, weights_dir=weights, n_boot=2000,
                              figures=(Figure('Denoising, sigma 50', 'figures/grid.png', 'A crop.'),),
                              deviations=(_DEVIATION,), **fields)
    return render_report(report_input, tmp_path / name).read_text()


def _input(rows, **fields):
    return ReportInput.from_rows(rows, **fields)


def test_paired_difference_constant_difference_collapses_ci():
    rows = _rows('denoise', 'set12', ('a', 'b', 'c'), {('red30', 30): (30.5, 28.5, 27.0), ('bm3d', 30): (30.0, 28.0, 26.5)})
    result = paired_difference(rows, 'red30', 'bm3d', 'denoise', 'set12', 30, n_boot=500)
    assert result['n'] == 3
    assert result['mean_diff'] == pytest.approx(0.5)
    assert result['ci_low'] == pytest.approx(0.5) and result['ci_high'] == pytest.approx(0.5)
    assert result['share_a_wins'] == 1.0


def test_paired_difference_matches_direct_bootstrap():
    rows = _all_rows()
    result = paired_difference(rows, 'red30', 'bm3d', 'denoise', 'set12', 50, n_boot=3000, seed=7)
    diff = np.array(_DENOISE[('red30', 50)]) - np.array(_DENOISE[('bm3d', 50)])
    means = diff[np.random.default_rng(7).integers(0, len(diff), size=(3000, len(diff)))].mean(axis=1)
    assert result['mean_diff'] == pytest.approx(diff.mean())
    assert (result['ci_low'], result['ci_high']) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
    assert result['share_a_wins'] == pytest.approx(11 / 12)   # image 02: 26.80 < 26.90
    assert result['ci_low'] <= result['mean_diff'] <= result['ci_high']


def test_paired_difference_missing_method():
    with pytest.raises(ValueError, match='srcnn'):
        paired_difference(_all_rows(), 'red30', 'srcnn', 'denoise', 'set12', 30)


def test_per_image_and_runtime_tables(tmp_path):
    rows = _all_rows()
    table = per_image_table(rows, 'sr', 'set5')
    assert list(table.index) == list(_SR_IMAGES)
    assert table.loc['bird', ('psnr', 'srcnn', 2)] == pytest.approx(38.50)
    path = write_per_image_csv(rows, 'sr', 'set5', tmp_path / 'per_image.csv')
    assert 'psnr/red30/2' in pd.read_csv(path).columns
    runtime = runtime_table(rows).set_index(['task', 'dataset', 'method', 'level'])
    assert runtime.loc[('denoise', 'set12', 'bm3d', 30), 'median_s'] == pytest.approx(3.0)
    assert runtime.loc[('denoise', 'set12', 'bm3d', 30), 'n'] == 12


def test_below_paper_finds_constructed_cell():
    cells = below_paper(_input(_all_rows()))
    found = {(c['dataset'], c['level'], c['table'], c['method']) for c in cells}
    assert ('set12', 50, 1, 'red30') in found             # per level: 26.50 vs Table 1's 26.81
    assert ('set12', 50, 6, 'red30-single') in found      # single model: 26.30 vs Table 6's 26.75
    assert ('set12', 50, 6, 'red30') not in found         # the per-level network is not held to Table 6
    assert ('set12', 30, 1, 'red30') not in found         # 29.25 vs 29.17: above
    assert ('set12', 30, 6, 'red30-single') not in found  # 29.00 vs 29.09: within 0.1 dB
    sr = [c for c in cells if c['dataset'] == 'set5']
    assert [(c['table'], c['diff']) for c in sr] == [(3, pytest.approx(-0.39))]   # 37.27 vs 37.66


def test_below_input_flags_a_method_worse_than_its_input():
    cells = below_input(_input(_all_rows()))
    assert {(c['method'], c['level'], tuple(c['metrics'])) for c in cells} == {
        ('bm3d', 50, ('psnr', 'ssim')), ('red30', 50, ('psnr', 'ssim')), ('red30-single', 50, ('psnr', 'ssim'))}


def test_below_input_leaves_out_partial_cells():
    rows = _all_rows()
    # bm3d at sigma 50 over 6 of Set12's 12 images: below its input, but a mean over part of the set
    cut = rows[(rows['method'] == 'bm3d') & (rows['level'] == 50)].index[6:]
    found = {(c['method'], c['level']) for c in below_input(_input(rows.drop(cut)))}
    assert ('bm3d', 50) not in found and ('red30', 50) in found
    # a partial input: nothing at that level is held to it
    cut = rows[(rows['method'] == 'noisy') & (rows['level'] == 50)].index[6:]
    assert not [c for c in below_input(_input(rows.drop(cut))) if c['level'] == 50]


def test_depth_order_holds_breaks_and_open_cells():
    deeper = {('red20', 30): (29.10, 29.50, 28.80, 29.10), ('red10', 30): (28.90, 29.30, 28.60, 28.80),  # in order
              ('red20', 50): (26.60, 26.90, 26.30, 26.70)}                                             # above red30
    deeper = {key: _full(values, 12) for key, values in deeper.items()}
    rows = pd.concat([_all_rows(), _rows('denoise', 'set12', _DENOISE_IMAGES, deeper)], ignore_index=True)
    rows.loc[rows['method'] == 'red20', 'weights'] = 'red20-denoise-s30@abc'
    cells = {(c['dataset'], c['level']): c for c in depth_order(_input(rows))}
    assert cells[('set12', 30)]['state'] == 'holds'
    assert cells[('set12', 30)]['psnr'] == {'red30': 29.25, 'red20': 29.12, 'red10': 28.9}
    assert cells[('set12', 50)]['state'] == 'breaks' and cells[('set12', 50)]['breaks'] == [('red30', 'red20')]
    assert cells[('set12', 30)]['weights']['red20'] == 'red20-denoise-s30'
    assert cells[('set5', 2)]['state'] == 'open'                # red30 only
    assert all(c['psnr'].keys() <= {'red30', 'red20', 'red10'} for c in cells.values())


def test_network_rows_hold_each_cell_to_the_paper():
    rows = _all_rows()
    rows.loc[rows['method'].str.startswith('red30-single'), 'weights'] = 'red30-denoise-single@abc'
    card = ModelCard(name='red30-denoise-single', architecture='red', config={}, task='denoise', levels=[10, 30, 50, 70],
                     recipe='test', iterations=10, patches_seen=160, batch_size=16, patch_size=50,
                     train_set='bsd300-train', device='cpu', wall_seconds=60.0, budget='', val_psnr=None,
                     val_protocol='', git_commit='abc', seed=0)
    [entry] = network_rows(_input(rows, cards=(card,)))
    cells = {x['level']: x for x in entry['cells']}
    assert set(cells) == {30, 50} and all(x['method'] == 'red30-single' for x in cells.values())
    assert cells[30]['psnr'] == 29.0 and cells[30]['paper'] == 29.09     # Table 6, the 14 images
    assert cells[50]['psnr'] == 26.3 and cells[50]['paper'] == 26.75
    # a mean over part of the set is shown as (n/N) and never held to the paper (coverage.py)
    cut = rows[(rows['method'] == 'red30-single') & (rows['level'] == 50)].index[6:]
    [entry] = network_rows(_input(rows.drop(cut), cards=(card,)))
    partial = next(x for x in entry['cells'] if x['level'] == 50)
    assert partial['partial'] and partial['paper'] is None and (partial['n_images'], partial['n_total']) == (6, 12)
    from redbench.reporting.report import network_cell
    assert network_cell(partial) == f"set12 σ50: {partial['psnr']:.2f} (6/12)"


def test_below_paper_leaves_out_partial_cells():
    rows = _all_rows()
    cut = rows[(rows['method'] == 'red30') & (rows['level'] == 50) & (rows['dataset'] == 'set12')].index[6:]
    found = {(c['dataset'], c['level'], c['method']) for c in below_paper(_input(rows.drop(cut)))}
    assert ('set12', 50, 'red30') not in found and ('set12', 50, 'red30-single') in found


def test_report_content(results, tmp_path):
    text = _render(results, tmp_path)
    assert 'Table 1: ' in text and 'Table 3: ' in text and 'Table 6: ' in text
    assert '| denoise | `python run_bench.py --task denoise` | abc123abc123 |' in text
    assert '2026-01-02T03:04:05+0000' in text
    assert '![Denoising, sigma 50](figures/grid.png)' in text and 'A crop.' in text
    # paired CI: the report's numbers are a direct computation on the rows
    diff = np.array(_DENOISE[('red30', 30)]) - np.array(_DENOISE[('bm3d', 30)])
    means = diff[np.random.default_rng(0).integers(0, len(diff), size=(2000, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    assert (f"| denoise | set12 | 30 | red30 - bm3d | 12 | {diff.mean():+.3f} | [{low:+.3f}, {high:+.3f}] "
            f"| 12/12 (100%) |") in text
    assert '| sr | set5 | x2 | red30 - srcnn | 5 |' in text
    assert '| sr | set5 | x2 | red30 - bicubic | 5 |' in text
    below = text.split('more than 0.1 dB below the paper')[1].split('## ')[0]
    assert '| Table 1 | set12 | 50 | red30 | red30 | 26.50 | 26.81 | -0.31 |' in below
    assert '| set12 | 30 |' not in below
    deviations = text.split("## Deviations from the paper's protocol")[1]
    assert f'- {_DEVIATION}' in deviations
    assert 'SUBSTITUTE: Set12' in deviations
    assert 'Shipped networks' in deviations
    networks = text.split('## Shipped networks')[1].split('## ')[0]
    assert '| red30-denoise-single |' in networks and '| 1234 x ' in networks and '39,488' in networks
    assert 'unused' not in networks           # a card no run used
    assert '12.0 min' in networks


def test_report_rerender_is_deterministic(results, tmp_path):
    first = _render(results, tmp_path, 'a.md')
    assert _render(results, tmp_path, 'b.md') == first
    assert not list(tmp_path.glob('.*.tmp'))


def test_report_drops_rows_repeated_across_runs(results, tmp_path):
    root, _ = results
    (root / 'again').mkdir()
    pd.read_csv(root / 'sr' / 'rows.csv').to_csv(root / 'again' / 'rows.csv', index=False)
    text = _render(results, tmp_path)
    assert '15 rows appeared in more than one folder' in text      # 5 images x 3 methods
    assert 'Dataset: set5, 5 images' in text


def test_comparison_grid_reproduces_stored_rows(mirror, tmp_path):
    """TV on set12/01 at sigma 30: the panel PSNR equals results/issue2-set12/rows.csv.

    BM3D is left out: it alone takes 5-7 s here, and TV already proves the input is rebuilt exactly.
    """
    from redbench.reporting.visual import comparison_grid
    stored = pd.read_csv(ROOT / 'results' / 'issue2-set12' / 'rows.csv', dtype={'image': str})
    stored = stored[(stored['image'] == '01') & (stored['level'] == 30)].set_index('method')['psnr']
    out = comparison_grid('denoise', 'set12', '01', 30, ['tv'], tmp_path / 'grid.png')
    assert out['png'].read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert out['crop'][2:] == (96, 96)
    assert round(out['psnr']['tv'], 4) == pytest.approx(stored['tv'], abs=1e-4)
    assert out['psnr']['degraded'] < out['psnr']['tv']


def test_busiest_crop_finds_the_textured_patch():
    image = np.zeros((200, 150))
    image[120:140, 30:50] = np.indices((20, 20)).sum(0) % 2 * 255   # checkerboard
    top, left, h, w = busiest_crop(image, 96)
    assert (h, w) == (96, 96)
    assert top <= 120 and top + 96 >= 140 and left <= 30 and left + 96 >= 50


def test_detailed_crop_prefers_texture_to_one_strong_edge():
    image = np.zeros((120, 120))
    image[:, 60:] = 255                                              # one strong edge, the most variance
    image[90:110, 10:30] = 100 + np.indices((20, 20)).sum(0) % 2 * 40   # a fine, faint texture
    top, left, h, w = detailed_crop(image, 20)
    assert (top, left, h, w) == (90, 10, 20, 20)
    assert busiest_crop(image, 20)[1] in range(41, 61)               # the variance picks the edge


def test_inset_goes_to_the_corner_away_from_its_region():
    from redbench.reporting.visual import INSET, _corner
    crop = (0, 0, 96, 96)
    assert _corner(crop, (70, 70, 24, 24)) == (0.0, 1.0 - INSET)      # region lower right: inset upper left
    assert _corner(crop, (0, 0, 24, 24)) == (1.0 - INSET, 0.0)        # region upper left: inset lower right


def test_report_tables_attribution_identity_and_x8(results, tmp_path):
    text = _render(results, tmp_path)
    tables = text.split('## Tables 1-5')[1].split('## Cells below')[0]
    header = next(ln for ln in tables.splitlines() if ln.startswith('| Metric | sigma'))
    # paper columns under the paper's headers; identity first among ours; red30+ beside red30 even without rows
    assert 'EPLL (paper)' in header and 'RED10 (paper)' in header and 'RED30 (paper)' not in header
    assert header.index('| noisy |') < header.index('| bm3d |') < header.index('| red30 |') < header.index('| red30+ |')
    assert '| red30-single (ours, single model) | red30-single+ (ours, single model, x8) | noisy |' in tables
    row = next(ln for ln in tables.splitlines() if ln.startswith('| PSNR | 50 |'))
    assert 'not run (paper 26.81)' in row                     # red30+ has no rows
    assert '26.32 (paper 26.08, +0.24)' in row                # bm3d vs the paper's BM3D
    ssim = next(ln for ln in tables.splitlines() if ln.startswith('| SSIM | 30 |'))
    assert '(paper 0.8204, ' in ssim and '(paper 0.8423, ' in ssim   # SSIM differences too
    # the SR bicubic column has no paper value: the paper's SR tables have none
    sr = next(ln for ln in tables.splitlines() if ln.startswith('| PSNR | x2 |'))
    assert '| 32.13 |' in sr
    below = text.split('## Cells below their own input')[1].split('## ')[0]
    assert '| denoise | set12 | 50 | bm3d | PSNR and SSIM |' in below


def test_report_protocol_and_missing_commands(results, tmp_path):
    text = _render(results, tmp_path)
    protocol = text.split('## Protocol')[1].split('## Tables 1-5')[0]
    assert 'averages the eight flips/rotations for every task' in protocol
    assert 'no border shave' in protocol and 'tests/test_calibration.py' in protocol
    assert 'first SSIM row has no row label' in protocol       # the ambiguity resolutions are listed
    root = results[0].as_posix()
    assert (f'python run_bench.py --task denoise --sigma 10,30,50,70 --datasets set12 --methods red30+,red30-single+ '
            f'--out {root}/denoise') in protocol
    # set5 has red30 rows at x2 only
    assert f'--task sr --scale 3,4 --datasets set5 --methods red30 --out {root}/sr' in protocol
    assert f'--task sr --scale 2,3,4 --datasets set5 --methods red30+,red30-single,red30-single+ --out {root}/sr' in protocol


def test_digests_from_every_run_and_no_path_columns(results, tmp_path):
    root, _ = results
    net = 'net:results/experiments/noise-red10-s30/noise-red10-s30'
    frame = _rows('denoise', 'bsd200-half', _DENOISE_IMAGES, {(net, 30): (28.0, 28.1, 28.2, 28.3),
                                                             ('bm3d', 30): (27.0, 27.1, 27.2, 27.3)})
    (root / 'more').mkdir()
    frame.to_csv(root / 'more' / 'rows.csv', index=False)
    # run.json holds only the latest run (no datasets); runs.jsonl holds the one that computed bsd200-half
    earlier = {'command': 'c', 'config': {'task': 'denoise', 'methods': [net, 'bm3d'], 'datasets': ['bsd200-half'],
                                          'levels': [30]},
               'datasets': {'bsd200-half': {'sha256': 'e' * 64, 'verified': True}}, 'totals': {'computed': 8}}
    latest = dict(earlier, datasets={}, totals={'computed': 0})
    (root / 'more' / 'run.json').write_text(json.dumps(latest))
    (root / 'more' / 'runs.jsonl').write_text(json.dumps(earlier) + '\n' + json.dumps(latest) + '\n')
    text = _render(results, tmp_path)
    assert '| bsd200-half |' in text and f"`{'e' * 16}`" in text and 'not recorded' not in text
    assert 'net noise-red10-s30' in text and '1 cached reruns that computed nothing are left out' in text
    for line in text.splitlines():
        if line.startswith('| Metric |') or line.startswith('| task |'):
            assert 'net:' not in line and 'results/' not in line
    tables = text.split('## Tables 1-5')[1].split('## Tables 6-7')[0]
    assert 'noise-red10-s30' not in tables                       # experiment networks stay out of the main tables


def test_figure_notes_put_the_paper_beside_ours(tmp_path):
    from redbench.reporting.report_figures import FIG3C_OURS, NOISE_NET, fig3c_note, noise_level_note
    for i, name in enumerate(FIG3C_OURS.values()):
        (tmp_path / name).mkdir()
        pd.DataFrame({'step': [60, 120], 'val_psnr': [20.0, 26.0 + i / 10]}).to_csv(tmp_path / name / 'log.csv', index=False)
        (tmp_path / name / f'{name}.json').write_text(json.dumps(
            {'iterations': 120, 'batch_size': 16, 'recipe': 'paper', 'device': 'CPU, 1 threads'}))
    note = fig3c_note(tmp_path / 'no-20k-runs', tmp_path)
    assert '| Block-2-RED | 25.08 | 26.00 | 120 | fig3b-red20-skip |' in note
    assert '| Block-4-He et al. | 25.21 | 26.30 | 120 | fig3c-he-span4 |' in note
    assert 'block 2: paper +0.49, ours -0.10' in note
    folder = tmp_path / 'noise'
    folder.mkdir()
    _rows('denoise', 'set12', _DENOISE_IMAGES, {(NOISE_NET, 10): (29.0,) * 4, (NOISE_NET, 20): (28.0,) * 4,
                                                ('red10-single', 10): (30.0,) * 4}).to_csv(folder / 'rows.csv', index=False)
    note = noise_level_note(folder, weights_now=_installed)
    assert '| 10 | 29.95 | 29.00 | 30.00 |' in note and '| 20 | – | 28.00 | not run |' in note


def test_committed_report_hygiene():
    """results/REPORT.md as committed: what a reviewer reads cell by cell."""
    from redbench.methods.paper_numbers import DENOISE_COLUMNS, SR_COLUMNS, method_key
    text = (ROOT / 'results' / 'REPORT.md').read_text()
    lines = text.splitlines()
    headers = [ln for i, ln in enumerate(lines) if ln.startswith('| ') and not lines[i - 1].startswith('|')]
    assert headers and not [h for h in headers if 'net:' in h or 'results/' in h]    # no column named by a path
    data = text.split('## Data')[1].split('## ')[0]
    assert 'not recorded' not in data                                              # a digest for every dataset
    main = text.split('## Tables 1-5')[1].split('## Tables 6-7')[0]
    tables = [ln for ln in main.splitlines() if ln.startswith('| Metric |')]
    assert len(tables) == 5                                                        # the paper's, and only those
    other = text.split('## Other sets')[1].split('## ')[0]                         # a set without a paper table
    assert 'Dataset: bsd68' in other and 'Dataset: bsd68' not in main
    for header in tables:
        cells = [c.strip() for c in header.strip('|').split('|')]
        assert ('noisy' in cells) != ('bicubic' in cells)                          # the identity baseline
        assert 'red30' in cells and 'red30+' in cells                              # RED30+ beside RED30
        columns = DENOISE_COLUMNS if 'sigma' in cells else SR_COLUMNS
        # every published column: under the paper's header, or carried by our column of that method
        assert all(f'{c} (paper)' in cells or method_key(c) in cells for c in columns)
    assert 'averages the eight flips/rotations for every task' in text and 'no border shave' in text
    notes = text.split('## Figures')[1]
    assert all(v in notes for v in ('25.08', '24.59', '25.30', '25.21', '29.95', '27.81', '18.62', '14.84'))
    # sentences the cards and run records contradicted, or that spoke of how the project is developed (issue 18)
    for false in ('on the CPU for minutes', 'cosine decay, batch 32', '4 BSD200 crops', 'issue 11', 'the machine that rendered',
                  'for days on a GPU', 'CPU, ~20 h'):
        assert false not in text, false
    deviations = text.split("## Deviations from the paper's protocol")[1]
    assert deviations.count('Set12 instead of') == 1 and deviations.count('BSD200 at 1/2 size') == 1
    assert 'by their model cards' in deviations


def test_report_leaves_out_rows_of_weights_no_longer_installed(results, tmp_path):
    root, _ = results
    stale = pd.read_csv(root / 'sr' / 'rows.csv')
    stale = stale[stale['method'] == 'red30'].assign(psnr=10.0, weights='red30-sr-x2@old')   # an earlier network
    (root / 'old').mkdir()
    stale.to_csv(root / 'old' / 'rows.csv', index=False)
    text = _render(results, tmp_path)
    assert f"{len(stale)} stored rows were made by weights or parameters that are no longer installed" in text
    assert '10.00' not in text


# ---------------------------------------------------------------- sentences generated from model cards and run records

def _card(name, **fields):
    base = {'name': name, 'architecture': 'red', 'config': {}, 'task': 'denoise', 'levels': [30], 'recipe': 'fast',
            'iterations': 100, 'patches_seen': 12800, 'batch_size': 128, 'patch_size': 50,
            'train_set': 'bsd300-train', 'device': 'NVIDIA H100 80GB HBM3', 'wall_seconds': 20.0,
            'budget': '12800 patches on NVIDIA H100 80GB HBM3', 'val_psnr': 27.5,
            'val_protocol': 'mean PSNR over levels [30] on 128x128 centre crops of the last 4 bsds500-train images, '
                            'held out of training',
            'git_commit': 'abc', 'seed': 0, 'precision': 'bf16', 'extra': {'train_config': {'lr': 0.0006}}}
    return ModelCard(**(base | fields))


_CARDS = (_card('red30-denoise-s30'),
          _card('red30-denoise-s50', levels=[50], patches_seen=25600, wall_seconds=150.0,
                val_protocol='mean PSNR over levels [50] on 128x128 centre crops of the last 4 bsds500-train images, '
                             'held out of training', extra={'train_config': {'lr': 0.002}}),
          _card('red10-denoise-s30', device='CPU, 2 threads', batch_size=16, patches_seen=30000, wall_seconds=366.0,
                extra={}))


def test_training_sentence_says_what_the_cards_say():
    from redbench.reporting.report import training_sentence
    assert training_sentence(_CARDS) == (
        "The 3 networks behind these rows trained, by their model cards: 2 on NVIDIA H100 80GB HBM3 at batch 128, "
        "bf16, recipe 'fast' (cosine schedule, peak lr 0.0006 to 0.002), 12,800 to 25,600 patches and 20 s to "
        "2.5 min each; 1 on CPU, 2 threads at batch 16, bf16, recipe 'fast' (cosine schedule, peak lr 0.001), "
        "30,000 patches and 6.1 min each. The paper's recipe is kept as recipe 'paper': a constant lr of 0.0001. "
        "Each one's budget is in Shipped networks.")
    assert training_sentence(()) == ''


def test_validation_sentence_counts_protocols_alike_at_any_level():
    from redbench.reporting.report import validation_sentence
    assert validation_sentence(_CARDS) == (
        'Validation PSNR (val PSNR): mean PSNR over its levels on 128x128 centre crops of the last 4 bsds500-train '
        'images, held out of training.')
    other = _card('old', val_protocol='mean PSNR over levels [30] on 96x96 centre crops of the first 4 BSD200 images')
    assert validation_sentence((*_CARDS, other)) == (
        'Validation PSNR (val PSNR): mean PSNR over its levels on 128x128 centre crops of the last 4 bsds500-train '
        'images, held out of training (3 networks); mean PSNR over its levels on 96x96 centre crops of the first 4 '
        'BSD200 images (1 network).')


def test_experiments_sentence_names_each_budget():
    from redbench.reporting.report import experiments_sentence
    cards = (_card('fig3b-a', recipe='paper', budget='120 iterations on CPU, 1 threads', batch_size=16,
                   val_protocol='V', extra={'train_config': {'lr': 0.001}}),
             _card('fig3b-b', recipe='paper', budget='120 iterations on CPU, 1 threads', batch_size=16,
                   val_protocol='V', extra={'train_config': {'lr': 0.001}}),
             _card('noise-s30', budget='8 min on CPU, 2 threads', batch_size=32, val_protocol='V', extra={}))
    assert experiments_sentence(cards) == (
        "The training experiments behind the figures ran, by their model cards: fig3b-a, fig3b-b: 120 iterations on "
        "CPU, 1 threads, recipe 'paper' at lr 0.001, batch 16; validation: V. noise-s30: 8 min on CPU, 2 threads, "
        "recipe 'fast' at lr 0.001, batch 32; validation: V.")


def test_report_deviations_come_from_cards_and_roles_once(results, tmp_path):
    text = _render(results, tmp_path, experiments=(_card('fig3b-a', budget='120 iterations on CPU, 1 threads'),))
    deviations = text.split("## Deviations from the paper's protocol")[1]
    # the set's own deviation (its PaperRole note) is stated once
    assert deviations.count("Set12 instead of the paper's 14 images") == 1
    # the fixture card: 'cpu', batch 32, 12 min
    assert ("The 1 network behind these rows trained, by their model cards: 1 on cpu at batch 32, fp32, recipe "
            "'test', 39,488 patches and 12.0 min each.") in deviations
    assert 'The training experiments behind the figures ran, by their model cards: fig3b-a: 120 iterations' in text
    for false in ('on the CPU for minutes', 'issue 11', 'the machine that rendered', '4 BSD200 crops',
                  'for days on a GPU'):
        assert false not in text


def test_paper_summary_leaves_out_partial_cells(results, tmp_path):
    text = _render(results, tmp_path)
    section = text.split('## Ours minus the paper, per set and method')[1].split('## ')[0]
    assert "| denoise | set12 | red30 | 2 | -0.11 | " in section
    assert "Set12 stands in for the paper's 14 images" in section
    from redbench.reporting.findings import paper_differences
    rows = _all_rows()
    cut = rows[(rows['method'] == 'red30') & (rows['level'] == 50) & (rows['dataset'] == 'set12')].index[6:]
    [diff] = [d for d in paper_differences(_input(rows.drop(cut))) if d['method'] == 'red30' and d['dataset'] == 'set12']
    assert diff['levels'] == 1 and diff['psnr'] == pytest.approx(29.25 - 29.17)


def test_paper_roles_are_one_table():
    from redbench.evaluation.comparison import PAPER_DATASET, PAPER_TABLE, role_text
    from redbench.evaluation.tables import NOTES, SHORT_NOTES
    assert PAPER_TABLE == {'fourteen': 1, 'set12': 1, 'bsd200': 2, 'bsd200-half': 2, 'set5': 3, 'set14': 4,
                           'bsd100': 5}
    assert PAPER_DATASET == {'set12': 'fourteen', 'bsd200-half': 'bsd200'}
    assert set(NOTES) == set(SHORT_NOTES) == {'set12', 'bsd200', 'bsd200-half'}
    assert role_text('set12') == "Table 1 (denoise), in place of the paper's fourteen"
    assert role_text('set14') == 'Table 4 (SR)' and role_text('fourteen') == 'Table 1 (denoise); checksums unverified'


def test_weights_id_is_one_format():
    from redbench.core.weights_id import (
        format_weights_id,
        parse_weights_id,
        short_weights_id,
        weights_name,
    )
    wid = format_weights_id('red30-denoise-s30', 'ab' * 32)
    assert wid == 'red30-denoise-s30@' + 'ab' * 32 and parse_weights_id(wid) == ('red30-denoise-s30', 'ab' * 32)
    assert short_weights_id(wid) == 'red30-denoise-s30@' + 'ab' * 6 and weights_name(wid) == 'red30-denoise-s30'
    assert parse_weights_id('installed') == ('installed', '') and short_weights_id('installed') == 'installed'


def test_one_row_rule_for_every_table(tmp_path):
    """eval and reproduce write tables through folder_tables.write_folder_tables: installed weights only, and
    one seed per cell, so a mean never mixes two noise draws."""
    from redbench.evaluation.folder_tables import table_rows, write_folder_tables
    rows = _rows('denoise', 'set12', _DENOISE_IMAGES, {('bm3d', 30): _DENOISE[('bm3d', 30)]})
    other_seed = rows.assign(seed=1, psnr=rows['psnr'] - 5)
    stale = rows.assign(weights='old', psnr=1.0)
    frame = pd.concat([rows, other_seed, stale], ignore_index=True)
    shown = table_rows(frame, current={('denoise', 'bm3d', 30.0): ('installed', 0, False)}, weights_now=_installed)
    assert (shown.stale, shown.other_draws, len(shown.rows)) == (12, 12, 12) and set(shown.rows['seed']) == {0}
    frame.to_csv(tmp_path / 'rows.csv', index=False)
    written = write_folder_tables(tmp_path, weights_now=_installed)
    assert {p.name for p in written} >= {'table_denoise_set12.md', 'tables.md'}


def test_report_modules_load_no_runner_and_no_network():
    """Rendering markdown must not import the runner (which builds methods and loads networks)."""
    import subprocess
    import sys
    code = ("import sys, redbench.reporting.report, redbench.reporting.report_data, redbench.reporting.findings; "
            "assert 'redbench.evaluation.runner' not in sys.modules, 'runner imported'")
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr


def test_headline_opens_the_report_with_one_table_and_one_figure(results, tmp_path):
    """The first screen: at most 10 lines of text, the per-set table against both yardsticks, the figure."""
    text = _render(results, tmp_path, headline_figure='figures/headline.png')
    head = text.split('## What was run')[0]
    lines = [ln for ln in head.splitlines() if ln.strip()]
    table = [ln for ln in lines if ln.startswith('|')]
    assert len(lines) - len(table) <= 10 and head.count('![') == 1 and '](figures/headline.png)' in head
    assert table[0].startswith('| task | set | vs paper (dB) | within 0.1 dB | vs released (dB) |')
    # set12: our red30 29.25 and 26.50 against the paper's RED30 29.17 and 26.81 (+0.08, -0.31: 1 of 2 within
    # 0.1 dB); against the released RED30 on Set12 at sigma 50 (MWCNN: 27.34)
    assert '| denoise | set12 | -0.11 | 1/2 | -0.84 | 0/1 |' in table
    assert '| sr | set5 | ' in ''.join(table)
    assert 'Overall: 1 of 3 cells within 0.1 dB of the paper' in head
    # the per-method list is in its own section below, not on the first screen
    assert '- set12 / red30' not in head and '## Ours minus the paper' in text


def test_headline_cells_are_every_complete_red30_cell_against_both_yardsticks():
    from redbench.reporting.findings import headline_cells, headline_rows
    rows = _all_rows()
    cut = rows[(rows['method'] == 'red30') & (rows['level'] == 30) & (rows['dataset'] == 'set12')].index[6:]
    cells = headline_cells(_input(rows.drop(cut)))          # a partial cell is compared with nothing
    assert sorted((c['dataset'], c['level'], c['yardstick']) for c in cells) == [
        ('set12', 50, 'paper'), ('set12', 50, 'released'), ('set5', 2, 'paper')]
    [set12, set5] = headline_rows(cells)
    assert set12['paper'] == {'cells': 1, 'mean': pytest.approx(26.50 - 26.81), 'within': 0}
    assert set5['released'] is None


def test_the_headline_cells_are_computed_once_and_what_the_first_screen_shows():
    from dataclasses import replace

    from redbench.reporting.findings import with_headline
    from redbench.reporting.report import render_report_text
    inp = with_headline(_input(_all_rows()))
    assert with_headline(inp) is inp                          # given cells are kept, not computed again
    # the first screen renders the cells the input carries: one cell, 0.05 dB below the paper
    one = ({'task': 'denoise', 'dataset': 'set12', 'level': 50, 'yardstick': 'paper', 'ours': 26.76,
            'published': 26.81, 'gap': -0.05},)
    head = render_report_text(replace(inp, headline=one)).split('\n## ')[0]
    assert '| denoise | set12 | -0.05 | 1/1 | – | – |' in head


def test_costs_count_parameters_from_the_model_cards_and_time_from_the_rows():
    from redbench.reporting.findings import method_costs
    from redbench.reporting.report import render_report_text
    rows = _all_rows()
    rows['weights'] = rows['method'].map({'red30': 'red10-denoise-s30@' + 'a' * 64,
                                          'red30-single': 'red30-denoise-single@' + 'b' * 64}).fillna('bm3d-params@1')
    card = ModelCard(name='red10-denoise-s30', architecture='red',
                     config={'depth': 10, 'width': 64, 'channels': 1, 'skip': 'red', 'span': 2, 'residual': True},
                     task='denoise', levels=[30], recipe='test', iterations=1, patches_seen=1, batch_size=1,
                     patch_size=50, train_set='t', device='cpu', wall_seconds=1.0, budget='', val_psnr=None,
                     val_protocol='', git_commit='abc', seed=0)
    costs = {(c['task'], c['method']): c for c in method_costs(_input(rows, cards=(card,)))}
    # 5 convolutions and 5 deconvolutions of 3x3 kernels: 1 -> 64, 8 x 64 -> 64, 64 -> 1, each with its biases
    assert costs[('denoise', 'red30')]['parameters'] == [(9 * 64 + 64) + 8 * (9 * 64 * 64 + 64) + (9 * 64 + 1)]
    assert costs[('denoise', 'bm3d')]['parameters'] == []               # a parameter digest: nothing trained
    assert costs[('denoise', 'red30-single')]['parameters'] is None     # its card is not installed
    assert costs[('denoise', 'bm3d')]['seconds'] == {'set12': 3.0}
    text = render_report_text(_input(rows, cards=(card,)))
    section = text.split('## Methods: parameters and seconds per image')[1].split('## ')[0]
    assert '| red30 | 296,641 | 0.500 |' in section and '| bm3d | – | 3.000 |' in section
    assert '| red30-single | no model card | 0.500 |' in section
