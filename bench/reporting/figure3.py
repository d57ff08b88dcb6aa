"""Figure 3's claims, and whether our training runs support them, read from the stored experiment logs.

Each panel of the paper's Figure 3 makes one claim about training; our runs of the panel either order the
networks as the claim says or not. A verdict is only as good as the budget behind it, so each one names the
budget (updates, learning rate) read from the runs' model cards. Where the 20,000-update runs
(results/experiments-20k/) are complete for a panel they decide it; else the short runs (results/experiments/)
give a provisional verdict. Figure 3(c) is judged per block size, each on the longest complete pair of runs.
panel_runs is the one choice of runs: the verdicts, the figures (figures.py) and the 3(c) note all read it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from redbench.reporting.experiments import DECISIVE, DECISIVE_SETTINGS, RESULTS, figure3

CLAIMS = {
    "3a": "the symmetric skips carry the detail that the stride-3 bottleneck loses: with skips the network "
          "restores better than without",
    "3b": "without skips a deeper network trains worse (a higher training loss); with symmetric skips the deeper "
          "network trains at least as well, and better than the plain network of its depth",
    "3c": "RED's symmetric skips beat He et al.'s block shortcuts at block sizes 2 and 4",
}
TAIL = 0.1   # the end of a run: its last 10% of log rows, averaged, so one noisy row does not decide
SAME = 0.99  # losses within 1% count as equal


@dataclass(frozen=True)
class Run:
    """One stored training run: its folder (log.csv, <name>.json), log and model card."""
    name: str
    folder: Path
    log: pd.DataFrame = field(repr=False, compare=False)
    card: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class Group:
    """Runs compared with one another, all from one folder: the whole panel, or one block size of 3(c)."""
    label: str              # "" for a whole panel, "block 2" / "block 4" for 3(c)
    runs: dict              # experiment name -> Run, in the panel's order
    budget: str             # read from the runs' cards
    steps: str              # their updates, e.g. "120" or "1,903/2,118"
    waiting: tuple          # the group's experiments still without a run at the deciding budget

    @property
    def decisive(self) -> bool:
        return not self.waiting


@dataclass(frozen=True)
class Verdict:
    panel: str
    claim: str
    supports: bool
    measured: str           # the numbers the verdict rests on
    budget: str             # read from the runs' cards
    decisive: bool          # True: every run at the deciding budget; False: some rest on shorter runs
    groups: tuple = ()      # the runs behind it (panel_runs), the same ones its figure draws


TARGET = DECISIVE_SETTINGS["iters"]


def _end(log: pd.DataFrame, column: str) -> float:
    values = log[column].dropna()
    return float(values.tail(max(1, int(len(values) * TAIL))).mean())


def _named(names: list[str], results: Path) -> dict[str, Run] | None:
    out = {}
    for name in names:
        folder = results / name
        card = folder / f"{name}.json"
        if not (folder / "log.csv").is_file() or not card.is_file():
            return None
        card = json.loads(card.read_text())
        out[name] = Run(name, folder, pd.read_csv(folder / "log.csv"), card)
    return out


def _group(label: str, names: list[str], decisive_dir: Path, short_dir: Path) -> Group | None:
    """The named runs from the 20,000-update folder where all are complete there, else from the short runs'
    folder (None: neither has them all): runs of different budgets are never compared with one another."""
    done = _named(names, decisive_dir)
    runs = done if done is not None else _named(names, short_dir)
    if runs is None:
        return None
    cards = [run.card for run in runs.values()]
    return Group(label, runs, _budget(cards), _steps(cards),
                 tuple(n for n in names if not _at_budget(decisive_dir / n, n)))


def _at_budget(folder: Path, name: str) -> bool:
    card = folder / f"{name}.json"
    return ((folder / "log.csv").is_file() and card.is_file()
            and json.loads(card.read_text()).get("iterations", 0) >= TARGET)


# Figure 3(c)'s two comparisons, each decided on its own: a block size whose pair has its 20,000-update runs is
# judged on them even while the other block size still rests on the short runs
BLOCKS = {2: ("fig3b-red20-skip", "fig3c-he-span2"), 4: ("fig3c-red-span4", "fig3c-he-span4")}


def panel_runs(panel: str, decisive_dir: Path = DECISIVE, short_dir: Path = RESULTS) -> tuple[Group, ...] | None:
    """The runs a panel is judged on and drawn from: 3(a) and 3(b) as one group, 3(c) one group per block size;
    each group from the 20,000-update runs where all of its runs are complete, else the short ones.
    None: some group has no complete runs in either folder."""
    if panel == "3c":
        groups = tuple(_group(f"block {b}", list(pair), decisive_dir, short_dir) for b, pair in BLOCKS.items())
    elif panel in ("3a", "3b"):
        groups = (_group("", [exp.name for exp in figure3(panel)], decisive_dir, short_dir),)
    else:
        raise ValueError(f"unknown Figure 3 panel {panel!r}")
    return None if any(g is None for g in groups) else groups


def _steps(cards: list[dict]) -> str:
    return "/".join(f"{s:,}" for s in sorted({c["iterations"] for c in cards}))


def _budget(cards: list[dict]) -> str:
    config = cards[0].get("extra", {}).get("train_config", {})
    lr = f"Adam lr {config['lr']:g}" if config.get("lr") else f"recipe {cards[0]['recipe']}"
    return (f"{_steps(cards)} updates of batch {cards[0]['batch_size']}, {lr}, "
            f"{'; '.join(sorted({c['device'] for c in cards}))}")


def _block_verdict(groups: tuple[Group, ...]) -> Verdict:
    gaps = {}
    for group in groups:
        red, he = group.runs.values()
        gaps[group.label] = _end(red.log, "val_psnr") - _end(he.log, "val_psnr")
    budgets = {group.label: group.budget for group in groups}
    same = len(set(budgets.values())) == 1
    budget = next(iter(budgets.values())) if same else "; ".join(f"{b}: {t}" for b, t in budgets.items())
    # a gap that prints as +0.00 dB is a tie, not a win
    return Verdict("3c", CLAIMS["3c"], all(round(g, 2) > 0 for g in gaps.values()),
                   "validation PSNR at the end, RED minus He et al.: "
                   + "; ".join(f"{b} {g:+.2f} dB" for b, g in gaps.items()), budget,
                   all(g.decisive for g in groups), groups)


def panel_verdict(panel: str, decisive_dir: Path = DECISIVE, short_dir: Path = RESULTS) -> Verdict | None:
    """The verdict of one panel on its panel_runs (None: no complete runs)."""
    groups = panel_runs(panel, decisive_dir, short_dir)
    if groups is None:
        return None
    if panel == "3c":
        return _block_verdict(groups)
    (group,) = groups
    runs, budget = group.runs, group.budget
    if panel == "3a":
        skip, plain = (_end(runs[n].log, "val_psnr") for n in ("fig3a-skip", "fig3a-noskip"))
        return Verdict(panel, CLAIMS[panel], skip > plain,
                       f"validation PSNR at the end: with skips {skip:.2f} dB, without {plain:.2f} dB", budget,
                       group.decisive, groups)
    loss = {n: _end(run.log, "loss") for n, run in runs.items()}
    plain = [loss[f"fig3b-red{d}-noskip"] for d in (10, 20, 30)]
    skip = [loss[f"fig3b-red{d}-skip"] for d in (20, 30)]
    # "no better" with a 1% margin: two plain networks stuck at the identity end within rounding of each other
    no_better = all(deeper >= SAME * shallower for shallower, deeper in zip(plain, plain[1:]))
    holds = no_better and skip[1] <= skip[0] / SAME and skip[0] < plain[1] and skip[1] < plain[2]
    measured = ("training loss at the end: no skips 10/20/30 layers " + " / ".join(f"{v:.5f}" for v in plain)
                + "; RED skips 20/30 layers " + " / ".join(f"{v:.5f}" for v in skip))
    return Verdict(panel, CLAIMS[panel], holds, measured, budget, group.decisive, groups)


def standing(verdict: Verdict) -> str:
    """Which budget decides each group of a verdict: nothing where every run is at the deciding budget; else
    which groups are decided, and for each provisional one the networks still without a run at that budget."""
    if verdict.decisive:
        return ""
    parts = []
    for group in verdict.groups:
        who = f"{group.label[0].upper()}{group.label[1:]}" if group.label else "It"
        if group.decisive:
            parts.append(f"{who} is decided at {TARGET:,} updates.")
            continue
        done = [n for n in group.runs if n not in group.waiting]
        parts.append(f"{who} rests on the {group.steps}-update runs ({TARGET:,}-update runs so far: "
                     f"{', '.join(done) or 'none'}; still to train: {', '.join(group.waiting)}).")
    return (f"Provisional: runs shorter than {TARGET:,} updates may not have flattened; the {TARGET:,}-update runs "
            f"(scripts/figure3.py) decide. " + " ".join(parts))


def verdict_lines(decisive_dir: Path = DECISIVE, short_dir: Path = RESULTS) -> list[str]:
    """One markdown bullet per panel: the claim, whether our runs support it, on what numbers, at what budget."""
    lines = []
    for panel in ("3a", "3b", "3c"):
        verdict = panel_verdict(panel, decisive_dir, short_dir)
        if verdict is None:
            lines.append(f"- Figure {panel[0]}({panel[1]}): no complete runs yet.")
            continue
        word = "support" if verdict.supports else "do not support"
        lines.append(f"- Figure {panel[0]}({panel[1]}), the claim that {verdict.claim}: our runs {word} it "
                     f"({verdict.measured}; {verdict.budget}). {standing(verdict)}".rstrip())
    return lines


def last_validation(run: Run) -> tuple[int, float]:
    """(step, PSNR) of a run's last validation."""
    last = run.log[run.log["val_psnr"].notna()].iloc[-1]
    return int(last["step"]), float(last["val_psnr"])


def how_validated(groups: tuple[Group, ...]) -> str:
    """How the runs of `groups` were validated and for how long they trained, from their model cards."""
    said = sorted({f"{run.card['val_protocol']}, after {run.card['budget']}" for group in groups
                   for run in group.runs.values() if {"val_protocol", "budget"} <= run.card.keys()})
    return "; ".join(said) if said else "no model card recorded"
