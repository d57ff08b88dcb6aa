"""Tests for redbench.evaluation.tables (bench/evaluation/tables.py) on a small hand-built result frame (no data files)."""
import re

import pandas as pd
import pytest
from redbench.evaluation.comparison import paper_levels, published_value
from redbench.evaluation.table_latex import COLUMN, latex
from redbench.evaluation.tables import (
    build_table,
    method_label,
    method_labels,
    render_single_vs_separate,
    render_table,
    summarize,
    write_tables,
)

# (dataset, method, level) -> PSNR of images a and b; SSIM is psnr / 40 for simplicity.
_PSNR = {
    ('set12', 'bm3d', 10): (34.00, 34.20), ('set12', 'red30', 10): (34.60, 35.00),
    ('set12', 'bm3d', 30): (28.00, 28.40), ('set12', 'red30', 30): (29.00, 29.34),
    ('bsd200-half', 'bm3d', 10): (32.00, 32.40), ('bsd200-half', 'red30', 10): (33.00, 33.20),
    ('bsd200-half', 'bm3d', 30): (27.00, 27.20), ('bsd200-half', 'red30', 30): (28.00, 28.10),
}
_SR = {('bicubic', 2): (33.00, 34.00), ('red30', 2): (37.00, 38.00),
       ('bicubic', 4): (28.00, 28.50), ('red30', 4): (31.00, 31.50)}


# every set has all of its images (coverage.py reads how many from the checksum lists): the two images above,
# and the rest at their mean, so each mean is that of the two
_SIZE = {'set12': 12, 'bsd200-half': 200, 'set5': 5}


def _images(dataset, values):
    """(image, psnr, seconds) for every image of `dataset`."""
    mean = sum(values) / len(values)
    return [(f"{i:03d}", values[i] if i < len(values) else mean, (2.0, 4.0)[i] if i < 2 else 3.0)
            for i in range(_SIZE[dataset])]


@pytest.fixture
def rows():
    out = []
    for (ds, m, lvl), vals in _PSNR.items():
        for img, v, sec in _images(ds, vals):
            out.append({'task': 'denoise', 'dataset': ds, 'image': img, 'method': m, 'level': lvl,
                        'psnr': v, 'ssim': v / 40, 'seconds': sec})
    for (m, lvl), vals in _SR.items():
        for img, v, _ in _images('set5', vals):
            out.append({'task': 'sr', 'dataset': 'set5', 'image': img, 'method': m, 'level': lvl,
                        'psnr': v, 'ssim': v / 40, 'seconds': 1.0})
    return pd.DataFrame(out)


def _md_row(text, metric, level):
    """Map column header -> cell text for one markdown row."""
    lines = [ln for ln in text.splitlines() if ln.startswith('|')]
    headers = [h.strip() for h in lines[0].strip('|').split('|')]
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip('|').split('|')]
        if cells[:2] == [metric, str(level)]:
            return dict(zip(headers, cells))
    raise AssertionError(f"row {metric} {level} not found")


def test_summarize_means(rows):
    s = summarize(rows).set_index(['task', 'dataset', 'method', 'level'])
    r = s.loc[('denoise', 'set12', 'red30', 30)]
    assert r['psnr'] == pytest.approx(29.17)
    assert r['ssim'] == pytest.approx(29.17 / 40)
    assert r['seconds'] == pytest.approx(3.0)
    assert r['n_images'] == 12
    assert s.loc[('sr', 'set5', 'red30', 4), 'psnr'] == pytest.approx(31.25)
    assert len(s) == 12


def test_paper_value_and_difference(rows):
    md = render_table(rows, 'denoise', 'bsd200-half')
    row = _md_row(md, 'PSNR', 30)
    assert row['red30'] == '**28.05** (paper 27.95, +0.10)'
    assert row['bm3d'] == '27.10 (paper 27.31, -0.21)'
    assert row['WNNM (paper)'] == '27.48'
    # SSIM cells carry the published SSIM and the difference too: RED30 0.8019, BM3D 0.7755 at sigma 30.
    assert re.search(r'\(paper 0\.8019, -0\.10\d\d\)$', _md_row(md, 'SSIM', 30)['red30'])
    assert _md_row(md, 'SSIM', 30)['bm3d'] == '0.6775 (paper 0.7755, -0.0980)'
    assert '1/2 size' in md and 'Table 2' in md


