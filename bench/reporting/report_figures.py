"""The report's figures and what is written beside them: which figures (titles, files), when a figure is redrawn,
and each figure's note, generated from the stored logs, rows and model cards (results/REPORT.md, ## Figures).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from redbench.core.errors import UserError
from redbench.reporting.experiments import DECISIVE, RESULTS as SHORT_RUNS
from redbench.reporting.figure3 import BLOCKS

ROOT = Path("results")
NOISE_NET = "net:results/experiments/noise-red10-s30/noise-red10-s30"

# the report's figure titles
FIG3A_TITLE = "Figure 3(a): stride-3 network with and without skips"
FIG3B_TITLE = "Figure 3(b): training loss, plain vs skip networks"
FIG3C_TITLE = "Figure 3(c): RED skips vs He et al. skips"
NOISE_TITLE = "Section 2.2: one-sigma network vs all-sigma network"


# (title, task, dataset, image, level, methods) of the report's side-by-side crops
VISUAL_GRIDS = [("Visual comparison: Set12 'House', sigma 50", "denoise", "set12", "02", 50,
                 ["bm3d", "tv", "red10", "red20", "red30"]),
                ("Visual comparison: Set14 'zebra', x3", "sr", "set14", "zebra", 3,
                 ["bicubic", "srcnn", "red10", "red20", "red30"])]


def runnable_methods(task: str, level, methods: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """({method: weights_id at this level} of the methods that can run now, {method left out: why})."""
    from redbench.methods.registry import trained_at

    from redbench.core.degradations import make_degradation
    from redbench.evaluation.runner import load_method
    kept, left = {}, {}
    for name in methods:
        try:
            method = load_method(name, task)
            if not trained_at(method, level):
                left[name] = "not trained at this level yet"
                continue
            kept[name] = method.weights_id(make_degradation(task, level, False))
        except UserError as exc:
            left[name] = str(exc)
    return kept, left


def make_figures(data_dir: str | None, force: bool = False,
                 say: Callable[[str], None] = lambda message: None) -> dict[str, str]:
    """Figures for the report. A Figure 3 picture is redrawn when the runs its verdict rests on change; the
    section 2.2 plot is redrawn from the installed weights' rows every time; a visual grid is redrawn when the
    weights of its methods differ from those recorded beside it (figures/<name>.json). `say` hears of each
    figure drawn."""
    import json

    from redbench.reporting import figures
    from redbench.core.atomic import write_text_atomic
    out = ROOT / "figures"
    out.mkdir(parents=True, exist_ok=True)
    made = {}
    for panel, title in FIG3_PANELS.items():
        # from the runs the panel's verdict rests on; drawn again when they change (figures/fig3x.json)
        path = out / f"fig{panel}.png"
        if figures.draw_figure3(panel, path, data_dir, force):
            say(f"rendered {path}")
        if path.exists():
            made[title] = f"figures/{path.name}"
    rows = noise_level_rows()
    figures.noise_level_plot(rows, {k: v for k, v in NOISE_COLUMNS.items() if k != "noisy" and k in set(rows.method)},
                             out / "noise_level.png", "set12")
    made[NOISE_TITLE] = "figures/noise_level.png"
    for title, task, dataset, image, level, methods in VISUAL_GRIDS:
        path = visual_path(task, dataset, image, level)
        weights, left = runnable_methods(task, level, methods)
        record = path.with_suffix(".json")
        drawn = json.loads(record.read_text()).get("weights") if record.exists() else None
        if force or not path.exists() or drawn != weights:
            from redbench.reporting.visual import comparison_grid
            say(f"rendering {path}" + "".join(f"; {name} left out: {why}" for name, why in left.items()))
            result = comparison_grid(task, dataset, image, level, list(weights), path, data_dir=data_dir)
            write_text_atomic(record, json.dumps({"weights": weights, "left_out": sorted(left),
                                                  "psnr": result["psnr"], "crop": list(result["crop"])}, indent=1))
        made[title] = f"figures/{path.name}"
    return made


def visual_path(task: str, dataset: str, image: str, level) -> Path:
    return ROOT / "figures" / f"visual_{dataset}_{image}_{'sigma' if task == 'denoise' else 'x'}{level}.png"


def visual_note(task: str, dataset: str, image: str, level) -> str:
    """What the grid shows, from the record written beside it: PSNR per panel and the methods left out."""
    import json

    from redbench.core.weights_id import short_weights_id
    record = visual_path(task, dataset, image, level).with_suffix(".json")
    if not record.exists():
        return ""
    drawn = json.loads(record.read_text())
    shown = "; ".join(f"{name} {value:.2f} dB" for name, value in drawn["psnr"].items())
    text = f"PSNR of the whole image: {shown}. Weights: " + ", ".join(
        short_weights_id(w) for w in drawn["weights"].values()) + "."
    if drawn.get("left_out"):
        text += (f" Left out, with no trained network at this level yet: {', '.join(drawn['left_out'])}; "
                 "the grid is redrawn when the weights change.")
    return text


FIGURE_NOTES = {
    FIG3B_TITLE: "Read off the stored logs: compare where each curve ends; a plain network that fails to train "
                 "within the budget stays near the noise variance (the identity).",
}
FIG3_PANELS = {"3a": FIG3A_TITLE, "3b": FIG3B_TITLE, "3c": FIG3C_TITLE}
# The paper's Figure 3(c) curve names -> our experiment, from figure3.BLOCKS (block size -> (RED run, He et al. run))
FIG3C_OURS = {f"Block-{block}-{kind}": name for block, pair in BLOCKS.items()
              for kind, name in zip(("RED", "He et al."), pair)}


def fig3c_note(decisive_dir: Path = DECISIVE, short_dir: Path = SHORT_RUNS) -> str:
    """The caption's end-of-training PSNR beside our last validation PSNR, curve by curve, from the runs the
    verdict rests on (figure3.panel_runs)."""
    from redbench.methods.paper_numbers import FIGURE_3C

    from redbench.core.markdown import md_table
    from redbench.reporting.figure3 import TAIL, how_validated, last_validation, panel_runs
    groups = panel_runs("3c", decisive_dir, short_dir)
    if groups is None:
        return ""
    runs = {name: run for group in groups for name, run in group.runs.items()}
    ours = {curve: last_validation(runs[name]) for curve, name in FIG3C_OURS.items()}
    lines = [[curve, f"{paper:.2f}", f"{ours[curve][1]:.2f}", f"{ours[curve][0]:,}", FIG3C_OURS[curve]]
             for curve, paper in FIGURE_3C]
    paper, mine = dict(FIGURE_3C), {c: v for c, (_, v) in ours.items()}
    gaps = "; ".join(f"block {b}: paper {paper[f'Block-{b}-RED'] - paper[f'Block-{b}-He et al.']:+.2f}, ours "
                     f"{mine[f'Block-{b}-RED'] - mine[f'Block-{b}-He et al.']:+.2f}" for b in (2, 4))
    return ("PSNR at the last iteration: the paper's values from the Figure 3(c) caption (curve order inferred, "
            "see Protocol; noise level and test images not stated) beside ours (the last validation PSNR of each "
            f"experiment: {how_validated(groups)}). Absolute values are not comparable; the "
            f"order within a block size is. RED minus He et al.: {gaps} (the verdict above averages the last "
            f"{TAIL:.0%} of each run's validations instead, so that one noisy validation does not decide).\n\n"
            + md_table(["curve (paper's name)", "paper (dB)", "ours (dB)", "our last iteration", "our experiment"],
                       lines))


NOISE_COLUMNS = {NOISE_NET: "RED10 trained at sigma 30 only", "red10-single": "RED10, one model for all sigmas",
                 "noisy": "noisy input"}


def noise_level_rows(results: Path = ROOT / "reproduce" / "noise-level", weights_now=None):
    """The section 2.2 rows, those of the installed weights (report_data.load_rows)."""
    from redbench.reporting.report_data import load_rows
    return load_rows(results, weights_now)[0]


def trained_sigmas(rows, method: str) -> list[float] | None:
    """The noise levels the network behind `method`'s rows was trained at, from its model card (None: no card)."""
    from redbench.methods.weights import WEIGHTS_DIR, read_card, split_ref

    from redbench.core.weights_id import weights_name
    names = {weights_name(w) for w in rows.loc[rows["method"] == method, "weights"]}
    directory = split_ref(method[4:])[1] if method.startswith("net:") else WEIGHTS_DIR
    try:
        cards = [read_card(name, directory) for name in sorted(names)]
    except UserError:
        return None
    return sorted({float(level) for card in cards for level in card.levels}) if cards else None


