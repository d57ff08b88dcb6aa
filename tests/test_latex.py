"""The LaTeX tables compile in a plain one-column article and fit its \\textwidth.

Every table the reproduction writes (from representative rows with all of its methods, levels and a partial cell,
and the committed results/**/table_*.tex) is \\input into `\\documentclass{article}` with booktabs only and
compiled with pdflatex; any error, Overfull \\hbox or float taller than a page fails. Without pdflatex the
compile is skipped here, but it fails under CI=true: .ci/run installs texlive-latex-recommended.
"""
import os
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from redbench.datasets.fetch import image_count
from redbench.evaluation.tables import render_single_vs_separate, render_table

from tests.conftest import ROOT

DENOISE = ('noisy', 'bm3d', 'tv', 'red10', 'red20', 'red30', 'red30+', 'red10-single', 'red20-single', 'red30-single',
           'red30-single+')
SR = ('bicubic', 'srcnn', 'red10', 'red20', 'red30', 'red30+', 'red10-single', 'red20-single', 'red30-single',
      'red30-single+')
SIGMAS, SCALES = (10, 30, 50, 70), (2, 3, 4)
EXPERIMENT = 'net:results/experiments/noise-red10-s30/noise-red10-s30'
SMALLER_THAN_SMALL = (r'\footnotesize', r'\scriptsize', r'\tiny', r'\resizebox', r'\scalebox', r'\adjustbox')


def pdflatex() -> str:
    """The pdflatex to compile with; a skip without one, or a failure under CI=true (CI must run this)."""
    found = shutil.which('pdflatex')
    if found:
        return found
    if os.environ.get('CI') == 'true':
        pytest.fail('pdflatex is missing under CI=true: .ci/run installs it (apt-get install '
                    'texlive-latex-recommended), and CI must compile the LaTeX tables')
    pytest.skip('pdflatex is not installed (Debian: apt-get install --no-install-recommends '
                'texlive-latex-recommended); '
                'under CI=true this is a failure')


def _rows() -> pd.DataFrame:
    """Every method the reproduction evaluates, at every level, on every paper set and one set without a paper
    table; each set has all its images, except red30-single+ on Set14 at x3 (6 of 14, a partial cell)."""
    rng = np.random.default_rng(0)
    out = []

    def add(task, dataset, methods, levels, images=None):
        n = images or image_count(dataset)
        for level in levels:
            base = 40.0 - level / 5 if task == 'denoise' else 38.0 - 3 * level
            for k, method in enumerate(methods):
                gain = -12.0 if method in ('noisy', 'bicubic') else 0.1 * k
                for image in range(n if (dataset, method, level) != ('set14', 'red30-single+', 3) else 6):
                    psnr = base + gain + rng.normal(0, 0.5)
                    out.append({'task': task, 'dataset': dataset, 'image': f'{image:03d}', 'method': method,
                                'level': level, 'psnr': psnr, 'ssim': min(0.9999, psnr / 42), 'seconds': 1.0,
                                'weights': f'{method}@{"0" * 64}'})

    for dataset in ('set12', 'bsd200-half'):
        add('denoise', dataset, DENOISE, SIGMAS)
    add('denoise', 'bsd68', DENOISE + (EXPERIMENT,), SIGMAS)
    # a folder of one's own images, every sigma from 10 to 70 and a dozen trained networks: several floats
    add('denoise', 'dir:/data/mine', DENOISE + tuple(f'net:runs/r{i}/red10-s30' for i in range(12)),
        tuple(range(10, 80, 10)), images=8)
    for dataset in ('set5', 'set14', 'bsd100'):
        add('sr', dataset, SR, SCALES)
    return pd.DataFrame(out)


def _generated() -> dict[str, str]:
    rows = _rows()
    out = {}
    for task, dataset in rows[['task', 'dataset']].drop_duplicates().itertuples(index=False):
        out[f'{task}_{dataset}.tex'] = render_table(rows, task, dataset, 'latex')
    # Tables 6-7 (the report's single-model tables), in LaTeX too
    out['single_denoise_set12.tex'] = render_single_vs_separate(rows, 'denoise', 'set12', fmt='latex')
    out['single_sr_set14.tex'] = render_single_vs_separate(rows, 'sr', 'set14', fmt='latex')
    return out


def _committed() -> dict[str, str]:
    paths = sorted((ROOT / 'results').rglob('table_*.tex'))
    assert paths, 'no committed results/**/table_*.tex'
    return {'_'.join(p.relative_to(ROOT).parts): p.read_text() for p in paths}


FRAGMENTS = {'generated': _generated, 'committed': _committed}


