"""Figures: written atomically, the one plot of training curves (loss or validation PSNR per iteration) and the
curve of a continuation leg (PSNR per total patches against the network it continues)."""
from __future__ import annotations

from pathlib import Path

from redbench.core.atomic import atomic_path


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, out: str | Path, dpi: int = 110) -> Path:
    """Save and close `fig`; the format follows the suffix of `out`."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=dpi, format=out.suffix.lstrip(".") or "png")
    finally:
        pyplot().close(fig)
    return out


def plot_training_curves(logs: list[Path], out: Path, labels: list[str] | None = None, column: str = "loss",
                         title: str | None = None, ylabel: str | None = None) -> Path:
    """One curve per training log (log.csv: step, ..., loss, val_psnr) of `column` against the iteration."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    draw_training_curves(ax, logs, labels, column, title, ylabel)
    fig.tight_layout()
    return save_figure(fig, out)


def draw_training_curves(ax, logs: list[Path], labels: list[str] | None = None, column: str = "loss",
                         title: str | None = None, ylabel: str | None = None) -> None:
    """plot_training_curves onto the axes `ax` (one panel of a larger figure)."""
    import pandas as pd
    for i, log in enumerate(logs):
        frame = pd.read_csv(log)
        frame = frame[frame[column].notna()]
        ax.plot(frame["step"], frame[column], label=labels[i] if labels else Path(log).parent.name,
                marker="o" if column == "val_psnr" else None, ms=3)
    ax.set_xlabel("iteration")
    if column == "loss":
        ax.set_ylabel(ylabel or "training MSE (0..1 scale)")
        ax.set_yscale("log")
    else:
        ax.set_ylabel(ylabel or "validation PSNR (dB)")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=8)


def plot_leg_curve(patches: list[int], psnrs: list[float], half_widths: list[float], baseline: float,
                   baseline_label: str, out: Path, title: str | None = None) -> Path:
    """A leg's snapshots: mean PSNR against total patches seen, with error bars of `half_widths` (the 95% half-width
    of each one's paired gain; an infinite one, from a single image, is drawn without a bar), and the network it
    continues as a horizontal line at `baseline`."""
    import math
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    bars = [h if math.isfinite(h) else 0.0 for h in half_widths]
    ax.errorbar(patches, psnrs, yerr=bars, marker="o", ms=4, capsize=3, label="snapshot (95% half-width of the gain)")
    ax.axhline(baseline, color="grey", linestyle="--", label=baseline_label)
    ax.set_xlabel("patches seen in all")
    ax.set_ylabel("mean PSNR on the held-out images (dB)")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out)
