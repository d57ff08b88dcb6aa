"""Speed benchmark (not a test): training patches/s and inference megapixels/s for RED10/20/30, in fp32
and bf16 autocast, with the achieved GFLOP/s against the device's peak *for that arithmetic*.

    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \
        python scripts/bench_speed.py [--device cpu|cuda] [--precision fp32,bf16] [--depths 10,20,30]
        [--seconds 20] [--batch 16] [--profile]        # --profile: torch.profiler table of one bf16 RED30 step

FLOPs are counted analytically (2 x MACs of every 3x3 layer; training = 3 x forward).
CPU peaks per core and cycle (two FMA pipes): fp32 = 64 FLOP with 512-bit AVX-512 FMA (Intel),
32 with AVX2 or with AMD Zen 4's AVX-512 (executed as two 256-bit halves); bf16 = 1024 with AMX-BF16
(Intel), 128 with 512-bit AVX512-BF16 dot products (Intel), 64 with Zen 4's AVX512-BF16. oneDNN may pick
Winograd convolutions, so a share of peak can read high: a yardstick, not a measurement.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redbench.training.precision import cpu_flags  # noqa: E402
from redbench.methods.red_network import red  # noqa: E402


def forward_flops(net: torch.nn.Module, pixels: int) -> float:
    macs = sum(m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
               for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)))
    return 2.0 * macs * pixels


def cpu_ghz() -> float | None:
    try:
        mhz = [float(line.split(":")[1]) for line in open("/proc/cpuinfo") if line.startswith("cpu MHz")]
        return sum(mhz) / len(mhz) / 1000.0
    except (OSError, ValueError, ZeroDivisionError):
        return None


def cpu_flop_per_cycle(precision: str) -> tuple[int | None, str]:
    flags = cpu_flags()
    amd = "AuthenticAMD" in open("/proc/cpuinfo").read(4096) if os.path.exists("/proc/cpuinfo") else False
    if precision == "fp32":
        if "avx512f" in flags and not amd:
            return 64, "AVX-512 FMA"
        return 32, "AVX-512 FMA as 2x256-bit (Zen 4)" if "avx512f" in flags else "AVX2 FMA"
    if "amx_bf16" in flags:
        return 1024, "AMX-BF16"
    if "avx512_bf16" in flags:
        return (64, "AVX512-BF16 as 2x256-bit (Zen 4)") if amd else (128, "AVX512-BF16")
    return None, "no native bf16 (emulated)"


def timed(fn, seconds: float, device: str) -> tuple[int, float]:
    fn()   # warm-up
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    if device == "cuda":
        torch.cuda.synchronize()
    return count, time.perf_counter() - start


def make_step(depth: int, batch: int, device: str, precision: str):
    net = red(depth).to(device)
    fmt = torch.channels_last
    net = net.to(memory_format=fmt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.rand(batch, 1, 50, 50, device=device).contiguous(memory_format=fmt)
    y = torch.rand_like(x)
    autocast = "cuda" if device == "cuda" else "cpu"

    def train_step():
        with torch.autocast(autocast, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = torch.nn.functional.mse_loss(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def infer(image):
        with torch.autocast(autocast, dtype=torch.bfloat16, enabled=precision == "bf16"):
            net(image)
    return net, train_step, infer


def profile(batch: int, device: str) -> None:
    from torch.profiler import ProfilerActivity, profile as torch_profile
    _, step, _ = make_step(30, batch, device, "bf16")
    for _ in range(2):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with torch_profile(activities=activities, record_shapes=False) as prof:
        for _ in range(3):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total" if device == "cpu" else "self_cuda_time_total",
                                    row_limit=25))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", default="fp32,bf16", help="comma-separated: fp32, bf16")
    parser.add_argument("--depths", default="10,20,30")
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per figure")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--image", type=int, default=256, help="inference image side")
    parser.add_argument("--peak", type=float, help="device peak GFLOP/s, if known (overrides the CPU estimate)")
    parser.add_argument("--profile", action="store_true", help="profile one bf16 RED30 training step and exit")
    args = parser.parse_args()
    device = args.device
    if args.profile:
        profile(args.batch, device)
        return
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}; MALLOC_MMAP_MAX_={os.environ.get('MALLOC_MMAP_MAX_')}; "
          f"batch {args.batch}")
    print("| model | precision | train patches/s (50x50) | train GFLOP/s | infer MP/s | infer GFLOP/s | peak GFLOP/s "
          "(unit) | % of peak (train/infer) |")
    print("|---|---|---:|---:|---:|---:|---|---:|")
    for precision in args.precision.split(","):
        peak, unit = args.peak, "given"
        if peak is None and device == "cpu":
            per_cycle, unit = cpu_flop_per_cycle(precision)
            ghz = cpu_ghz()
            peak = torch.get_num_threads() * ghz * per_cycle if per_cycle and ghz else None
        for depth in (int(d) for d in args.depths.split(",")):
            net, train_step, infer = make_step(depth, args.batch, device, precision)
            steps, secs = timed(train_step, args.seconds, device)
            patches = steps * args.batch / secs
            train_gflops = patches * 3 * forward_flops(net, 50 * 50) / 1e9
            image = torch.rand(1, 1, args.image, args.image, device=device).contiguous(memory_format=torch.channels_last)
            calls, secs = timed(lambda: infer(image), args.seconds / 2, device)
            mps = calls * args.image ** 2 / secs / 1e6
            infer_gflops = mps * 1e6 * forward_flops(net, 1) / 1e9
            share = f"{100 * train_gflops / peak:.0f}% / {100 * infer_gflops / peak:.0f}%" if peak else "-"
            print(f"| RED{depth} | {precision} | {patches:.1f} | {train_gflops:.1f} | {mps:.3f} | {infer_gflops:.1f} | "
                  f"{f'{peak:.0f}' if peak else '-'} ({unit}) | {share} |", flush=True)


if __name__ == "__main__":
    main()
