"""`redbench verify`: recompute a random sample of committed rows on this machine and compare.

Only rows the installed weights (or parameters) made are candidates, as only they reach a table
(evaluation/installed.py); each is recomputed by runner.evaluate, the function that made it, with the row's own
dataset, image, method, level, seed and clip setting. The check passes when no recomputed PSNR or SSIM differs
from the stored one by more than half a unit of the last digit the tables print (PSNR 2 decimals, SSIM 4).
"""
from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from redbench.core.errors import UserError

PSNR_TOLERANCE, SSIM_TOLERANCE = 0.005, 0.00005
DEFAULT_DIR = "results/reproduce"
RECORDED = "unrecorded"   # the weights value of rows imported from before weights were recorded


@dataclass
class Verdict:
    checked: int
    left_out: int              # rows of other (earlier) weights, not candidates
    psnr_diff: float           # the largest |recomputed - stored|
    ssim_diff: float
    worst: dict                # the row with the largest PSNR difference, with its recomputed values
    seconds: float

    @property
    def passed(self) -> bool:
        return self.psnr_diff <= PSNR_TOLERANCE and self.ssim_diff <= SSIM_TOLERANCE


def candidates(directory: Path):
    """(rows the installed weights made, how many other recorded rows there are)."""
    from redbench.evaluation.installed import installed_rows
    from redbench.evaluation.zoo import committed_rows
    if not directory.is_dir():
        raise UserError(f"no folder {directory}; give a folder of results (rows.csv files), e.g. {DEFAULT_DIR}.")
    rows = committed_rows(directory)
    rows = rows[rows["weights"].notna() & (rows["weights"].astype(str) != RECORDED)]
    if rows.empty:
        raise UserError(f"no rows with recorded weights in any rows.csv under {directory}; give a folder of "
                        f"results written by `redbench eval` or `reproduce`.")
    current, left_out = installed_rows(rows)
    if current.empty:
        example = rows.iloc[0]
        raise UserError(f"the rows under {directory} were made by weights that are not installed here (e.g. "
                        f"{example['method']} at {float(example['level']):g}: {example['weights']}): install those "
                        f"weights (check out the commit that made the rows) or verify another folder.")
    return current.sort_values(["task", "dataset", "method", "level", "image"]).reset_index(drop=True), left_out


def work_item(row, data_dir: str | None = None):
    """The WorkItem that made `row` (its image located as eval locates it)."""
    from redbench.evaluation.runner import WorkItem
    dataset, image = str(row["dataset"]), str(row["image"])
    return WorkItem(str(row["task"]), dataset, image, image_path(dataset, image, data_dir), str(row["method"]),
                    float(row["level"]) if row["task"] == "denoise" else int(row["level"]), int(row["seed"]),
                    str(row["clip"]).lower() == "true", threads=os.cpu_count() or 1, weights=str(row["weights"]))


def image_path(dataset: str, image: str, data_dir: str | None) -> str:
    """The file of a row's image, located and checksum-verified as eval locates it."""
    path = dataset_paths(dataset, data_dir).get(image)
    if path is None:
        raise UserError(f"image {image} of {dataset} is not there any more (a folder's image is named by its "
                        f"content's sha256); verify rows of files you still have.")
    return path


@lru_cache(maxsize=None)
def dataset_paths(dataset: str, data_dir: str | None) -> dict[str, str]:
    """{row image: path} of a dataset (each file located once)."""
    from redbench.datasets.fetch import dataset_files
    from redbench.evaluation.rows import row_image
    return {row_image(ref): ref.path for ref in dataset_files(dataset, data_dir)}


def verify(directory: str = DEFAULT_DIR, sample: int = 20, seed: int = 0, data_dir: str | None = None,
           progress: bool = True) -> Verdict:
    import time

    from redbench.evaluation.runner import evaluate
    current, left_out = candidates(Path(directory))
    picked = sorted(random.Random(seed).sample(range(len(current)), min(sample, len(current))))
    items = [(current.iloc[i], work_item(current.iloc[i], data_dir)) for i in picked]   # every image found first
    from tqdm import tqdm
    start = time.perf_counter()
    psnr_diff = ssim_diff = 0.0
    worst: dict = {}
    for row, item in tqdm(items, unit="row", file=sys.stderr, disable=not progress, dynamic_ncols=True):
        again = evaluate(item)
        dp, ds = abs(again["psnr"] - float(row["psnr"])), abs(again["ssim"] - float(row["ssim"]))
        if dp >= psnr_diff:
            worst = {**{k: row[k] for k in ("dataset", "image", "method", "level", "psnr", "ssim")},
                     "psnr_now": again["psnr"], "ssim_now": again["ssim"]}
        psnr_diff, ssim_diff = max(psnr_diff, dp), max(ssim_diff, ds)
    return Verdict(len(items), left_out, round(psnr_diff, 6), round(ssim_diff, 7), worst,
                   round(time.perf_counter() - start, 1))


def report(verdict: Verdict, directory: str) -> str:
    w = verdict.worst
    return "\n".join([
        f"recomputed {verdict.checked} rows of {directory} made by the installed weights "
        f"({verdict.left_out} rows of other weights left out) in {verdict.seconds:.1f} s",
        f"largest PSNR difference {verdict.psnr_diff:.4f} dB (tolerance {PSNR_TOLERANCE}), largest SSIM difference "
        f"{verdict.ssim_diff:.5f} (tolerance {SSIM_TOLERANCE:.5f})",
        f"largest at {w['dataset']} {w['image']} {w['method']} {float(w['level']):g}: stored {float(w['psnr']):.4f} "
        f"dB / {float(w['ssim']):.5f}, now {w['psnr_now']:.4f} / {w['ssim_now']:.5f}",
        "verify: PASS" if verdict.passed else "verify: FAIL (differences above the tolerance)"])
