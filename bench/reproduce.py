"""`redbench reproduce` (`run_bench.py --reproduce`): every table and figure of the paper, then results/REPORT.md.

Everything is cached: evaluation rows in results/reproduce/*/rows.csv, training
experiments in results/experiments/, figures in results/figures/. A rerun with
nothing new computes nothing and only re-renders the report.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from redbench.core.defaults import DATASETS, PAPER_LEVELS
from redbench.core.errors import UserError
from redbench.reporting.released import FOLDER as RELEASED_FOLDER
from redbench.reporting.report_figures import (NOISE_NET, ROOT, figure_notes, make_figures, runnable_methods,
                                              with_headline_figure)
from redbench.evaluation.runner import RunConfig, run

SIGMAS, SCALES = list(PAPER_LEVELS["denoise"]), list(PAPER_LEVELS["sr"])
SR_SETS = list(DATASETS["sr"])
NOISE_SIGMAS = [10, 20, 30, 40, 50, 60, 70]


def _say(message: str) -> None:
    print(f"[reproduce {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fourteen_available(data_dir: str | None) -> bool:
    from redbench.datasets.fetch import dataset_files
    try:
        dataset_files("fourteen", data_dir, download=False)
        return True
    except UserError:
        return False


def evaluation_runs(data_dir: str | None) -> list[tuple[str, RunConfig]]:
    """(folder, config) for every evaluation the report needs; the Table 1 set depends on the data at hand."""
    table1 = "fourteen" if fourteen_available(data_dir) else "set12"
    d, s, r = ROOT / "reproduce" / "denoise", ROOT / "reproduce" / "sr", ROOT / RELEASED_FOLDER
    # the authors' released architecture joins the released-networks section once its networks are trained
    c128 = [m for m in ("red30-c128",) if not runnable_methods("denoise", 50, [m])[1]]
    # most important first, so a run cut short still has the main tables
    return [
        # 'noisy' and 'bicubic' are the identity baselines: what doing nothing scores, in every table
        ("denoise", RunConfig("denoise", SIGMAS, [table1, "bsd200-half"], ["noisy", "bm3d", "tv", "red10", "red20", "red30"], out=str(d))),
        ("sr", RunConfig("sr", SCALES, SR_SETS, ["bicubic", "srcnn", "red10", "red20", "red30"], out=str(s))),
        # Tables 6-7: one network for all levels
        ("denoise", RunConfig("denoise", SIGMAS, [table1, "bsd200-half"], ["red30-single"], out=str(d))),
        ("sr", RunConfig("sr", SCALES, SR_SETS, ["red30-single"], out=str(s))),
        # the section "Against the authors' released networks": BSD68, where later papers measured the release
        ("released", RunConfig("denoise", SIGMAS, ["bsd68"], ["noisy", "bm3d", "red30", *c128], out=str(r))),
        # the section 2.2 experiment measures networks away from the levels they were trained for, on purpose
        ("noise-level", RunConfig("denoise", NOISE_SIGMAS, ["set12"], ["noisy", "red10-single", NOISE_NET],
                                  out=str(ROOT / "reproduce" / "noise-level"), allow_untrained_levels=True)),
        # x8 ensemble beside every RED30 cell (the authors' code always averages the 8 orientations); it costs
        # 8 restorations, so it runs last, small sets first: a run cut short still has the main tables
        ("denoise", RunConfig("denoise", SIGMAS, [table1], ["red30+", "red30-single+"], out=str(d))),
        ("sr", RunConfig("sr", SCALES, ["set5", "set14"], ["red30+", "red30-single+"], out=str(s))),
        ("denoise", RunConfig("denoise", SIGMAS, ["bsd200-half"], ["red30+", "red30-single+"], out=str(d))),
        ("sr", RunConfig("sr", SCALES, ["bsd100"], ["red30+", "red30-single+"], out=str(s))),
        ("released", RunConfig("denoise", SIGMAS, ["bsd68"], ["red30+", *(f"{m}+" for m in c128)], out=str(r))),
        *(("released", RunConfig("denoise", [50], ["set12"], [m, f"{m}+"], out=str(r))) for m in c128),
    ]


def network_runs(data_dir: str | None, datasets: list[str] | None = None) -> list[tuple[str, RunConfig]]:
    """The evaluation runs cut to their network methods (RED, SRCNN: what a GPU speeds up), and to `datasets`
    when given: what a GPU call evaluates (scripts/gpu_campaign.sh; scripts/gpu_prepare.py bundles their data)."""
    from redbench.evaluation.runner import load_method
    out = []
    for label, config in evaluation_runs(data_dir):
        config = replace(config, methods=[m for m in config.methods if load_method(m, config.task).uses_torch],
                         datasets=[d for d in config.datasets if datasets is None or d in datasets])
        if config.methods and config.datasets:
            out.append((label, config))
    return out


def reproduce(jobs: int = 0, data_dir: str | None = None, train: bool = True, force_figures: bool = False,
              argv: list[str] | None = None, budget_scale: float = 1.0, backend: str = "loky",
              scheduler: str | None = None, progress: bool | None = None, command: str = "redbench reproduce",
              device: str = "auto", networks_only: bool = False, datasets: list[str] | None = None) -> Path | None:
    """Train the missing experiments, evaluate the missing rows (on `backend`), then write_report.
    `networks_only`: only the network cells (of `datasets`, if given), no experiments and no report."""
    from redbench.reporting.experiments import EXPERIMENTS, is_done, run_experiment
    for exp in [] if networks_only else EXPERIMENTS:
        if is_done(exp):
            continue
        if not train:
            raise UserError(f"experiment {exp.name} has no stored log; run without --no-train to train it.")
        _say(f"training experiment {exp.name}")
        run_experiment(exp, data_dir, scale=budget_scale, device=device)
    runs = network_runs(data_dir, datasets) if networks_only else evaluation_runs(data_dir)
    for label, config in runs:
        config = replace(config, jobs=jobs, data_dir=data_dir, backend=backend, scheduler=scheduler, device=device)
        _say(f"evaluating {label}: {','.join(config.methods)} on {','.join(config.datasets)}")
        totals = run(config, argv or [], progress=sys.stderr.isatty() if progress is None else progress,
                     command=command)
        _say(f"  {totals['computed']} computed, {totals['reused']} reused, {totals['wall_seconds']:.0f} s")
    return None if networks_only else write_report(data_dir, force_figures)


# Other commands the report lists as they are (evaluation commands are in each run's record).
COMMANDS = ("python run_bench.py --reproduce --jobs 2   # this report; cached rows and logs are reused",
            "python run_bench.py reproduce --render-only   # re-render only",
            "python run_bench.py train --plan campaign/plan.toml   # the training campaign (resumable)",
            "python scripts/bench_speed.py              # training / inference speed")


def write_report(data_dir: str | None = None, force_figures: bool = False) -> Path:
    """Figures (cached), the table files, and results/REPORT.md from the stored rows and logs; evaluates and
    trains nothing.

    Render only: redbench reproduce --render-only
    """
    from redbench.reporting.experiments import EXPERIMENTS
    from redbench.evaluation.folder_tables import write_folder_tables
    from redbench.reporting.report import render_report
    from redbench.reporting.report_data import Figure, load_experiment_cards, load_input
    for rows_csv in sorted((ROOT / "reproduce").rglob("rows.csv")):
        write_folder_tables(rows_csv.parent)
    paths, notes = make_figures(data_dir, force_figures, _say), figure_notes()
    report_input = load_input(
        ROOT / "reproduce", figures=tuple(Figure(title, path, notes.get(title, "")) for title, path in paths.items()),
        commands=COMMANDS,
        experiments=load_experiment_cards(ROOT / "experiments", [e.name for e in EXPERIMENTS]))
    report = render_report(with_headline_figure(report_input), ROOT / "REPORT.md")
    _say(f"report: {report}")
    return report

