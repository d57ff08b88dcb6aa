"""Per-image tables, paired method comparisons and runtimes, from stored rows only.

Input is the tidy rows frame of rows.csv (task, dataset, image, method, level,
psnr, ssim, seconds, ...). Rows that differ only in seed are averaged per image.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from redbench.core.atomic import atomic_path
from redbench.core.csv_cells import write_frame


def _select(rows: pd.DataFrame, task: str, dataset: str, level=None, methods=None) -> pd.DataFrame:
    mask = (rows['task'] == task) & (rows['dataset'] == dataset)
    if level is not None:
        mask &= np.isclose(rows['level'].astype(float), float(level))
    if methods is not None:
        mask &= rows['method'].isin(methods)
    return rows[mask]


def per_image_table(rows: pd.DataFrame, task: str, dataset: str) -> pd.DataFrame:
    """Index: image; columns: (metric, method, level) with metric in psnr/ssim."""
    sub = _select(rows, task, dataset)
    if sub.empty:
        raise ValueError(f"no rows for task={task!r} dataset={dataset!r}")
    table = sub.pivot_table(index='image', columns=['method', 'level'], values=['psnr', 'ssim'],
                            aggfunc='mean')
    table.columns = table.columns.set_names(['metric', 'method', 'level'])
    return table.sort_index(axis=0).sort_index(axis=1)


def write_per_image_csv(rows: pd.DataFrame, task: str, dataset: str, out_csv: Path) -> Path:
    """per_image_table flattened to columns like 'psnr/red30/30'; written atomically."""
    table = per_image_table(rows, task, dataset)
    table.columns = [f"{metric}/{method}/{level:g}" for metric, method, level in table.columns]
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_csv) as tmp:
        write_frame(table, tmp)   # image names become row labels: none may run as a formula
    return out_csv


def _paired_psnr(rows, a, b, task, dataset, level) -> pd.DataFrame:
    sub = _select(rows, task, dataset, level, [a, b])
    wide = sub.pivot_table(index='image', columns='method', values='psnr', aggfunc='mean')
    for method in (a, b):
        if method not in wide.columns:
            raise ValueError(f"no rows for method {method!r} in {task}/{dataset} at level {level:g}")
    return wide[[a, b]].dropna().sort_index()


def bootstrap_mean_ci(values: np.ndarray, n_boot: int = 10000, seed: int = 0,
                      level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean, resampling the values with replacement."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_difference(rows: pd.DataFrame, a: str, b: str, task: str, dataset: str, level,
                      n_boot: int = 10000, seed: int = 0) -> dict:
    """Per-image PSNR difference a - b over the images both methods have.

    Returns n, mean_diff, ci_low/ci_high (95% percentile bootstrap over images) and
    share_a_wins (fraction of images where a's PSNR is strictly higher).
    """
    pairs = _paired_psnr(rows, a, b, task, dataset, level)
    if pairs.empty:
        raise ValueError(f"{a} and {b} share no images in {task}/{dataset} at level {level:g}")
    diff = (pairs[a] - pairs[b]).to_numpy()
    low, high = bootstrap_mean_ci(diff, n_boot, seed)
    return {'a': a, 'b': b, 'task': task, 'dataset': dataset, 'level': level, 'n': len(diff),
            'mean_diff': float(diff.mean()), 'ci_low': low, 'ci_high': high,
            'share_a_wins': float((diff > 0).mean()), 'n_boot': n_boot, 'seed': seed}


def runtime_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Seconds per image: median and mean per (task, dataset, method, level)."""
    keys = ['task', 'dataset', 'method', 'level']
    out = rows.groupby(keys, sort=True).agg(n=('seconds', 'size'), median_s=('seconds', 'median'),
                                            mean_s=('seconds', 'mean'))
    return out.reset_index()