def noise_level_note(results: Path = ROOT / "reproduce" / "noise-level", weights_now=None) -> str:
    """Section 2.2: the paper's single-level model ([1], 14 images) beside our networks and the noisy input."""
    from redbench.methods.paper_numbers import SECTION_2_2

    from redbench.core.markdown import md_table
    from redbench.evaluation.tables import method_label, summarize
    rows = noise_level_rows(results, weights_now)
    means = summarize(rows[rows["dataset"] == "set12"]).set_index(["method", "level"])["psnr"]
    columns = {m: label for m, label in NOISE_COLUMNS.items() if m in means.index.get_level_values("method")}

    def cell(method, level):
        return f"{means[(method, level)]:.2f}" if (method, level) in means.index else "not run"
    levels = sorted(set(rows["level"]) | set(SECTION_2_2))
    lines = [[f"{level:g}", f"{SECTION_2_2[level]:.2f}" if level in SECTION_2_2 else "–",
              *[cell(m, level) for m in columns]] for level in levels]
    # which sigmas each network saw in training, from its model card
    trained = {m: trained_sigmas(rows, m) for m in columns if m != "noisy"}
    said = "; ".join(f"{method_label(m)} at sigma {'/'.join(f'{x:g}' for x in t)}" for m, t in trained.items() if t)
    seen = {x for t in trained.values() if t for x in t}
    unseen = [f"{x:g}" for x in sorted(set(rows["level"])) if float(x) not in seen]
    training = (f" Trained, by the model cards: {said}" + (f"; {', '.join(unseen)} are levels no network here saw in "
                                                  "training" if unseen else "") + ".") if said else ""
    return ("Mean PSNR (dB). Paper: the trained model of Burger et al. [1] (one noise level, not stated which) "
            f"on the 14 images, section 2.2. Ours: on Set12 (substitute for the 14 images).{training} The "
            "paper's claim: 'the parameters trained on a single noise level cannot handle different levels of "
            "noises well'.\n\n"
            + md_table(["sigma", "paper: model of [1], 14 images", *[f"ours: {v}" for v in columns.values()]], lines))


