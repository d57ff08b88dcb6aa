"""Figure 3's claims, and whether our training runs support them, read from the stored experiment logs.

Each panel of the paper's Figure 3 makes one claim about training; our runs of the panel either order the
networks as the claim says or not. A verdict is only as good as the budget behind it, so each one names the
budget (updates, learning rate) read from the runs' model cards. Where the 20,000-update runs
(results/experiments-20k/) are complete for a panel they decide it; else the short runs (results/experiments/)
give a provisional verdict. Figure 3(c) is judged per block size, each on the longest complete pair of runs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from redbench.reporting.experiments import DECISIVE, RESULTS, figure3

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
class Verdict:
    panel: str
    claim: str
    supports: bool
    measured: str           # the numbers the verdict rests on
    budget: str             # read from the runs' cards
    decisive: bool          # True: the 20,000-update runs; False: the short runs


def _end(log: pd.DataFrame, column: str) -> float:
    values = log[column].dropna()
    return float(values.tail(max(1, int(len(values) * TAIL))).mean())


def _longest(names: list[str], decisive_dir: Path, short_dir: Path) -> tuple[dict, bool] | None:
    """({experiment: (log, card)}, decisive) of the named runs: the 20,000-update ones where all are complete,
    else the short ones; None when neither folder has them all."""
    for results, is_decisive in ((decisive_dir, True), (short_dir, False)):
        runs = _named(names, results)
        if runs is not None:
            return runs, is_decisive
    return None


def _named(names: list[str], results: Path) -> dict[str, tuple[pd.DataFrame, dict]] | None:
    out = {}
    for name in names:
        folder = results / name
        card = folder / f"{name}.json"
        if not (folder / "log.csv").is_file() or not card.is_file():
            return None
        out[name] = (pd.read_csv(folder / "log.csv"), json.loads(card.read_text()))
    return out


# Figure 3(c)'s two comparisons, each decided on its own: a block size whose pair has its 20,000-update runs is
# judged on them even while the other block size still rests on the short runs
BLOCKS = {2: ("fig3b-red20-skip", "fig3c-he-span2"), 4: ("fig3c-red-span4", "fig3c-he-span4")}


def _block_verdict(decisive_dir: Path, short_dir: Path) -> Verdict | None:
    gaps, budgets, decided = {}, {}, {}
    for block, (red, he) in BLOCKS.items():
        found = _longest([red, he], decisive_dir, short_dir)
        if found is None:
            return None
        runs, is_decisive = found
        gaps[block] = _end(runs[red][0], "val_psnr") - _end(runs[he][0], "val_psnr")
        budgets[block], decided[block] = _budget([card for _, card in runs.values()]), is_decisive
    same = len(set(budgets.values())) == 1
    budget = next(iter(budgets.values())) if same else "; ".join(f"block {b}: {t}" for b, t in budgets.items())
    # a gap that prints as +0.00 dB is a tie, not a win
    return Verdict("3c", CLAIMS["3c"], all(round(g, 2) > 0 for g in gaps.values()),
                   "validation PSNR at the end, RED minus He et al.: "
                   + "; ".join(f"block {b} {g:+.2f} dB" for b, g in gaps.items()), budget, all(decided.values()))


def _budget(cards: list[dict]) -> str:
    steps = sorted({c["iterations"] for c in cards})
    config = cards[0].get("extra", {}).get("train_config", {})
    lr = f"Adam lr {config['lr']:g}" if config.get("lr") else f"recipe {cards[0]['recipe']}"
    return (f"{'/'.join(f'{s:,}' for s in steps)} updates of batch {cards[0]['batch_size']}, {lr}, "
            f"{'; '.join(sorted({c['device'] for c in cards}))}")


def panel_verdict(panel: str, decisive_dir: Path = DECISIVE, short_dir: Path = RESULTS) -> Verdict | None:
    """The verdict of one panel from the 20,000-update runs where complete, else the short ones (None: neither)."""
    if panel == "3c":
        return _block_verdict(decisive_dir, short_dir)
    found = _longest([exp.name for exp in figure3(panel)], decisive_dir, short_dir)
    if found is None:
        return None
    runs, is_decisive = found
    budget = _budget([card for _, card in runs.values()])
    if panel == "3a":
        skip, plain = (_end(runs[n][0], "val_psnr") for n in ("fig3a-skip", "fig3a-noskip"))
        return Verdict(panel, CLAIMS[panel], skip > plain,
                       f"validation PSNR at the end: with skips {skip:.2f} dB, without {plain:.2f} dB", budget,
                       is_decisive)
    if panel == "3b":
        loss = {n: _end(log, "loss") for n, (log, _) in runs.items()}
        plain = [loss[f"fig3b-red{d}-noskip"] for d in (10, 20, 30)]
        skip = [loss[f"fig3b-red{d}-skip"] for d in (20, 30)]
        # "no better" with a 1% margin: two plain networks stuck at the identity end within rounding of each other
        no_better = all(deeper >= SAME * shallower for shallower, deeper in zip(plain, plain[1:]))
        holds = no_better and skip[1] <= skip[0] / SAME and skip[0] < plain[1] and skip[1] < plain[2]
        measured = ("training loss at the end: no skips 10/20/30 layers " + " / ".join(f"{v:.5f}" for v in plain)
                    + "; RED skips 20/30 layers " + " / ".join(f"{v:.5f}" for v in skip))
        return Verdict(panel, CLAIMS[panel], holds, measured, budget, is_decisive)
    raise ValueError(f"unknown Figure 3 panel {panel!r}")


def verdict_lines(decisive_dir: Path = DECISIVE, short_dir: Path = RESULTS) -> list[str]:
    """One markdown bullet per panel: the claim, whether our runs support it, on what numbers, at what budget."""
    lines = []
    for panel in ("3a", "3b", "3c"):
        verdict = panel_verdict(panel, decisive_dir, short_dir)
        if verdict is None:
            lines.append(f"- Figure {panel[0]}({panel[1]}): no complete runs yet.")
            continue
        word = "support" if verdict.supports else "do not support"
        strength = ("" if verdict.decisive else " Provisional: runs shorter than 20,000 updates may not have "
                    "flattened; the 20,000-update runs (scripts/figure3.py, docs/gpu.md) decide.")
        lines.append(f"- Figure {panel[0]}({panel[1]}), the claim that {verdict.claim}: our runs {word} it "
                     f"({verdict.measured}; {verdict.budget}).{strength}")
    return lines