def _check_source(name: str, tex: str) -> list[str]:
    problems = []
    if r'\documentclass' in tex or r'\usepackage' in tex or r'\begin{document}' in tex:
        problems.append(f'{name}: not a fragment to \\input')
    problems += [f'{name}: {cmd} makes the table smaller than \\small' for cmd in SMALLER_THAN_SMALL if cmd in tex]
    tables = tex.count(r'\begin{table}')
    if not tables or tables != tex.count(r'\end{table}') or tex.count(r'\small') != tables:
        problems.append(f'{name}: every table float sets \\small')
    if r'\hline' in tex or tex.count(r'\toprule') != tex.count(r'\bottomrule') or r'\midrule' not in tex:
        problems.append(f'{name}: booktabs rules only')
    captions = re.findall(r'\\caption\{(.*)\}\n', tex)
    if len(captions) != tables or [c for c in captions if re.match(r'Table\s*\d', c)]:
        problems.append(f'{name}: one caption per float, none starting with "Table N" (LaTeX numbers it)')
    if len(re.findall(r'\\label\{tab:[^}]+\}', tex)) != tables:
        problems.append(f'{name}: one \\label per float')
    if '(paper ' in tex or 'Weights' in tex or re.search(r'@[0-9a-f]{6}', tex):
        problems.append(f'{name}: the long notes (paper values beside ours, weights) belong in the markdown')
    return problems


@pytest.mark.parametrize('which', sorted(FRAGMENTS))
def test_latex_sources_are_short_booktabs_fragments(which):
    fragments = FRAGMENTS[which]()
    problems = [p for name, tex in fragments.items() for p in _check_source(name, tex)]
    assert not problems, '\n'.join(problems)


def test_generated_tables_cover_the_partial_cell_and_split_wide_tables():
    fragments = _generated()
    set14 = fragments['sr_set14.tex']
    assert r'\textsuperscript{(6/14)}' in set14
    # a partial cell is never bold or underlined
    assert not re.search(r'\\(textbf|underline)\{[\d.]+\}\\textsuperscript', set14)
    # Set12 has 5 published-only columns and 11 of ours: more than one tabular, in one float
    set12 = fragments['denoise_set12.tex'].split(r'\end{table}')[0]
    assert set12.count(r'\begin{tabular}{') >= 2
    # 23 columns at 7 sigmas do not fit one page: further floats, each with its own label
    mine = fragments['denoise_dir:/data/mine.tex']
    assert r'\caption{Continued from Table~\ref{tab:redbench-denoise-dir_data_mine}.}' in mine
    assert r'\label{tab:redbench-denoise-dir_data_mine-2}' in mine


def _compile(fragments: dict[str, str], tmp_path) -> str:
    exe = pdflatex()
    body = []
    for i, (name, tex) in enumerate(sorted(fragments.items())):
        (tmp_path / f'frag{i}.tex').write_text(tex)
        body += [f'% {name}', rf'\input{{frag{i}.tex}}', r'\clearpage']
    (tmp_path / 'doc.tex').write_text('\n'.join([r'\documentclass{article}', r'\usepackage{booktabs}',
                                                 r'\begin{document}', *body, r'\end{document}', '']))
    done = subprocess.run([exe, '-interaction=nonstopmode', '-halt-on-error', 'doc.tex'], cwd=tmp_path, check=False,
                          capture_output=True, text=True, timeout=300)
    log = (tmp_path / 'doc.log').read_text(errors='replace') if (tmp_path / 'doc.log').exists() else done.stdout
    assert done.returncode == 0, f'pdflatex failed:\n{log[-3000:]}'
    return log


def _problems(log: str) -> list[str]:
    lines = log.splitlines()
    bad = [i for i, ln in enumerate(lines)
           if ln.startswith('!') or 'Overfull \\hbox' in ln or 'Float too large' in ln]
    return ['\n'.join(lines[max(0, i - 3):i + 3]) for i in bad]


@pytest.mark.parametrize('which', sorted(FRAGMENTS))
def test_latex_tables_compile_and_fit_a_one_column_article(which, tmp_path):
    fragments = FRAGMENTS[which]()
    log = _compile(fragments, tmp_path)
    problems = _problems(log)
    assert not problems, f'{which} tables ({", ".join(sorted(fragments))}):\n' + '\n---\n'.join(problems)
    assert re.search(r'Output written on doc\.pdf \(\d+ pages?', log)


def test_overfull_tables_are_caught(tmp_path):
    """The check itself: a table wider than the text fails it."""
    wide = ('\\begin{table}\n\\small\n\\caption{x}\\label{tab:x}\n\\begin{tabular}{' + 'c' * 30 + '}\n\\toprule\n'
            + ' & '.join(['00.000'] * 30) + ' \\\\\n\\bottomrule\n\\end{tabular}\n\\end{table}\n')
    assert _problems(_compile({'wide': wide}, tmp_path))


def test_missing_pdflatex_skips_here_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(shutil, 'which', lambda name: None)
    monkeypatch.setenv('CI', 'true')
    with pytest.raises(pytest.fail.Exception, match='CI'):
        pdflatex()
    monkeypatch.delenv('CI')
    with pytest.raises(pytest.skip.Exception, match='texlive-latex-recommended'):
        pdflatex()