def figure_notes() -> dict[str, str]:
    from redbench.reporting.figure3 import verdict_lines
    notes = dict(FIGURE_NOTES)
    notes[FIG3C_TITLE] = fig3c_note()
    for (panel, title), verdict in zip(FIG3_PANELS.items(), verdict_lines()):
        # each panel's claim, and whether our runs support it at their budget (bench/reporting/figure3.py)
        notes[title] = "\n\n".join(part for part in (verdict.removeprefix("- "), notes.get(title, "")) if part)
    notes[NOISE_TITLE] = noise_level_note()
    for title, *grid in VISUAL_GRIDS:
        if visual_note(*grid[:4]):
            notes[title] = visual_note(*grid[:4])
    return notes


def with_headline_figure(report_input):
    """The input with its headline cells (findings.with_headline) and the figure drawn from them
    (figures/headline.png), where there are cells."""
    from dataclasses import replace

    from redbench.reporting.figures import headline_figure
    from redbench.reporting.findings import WITHIN_DB, headline_rows, with_headline
    report_input = with_headline(report_input)
    cells = list(report_input.headline)
    if not cells:
        return report_input
    sets = [(r["task"], r["dataset"]) for r in headline_rows(cells)]
    headline_figure(cells, sets, ROOT / "figures" / "headline.png", WITHIN_DB)
    return replace(report_input, headline_figure="figures/headline.png")