def test_bold_falls_on_best_cell(rows):
    md = render_table(rows, 'denoise', 'bsd200-half')
    row10 = _md_row(md, 'PSNR', 10)
    # Ours (33.10) lose to the paper's RED20 (33.59) at sigma 10.
    assert [h for h, c in row10.items() if '**' in c] == ['RED20 (paper)']
    assert row10['RED20 (paper)'] == '**33.59**'
    row30 = _md_row(md, 'PSNR', 30)
    assert [h for h, c in row30.items() if '**' in c] == ['red30']


def test_column_order(rows):
    md = render_table(rows, 'denoise', 'set12')
    headers = [h.strip() for h in md.splitlines()[2].strip('|').split('|')]
    # the paper's other columns in the paper's order, under its own headers; then ours
    assert headers == ['Metric', 'sigma', 'EPLL (paper)', 'NCSR (paper)', 'PCLR (paper)',
                       'PGPD (paper)', 'WNNM (paper)', 'RED10 (paper)', 'RED20 (paper)',
                       'bm3d', 'red30']
    assert md.index('PSNR | 10') < md.index('PSNR | 30') < md.index('SSIM | 10')


def test_substitute_label_for_set12(rows):
    md = render_table(rows, 'denoise', 'set12')
    assert "SUBSTITUTE: Set12 instead of the paper's 14 images" in md
    assert 'set12, 12 images' in md
    # 29.17 beats every published Table 1 value at sigma 30 (RED30 29.17 is the paper's own).
    assert _md_row(md, 'PSNR', 30)['red30'] == '**29.17** (paper 29.17, +0.00)'
    assert 'SUBSTITUTE' not in render_table(rows, 'denoise', 'bsd200-half')


def test_sr_table(rows):
    md = render_table(rows, 'sr', 'set5')
    row = _md_row(md, 'PSNR', 'x4')
    assert row['bicubic'] == '28.25'     # the paper's SR tables have no bicubic column
    assert row['red30'] == '31.25 (paper 31.51, -0.26)'
    assert row['RED20 (paper)'] == '**31.40**'  # paper's RED20 beats our 31.25
    assert [h for h in row if h.endswith('(paper)')] == ['SRCNN (paper)', 'NBSRF (paper)', 'CSCN (paper)',
                                                          'CSC (paper)', 'TSE (paper)', 'ARFL+ (paper)',
                                                          'RED10 (paper)', 'RED20 (paper)']
    assert _md_row(md, 'SSIM', 'x2')['ARFL+ (paper)'] == '0.9559' and 'scale' in row


