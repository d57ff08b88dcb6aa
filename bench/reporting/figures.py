"""Figure 3 (a, b, c) and the noise-level plot, rendered from stored logs, weights and rows.

Each Figure 3 picture is drawn from the runs its verdict rests on (figure3.panel_runs), with their budget in
its subtitle, and drawn again whenever those runs change.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from redbench.core.atomic import write_text_atomic
from redbench.core.hashing import file_sha256
from redbench.core.plots import draw_training_curves, pyplot, save_figure
from redbench.reporting.experiments import DECISIVE, FIG3C_EXTRA, RESULTS, figure3
from redbench.reporting.figure3 import TARGET, Group, panel_runs

LABELS = {e.name: e.label for e in figure3()}
TITLES = {"3a": "Figure 3(a): 5 conv + 5 deconv, stride 3, 243x243 input, sigma 70",
          "3b": "Figure 3(b): training loss with and without symmetric skips",
          "3c": "Figure 3(c): RED skips vs He et al. block skips (20 layers)"}


def subtitle(group: Group) -> str:
    """The budget of a group of runs, read from their cards, and whether it is the one that decides (two lines)."""
    card = next(iter(group.runs.values())).card
    cfg = card.get("extra", {}).get("train_config", {})
    where = "; ".join(sorted({str(run.folder.parent) for run in group.runs.values()}))
    standing = "the deciding budget" if group.decisive else f"provisional: fewer than {TARGET:,} updates"
    return (f"{group.budget}\n{card['patch_size']}x{card['patch_size']} "
            f"patches, sigma {cfg.get('levels', '?')}; {standing} ({where})")


def drawn_from(groups: tuple[Group, ...]) -> dict:
    """What a Figure 3 picture shows, recorded beside it (figures/fig3x.json): each run's folder, updates and
    the digests of its log, card and (3(a)) weights; a picture whose record differs is drawn again."""
    runs = {}
    for group in groups:
        for name, run in group.runs.items():
            files = [run.folder / "log.csv", run.folder / f"{name}.json", run.folder / f"{name}.safetensors"]
            runs[name] = {"folder": run.folder.as_posix(), "updates": run.card["iterations"],
                          "sha256": {f.name: file_sha256(f) for f in files if f.is_file()}}
    return {"runs": runs, "budget": {g.label or "panel": subtitle(g).replace("\n", ", ") for g in groups}}


def draw_figure3(panel: str, out: Path, data_dir: str | None = None, force: bool = False,
                 decisive_dir: Path = DECISIVE, short_dir: Path = RESULTS) -> bool:
    """Draw one panel of Figure 3 from the runs its verdict rests on (figure3.panel_runs), unless `out` and its
    record already show those very runs. True: drawn now; False: kept, or no complete runs to draw."""
    groups = panel_runs(panel, decisive_dir, short_dir)
    if groups is None:
        return False
    record, record_path = drawn_from(groups), out.with_suffix(".json")
    if not force and out.exists() and record_path.exists() and json.loads(record_path.read_text()) == record:
        return False
    {"3a": _fig3a, "3b": _fig3b, "3c": _fig3c}[panel](out, groups, data_dir)
    write_text_atomic(record_path, json.dumps(record, indent=1))
    return True


def _fig3a(out: Path, groups: tuple[Group, ...], data_dir: str | None) -> Path:
    """Reconstructions of the stride-3 network with and without skips (sigma 70, 243x243)."""
    from redbench.datasets.catalog import get_spec
    from redbench.datasets.fetch import dataset_files
    from redbench.datasets.images import ground_truth
    from redbench.methods.red_family import load_network
    from redbench.methods.torch_inference import apply_network

    from redbench.core.degradations import GaussianNoise, noise_seed
    from redbench.core.metrics import psnr
    (group,) = groups
    ref = next(r for r in dataset_files("set12", data_dir) if r.name == "02")
    clean = ground_truth(ref.path, get_spec("set12"))[6:249, 6:249]
    noisy = GaussianNoise(70).apply(clean, noise_seed(0, "set12-243", "02", 70))
    panels = [("clean", clean), (f"noisy sigma 70\n{psnr(clean, noisy):.2f} dB", noisy)]
    for name in ("fig3a-noskip", "fig3a-skip"):
        net, _ = load_network(str(group.runs[name].folder / name), whole_images=False)
        restored = apply_network(net, noisy)
        panels.append((f"{LABELS[name]}\n{psnr(clean, restored):.2f} dB", restored))
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(12, 4.1))
    for ax, (title, image) in zip(axes, panels):
        ax.imshow(np.clip(image, 0, 255), cmap="gray", vmin=0, vmax=255)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{TITLES['3a']}\n{subtitle(group)}", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.88))   # room for the three-line title above the panels' own
    return save_figure(fig, out)


def _draw_group(ax, group: Group, column: str, title: str, labels: dict = LABELS) -> None:
    draw_training_curves(ax, [run.folder / "log.csv" for run in group.runs.values()],
                         [labels[name] for name in group.runs], column, f"{title}\n{subtitle(group)}",
                         "validation PSNR (dB) on 4 crops" if column == "val_psnr" else None)


def _fig3b(out: Path, groups: tuple[Group, ...], data_dir: str | None = None) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    _draw_group(ax, groups[0], "loss", TITLES["3b"])
    fig.tight_layout()
    return save_figure(fig, out)


def _fig3c(out: Path, groups: tuple[Group, ...], data_dir: str | None = None) -> Path:
    """One plot per block size: each pair is judged on its own runs, which may differ in budget."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(groups), figsize=(6.0 * len(groups), 4.4))
    for ax, group in zip(np.atleast_1d(axes), groups):
        _draw_group(ax, group, "val_psnr", f"block size {group.label.split()[-1]}", {**LABELS, **FIG3C_EXTRA})
    fig.suptitle(TITLES["3c"], fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out)


