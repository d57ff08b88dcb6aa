"""Tests for bench/analysis.py, bench/report.py and bench/visual.py on hand-made rows."""
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.analysis import paired_difference, per_image_table, runtime_table, write_per_image_csv
from bench.report import below_paper, render_report
from bench.visual import busiest_crop
from methods.weights import ModelCard

ROOT = Path(__file__).resolve().parent.parent

# (dataset, method, level) -> PSNR per image. Paper RED30 on 'fourteen': 29.17 at sigma 30, 26.81 at 50.
_DENOISE_IMAGES = ('01', '02', '03', '04')
_DENOISE = {
    ('bm3d', 30): (28.90, 29.40, 28.10, 29.00), ('red30', 30): (29.30, 29.60, 28.90, 29.20),  # mean 29.25
    ('bm3d', 50): (26.20, 26.90, 25.80, 26.40), ('red30', 50): (26.40, 26.80, 26.20, 26.60),  # mean 26.50
}
_SR_IMAGES = ('baby', 'bird', 'butterfly')
_SR = {
    ('bicubic', 2): (33.90, 35.10, 27.40), ('srcnn', 2): (36.60, 38.50, 31.90), ('red30', 2): (37.90, 39.80, 34.10),
}
_DEVIATION = 'Trained for minutes on 2 CPU cores instead of days on a GPU.'


def _rows(task, dataset, images, grid):
    out = []
    for (method, level), values in grid.items():
        for image, psnr in zip(images, values):
            out.append(dict(task=task, dataset=dataset, image=image, method=method, level=level, psnr=psnr,
                            ssim=round(psnr / 40, 5), seconds=3.0 if method == 'bm3d' else 0.5, seed=0,
                            noise_seed=0, clip=False, worker='test:1'))
    return pd.DataFrame(out)


def _run_json(folder, command, dataset):
    record = {'command': command, 'date': '2026-01-02T03:04:05+0000', 'git': {'commit': 'abc123' * 7, 'dirty': False},
              'machine': {'cpus': 2}, 'datasets': {dataset: {'images': 4, 'sha256': 'f' * 64, 'verified': True}},
              'totals': {'wall_seconds': 12.5}}
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
        _run_json(root / name, cmd, dataset)
    weights = tmp_path / 'weights'
    weights.mkdir()
    card = ModelCard(name='red30-denoise', architecture='red', config={}, task='denoise', levels=[10, 30, 50, 70],
                     recipe='test', iterations=1234, patches_seen=39488, batch_size=32, patch_size=50,
                     train_set='bsd300-train', device='cpu', wall_seconds=720.0, budget='12 min on 2 CPU cores',
                     val_psnr=None, val_protocol='', git_commit='abc', seed=0)
    (weights / 'red30-denoise.json').write_text(json.dumps(asdict(card)))
    return root, weights


def _all_rows():
    return pd.concat([_rows('denoise', 'set12', _DENOISE_IMAGES, _DENOISE), _rows('sr', 'set5', _SR_IMAGES, _SR)],
                     ignore_index=True)


def _render(results, tmp_path, name='REPORT.md'):
    root, weights = results
    context = {'figures': {'Denoising, sigma 50': 'figures/grid.png'}, 'figure_notes': {'Denoising, sigma 50': 'A crop.'},
               'deviations': [_DEVIATION], 'weights_dir': weights, 'n_boot': 2000}
    return render_report(root, tmp_path / name, context).read_text()


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
    means = diff[np.random.default_rng(7).integers(0, 4, size=(3000, 4))].mean(axis=1)
    assert result['mean_diff'] == pytest.approx(diff.mean())
    assert (result['ci_low'], result['ci_high']) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
    assert result['share_a_wins'] == pytest.approx(0.75)   # image 02: 26.80 < 26.90
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
    assert runtime.loc[('denoise', 'set12', 'bm3d', 30), 'n'] == 4


def test_below_paper_finds_constructed_cell():
    cells = below_paper(_all_rows())
    found = {(c['dataset'], c['level'], c['table']) for c in cells}
    assert ('set12', 50, 1) in found          # 26.50 vs 26.81
    assert ('set12', 50, 6) in found          # 26.50 vs single-model 26.75
    assert ('set12', 30, 1) not in found      # 29.25 vs 29.17: above
    sr = [c for c in cells if c['dataset'] == 'set5']
    assert [(c['table'], c['diff']) for c in sr] == [(3, pytest.approx(-0.39))]   # 37.27 vs 37.66; no Table 7 numbers


def test_report_content(results, tmp_path):
    text = _render(results, tmp_path)
    assert 'Table 1 (' in text and 'Table 3 (' in text and 'Table 6 (' in text
    assert '| denoise | `python run_bench.py --task denoise` | abc123abc123 |' in text
    assert '2026-01-02T03:04:05+0000' in text
    assert '![Denoising, sigma 50](figures/grid.png)' in text and 'A crop.' in text
    # paired CI: the report's numbers are a direct computation on the rows
    diff = np.array(_DENOISE[('red30', 30)]) - np.array(_DENOISE[('bm3d', 30)])
    means = diff[np.random.default_rng(0).integers(0, 4, size=(2000, 4))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    assert (f"| denoise | set12 | 30 | red30 - bm3d | 4 | {diff.mean():+.3f} | [{low:+.3f}, {high:+.3f}] "
            f"| 4/4 (100%) |") in text
    assert '| sr | set5 | x2 | red30 - srcnn | 3 |' in text
    assert '| sr | set5 | x2 | red30 - bicubic | 3 |' in text
    below = text.split('more than 0.1 dB below the paper')[1].split('## ')[0]
    assert '| Table 1 | set12 | 50 | red30 | 26.50 | 26.81 | -0.31 |' in below
    assert '| set12 | 30 |' not in below
    deviations = text.split("## Deviations from the paper's protocol")[1]
    assert f'- {_DEVIATION}' in deviations
    assert 'SUBSTITUTE: Set12' in deviations
    assert 'red30-denoise' in deviations and '1234 iterations' in deviations and '39488 patches' in deviations
    assert '12.0 min' in deviations


def test_report_rerender_is_deterministic(results, tmp_path):
    first = _render(results, tmp_path, 'a.md')
    assert _render(results, tmp_path, 'b.md') == first
    assert not list(tmp_path.glob('.*.tmp'))


def test_report_drops_rows_repeated_across_runs(results, tmp_path):
    root, _ = results
    (root / 'again').mkdir()
    pd.read_csv(root / 'sr' / 'rows.csv').to_csv(root / 'again' / 'rows.csv', index=False)
    text = _render(results, tmp_path)
    assert '9 rows appeared in more than one folder' in text      # 3 images x 3 methods
    assert 'Dataset: set5, 3 images.' in text


def test_comparison_grid_reproduces_stored_rows(mirror, tmp_path):
    """TV on set12/01 at sigma 30: the panel PSNR equals results/issue2-set12/rows.csv.

    BM3D is left out: it alone takes 5-7 s here, and TV already proves the input is rebuilt exactly.
    """
    from bench.visual import comparison_grid
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
