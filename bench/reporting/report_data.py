"""What results/REPORT.md is rendered from, loaded once into a typed, frozen ReportInput.

Nothing is restored again: the rows come from the rows.csv files under a results folder (only those the
installed weights made, by the rule the table files use: folder_tables.table_rows), the run records from
run.json / runs.jsonl beside them, and the model cards from methods/weights/. The rows summary is computed
here, once, and every section reads it from the input.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from redbench.evaluation.folder_tables import ROWS_CSV, read_rows_csv, table_rows
from redbench.evaluation.installed import WeightsLookup, installed_lookup
from redbench.evaluation.rows import KEY
from redbench.evaluation.tables import covered_summary
from redbench.core.weights_id import weights_name


@dataclass(frozen=True)
class RowSources:
    """Where the rows came from and what was left out of them."""
    files: dict = field(default_factory=dict)   # folder (relative to the results folder) -> rows in its rows.csv
    duplicates: int = 0                          # rows found in two folders; the first folder's copy is kept
    stale: int = 0                               # made by weights or parameters no longer installed
    other_draws: int = 0                         # another seed or clip setting of a cell that shows one


@dataclass(frozen=True)
class Figure:
    title: str
    path: str          # relative to the report
    note: str = ''     # generated from the data the figure shows (report_figures.figure_notes)


@dataclass(frozen=True)
class ReportInput:
    """Everything the report says, as data. `summary` is tables.covered_summary(rows): one row per task, dataset,
    method and level with mean psnr/ssim/seconds, n_images, n_total and partial."""
    rows: pd.DataFrame
    summary: pd.DataFrame
    sources: RowSources = RowSources()
    runs: tuple = ()                 # (folder, run record), oldest first
    cards: tuple = ()                # model cards of the networks behind the rows
    experiments: tuple = ()          # model cards of the training experiments behind the figures
    results_dir: Path = Path('results')
    figures: tuple = ()              # Figure
    headline: tuple | None = None    # findings.headline_cells, computed once (findings.with_headline)
    headline_figure: str = ''        # the headline's figure (figures.headline_figure), relative to the report
    commands: tuple = ()             # other commands (training, figures), shown as they are
    deviations: tuple = ()           # deviations known to the caller, beside those found in the data
    title: str = 'RED-Net reproduction report'
    n_boot: int = 10000              # bootstrap resamples of the paired comparisons
    seed: int = 0

    @classmethod
    def from_rows(cls, rows: pd.DataFrame, **fields) -> ReportInput:
        """An input over rows already selected (tests, or a caller with its own rows)."""
        return cls(rows=rows, summary=covered_summary(rows), **fields)


def _rel(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return rel if rel != '.' else './'


def load_rows(results_dir: Path, weights_now: WeightsLookup | None = None) -> tuple[pd.DataFrame, RowSources]:
    """All rows.csv under results_dir, each folder's cut to the rows its tables show (folder_tables.table_rows),
    with a `folder` column; a key found in two folders keeps its first copy (folders in name order)."""
    results_dir = Path(results_dir)
    lookup = weights_now or installed_lookup()
    frames, files, stale, other = [], {}, 0, 0
    for path in sorted(results_dir.rglob(ROWS_CSV)):
        folder = _rel(path.parent, results_dir)
        frame = read_rows_csv(path.parent)
        files[folder] = len(frame)
        shown = table_rows(frame, weights_now=lookup)
        stale, other = stale + shown.stale, other + shown.other_draws
        # where each row is stored, so the report can name the folder a missing cell's command writes to
        frames.append(shown.rows.assign(folder=folder))
    if not frames:
        raise ValueError(f"no {ROWS_CSV} under {results_dir}")
    rows = pd.concat(frames, ignore_index=True)
    # the same cell computed by two runs must not count twice in the means
    duplicated = rows[KEY].astype(str).duplicated(keep='first')
    return rows[~duplicated].reset_index(drop=True), RowSources(files, int(duplicated.sum()), stale, other)


def load_runs(results_dir: Path) -> tuple:
    """(folder relative to results_dir, run record) for every run that wrote into a folder, oldest first.

    runs.jsonl keeps every run (run.json only the latest that computed), so it is read when present;
    a folder with only run.json contributes that one record."""
    results_dir = Path(results_dir)
    out = []
    for path in sorted(results_dir.rglob('run.json')):
        folder, history = _rel(path.parent, results_dir), path.with_name('runs.jsonl')
        if history.is_file():
            out += [(folder, json.loads(line)) for line in history.read_text().splitlines() if line.strip()]
        else:
            out.append((folder, json.loads(path.read_text())))
    return tuple(out)


def load_cards(weights_dir: Path | None = None) -> list:
    """Every model card in weights_dir (default: the installed weights, methods/weights/)."""
    from redbench.methods.weights import WEIGHTS_DIR, read_card
    directory = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    return [read_card(p.stem, directory) for p in sorted(directory.glob('*.json'))]


def load_experiment_cards(experiments_dir: Path, names) -> tuple:
    """The model cards of the training experiments `names` (results/experiments/<name>/<name>.json) that exist."""
    from redbench.methods.weights import read_card
    folder = Path(experiments_dir)
    return tuple(read_card(name, folder / name) for name in names if (folder / name / f"{name}.json").is_file())


def cards_behind(rows: pd.DataFrame, runs, cards) -> tuple:
    """The cards of the weights that made rows (the folder may hold newer, unused ones)."""
    used = {w.get('weights') for _, run in runs for w in (run.get('weights') or {}).values() if isinstance(w, dict)}
    used |= {weights_name(w) for w in rows['weights'].unique()} if 'weights' in rows.columns else set()
    return tuple(c for c in cards if c.name in used)


def load_input(results_dir: Path, weights_now: WeightsLookup | None = None, weights_dir: Path | None = None,
               **fields) -> ReportInput:
    """The report's input from a results folder; `fields` are ReportInput's other fields (figures, commands,
    experiments, deviations, title, n_boot, seed)."""
    results_dir = Path(results_dir)
    rows, sources = load_rows(results_dir, weights_now)
    runs = load_runs(results_dir)
    cards = cards_behind(rows, runs, load_cards(weights_dir))
    return ReportInput(rows=rows, summary=covered_summary(rows), sources=sources, runs=runs, cards=cards,
                       results_dir=results_dir, **fields)
