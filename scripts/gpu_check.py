#!/usr/bin/env python
"""The GPU evaluation check, for a session that is lent a GPU: the same restorations on the CPU and on the GPU.

    python scripts/gpu_check.py [--cpu-images 3] [--json OUT.json]

1. Agreement: mean PSNR of red30 on Set12 at sigma 50 and on Set5 at x2, GPU minus CPU, over every image of
   each set (the bar: at most 0.001 dB; evaluation is fp32 with TF32 off on both).
2. Speed: seconds per image of red30 and red30+ on Set12 (sigma 50) and BSD100 (x2), on each device. The CPU
   side times only the first --cpu-images images of a set (an x8 BSD100 image takes about half a minute there).
Prints a markdown table and writes the figures to --json; a set missing from the data at hand (a GPU call
carries some sets only) is skipped with a note. Without a GPU it stops with exit code 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redbench.core.errors import UserError  # noqa: E402

CASES = [("set12", "denoise", 50), ("set5", "sr", 2), ("bsd100", "sr", 2)]
AGREEMENT = {("set12", "denoise", 50), ("set5", "sr", 2)}


def restore_all(method_name: str, task: str, level, refs, device: str, dataset: str) -> tuple[list[float], list[float]]:
    """(PSNR per image, seconds per image) of `method_name` on `device`, through the runner's own path."""
    from redbench.core.metrics import psnr
    from redbench.evaluation.runner import WorkItem, degrade, load_method
    method = load_method(method_name, task, device)
    scores, seconds = [], []
    for ref in refs:
        item = WorkItem(task, dataset, ref.name, ref.path, method_name, float(level), 0, False, device=device)
        degradation, degraded, target, _ = degrade(item)
        if not seconds:   # the first image once more before timing: kernel selection and caches stay out
            method.restore(degraded, degradation)
        start = time.perf_counter()
        restored = method.restore(degraded, degradation)
        seconds.append(time.perf_counter() - start)
        scores.append(psnr(target, restored, degradation.shave))
    return scores, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu-images", type=int, default=3, help="images per set timed on the CPU")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--gpu", default="cuda", help="the accelerator's device (a smoke test: cpu)")
    parser.add_argument("--limit", type=int, help="only the first N images of each set (a smoke test)")
    args = parser.parse_args()
    try:
        from redbench.datasets.fetch import dataset_files
        from redbench.methods.torch_inference import device_name, resolve_device
        gpu = resolve_device(args.gpu)
        figures = {"gpu": device_name(gpu), "cpu": device_name("cpu"), "agreement": {}, "seconds": {}}
        for dataset, task, level in CASES:
            try:
                refs = dataset_files(dataset, download=False)[:args.limit]
            except UserError:   # not in this call's bundle: another call checks it
                print(f"skipped {dataset}: not in the data at hand", flush=True)
                continue
            if (dataset, task, level) in AGREEMENT:
                on_gpu, _ = restore_all("red30", task, level, refs, gpu, dataset)
                on_cpu, _ = restore_all("red30", task, level, refs, "cpu", dataset)
                diff = sum(on_gpu) / len(on_gpu) - sum(on_cpu) / len(on_cpu)
                worst = max(abs(a - b) for a, b in zip(on_gpu, on_cpu))
                figures["agreement"][f"{dataset} {task} {level}"] = {"mean_difference_db": diff,
                                                                      "largest_image_difference_db": worst,
                                                                      "images": len(refs)}
            for method in ("red30", "red30+"):
                for device, subset in ((gpu, refs), ("cpu", refs[:args.cpu_images])):
                    _, secs = restore_all(method, task, level, subset, device, dataset)
                    figures["seconds"][f"{dataset} {task} {level} {method} {device}"] = {
                        "seconds_per_image": sum(secs) / len(secs), "images": len(secs)}
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lines = ["| check | value |", "|---|---:|"]
    lines += [f"| GPU minus CPU, red30 {case} (mean over {v['images']} images) | {v['mean_difference_db']:+.5f} dB "
              f"(largest per image {v['largest_image_difference_db']:.5f}) |" for case, v in figures["agreement"].items()]
    lines += [f"| seconds per image, {case} | {v['seconds_per_image']:.3f} ({v['images']} images) |"
              for case, v in figures["seconds"].items()]
    print(f"GPU: {figures['gpu']}; CPU: {figures['cpu']}\n" + "\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    ok = all(abs(v["mean_difference_db"]) <= 0.001 for v in figures["agreement"].values())
    print("agreement: " + ("within 0.001 dB" if ok else "OVER 0.001 dB: GPU rows must not be merged"))
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
