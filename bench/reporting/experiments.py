"""The paper's training experiments (Figure 3 and the noise-level study of section 2.2).

Each experiment is a short training run with a fixed budget. Its log and model card
(and, for the small networks of Figure 3(a), its weights) are kept under
results/experiments/<name>/, so the figures are re-rendered from stored logs
and a rerun with nothing new trains nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from redbench.core.atomic import copy_atomic
from redbench.training.train import TrainConfig, train

RESULTS = Path("results/experiments")
WORK = Path("runs/experiments")
# Figure 3 at a budget that can decide its claims (a GPU call: docs/gpu.md): 20,000 updates at the paper's
# learning rate (Adam, 1e-4 constant) instead of 120 at 1e-3; kept apart, in results/experiments-20k/
DECISIVE = Path("results/experiments-20k")
DECISIVE_SETTINGS = dict(iters=20000, lr=1e-4, recipe="paper", val_every=500, log_every=100, minutes=None,
                         checkpoint_seconds=120.0)

# Figure 3(b)/(c): same data, recipe and budget for every network so curves compare per iteration
# constant lr 1e-3 rather than the paper's 1e-4: with a budget of minutes, 1e-4 barely leaves the identity
_CURVES = dict(task="denoise", levels="30", recipe="paper", lr=1e-3, patch=40, batch_size=16, iters=120,
               val_every=20, log_every=5, checkpoint_seconds=60.0)


@dataclass(frozen=True)
class Experiment:
    name: str
    figure: str
    label: str
    config: dict = field(default_factory=dict)
    keep_weights: bool = False


EXPERIMENTS = [
    # (a) stride-3 encoder-decoder on 243x243 inputs, sigma 70
    Experiment("fig3a-skip", "3a", "with skips", dict(model="strided5", task="denoise", levels="70", patch=243,
               batch_size=8, minutes=2.0, recipe="fast", val_every=25, log_every=5), keep_weights=True),
    Experiment("fig3a-noskip", "3a", "without skips", dict(model="strided5-noskip", task="denoise", levels="70",
               patch=243, batch_size=8, minutes=2.0, recipe="fast", val_every=25, log_every=5), keep_weights=True),
    # (b) training loss of plain 10/20/30-layer networks and 20/30 with symmetric skips
    Experiment("fig3b-red10-noskip", "3b", "10 layers, no skips", dict(_CURVES, model="red10", skip="none")),
    Experiment("fig3b-red20-noskip", "3b", "20 layers, no skips", dict(_CURVES, model="red20", skip="none")),
    Experiment("fig3b-red30-noskip", "3b", "30 layers, no skips", dict(_CURVES, model="red30", skip="none")),
    Experiment("fig3b-red20-skip", "3b", "20 layers, RED skips", dict(_CURVES, model="red20", skip="red", span=2)),
    Experiment("fig3b-red30-skip", "3b", "30 layers, RED skips", dict(_CURVES, model="red30", skip="red", span=2)),
    # (c) RED symmetric skips against He et al. block shortcuts, block size 2 and 4, 20 layers
    Experiment("fig3c-red-span4", "3c", "RED skips, block 4", dict(_CURVES, model="red20", skip="red", span=4)),
    Experiment("fig3c-he-span2", "3c", "He skips, block 2", dict(_CURVES, model="red20", skip="he", span=2)),
    Experiment("fig3c-he-span4", "3c", "He skips, block 4", dict(_CURVES, model="red20", skip="he", span=4)),
    # section 2.2: a network trained at one sigma, applied at others (RED10, same budget as the shipped RED10)
    Experiment("noise-red10-s30", "noise", "RED10 trained at sigma 30", dict(model="red10", task="denoise",
               levels="30", minutes=8.0, recipe="fast", val_every=100, log_every=10), keep_weights=True),
]
# Figure 3(c) reuses fig3b-red20-skip as "RED skips, block 2"
FIG3C_EXTRA = {"fig3b-red20-skip": "RED skips, block 2"}


def experiment(name: str) -> Experiment:
    return next(e for e in EXPERIMENTS if e.name == name)


def is_done(exp: Experiment, results: Path = RESULTS) -> bool:
    folder = results / exp.name
    return (folder / "log.csv").is_file() and any(folder.glob("*.json"))


def figure3(figure: str | None = None) -> list[Experiment]:
    """The experiments of Figure 3 (all panels, or panel '3a', '3b', '3c'); 3(c) includes its block-2 RED net."""
    return [e for e in EXPERIMENTS if e.figure.startswith("3") and (figure is None or e.figure == figure
                                                                     or (figure == "3c" and e.name in FIG3C_EXTRA))]


def decisive(exp: Experiment) -> Experiment:
    """The experiment at the Figure 3 budget that decides (DECISIVE_SETTINGS); batch, patch and data unchanged."""
    return replace(exp, config={**exp.config, **DECISIVE_SETTINGS})


def run_experiment(exp: Experiment, data_dir: str | None = None, results: Path = RESULTS, work: Path = WORK,
                   scale: float = 1.0, device: str = "auto") -> Path:
    """Train (or resume) one experiment and store its log, card and, if kept, weights."""
    folder = results / exp.name
    if is_done(exp, results):
        return folder
    settings = dict(exp.config, device=device)
    for budget in ("minutes", "iters"):
        if settings.get(budget) is not None and scale != 1.0:
            settings[budget] = type(settings[budget])(max(1, settings[budget] * scale))
    config = replace(TrainConfig(), **settings, out=str(work / exp.name), name=exp.name, data_dir=data_dir)
    weights = train(config)
    folder.mkdir(parents=True, exist_ok=True)
    copy_atomic(work / exp.name / "log.csv", folder / "log.csv")
    copy_atomic(weights.with_suffix(".json"), folder / f"{exp.name}.json")
    if exp.keep_weights:
        copy_atomic(weights, folder / weights.name)
    return folder
