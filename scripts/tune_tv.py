"""Choose the TV weight per sigma on BSDS500 training images (never on test images).

    REDBENCH_DATA_DIR=../shared/datasets python scripts/tune_tv.py

Grid search over weights, mean PSNR over 16 training images (gray, 128x128
centre crops, seeded noise), result written to methods/tv_weights.json.
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redbench.core.atomic import write_text_atomic  # noqa: E402
from redbench.datasets.catalog import get_spec  # noqa: E402
from redbench.datasets.fetch import dataset_files  # noqa: E402
from redbench.datasets.images import ground_truth  # noqa: E402
from redbench.core.degradations import GaussianNoise, noise_seed  # noqa: E402
from redbench.methods.tv import WEIGHTS_FILE, tv_denoise  # noqa: E402
from redbench.core.metrics import psnr  # noqa: E402

SIGMAS = (10, 15, 25, 30, 50, 70)
GRID = np.round(np.geomspace(0.01, 0.6, 25), 4)


def main() -> None:
    spec = get_spec("bsds500-train")
    refs = dataset_files("bsds500-train")[::12][:16]
    crops = []
    for ref in refs:
        img = ground_truth(ref.path, spec)
        h, w = img.shape
        crops.append((ref.name, img[h // 2 - 64:h // 2 + 64, w // 2 - 64:w // 2 + 64]))
    weights, scores = {}, {}
    start = time.time()
    for sigma in SIGMAS:
        noisy = [(c, GaussianNoise(sigma).apply(c, noise_seed(0, "bsds500-train", n, sigma))) for n, c in crops]
        means = [np.mean([psnr(c, tv_denoise(x, w)) for c, x in noisy]) for w in GRID]
        best = int(np.argmax(means))
        weights[f"{sigma:g}"] = float(GRID[best])
        scores[f"{sigma:g}"] = round(float(means[best]), 3)
        print(f"sigma {sigma}: weight {GRID[best]} -> {means[best]:.2f} dB on training crops")
    write_text_atomic(WEIGHTS_FILE, json.dumps({
        "weights": weights, "train_psnr": scores,
        "protocol": "grid of 25 weights in [0.01, 0.6] (geometric), 16 BSDS500-train images "
                    "(every 12th), 128x128 centre crops, gray, seed-0 noise, image scale 0..1",
        "command": "REDBENCH_DATA_DIR=../shared/datasets python scripts/tune_tv.py",
        "seconds": round(time.time() - start, 1)}, indent=2) + "\n")


if __name__ == "__main__":
    main()
