#!/usr/bin/env python
"""RED30 training speed on a GPU, variant by variant (issue: 20,000 patches/s on an H200), for a lent session.

    python scripts/gpu_speed.py [--seconds 8] [--json OUT.json]      # on the device; needs no dataset
    python scripts/gpu_speed.py --smoke                              # here: every variant runs, on the CPU

Each variant trains RED30 (64 maps, 30 layers, symmetric skips) on random 50x50 patches with Adam and bf16
autocast, the campaign's step (bench/training/train.py), and reports patches/s and the share of the bf16 matrix
rate measured on these machines (about 790 TFLOP/s, the device tool's KINDS.md). Variants: the campaign's eager
step at batch 128 (the baseline), larger batches, channels_last off, torch.compile, and torch.compile with CUDA
graphs ("reduce-overhead"). Warm-up steps (and compilation) are left out of the timing; the device is
synchronised before each clock read. A variant that fails prints its error and the others go on.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redbench.methods.red_network import red  # noqa: E402

MATRIX_RATE = 790e12     # bf16 FLOP/s measured on the lent H100/H200 (device tool KINDS.md)
VARIANTS = [             # (name, batch, channels_last, compile mode or None)
    ("eager, batch 128 (campaign)", 128, True, None),
    ("eager, batch 256", 256, True, None),
    ("eager, batch 512", 512, True, None),
    ("eager, batch 128, NCHW", 128, False, None),
    ("compile, batch 128", 128, True, "default"),
    ("compile, batch 256", 256, True, "default"),
    ("compile + CUDA graphs, batch 128", 128, True, "reduce-overhead"),
    ("compile + CUDA graphs, batch 256", 256, True, "reduce-overhead"),
]


def training_flops(net: torch.nn.Module, pixels: int) -> float:
    """Forward and backward of one patch: 3 x 2 x the MACs of every 3x3 layer."""
    macs = sum(m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
               for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)))
    return 3 * 2.0 * macs * pixels


def measure(device: str, batch: int, channels_last: bool, mode: str | None, seconds: float, patch: int,
            depth: int) -> float:
    """Patches/s of the campaign's training step under one variant."""
    torch.manual_seed(0)
    net = red(depth).to(device)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    model = torch.compile(net, mode=mode) if mode else net
    inputs = torch.rand(batch, 1, patch, patch, device=device).contiguous(memory_format=fmt)
    targets = torch.rand(batch, 1, patch, patch, device=device)
    autocast = "cuda" if device == "cuda" else "cpu"

    def step():
        with torch.autocast(autocast, dtype=torch.bfloat16):
            loss = torch.nn.functional.mse_loss(model(inputs).float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()
    for _ in range(3 if device == "cpu" else 15):   # warm-up: cudnn autotuning, compilation, graph capture
        step()
    sync()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(5):
            step()
        steps += 5
        sync()
    return steps * batch / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per variant")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU: checks that every variant runs")
    args = parser.parse_args()
    device = "cpu" if args.smoke or not torch.cuda.is_available() else "cuda"
    if device == "cuda":
        torch.backends.cudnn.benchmark = True
    patch, depth = (8, 4) if args.smoke else (50, 30)
    flops = training_flops(red(depth), patch * patch)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"RED{depth} training, {patch}x{patch} patches, bf16 autocast, Adam, on {name}, torch {torch.__version__}")
    print("| variant | patches/s | TFLOP/s | share of 790 TFLOP/s |\n|---|---:|---:|---:|")
    figures = {}
    for label, batch, channels_last, mode in VARIANTS:
        if args.smoke:
            batch = 2
        try:
            rate = measure(device, batch, channels_last, mode, 0.2 if args.smoke else args.seconds, patch, depth)
        except Exception as exc:   # one broken variant (a compiler failure) must not cost the others
            print(f"| {label} | failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]} | | |", flush=True)
            continue
        figures[label] = rate
        print(f"| {label} | {rate:,.0f} | {rate * flops / 1e12:.1f} | {rate * flops / MATRIX_RATE:.1%} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"device": name, "patches_per_second": figures}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
