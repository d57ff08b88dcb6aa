"""Figure 3 (a, b, c) and the noise-level plot, rendered from stored logs, weights and rows."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from redbench.reporting.experiments import EXPERIMENTS, FIG3C_EXTRA, RESULTS
from redbench.core.plots import plot_training_curves, pyplot, save_figure


def _card(name: str, results: Path) -> dict:
    import json
    return json.loads((results / name / f"{name}.json").read_text())


def _budget_note(names: list[str], results: Path) -> str:
    card = _card(names[0], results)
    cfg = card["extra"]["train_config"]
    return (f"budget: {card['iterations']} iterations x batch {card['batch_size']} of {card['patch_size']}x"
            f"{card['patch_size']} patches, sigma {cfg['levels']}, Adam "
            f"{'lr %g constant' % cfg['lr'] if cfg.get('lr') else 'recipe ' + card['recipe']}, {card['device']}")


def fig3a(out: Path, results: Path = RESULTS, data_dir: str | None = None) -> Path:
    """Reconstructions of the stride-3 network with and without skips (sigma 70, 243x243)."""
    from redbench.datasets.catalog import get_spec
    from redbench.datasets.fetch import dataset_files
    from redbench.datasets.images import ground_truth
    from redbench.methods.red_family import load_network
    from redbench.methods.torch_inference import apply_network

    from redbench.core.degradations import GaussianNoise, noise_seed
    from redbench.core.metrics import psnr
    ref = next(r for r in dataset_files("set12", data_dir) if r.name == "02")
    clean = ground_truth(ref.path, get_spec("set12"))[6:249, 6:249]
    noisy = GaussianNoise(70).apply(clean, noise_seed(0, "set12-243", "02", 70))
    panels = [("clean", clean), (f"noisy sigma 70\n{psnr(clean, noisy):.2f} dB", noisy)]
    for name, label in (("fig3a-noskip", "without skips"), ("fig3a-skip", "with skips")):
        net, _ = load_network(str(results / name / name), whole_images=False)
        restored = apply_network(net, noisy)
        panels.append((f"{label}\n{psnr(clean, restored):.2f} dB", restored))
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.6))
    for ax, (title, image) in zip(axes, panels):
        ax.imshow(np.clip(image, 0, 255), cmap="gray", vmin=0, vmax=255)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle("Figure 3(a): 5 conv + 5 deconv, stride 3, 243x243 input, sigma 70. "
                 + _budget_note(["fig3a-skip"], results), fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out)


def _curves(out: Path, names: dict[str, str], column: str, title: str, results: Path) -> Path:
    return plot_training_curves([results / name / "log.csv" for name in names], out, labels=list(names.values()),
                                column=column, title=title + "\n" + _budget_note(list(names), results),
                                ylabel="validation PSNR (dB), 4 BSD200 crops" if column == "val_psnr" else None)


def fig3b(out: Path, results: Path = RESULTS) -> Path:
    names = {e.name: e.label for e in EXPERIMENTS if e.figure == "3b"}
    return _curves(out, names, "loss", "Figure 3(b): training loss with and without symmetric skips", results)


def fig3c(out: Path, results: Path = RESULTS) -> Path:
    names = dict(FIG3C_EXTRA)
    names.update({e.name: e.label for e in EXPERIMENTS if e.figure == "3c"})
    return _curves(out, names, "val_psnr", "Figure 3(c): RED skips vs He et al. block skips (20 layers)", results)


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
