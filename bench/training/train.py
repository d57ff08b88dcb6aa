"""Train RED-Net or SRCNN on 50x50 patches; resumable, time-budgeted, CPU or CUDA, DDP-ready.

    python run_bench.py train --model red30 --task denoise --levels 10,30,50,70 --minutes 10
    torchrun --nproc_per_node 2 run_bench.py train ...   (DistributedDataParallel)

Writes to --out: checkpoint.safetensors (resume state, every --checkpoint-seconds),
log.csv (loss, lr, validation PSNR), curves.png, and the final weights with their
model card; --publish also copies them into methods/weights/.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from bench.degradations import make_degradation, parse_levels
from bench.errors import UserError
from bench.metrics import psnr
from datasets.fetch import dataset_files, get_spec
from datasets.images import ground_truth
from methods import weights as weights_io
from methods.rednet import REDConfig, REDNet
from methods.srcnn_net import SRCNN, SRCNNConfig

from .checkpoint import load_checkpoint, save_checkpoint
from .patches import PatchSource

# recipe -> (peak lr, schedule, batch size)
RECIPES = {
    "paper": (1e-4, "constant", 64),    # the paper: Adam, lr 1e-4
    "fast": (1e-3, "cosine", 32),       # measured faster in wall time on CPU (notes/cpu-performance.md)
}
VAL_IMAGES = 4       # centre crops of the first BSD200 images, for monitoring only (never for selection)
VAL_CROP = 96


@dataclass
class TrainConfig:
    model: str = "red30"            # red10 | red20 | red30 | red<N> | srcnn
    task: str = "denoise"
    levels: str = "10,30,50,70"
    recipe: str = "fast"
    lr: float | None = None         # overrides the recipe
    batch_size: int | None = None
    patch: int = 50
    minutes: float | None = None    # wall-time budget of this training (all resumes together)
    iters: int | None = None        # iteration budget
    train_set: str = "bsd300-train"
    skip: str | None = None         # red models: 'red' | 'he' | 'none' (default: paper's choice by depth)
    span: int = 2
    width: int = 64
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    out: str = "runs/train"
    name: str | None = None         # weights name, default '<model>-<task>'
    data_dir: str | None = None
    checkpoint_seconds: float = 60.0
    val_every: int = 50
    log_every: int = 10
    publish: bool = False
    stop_after: int | None = None   # end this invocation after N steps (checkpointed; rerun to continue)


def build_model(config: TrainConfig) -> torch.nn.Module:
    if config.model == "srcnn":
        return SRCNN(SRCNNConfig())
    if config.model in ("strided5", "strided5-noskip"):
        from methods.rednet import StridedConfig, StridedRED
        return StridedRED(StridedConfig(width=config.width, skips=config.model == "strided5"))
    if config.model.startswith("red") and config.model[3:].isdigit():
        depth = int(config.model[3:])
        skip = config.skip or ("none" if depth <= 10 else "red")
        return REDNet(REDConfig(depth=depth, width=config.width, skip=skip, span=config.span))
    raise UserError(f"unknown model '{config.model}': use red10, red20, red30 (any even red<N>) or srcnn.")


def lr_at(config: TrainConfig, progress: float) -> float:
    peak, schedule, _ = RECIPES[config.recipe]
    peak = config.lr or peak
    if schedule == "constant":
        return peak
    warm = 0.02
    if progress < warm:
        return peak * max(progress / warm, 0.05)
    return 1e-5 + (peak - 1e-5) * 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warm) / (1 - warm))))


def _validation_set(config: TrainConfig, levels: list) -> list[tuple[np.ndarray, np.ndarray, object]]:
    spec = get_spec("bsd200")
    pairs = []
    crop = 243 if config.model.startswith("strided") else VAL_CROP   # strided nets need 3^5 inputs
    for i, ref in enumerate(dataset_files("bsd200", config.data_dir)[:VAL_IMAGES]):
        clean = ground_truth(ref.path, spec)
        h, w = clean.shape
        clean = clean[(h - crop) // 2:(h - crop) // 2 + crop, (w - crop) // 2:(w - crop) // 2 + crop]
        for level in levels:
            degradation = make_degradation(config.task, level)
            pairs.append((degradation.target(clean), degradation.apply(clean, seed=1000 + i), degradation))
    return pairs


@torch.no_grad()
def validate(model: torch.nn.Module, pairs, device: str) -> float:
    model.eval()
    scores = []
    for target, degraded, degradation in pairs:
        x = torch.from_numpy((degraded / 255.0).astype(np.float32))[None, None].to(device)
        out = model(x)[0, 0].float().cpu().numpy() * 255.0
        scores.append(psnr(target, out, shave=getattr(degradation, "shave", 0)))
    model.train()
    return float(np.mean(scores))


def _git_commit() -> str:
    import subprocess
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip() or "unknown"
    except Exception:
        return "unknown"


def _device(config: TrainConfig) -> str:
    if config.device != "auto":
        return config.device
    return "cuda" if torch.cuda.is_available() else "cpu"


def train(config: TrainConfig) -> Path | None:
    if config.recipe not in RECIPES:
        raise UserError(f"unknown recipe '{config.recipe}': use {', '.join(RECIPES)}.")
    if config.minutes is None and config.iters is None:
        raise UserError("give a budget: --minutes M and/or --iters N.")
    levels = parse_levels(config.task, config.levels)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = _device(config)
    if world > 1:
        import torch.distributed as dist
        backend = "nccl" if device == "cuda" else "gloo"
        dist.init_process_group(backend)
        if device == "cuda":
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            device = f"cuda:{local}"
    if device == "cpu":
        torch.set_num_threads(config.threads or max(1, (os.cpu_count() or 1) // world))
    torch.manual_seed(config.seed)   # identical initial weights on every rank

    name = config.name or f"{config.model}-{config.task}"
    out = Path(config.out)
    is_main = rank == 0
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
    model = build_model(config).to(device)
    if device == "cpu":
        model = model.to(memory_format=torch.channels_last)
    batch_size = config.batch_size or RECIPES[config.recipe][2]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr_at(config, 0.0))

    spec = get_spec(config.train_set)
    refs = dataset_files(config.train_set, config.data_dir)
    source = PatchSource(config.task, levels, refs, spec, config.patch, device, config.seed, rank)
    val_pairs = _validation_set(config, levels) if is_main else []

    counters = {"step": 0, "patches": 0, "seconds": 0.0}
    checkpoint = out / "checkpoint.safetensors"
    if checkpoint.exists():
        rng, counters = load_checkpoint(checkpoint, model, optimizer)
        rank_rng = {k[len(f"rank{rank}."):]: v for k, v in rng.items() if k.startswith(f"rank{rank}.")}
        if rank_rng:
            source.load_state(rank_rng)
        if is_main:
            print(f"resuming {name} from step {counters['step']} ({counters['seconds']:.0f} s trained)", flush=True)

    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model, device_ids=[torch.device(device).index] if "cuda" in device else None)

    use_bf16 = device.startswith("cuda")
    log_path = out / "log.csv"
    new_log = is_main and not log_path.exists()
    log_file = open(log_path, "a", newline="") if is_main else None
    writer = csv.writer(log_file) if log_file else None
    if new_log:
        writer.writerow(["step", "patches", "seconds", "lr", "loss", "val_psnr"])

    def progress() -> float:
        parts = []
        if config.minutes:
            parts.append(counters["seconds"] / (config.minutes * 60))
        if config.iters:
            parts.append(counters["step"] / config.iters)
        return max(parts)

    def save_state() -> None:
        rng = {f"rank{rank}.{k}": v for k, v in source.state().items()}
        if world > 1:
            import torch.distributed as dist
            gathered = [None] * world
            dist.all_gather_object(gathered, rng)
            rng = {k: v for part in gathered for k, v in part.items()}
        if is_main:
            save_checkpoint(checkpoint, model, optimizer, rng, counters)

    state = {"last_save": time.monotonic(), "last_val": None, "running": []}

    def step() -> None:
        tick = time.monotonic()
        lr = lr_at(config, progress())
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = source.batch(batch_size)
        if device == "cpu":
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
            loss = torch.nn.functional.mse_loss(net(inputs).float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if use_bf16:
            torch.cuda.synchronize()
        step_seconds = time.monotonic() - tick
        if world > 1:   # every rank must stop at the same step: agree on elapsed time
            import torch.distributed as dist
            t = torch.tensor([step_seconds], device=device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            step_seconds = float(t)
        counters["step"] += 1
        counters["patches"] += batch_size * world
        counters["seconds"] += step_seconds
        state["running"].append(loss.item())
        val = ""
        if is_main and (counters["step"] % config.val_every == 0 or progress() >= 1.0):
            state["last_val"] = validate(model, val_pairs, device)
            val = f"{state['last_val']:.3f}"
        if is_main and (counters["step"] % config.log_every == 0 or val):
            mean_loss = float(np.mean(state["running"]))
            writer.writerow([counters["step"], counters["patches"], f"{counters['seconds']:.1f}", f"{lr:.3g}",
                             f"{mean_loss:.6g}", val])
            log_file.flush()
            print(f"{name} step {counters['step']} patches {counters['patches']} {counters['seconds']:.0f}s "
                  f"loss {mean_loss:.5f} lr {lr:.2g}" + (f" val {val} dB" if val else ""), flush=True)
            state["running"] = []
        if time.monotonic() - state["last_save"] > config.checkpoint_seconds:
            save_state()
            state["last_save"] = time.monotonic()

    model.train()
    steps_this_run = 0
    try:
        while progress() < 1.0 and (config.stop_after is None or steps_this_run < config.stop_after):
            step()
            steps_this_run += 1
    except KeyboardInterrupt:
        save_state()
        print(f"interrupted: checkpoint saved at step {counters['step']}; rerun the same command to resume.")
        raise
    finally:
        if log_file:
            log_file.close()
    save_state()
    if world > 1:
        _check_replicas(model, rank, world, counters["step"])
    if progress() < 1.0:
        if is_main:
            print(f"paused at step {counters['step']} (--stop-after); rerun the same command to continue.")
        return None
    if not is_main:
        return None
    last_val = state["last_val"] if state["last_val"] is not None else validate(model, val_pairs, device)
    return _publish(config, model, counters, levels, batch_size, world, device, name, out, log_path, last_val)


def weights_digest(state_dict: dict) -> str:
    """sha256 over the names and exact bytes of a state dict (as weights_io.save stores it)."""
    import hashlib
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        digest.update(key.encode())
        digest.update(state_dict[key].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _check_replicas(model: torch.nn.Module, rank: int, world: int, step: int) -> None:
    """DDP keeps one model on every rank: raise unless all ranks hold bitwise-identical weights."""
    import torch.distributed as dist
    digests = [None] * world
    dist.all_gather_object(digests, weights_digest(model.state_dict()))
    if len(set(digests)) != 1:
        raise RuntimeError(f"DDP replicas diverged at step {step}: weight sha256 per rank "
                           + ", ".join(f"{r}: {d[:12]}" for r, d in enumerate(digests)))
    if rank == 0:
        print(f"ddp: weights identical on all {world} ranks at step {step} (sha256 {digests[0]})", flush=True)


def _publish(config: TrainConfig, model, counters: dict, levels: list, batch_size: int, world: int, device: str,
             name: str, out: Path, log_path: Path, last_val: float) -> Path:
    """Final weights, model card and curves; --publish copies them into methods/weights/."""
    cores = torch.get_num_threads()
    device_words = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU, {cores} threads"
    card = weights_io.ModelCard(
        name=name, architecture="red" if config.model.startswith("red") else config.model.split("-")[0],
        config=model.config.as_dict(), task=config.task, levels=levels, recipe=config.recipe,
        iterations=counters["step"], patches_seen=counters["patches"], batch_size=batch_size * world,
        patch_size=config.patch, train_set=config.train_set, device=device_words,
        wall_seconds=round(counters["seconds"], 1),
        budget=(f"{config.minutes:g} min" if config.minutes else f"{config.iters} iterations") + f" on {device_words}"
               + (f" x{world} ranks" if world > 1 else ""),
        val_psnr=round(last_val, 3),
        val_protocol=f"mean PSNR over levels {levels} on {VAL_CROP}x{VAL_CROP} centre crops of the first "
                     f"{VAL_IMAGES} BSD200 images (monitoring only)",
        git_commit=_git_commit(), seed=config.seed, extra={"train_config": asdict(config)})
    path = weights_io.save(model.state_dict(), card, out)
    try:
        from bench.plots import plot_training_curves
        plot_training_curves([log_path], out / "curves.png", labels=[name])
    except Exception as exc:  # a failed plot must not lose the trained weights
        print(f"warning: could not plot curves: {exc}")
    if config.publish:
        for suffix in (".safetensors", ".json"):
            shutil.copy2(out / f"{name}{suffix}", weights_io.WEIGHTS_DIR / f"{name}{suffix}")
        print(f"published {name} to {weights_io.WEIGHTS_DIR}")
    print(f"done: {path} val {last_val:.3f} dB after {counters['step']} steps / {counters['seconds']:.0f} s")
    return path

def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    for key, value in asdict(defaults).items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true", default=value)
        else:
            kind = {"lr": float, "minutes": float, "iters": int, "batch_size": int, "threads": int, "stop_after": int}.get(key, type(value) if value is not None else str)
            parser.add_argument(flag, type=kind, default=value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="run_bench.py train", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    train(TrainConfig(**vars(args)))
