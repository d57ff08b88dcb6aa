"""Speed benchmark (not a test): training patches/s and inference megapixels/s for RED10/20/30,
with the achieved GFLOP/s next to the device's peak.

    python run_bench.py is not needed; run:  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \
        python scripts/bench_speed.py [--device cpu|cuda] [--seconds 20] [--peak GFLOPS]

FLOPs are counted analytically (2 x MACs of every 3x3 layer; training = 3 x forward).
The CPU peak assumes two FMA units: cores x GHz x 64 (AVX-512) or 32 (AVX2) FP32 FLOP/cycle.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from methods.rednet import red  # noqa: E402


def forward_flops(net: torch.nn.Module, pixels: int) -> float:
    macs = sum(m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
               for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)))
    return 2.0 * macs * pixels


def cpu_peak_gflops() -> float | None:
    """Upper bound: two FMA units of the widest vector the CPU reports (AVX-512: 64 FLOP/cycle, AVX2: 32).
    Some CPUs (e.g. AMD Zen 4) run AVX-512 at half that rate, and oneDNN may use Winograd
    convolutions, so the share of peak can read high; it is a yardstick, not a measurement."""
    try:
        text = open("/proc/cpuinfo").read()
        mhz = [float(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu MHz")]
        per_cycle = 64 if " avx512f" in text else 32
        return torch.get_num_threads() * (sum(mhz) / len(mhz)) / 1000.0 * per_cycle
    except (OSError, ValueError, ZeroDivisionError):
        return None


def timed(fn, seconds: float, device: str) -> tuple[int, float]:
    fn()   # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    if device == "cuda":
        torch.cuda.synchronize()
    return count, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per figure")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--image", type=int, default=256, help="inference image side")
    parser.add_argument("--peak", type=float, help="device peak GFLOP/s, if known")
    args = parser.parse_args()
    device = args.device
    peak = args.peak or (cpu_peak_gflops() if device == "cpu" else None)
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}; MALLOC_MMAP_MAX_={os.environ.get('MALLOC_MMAP_MAX_')}; "
          f"peak {peak:.0f} GFLOP/s" if peak else f"device: {name}; peak unknown (pass --peak)")
    print("| model | train patches/s (50x50) | train GFLOP/s | infer MP/s | infer GFLOP/s | % of peak (train/infer) |")
    print("|---|---:|---:|---:|---:|---:|")
    for depth in (10, 20, 30):
        net = red(depth).to(device)
        fmt = torch.channels_last if device == "cpu" else torch.contiguous_format
        net = net.to(memory_format=fmt)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        x = torch.rand(args.batch, 1, 50, 50, device=device).contiguous(memory_format=fmt)
        y = torch.rand_like(x)

        def train_step():
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = torch.nn.functional.mse_loss(net(x).float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        steps, secs = timed(train_step, args.seconds, device)
        patches = steps * args.batch / secs
        train_gflops = patches * 3 * forward_flops(net, 50 * 50) / 1e9
        image = torch.rand(1, 1, args.image, args.image, device=device).contiguous(memory_format=fmt)

        @torch.no_grad()
        def infer():
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
                net(image)
        calls, secs = timed(infer, args.seconds / 2, device)
        mps = calls * args.image ** 2 / secs / 1e6
        infer_gflops = mps * 1e6 * forward_flops(net, 1) / 1e9
        share = f"{100 * train_gflops / peak:.0f}% / {100 * infer_gflops / peak:.0f}%" if peak else "-"
        print(f"| RED{depth} | {patches:.1f} | {train_gflops:.1f} | {mps:.3f} | {infer_gflops:.1f} | {share} |", flush=True)


if __name__ == "__main__":
    main()
