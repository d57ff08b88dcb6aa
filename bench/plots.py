"""Plots rendered from stored logs and rows (never from live state)."""
from __future__ import annotations

from pathlib import Path


def plot_training_curves(logs: list[Path], out: Path, labels: list[str] | None = None,
                         column: str = "loss", title: str | None = None) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, log in enumerate(logs):
        frame = pd.read_csv(log)
        frame = frame[frame[column].notna()]
        ax.plot(frame["step"], frame[column], label=(labels[i] if labels else Path(log).parent.name))
    ax.set_xlabel("iteration")
    ax.set_ylabel("training MSE (0..1 scale)" if column == "loss" else "validation PSNR (dB)")
    if column == "loss":
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
