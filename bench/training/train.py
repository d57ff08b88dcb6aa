"""Train RED-Net or SRCNN on 50x50 patches; resumable, time-budgeted, CPU or CUDA, DDP-ready.

    redbench train --model red30 --task denoise --levels 10,30,50,70 --minutes 10
    torchrun --nproc_per_node 2 run_bench.py train ...   (DistributedDataParallel)

Writes to --out: checkpoint.safetensors (resume state, every --checkpoint-seconds),
log.csv (loss, lr, validation PSNR), curves.png, and the final weights with their
model card; --publish also copies them into methods/weights/ (and, with
--snapshot-minutes, publishes improving snapshots while it trains).
SIGTERM and SIGINT end the run after the current step with a checkpoint.
"""
from __future__ import annotations

import csv
import os
import signal
import time
from pathlib import Path

import torch

from redbench.core.atomic import write_text_atomic
from redbench.core.checks import check_out_dir
from redbench.core.degradations import parse_levels
from redbench.core.errors import UserError
from redbench.core.weights_id import format_weights_id
from redbench.datasets.catalog import get_spec
from redbench.methods import weights as weights_io
from redbench.methods.torch_inference import resolve_device
from redbench.training.checkpoint import load_checkpoint, save_checkpoint
from redbench.training.config import RECIPES, TrainConfig, build_model, check_config, lr_at
from redbench.training.ddp import check_replicas
from redbench.training.patches import PatchSource
from redbench.training.precision import resolve_precision
from redbench.training.publishing import SnapshotPublisher, make_card, publish_final
from redbench.training.validation import split_holdout, validate, validation_set
from redbench.training.vector_patches import VectorPatchSource


class StopRequest:
    """SIGTERM/SIGINT set a flag; the loop ends after the current step and checkpoints.
    (Raising inside a step could leave the optimizer half-updated.)"""

    def __init__(self):
        self.signal: int | None = None
        self._previous = {}

    def __enter__(self):
        import threading
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signal is not None:   # a second signal: stop at once
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False


def _trim_log(log_path: Path, step: int) -> int:
    """Cut log rows beyond the checkpoint's step (they will be recomputed); returns how many were cut."""
    if not log_path.exists():
        return 0
    lines = log_path.read_text().splitlines()
    if not lines:
        return 0
    kept = [lines[0]] + [line for line in lines[1:] if line and int(line.split(",", 1)[0]) <= step]
    cut = len(lines) - len(kept)
    if cut:
        write_text_atomic(log_path, "\n".join(kept) + "\n")
    return cut


def _load_init(model: torch.nn.Module, ref: str) -> weights_io.ModelCard:
    """Loads the starting weights and returns their card."""
    state, card = weights_io.load(*weights_io.split_ref(ref))
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise UserError(f"--init weights '{ref}' do not fit this model ({card.config}); "
                        f"initialise from a network of the same architecture.") from None
    return card


def _init_counters(card: weights_io.ModelCard, name: str) -> dict:
    """What the card of the new network records of its start: 'name@sha256' (a path may not exist later) and,
    when it continues a network of its own name, the patches and steps that network had already seen."""
    counters = {"init": format_weights_id(card.name, card.sha256)}
    if card.name == name:
        counters["earlier_patches"] = card.total_patches
        counters["earlier_iterations"] = card.total_iterations
    return counters


