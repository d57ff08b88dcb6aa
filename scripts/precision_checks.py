"""Precision checks for the training campaign (not a test; prints a table of measured figures).

    python run_bench.py is not needed:  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \
        REDBENCH_DATA_DIR=../shared/datasets python scripts/precision_checks.py [--steps 400] [--out runs/precision]

1. bf16 vs fp32 training: RED10 at sigma 10 trained the same number of steps from the same seed and
   the same patches in each precision; validation PSNR on the held-out BSDS500-train crops.
2. bf16 inference: mean PSNR on Set12 sigma 10 (the fp32-trained RED10) and on Set5 x2 (the shipped
   SR network) with bf16 autocast against fp32; evaluation stays fp32 unless the change is <= 0.01 dB.
3. fp16 storage: the same means with the weights rounded to float16 (allowed if <= 0.005 dB).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redbench.core.allocator import reexec_with_fast_allocator  # noqa: E402
from redbench.core.degradations import make_degradation, noise_seed  # noqa: E402
from redbench.core.metrics import psnr  # noqa: E402
from redbench.training.train import TrainConfig, train  # noqa: E402
from redbench.datasets.catalog import get_spec  # noqa: E402
from redbench.datasets.fetch import dataset_files  # noqa: E402
from redbench.datasets.images import ground_truth  # noqa: E402
from redbench.methods.red_family import load_network  # noqa: E402
from redbench.methods.torch_inference import apply_network  # noqa: E402
from redbench.methods.weights import read_card  # noqa: E402


def mean_psnr(net, dataset: str, task: str, level, bf16: bool = False) -> float:
    spec, scores = get_spec(dataset), []
    degradation = make_degradation(task, level)
    for ref in dataset_files(dataset):
        clean = ground_truth(ref.path, spec)
        seed = noise_seed(0, dataset, ref.name, level) if task == "denoise" else 0
        degraded, target = degradation.apply(clean, seed), degradation.target(clean)
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with ctx:
            out = apply_network(net, degraded, tile=256, margin=32)
        scores.append(psnr(target, out, getattr(degradation, "shave", 0)))
    return float(np.mean(scores))


def rounded_to_fp16(net):
    import copy
    clone = copy.deepcopy(net)
    with torch.no_grad():
        for p in clone.parameters():
            p.copy_(p.half().float())
    return clone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--out", default="runs/precision")
    parser.add_argument("--sr-weights", default="srcnn-sr", help="network for the Set5 x2 checks")
    args = parser.parse_args()
    out = Path(args.out)
    results = {}
    for precision in ("fp32", "bf16"):
        config = TrainConfig(model="red10", task="denoise", levels="10", iters=args.steps, batch_size=args.batch,
                             precision=precision, out=str(out / precision), name=f"red10-s10-{precision}",
                             val_every=args.steps, log_every=50, weights_dtype="float32", recipe="fast")
        train(config)
        results[precision] = read_card(f"red10-s10-{precision}", out / precision)
    fp32, bf16 = results["fp32"].val_psnr, results["bf16"].val_psnr
    print(f"\n| A/B, RED10 sigma 10, {args.steps} steps of {args.batch} | val PSNR |\n|---|---:|\n"
          f"| fp32 training | {fp32:.3f} |\n| bf16 autocast training | {bf16:.3f} |\n| difference | {bf16 - fp32:+.3f} |\n")
    net, _ = load_network(str(out / "fp32" / "red10-s10-fp32"))
    sr_net, sr_card = load_network(args.sr_weights)
    print("| network, test | fp32 | bf16 inference (change) | fp16-stored weights (change) |\n|---|---:|---:|---:|")
    for label, model, dataset, task, level in (("RED10 (A/B fp32), Set12 sigma 10", net, "set12", "denoise", 10),
                                               (f"{sr_card.name}, Set5 x2", sr_net, "set5", "sr", 2)):
        base = mean_psnr(model, dataset, task, level)
        half = mean_psnr(model, dataset, task, level, bf16=True)
        stored = mean_psnr(rounded_to_fp16(model), dataset, task, level)
        print(f"| {label} | {base:.4f} | {half:.4f} ({half - base:+.4f}) | {stored:.4f} ({stored - base:+.4f}) |",
              flush=True)


if __name__ == "__main__":
    reexec_with_fast_allocator()
    main()
