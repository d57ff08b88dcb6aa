"""Speed benchmark (not a test): training patches/s and inference megapixels/s for RED10/20/30, in fp32
and bf16 autocast, with the achieved GFLOP/s against the device's peak *for that arithmetic*.

    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \
        python scripts/bench_speed.py [--device cpu|cuda] [--precision fp32,bf16] [--depths 10,20,30]
        [--seconds 20] [--batch 16] [--profile]        # --profile: torch.profiler table of one bf16 RED30 step
    python scripts/bench_speed.py --variants all [--depths 20,30] [--seconds 20] [--rounds 3]

--variants measures one bf16 training step form against another, each in a fresh process (so an environment
variable such as the allocator setting or the OpenMP thread binding takes effect), and prints patches/s per
depth with the ratio to `base`, today's training step (train.py's Trainer.optimize: autocast, channels_last,
clip, Adam). Quiet machine only: stop the campaign first (kill -STOP, then -CONT), or the figures mislead.

FLOPs are counted analytically (2 x MACs of every 3x3 layer; training = 3 x forward).
CPU peaks per core and cycle (two FMA pipes): fp32 = 64 FLOP with 512-bit AVX-512 FMA (Intel),
32 with AVX2 or with AMD Zen 4's AVX-512 (executed as two 256-bit halves); bf16 = 1024 with AMX-BF16
(Intel), 128 with 512-bit AVX512-BF16 dot products (Intel), 64 with Zen 4's AVX512-BF16. oneDNN may pick
Winograd convolutions, so a share of peak can read high: a yardstick, not a measurement.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redbench.core.allocator import FAST_ALLOCATOR  # noqa: E402
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





@dataclass(frozen=True)
class Variant:
    """One form of the bf16 training step. `base` is the one train.py takes."""
    name: str
    note: str
    channels_last: bool = True
    bf16_weights: bool = False     # bf16 parameters kept between steps, fp32 master copy in Adam (no autocast)
    compile: bool = False          # torch.compile, inductor CPU backend (fuses the pointwise ops around convs)
    batch: int = 16
    env: dict = field(default_factory=lambda: dict(FAST_ALLOCATOR))


VARIANTS = {v.name: v for v in [
    Variant("base", "autocast bf16, channels_last, batch 16, fast allocator (train.py today)"),
    Variant("glibc-malloc", "base without MALLOC_MMAP_MAX_/MALLOC_TRIM_THRESHOLD_", env={}),
    Variant("nchw", "base with NCHW activations and weights", channels_last=False),
    Variant("bf16-weights", "bf16 weights kept between steps, fp32 master weights in Adam", bf16_weights=True),
    Variant("compile", "base under torch.compile (inductor)", compile=True),
    Variant("bf16-weights+compile", "both of the above", bf16_weights=True, compile=True),
    Variant("batch32", "base at batch 32", batch=32),
    Variant("batch64", "base at batch 64", batch=64),
    Variant("pinned", "base with OMP_PROC_BIND=close OMP_PLACES=cores",
            env=dict(FAST_ALLOCATOR, OMP_PROC_BIND="close", OMP_PLACES="cores")),
]}


def make_step(depth: int, batch: int, device: str, precision: str, variant: Variant | None = None):
    variant = variant or replace(VARIANTS["base"], batch=batch)
    net = red(depth).to(device)
    fmt = torch.channels_last if variant.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    params = list(net.parameters())
    autocast = "cuda" if device == "cuda" else "cpu"
    bf16_weights = variant.bf16_weights and precision == "bf16"
    if bf16_weights:
        master = [p.detach().float().clone().requires_grad_(True) for p in params]
        net = net.to(torch.bfloat16)
        params = list(net.parameters())
    opt = torch.optim.Adam(master if bf16_weights else params, lr=1e-4)
    x = torch.rand(variant.batch, 1, 50, 50, device=device).contiguous(memory_format=fmt)
    y = torch.rand_like(x)
    if bf16_weights:
        x = x.to(torch.bfloat16)
    forward = torch.compile(net) if variant.compile else net

    def train_step():
        with torch.autocast(autocast, dtype=torch.bfloat16, enabled=precision == "bf16" and not bf16_weights):
            loss = torch.nn.functional.mse_loss(forward(x).float(), y)
        opt.zero_grad(set_to_none=True)
        if bf16_weights:
            net.zero_grad(set_to_none=True)
        loss.backward()
        if bf16_weights:
            for m, p in zip(master, params):
                m.grad = p.grad.float()
        torch.nn.utils.clip_grad_norm_(master if bf16_weights else params, 1.0)
        opt.step()
        if bf16_weights:
            with torch.no_grad():
                for m, p in zip(master, params):
                    p.copy_(m)

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


def measure_variant(name: str, depth: int, seconds: float) -> float:
    """Patches/s of one variant, in this process (the parent set its environment)."""
    variant = VARIANTS[name]
    _, train_step, _ = make_step(depth, variant.batch, "cpu", "bf16", variant)
    steps, secs = timed(train_step, seconds, "cpu")
    return steps * variant.batch / secs


def run_variants(names: list[str], depths: list[int], seconds: float, rounds: int) -> None:
    """Each (variant, depth) in a fresh process with the variant's environment, `rounds` times interleaved (base,
    a, b, ..., base, a, b, ...), so the machine's drift (clock boost, a neighbour) falls on every variant alike;
    a table of the median patches/s, its range, and the median ratio to base within each round."""
    from statistics import median
    flags = cpu_flags()
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "unknown CPU")
    kinds = [f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in flags]
    print(f"CPU: {model}; flags: {' '.join(kinds)}; {torch.get_num_threads()} threads; torch {torch.__version__}; "
          f"bf16; {seconds:g} s per figure, {rounds} interleaved rounds")
    figures: dict = {}   # (name, depth) -> [patches/s per round]
    for _ in range(rounds):
        for name in names:
            for depth in depths:
                env = {k: v for k, v in os.environ.items() if k not in FAST_ALLOCATOR and not k.startswith("OMP_P")}
                env.update(VARIANTS[name].env)
                out = subprocess.run([sys.executable, __file__, "--one", name, "--depths", str(depth),
                                      "--seconds", str(seconds)], env=env, capture_output=True, text=True)
                if out.returncode != 0:
                    print(f"  {name} RED{depth} failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                    figures.setdefault((name, depth), []).append(None)
                    continue
                figures.setdefault((name, depth), []).append(
                    json.loads(out.stdout.strip().splitlines()[-1])["patches_per_s"])
    print("| variant | what | " + " | ".join(f"RED{d} patches/s (range)" for d in depths) + " | vs base (median of rounds) |")
    print("|---|---|" + "---:|" * len(depths) + "---|")
    for name in names:
        cells, ratios = [], []
        for depth in depths:
            got = [f for f in figures[(name, depth)] if f]
            cells.append(f"{median(got):.1f} ({min(got):.1f}-{max(got):.1f})" if got else "failed")
            pairs = [f / b for f, b in zip(figures[(name, depth)], figures[("base", depth)]) if f and b]
            if pairs:
                ratios.append(f"{median(pairs):.2f}x")
        print(f"| {name} | {VARIANTS[name].note} | {' | '.join(cells)} | {' / '.join(ratios) or '-'} |", flush=True)


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
    parser.add_argument("--variants", help=f"comma-separated, or all: {', '.join(VARIANTS)} (CPU, bf16)")
    parser.add_argument("--rounds", type=int, default=3, help="with --variants: interleaved repeats")
    parser.add_argument("--one", help=argparse.SUPPRESS)   # the child process of --variants
    args = parser.parse_args()
    device = args.device
    if args.one:
        depth = int(args.depths.split(",")[0])
        print(json.dumps({"patches_per_s": measure_variant(args.one, depth, args.seconds)}))
        return
    if args.variants:
        names = list(VARIANTS) if args.variants == "all" else args.variants.split(",")
        unknown = [n for n in names if n not in VARIANTS]
        problem = (f"unknown variant {unknown[0]!r}: use {', '.join(VARIANTS)} or all." if unknown else
                   f"--rounds must be at least 1, got {args.rounds}." if args.rounds < 1 else
                   f"--seconds must be positive, got {args.seconds:g}." if not args.seconds > 0 else None)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            sys.exit(2)
        run_variants(["base"] + [n for n in names if n != "base"], [int(d) for d in args.depths.split(",")],
                     args.seconds, args.rounds)
        return
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