def train(config: TrainConfig) -> Path | None:
    check_config(config)
    if int(os.environ.get("RANK", "0")) == 0:
        check_out_dir(config.out)   # an existing file as --out: one line now, not a traceback at the first write
    levels = parse_levels(config.task, config.levels)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = resolve_device(config.device)
    if world > 1:
        import torch.distributed as dist
        backend = "nccl" if device == "cuda" else "gloo"
        dist.init_process_group(backend)
        if device == "cuda":
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            device = f"cuda:{local}"
    if device == "cpu":
        cores = max(1, (os.cpu_count() or 1) // world)
        if config.threads and config.threads > cores and rank == 0:
            print(f"note: --threads {config.threads} reduced to {cores} (the cores per rank).", flush=True)
        torch.set_num_threads(min(config.threads or cores, cores))
    precision = resolve_precision(config.precision, device)
    torch.manual_seed(config.seed)   # identical initial weights on every rank

    out = Path(config.out)
    is_main = rank == 0
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
    model = build_model(config)
    name = config.name or f"{config.model}-{config.task}"
    if config.init:
        init_card = _load_init(model, config.init)
    model = model.to(device)
    model = model.to(memory_format=torch.channels_last)   # oneDNN and cuDNN both run NHWC convolutions fastest
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True             # fixed patch size: pick the fastest kernels once
    batch_size = config.batch_size or RECIPES[config.recipe][2]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr_at(config, 0.0))

    spec = get_spec(config.train_set)
    train_refs, held = split_holdout(config)
    sampler = config.sampler if config.sampler != "auto" else ("vector" if device.startswith("cuda") else "loop")
    source_class = VectorPatchSource if sampler == "vector" else PatchSource
    source = source_class(config.task, levels, train_refs, spec, config.patch, device, config.seed, rank)
    val_pairs = validation_set(config, levels, held) if is_main else []

    counters = {"step": 0, "patches": 0, "seconds": 0.0}   # saved in every checkpoint, so resumes keep them
    if config.init:
        counters.update(_init_counters(init_card, name))
    checkpoint = out / "checkpoint.safetensors"
    log_path = out / "log.csv"
    if checkpoint.exists():
        rng, counters = load_checkpoint(checkpoint, model, optimizer)
        rank_rng = {k[len(f"rank{rank}."):]: v for k, v in rng.items() if k.startswith(f"rank{rank}.")}
        if rank_rng:
            source.load_state(rank_rng)
        if is_main:
            cut = _trim_log(log_path, counters["step"])
            print(f"resuming {name} from step {counters['step']} ({counters['patches']} patches, "
                  f"{counters['seconds']:.0f} s trained)" + (f"; {cut} log rows past the checkpoint dropped" if cut else ""),
                  flush=True)
    elif is_main and log_path.exists():
        log_path.unlink()
        print(f"{name}: no checkpoint in {out}, so training starts from step 0 (the old log was discarded).",
              flush=True)

    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model, device_ids=[torch.device(device).index] if "cuda" in device else None)

    use_bf16 = precision == "bf16"
    autocast_device = "cuda" if device.startswith("cuda") else "cpu"
    new_log = is_main and not log_path.exists()
    log_file = open(log_path, "a", newline="") if is_main else None
    writer = csv.writer(log_file) if log_file else None
    if new_log:
        writer.writerow(["step", "patches", "seconds", "lr", "loss", "val_psnr"])
    if is_main:
        planned = config.patches or "?"
        print(f"{name}: {precision} on {device}, batch {batch_size}, {counters['patches']}/{planned} patches",
              flush=True)

    def progress() -> float:
        parts = []
        if config.minutes:
            parts.append(counters["seconds"] / (config.minutes * 60))
        if config.iters:
            parts.append(counters["step"] / config.iters)
        if config.patches:
            parts.append(counters["patches"] / config.patches)
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

    publisher = SnapshotPublisher(config, name, levels, batch_size, world, device, precision) \
        if is_main and config.publish and config.snapshot_minutes else None
    state = {"last_save": time.monotonic(), "last_val": None, "running": []}

    def step() -> None:
        tick = time.monotonic()
        lr = lr_at(config, progress())
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = source.batch(batch_size)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.autocast(autocast_device, dtype=torch.bfloat16, enabled=use_bf16):
            loss = torch.nn.functional.mse_loss(net(inputs).float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if device.startswith("cuda") and (counters["step"] + 1) % config.log_every == 0:
            # the only host synchronisation: between two of these the GPU runs ahead freely, and the
            # steps' summed time catches up here, so the seconds counter stays true at every log row
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
        state["running"].append(loss.detach())   # a tensor: .item() here would synchronise every step
        val = ""
        if is_main and (counters["step"] % config.val_every == 0 or progress() >= 1.0):
            state["last_val"] = validate(model, val_pairs, device)
            val = f"{state['last_val']:.3f}"
            if publisher is not None and progress() < 1.0:
                publisher.consider(model, counters, state["last_val"], log_path)
        if is_main and (counters["step"] % config.log_every == 0 or val):
            mean_loss = float(torch.stack(state["running"]).float().mean())
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
    with StopRequest() as stop:
        try:
            while progress() < 1.0 and (config.stop_after is None or steps_this_run < config.stop_after):
                step()
                steps_this_run += 1
                if stop.signal is not None:
                    break
        except KeyboardInterrupt:
            save_state()
            print(f"interrupted: checkpoint saved at step {counters['step']}; rerun the same command to resume.")
            raise
        finally:
            if log_file:
                log_file.close()
        save_state()
    if stop.signal is not None:
        print(f"{signal.Signals(stop.signal).name}: checkpoint saved at step {counters['step']} "
              f"({counters['patches']} patches); rerun the same command to resume.", flush=True)
        raise KeyboardInterrupt
    if world > 1:
        check_replicas(model, rank, world, counters["step"])
    if progress() < 1.0:
        if is_main:
            print(f"paused at step {counters['step']} (--stop-after); rerun the same command to continue.")
        return None
    if not is_main:
        return None
    last_val = state["last_val"] if state["last_val"] is not None else validate(model, val_pairs, device)
    card = make_card(config, model, counters, levels, batch_size, world, device, precision, name, last_val)
    return publish_final(config, model, card, out, log_path)
