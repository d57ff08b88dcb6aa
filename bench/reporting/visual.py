"""Side-by-side crops: ground truth, degraded input and each method's output.

The degraded input is rebuilt with the runner's own helpers (same ground truth,
degradation and per-image noise seed), so each panel's PSNR equals the value in
rows.csv for the same seed.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from redbench.core.metrics import psnr
from redbench.core.plots import pyplot, save_figure
from redbench.core.resize import to_uint8
from redbench.evaluation.runner import WorkItem, degrade, load_method

CROP = 96


def _work_item(task, dataset, image, level, seed, clip, data_dir):
    from redbench.datasets.fetch import dataset_files
    refs = {ref.name: ref for ref in dataset_files(dataset, data_dir)}
    if image not in refs:
        raise ValueError(f"no image {image!r} in {dataset} (have: {', '.join(sorted(refs))})")
    return WorkItem(task, dataset, image, refs[image].path, '', level, seed, clip)


def _inputs(item):
    """(degradation, degraded, target) exactly as runner.evaluate builds them."""
    degradation, degraded, target, _ = degrade(item)
    return degradation, degraded, target


def busiest_crop(image: np.ndarray, size: int = CROP) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the size x size window with the highest variance; first on ties."""
    h, w = min(size, image.shape[0]), min(size, image.shape[1])
    x = np.asarray(image, dtype=np.float64)
    # integral images of x and x^2 give every window's variance in one pass
    s1 = np.pad(x.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    s2 = np.pad((x * x).cumsum(0).cumsum(1), ((1, 0), (1, 0)))

    def window_sum(s):
        return s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]

    n = h * w
    mean = window_sum(s1) / n
    var = window_sum(s2) / n - mean * mean
    top, left = np.unravel_index(int(np.argmax(var)), var.shape)
    return int(top), int(left), h, w


def _panel(ax, image, crop, title):
    top, left, h, w = crop
    ax.imshow(to_uint8(image)[top:top + h, left:left + w], cmap='gray', vmin=0, vmax=255,
              interpolation='nearest')
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()


def comparison_grid(task: str, dataset: str, image: str, level, methods: list[str], out_png: Path,
                    crop: tuple[int, int, int, int] | None = None, seed: int = 0,
                    data_dir: str | None = None, clip: bool = False) -> dict:
    """Save the grid to out_png; returns {'png', 'crop', 'psnr': {'degraded'|method: dB}}.

    crop is (top, left, height, width) in ground-truth pixels; default: busiest_crop.
    """
    plt = pyplot()
    item = _work_item(task, dataset, image, level, seed, clip, data_dir)
    degradation, degraded, target = _inputs(item)
    shave = degradation.shave
    crop = tuple(crop) if crop is not None else busiest_crop(target)
    scores = {'degraded': psnr(target, degraded, shave)}
    panels = [('ground truth', target), (f"degraded ({scores['degraded']:.2f} dB)", degraded)]
    for name in methods:
        restored = load_method(name, task).restore(degraded, degradation)
        scores[name] = psnr(target, restored, shave)
        panels.append((f"{name} ({scores[name]:.2f} dB)", restored))

    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    for ax, (title, img) in zip(axes.flat, panels):
        _panel(ax, img, crop, title)
    label = f"sigma {level:g}" if task == 'denoise' else f"x{level:g}"
    fig.suptitle(f"{dataset}/{image}, {label}, crop top={crop[0]} left={crop[1]} {crop[2]}x{crop[3]}, "
                 f"seed {seed}", fontsize=8)
    fig.tight_layout()
    out_png = save_figure(fig, out_png, dpi=120)
    return {'png': out_png, 'crop': crop, 'psnr': scores}
