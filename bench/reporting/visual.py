"""Side-by-side crops: ground truth, degraded input and each method's output.

The degraded input is rebuilt with the runner's own helpers (same ground truth,
degradation and per-image noise seed), so each panel's PSNR equals the value in
rows.csv for the same seed. Every panel shows the same crop (the window of most fine
detail of the ground truth), with the same detailed region inside it magnified in a corner;
the first panel is the whole ground truth with the crop outlined. Each title sits
in a band of its own above its image, so no title runs over an image.
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
ZOOM = 24          # side of the magnified region, in ground-truth pixels
INSET = 0.5        # the inset's side, a share of the panel's


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


def _window_sums(values: np.ndarray, h: int, w: int) -> np.ndarray:
    """The sum of `values` over every h x w window (by top-left corner), from one integral image."""
    s = np.pad(values.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]


def _first_max(scores: np.ndarray) -> tuple[int, int]:
    top, left = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(top), int(left)


def busiest_crop(image: np.ndarray, size: int = CROP) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the size x size window with the highest variance; first on ties."""
    h, w = min(size, image.shape[0]), min(size, image.shape[1])
    x = np.asarray(image, dtype=np.float64)
    n = h * w
    mean = _window_sums(x, h, w) / n
    var = _window_sums(x * x, h, w) / n - mean * mean
    return (*_first_max(var), h, w)


def detailed_crop(image: np.ndarray, size: int = ZOOM) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the size x size window with the most fine detail: the highest energy of the
    discrete Laplacian, which texture (bricks, stripes) has and a single strong edge has less of; first on ties."""
    h, w = min(size, image.shape[0]), min(size, image.shape[1])
    x = np.pad(np.asarray(image, dtype=np.float64), 1, mode='edge')
    laplacian = 4 * x[1:-1, 1:-1] - x[:-2, 1:-1] - x[2:, 1:-1] - x[1:-1, :-2] - x[1:-1, 2:]
    return (*_first_max(_window_sums(laplacian * laplacian, h, w)), h, w)


def _corner(crop: tuple[int, int, int, int], zoom: tuple[int, int, int, int]) -> tuple[float, float]:
    """(x, y) in axes fractions of the inset's lower-left corner: the corner farthest from the zoomed region."""
    top, left, h, w = crop
    centre_y, centre_x = (zoom[0] - top + zoom[2] / 2) / h, (zoom[1] - left + zoom[3] / 2) / w
    x = 0.0 if centre_x > 0.5 else 1.0 - INSET
    y = 1.0 - INSET if centre_y > 0.5 else 0.0     # axes y grows upwards, image rows downwards
    return x, y


def _outline(ax, top, left, h, w, color):
    from matplotlib.patches import Rectangle
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor=color, lw=1.0))


def _panel(fig, box, image, crop, zoom, title):
    """One panel in `box` (left, bottom, width, height of its image, figure fractions): the crop with the zoomed
    region outlined and magnified in the corner away from it, and the title in the band above."""
    top, left, h, w = crop
    shown = to_uint8(image)
    ax = fig.add_axes(box)
    ax.imshow(shown[top:top + h, left:left + w], cmap='gray', vmin=0, vmax=255, interpolation='nearest')
    _outline(ax, zoom[0] - top, zoom[1] - left, zoom[2], zoom[3], 'red')
    ax.set_axis_off()
    x, y = _corner(crop, zoom)
    inset = ax.inset_axes([x, y, INSET, INSET])
    zt, zl, zh, zw = zoom
    inset.imshow(shown[zt:zt + zh, zl:zl + zw], cmap='gray', vmin=0, vmax=255, interpolation='nearest')
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set_edgecolor('red')
        spine.set_linewidth(1.2)
    fig.text(box[0] + box[2] / 2, box[1] + box[3] + 0.01, title, ha='center', va='bottom', fontsize=8)


def _overview(fig, box, image, crop, title):
    """The whole ground truth with the crop outlined."""
    ax = fig.add_axes(box)
    ax.imshow(to_uint8(image), cmap='gray', vmin=0, vmax=255, interpolation='nearest')
    _outline(ax, *crop, 'red')
    ax.set_axis_off()
    fig.text(box[0] + box[2] / 2, box[1] + box[3] + 0.01, title, ha='center', va='bottom', fontsize=8)


PANEL_IN, TITLE_IN, GAP_IN, HEAD_IN = 2.0, 0.42, 0.08, 0.3   # inches: image side, title band, gaps, figure title


def comparison_grid(task: str, dataset: str, image: str, level, methods: list[str], out_png: Path,
                    crop: tuple[int, int, int, int] | None = None, seed: int = 0,
                    data_dir: str | None = None, clip: bool = False) -> dict:
    """Save the grid to out_png; returns {'png', 'crop', 'zoom', 'psnr': {'degraded'|method: dB}}.

    crop is (top, left, height, width) in ground-truth pixels; default: the CROP x CROP window of most fine detail
    (detailed_crop), where the methods differ most. zoom, the magnified region inside it, is its ZOOM x ZOOM window
    of most fine detail.
    """
    plt = pyplot()
    item = _work_item(task, dataset, image, level, seed, clip, data_dir)
    degradation, degraded, target = _inputs(item)
    shave = degradation.shave
    crop = tuple(crop) if crop is not None else detailed_crop(target, CROP)
    top, left, h, w = crop
    zt, zl, zh, zw = detailed_crop(target[top:top + h, left:left + w], min(ZOOM, h, w))
    zoom = (top + zt, left + zl, zh, zw)
    scores = {'degraded': psnr(target, degraded, shave)}
    panels = [('ground truth\n(crop)', target), (f"degraded\n{scores['degraded']:.2f} dB", degraded)]
    for name in methods:
        restored = load_method(name, task).restore(degraded, degradation)
        scores[name] = psnr(target, restored, shave)
        panels.append((f"{name}\n{scores[name]:.2f} dB", restored))

    cols = min(4, len(panels) + 1)
    rows = math.ceil((len(panels) + 1) / cols)
    cell_h = PANEL_IN + TITLE_IN + GAP_IN
    width, height = cols * (PANEL_IN + GAP_IN) + GAP_IN, rows * cell_h + HEAD_IN
    fig = plt.figure(figsize=(width, height))

    def box(k):
        r, c = divmod(k, cols)
        return ((GAP_IN + c * (PANEL_IN + GAP_IN)) / width, (height - HEAD_IN - (r + 1) * cell_h + GAP_IN) / height,
                PANEL_IN / width, PANEL_IN / height)
    full = box(0)
    # the whole image keeps its aspect ratio inside the square slot
    _overview(fig, full, target, crop, f"ground truth\n{target.shape[1]}x{target.shape[0]}")
    for k, (title, img) in enumerate(panels, start=1):
        _panel(fig, box(k), img, crop, zoom, title)
    label = f"sigma {level:g}" if task == 'denoise' else f"x{level:g}"
    fig.text(0.5, 1 - 0.1 / height, f"{dataset}/{image}, {label}, seed {seed}: crop top={top} left={left} {h}x{w}, "
             f"inset {zh}x{zw} at top={zoom[0]} left={zoom[1]} (red box), the same for every panel",
             ha='center', va='top', fontsize=8)
    out_png = save_figure(fig, out_png, dpi=120)
    return {'png': out_png, 'crop': crop, 'zoom': zoom, 'psnr': scores}