def _balanced(tex):
    depth = 0
    for ch in re.sub(r'\\[{}]', '', tex):
        depth += {'{': 1, '}': -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def test_latex(rows):
    tex = render_table(rows, 'denoise', 'set12', fmt='latex')      # the page layout: table* floats
    assert r'\textbf{' in tex and '**' not in tex
    assert _balanced(tex)
    assert r'\begin{tabular}' in tex and r'\end{table*}' in tex
    # booktabs, no \hline; a label; the caption names the paper's table but does not start with "Table N:"
    assert all(rule in tex for rule in (r'\toprule', r'\midrule', r'\bottomrule')) and r'\hline' not in tex
    assert r'\label{tab:redbench-denoise-set12}' in tex and r'\label{tab:redbench-denoise-set12-diff}' in tex
    captions = re.findall(r'\\caption\{([^\n]*)\}\n', tex)
    assert len(captions) == 2 and not [c for c in captions if c.startswith('Table')]
    assert 'Table 1' in captions[0] and 'Weights' not in tex and '(paper' not in tex
    # numbers only in the main table, best bold and second underlined; ours minus paper in the second table
    assert r'30 & 28.35 & 28.44 & 28.68 & 28.55 & 28.74 & 28.95 & \underline{29.10} & 28.20 & \textbf{29.17} \\' in tex
    # in a column of a two-column paper the row is split; the paper's RED20 (29.10) is still second to our RED30
    # (29.17), ranked across the tabulars of the same float
    column = latex(build_table(rows, 'denoise', 'set12'), COLUMN)
    assert r'\end{table}' in column and column.count(r'\begin{tabular}{') == 3
    assert r'30 & 28.35 & 28.44 & 28.68 & 28.55 & 28.74 \\' in column
    assert r'30 & 28.95 & \underline{29.10} & 28.20 & \textbf{29.17} \\' in column
    assert '30 & $-0.29$ & $+0.00$' in tex            # ours minus paper: bm3d 28.20 - 28.49, red30 29.17 - 29.17
    assert '–' not in tex  # no raw unicode dash in LaTeX
    assert '_' not in tex.replace(r'\_', '')
    with pytest.raises(ValueError):
        render_table(rows, 'denoise', 'set12', fmt='html')


def _as_single(rows):
    """The same numbers filed under the single all-level model's names (Tables 6-7)."""
    return rows.assign(method=rows['method'].replace({'red30': 'red30-single', 'red30+': 'red30-single+'}))


def test_single_vs_separate(rows):
    rows = _as_single(rows)
    md = render_single_vs_separate(rows, 'denoise', 'bsd200-half')
    row = _md_row(md, 'PSNR', 30)
    assert row['red30-single (ours, single model)'] == '**28.05** (paper 27.88, +0.17)'
    assert row['red30-single+ (ours, single model, x8)'] == 'not run (paper 27.88)'
    assert row['RED30 per level (paper, Table 2)'] == '27.95'
    assert row['RED30 single model (paper, Table 6)'] == '27.88'
    assert _md_row(md, 'SSIM', 30)['RED30 single model (paper, Table 6)'] == '0.7980'
    assert 'Table 6' in md
    tex = render_single_vs_separate(rows, 'sr', 'set5', fmt='latex')
    assert 'Table 7' in tex and _balanced(tex)


def test_write_tables(rows, tmp_path):
    paths = write_tables(rows, tmp_path / 'out')
    names = sorted(p.name for p in paths)
    latex_names = [f'{part}_{layout}{tabular}.tex' for part in ('', '_diff') for layout in ('column', 'page')
                   for tabular in ('', '_tabular')]
    assert names == sorted([f'{stem}{suffix}' for stem in ('table_denoise_set12', 'table_denoise_bsd200-half',
                                                         'table_sr_set5')
                            for suffix in ('.md', '_paper.md', *latex_names)] + ['tables.md'])
    # a rerun leaves no LaTeX file of an earlier layout behind (the old single .tex, a continued float)
    for stale in ('table_sr_set5.tex', 'table_sr_set5_column_tabular2.tex'):
        (tmp_path / 'out' / stale).write_text('old')
    write_tables(rows, tmp_path / 'out')
    assert not any((tmp_path / 'out' / stale).exists() for stale in ('table_sr_set5.tex',
                                                                      'table_sr_set5_column_tabular2.tex'))
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    combined = (tmp_path / 'out' / 'tables.md').read_text()
    assert 'SUBSTITUTE' in combined and 'Table 3' in combined and 'Table 2' in combined
    assert not list((tmp_path / 'out').glob('*.tmp'))


def test_identity_baseline_and_ensemble_columns(rows):
    noisy = rows[rows['method'] == 'bm3d'].assign(method='noisy', psnr=lambda f: f['psnr'] - 8)
    plus = rows[(rows['method'] == 'red30') & (rows['dataset'] == 'set12')].assign(method='red30+')
    both = pd.concat([rows, noisy, plus], ignore_index=True)
    md = render_table(both, 'denoise', 'set12')
    headers = [h.strip() for h in md.splitlines()[2].strip('|').split('|')]
    assert headers[-4:] == ['noisy', 'bm3d', 'red30', 'red30+']
    assert 'noisy = the degraded input itself' in md
    # red30+ is compared with the paper's RED30 (the text does not say whether it used x8)
    assert _md_row(md, 'PSNR', 30)['red30+'] == '**29.17** (paper 29.17, +0.00)'
    assert _md_row(md, 'PSNR', 30)['noisy'] == '20.20'
    single = render_single_vs_separate(_as_single(both), 'denoise', 'set12')
    assert _md_row(single, 'PSNR', 10)['noisy'] == '26.10'
    assert _md_row(single, 'PSNR', 30)['red30-single+ (ours, single model, x8)'] == '**29.17** (paper 29.09, +0.08)'
    # a method named in `always` gets its column without rows
    md = render_table(rows, 'denoise', 'bsd200-half', always=('red30+',))
    assert _md_row(md, 'PSNR', 10)['red30+'] == 'not run (paper 33.63)'


def test_every_published_ssim_gets_a_difference(rows):
    md = render_table(rows, 'denoise', 'bsd200-half')
    for level in (10, 30):
        for method in ('bm3d', 'red30'):
            assert re.search(r'\(paper 0\.\d{4}, [+-]0\.\d{4}\)$', _md_row(md, 'SSIM', level)[method])


def test_experiment_networks_are_labelled_not_pathed(rows):
    net = 'net:results/experiments/noise-red10-s30/noise-red10-s30'
    assert method_label(net) == 'net noise-red10-s30' and method_label(net + '+') == 'net noise-red10-s30+'
    extra = rows[rows['method'] == 'bm3d'].assign(method=net)
    md = render_table(pd.concat([rows, extra]), 'denoise', 'set12')
    assert 'net noise-red10-s30' in md and 'results/' not in md
    assert paper_levels('denoise', 'set12') == [10, 30, 50, 70] and paper_levels('denoise', 'set14') is None


def test_published_value_holds_each_model_to_its_table():
    assert published_value('denoise', 'set12', 'red30', 30, 'psnr') == 29.17            # Table 1
    assert published_value('denoise', 'set12', 'red30+', 30, 'ssim') == 0.8423          # x8 against RED30
    assert published_value('denoise', 'bsd200-half', 'red30-single', 70, 'ssim') == 0.6544   # Table 6
    assert published_value('sr', 'set14', 'red30-single+', 3, 'psnr') == 29.50          # Table 7
    assert published_value('sr', 'set14', 'red10-single', 3, 'psnr') is None           # the paper has no such model
    assert published_value('sr', 'set5', 'bicubic', 2, 'psnr') is None                 # nor a bicubic column
    assert published_value('denoise', 'bsd68', 'bm3d', 30, 'psnr') is None             # nor a BSD68 table


def test_two_networks_with_the_same_weights_name_get_columns_told_apart():
    runs = ['net:runs/ab/fp32/srcnn-sr', 'net:runs/ab/bf16/srcnn-sr', 'net:runs/ab/bf16/srcnn-sr+', 'red30']
    assert method_labels(runs) == {'net:runs/ab/fp32/srcnn-sr': 'net fp32/srcnn-sr',
                                   'net:runs/ab/bf16/srcnn-sr': 'net bf16/srcnn-sr',
                                   'net:runs/ab/bf16/srcnn-sr+': 'net srcnn-sr+', 'red30': 'red30'}
    assert method_labels(['net:a/x/n', 'net:b/x/n']) == {'net:a/x/n': 'net a/x/n', 'net:b/x/n': 'net b/x/n'}


def test_paper_view_has_the_papers_columns_ours_beside_the_published(rows):
    md = render_table(rows, 'denoise', 'bsd200-half', fmt='paper')
    headers = [h.strip() for h in md.splitlines()[2].strip('|').split('|')]
    assert headers == ['Metric', 'sigma', 'BM3D', 'EPLL', 'NCSR', 'PCLR', 'PGPD', 'WNNM', 'RED10', 'RED20', 'RED30']
    row = _md_row(md, 'PSNR', 30)
    assert row['BM3D'] == '27.10 / 27.31' and row['WNNM'] == '27.48'       # ours / paper; the paper's alone
    assert row['RED30'] == '**28.05** / 27.95'
    # every number shown competes: at sigma 10 the paper's RED30 (33.63) beats our 33.10 and its RED20
    assert _md_row(md, 'PSNR', 10)['RED30'] == '33.10 / **33.63**' and _md_row(md, 'PSNR', 10)['RED20'] == '33.59'
    assert md.startswith('Table 2 (paper view): ') and 'table_denoise_bsd200-half.md' in md
    # no paper table, no paper view
    other = rows[rows['dataset'] == 'set12'].assign(dataset='bsd68')
    assert render_table(other, 'denoise', 'bsd68', fmt='paper') == ''


def test_set_sizes_come_from_the_checksum_lists():
    from redbench.evaluation.coverage import set_sizes
    from redbench.datasets.catalog import image_count, read_checksums
    assert image_count('set14') == len(read_checksums('set14')) == 14
    assert image_count('bsd300-train') == 300 and image_count('bsd200-half') == 200
    assert image_count('dir:/somewhere') is None and image_count('no-such-set') is None
    rows = pd.DataFrame({'dataset': ['set14'] * 6 + ['dir:/x'] * 5, 'method': ['a'] * 9 + ['b'] * 2, 'level': 2,
                         'image': [str(i) for i in range(6)] + ['p', 'q', 'r', 'p', 'q']})
    # a listed set: its list, however few images the rows have; a folder: the fullest cell
    assert set_sizes(rows) == {'set14': 14, 'dir:/x': 3}


def test_partial_cells_are_marked_never_ranked_nor_compared(rows):
    # our red30 at sigma 30 over 6 of Set12's 12 images, at a mean that would be best in its row
    cell = (rows['dataset'] == 'set12') & (rows['method'] == 'red30') & (rows['level'] == 30)
    rows = rows.drop(rows[cell].index[6:])
    rows.loc[rows['dataset'].eq('set12') & rows['method'].eq('red30') & rows['level'].eq(30), 'psnr'] = 35.0
    md = render_table(rows, 'denoise', 'set12')
    row = _md_row(md, 'PSNR', 30)
    assert row['red30'] == '35.00 (6/12)'                      # no bold, no "(paper 29.17, ...)"
    assert [h for h, c in row.items() if '**' in c] == ['RED20 (paper)']
    assert _md_row(md, 'PSNR', 10)['red30'] == '**34.80** (paper 34.81, -0.01)'   # the complete cell as before
    assert '12 images (some cells average only 6)' in md and '(n/N)' in md
    assert _md_row(render_table(rows, 'denoise', 'set12', fmt='paper'), 'PSNR', 30)['RED30'] == '35.00 (6/12)'
    tex = render_table(rows, 'denoise', 'set12', fmt='latex')
    assert r'& 28.20 & 35.00\textsuperscript{(6/12)} \\' in tex
    assert '30 & $-0.29$ & --' in tex                           # left out of ours minus paper


def test_readme_describes_the_table_files_written(rows, tmp_path):
    from tests.conftest import ROOT
    section = (ROOT / 'README.md').read_text().split('Each run writes the following to `DIR`:')[1]
    section = section.split('- `run.json`')[0]
    written = {re.sub(r'^table_(denoise|sr)_(set12|bsd200-half|set5)', 'table_<task>_<dataset>', p.name)
               for p in write_tables(rows, tmp_path)}
    assert written == set(re.findall(r'`(table_<task>_<dataset>[^`]*|tables\.md)`', section))
    assert r'\label{tab:redbench-<task>-<dataset>}' in section and '-diff}' in section
    # its example cells are cells of the committed tables
    examples = re.findall(r'`(\d+\.\d+ \((?:paper [^`]*|\d+/\d+)\))`', section)
    committed = '\n'.join(p.read_text() for p in (ROOT / 'results' / 'reproduce').rglob('table_*.md'))
    assert len(examples) == 2 and all(f'| {e} |' in committed for e in examples)
