"""Whether a mean covers its whole image set.

A cell (method x level) averaged over fewer images than its dataset has is partial: a run cut short, or
one still filling in. Tables show such a cell as "(n/N)" and never rank it, compare it with the paper or
list it among the cells below their own input. N comes from the dataset's checksum lists (the images every
run evaluates); a folder of the user's own images, or a name the catalog does not know, falls back to the
most images any method has at any level in the rows given.
"""
from __future__ import annotations

import pandas as pd
from redbench.datasets.catalog import image_count


def set_sizes(rows: pd.DataFrame) -> dict[str, int]:
    """{dataset: N} for every dataset in `rows` (pass all methods' rows, so the fallback sees the fullest cell)."""
    sizes = {}
    for dataset, sub in rows.groupby('dataset', sort=True):
        observed = int(sub.groupby(['method', 'level'])['image'].nunique().max())
        listed = image_count(str(dataset))
        # a set whose list shrank after the rows were made still never shows n above N
        sizes[dataset] = observed if listed is None else max(listed, observed)
    return sizes


def with_coverage(summary: pd.DataFrame, sizes: dict[str, int]) -> pd.DataFrame:
    """A summary (one row per task, dataset, method, level with n_images) plus n_total and partial."""
    n_total = summary['dataset'].map(sizes)
    if n_total.isna().any():
        missing = sorted(summary.loc[n_total.isna(), 'dataset'].unique())
        raise ValueError(f"no set size for {', '.join(missing)}")
    n_total = n_total.astype(int)
    return summary.assign(n_total=n_total, partial=summary['n_images'] < n_total)