def noise_level_plot(rows: pd.DataFrame, methods: dict[str, str], out: Path, dataset: str) -> Path:
    """Mean PSNR against sigma for each method (label given by `methods`)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method, label in methods.items():
        part = rows[(rows.method == method) & (rows.dataset == dataset)]
        means = part.groupby("level").psnr.mean()
        ax.plot(means.index, means.values, marker="o", label=label)
    ax.set_xlabel("test noise sigma")
    ax.set_ylabel(f"mean PSNR on {dataset} (dB)")
    ax.set_title("Section 2.2: a network trained at one sigma vs one trained on all sigmas", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out)


YARDSTICKS = {'paper': ("the paper's RED30 (Tables 1-5)", 'o', 'tab:blue'),
              'released': ("the released RED30 (later papers)", '^', 'tab:orange')}


def headline_figure(cells: list[dict], sets: list[tuple[str, str]], out: Path, within: float) -> Path:
    """Every cell of findings.headline_cells: ours minus published PSNR, one column of points per (task, set) of
    `sets`, in that order (its levels side by side, each point labelled with its level), both yardsticks, a zero
    line and the +-`within` band."""
    plt = pyplot()
    frame = pd.DataFrame(cells)
    fig, ax = plt.subplots(figsize=(7.2, 3.9))
    ax.axhspan(-within, within, color='0.92', zorder=0, label=f'within {within:g} dB')
    ax.axhline(0.0, color='0.3', lw=0.8, zorder=1)
    for x, (task, dataset) in enumerate(sets):
        part = frame[(frame['task'] == task) & (frame['dataset'] == dataset)]
        levels = sorted(part['level'].unique())
        for yardstick, (_, marker, color) in YARDSTICKS.items():
            mine = part[part['yardstick'] == yardstick]
            for r in mine.itertuples(index=False):
                # the levels of a set side by side, the released points just right of the paper's
                dx = (levels.index(r.level) - (len(levels) - 1) / 2) * 0.14 + (0.05 if yardstick == 'released' else 0)
                ax.scatter(x + dx, r.gap, marker=marker, color=color, s=30, zorder=3, edgecolor='black', lw=0.4)
                level = f"σ{r.level:g}" if task == 'denoise' else f"×{r.level:g}"
                ax.annotate(level, (x + dx, r.gap), textcoords='offset points', xytext=(0, 5), ha='center',
                            fontsize=6, color='0.25')
    for yardstick, (label, marker, color) in YARDSTICKS.items():
        if (frame['yardstick'] == yardstick).any():
            ax.scatter([], [], marker=marker, color=color, edgecolor='black', lw=0.4, label=f'vs {label}')
    ax.set_xticks(range(len(sets)), [f"{dataset}\n({'denoising' if task == 'denoise' else 'SR'})"
                                     for task, dataset in sets], fontsize=8)
    ax.set_xlim(-0.6, len(sets) - 0.4)
    low, high = min(frame['gap'].min(), -within), max(frame['gap'].max(), within)
    ax.set_ylim(low - 0.08, high + 0.12)
    ax.set_ylabel('ours minus published PSNR (dB)', fontsize=8)
    ax.set_title('Our red30 (one network per level, one pass): every cell against both yardsticks', fontsize=9)
    ax.tick_params(axis='y', labelsize=8)
    # under the axes, so it never covers a point
    ax.legend(fontsize=7, loc='upper center', bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    fig.tight_layout()
    return save_figure(fig, out)
