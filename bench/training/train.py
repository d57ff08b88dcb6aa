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
import math
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from redbench.core.atomic import copy_atomic, write_text_atomic
from redbench.core.checks import check_number, check_out_dir
from redbench.datasets.catalog import SPECS, get_spec
from redbench.datasets.images import ground_truth
from redbench.core.defaults import TASKS, levels_text
from redbench.core.degradations import make_degradation, parse_levels
from redbench.core.environment import git_commit
from redbench.core.errors import UserError
from redbench.methods import weights as weights_io
from redbench.methods.architectures import TRAINING_MODELS, architecture_of, training_network
from redbench.methods.torch_inference import apply_network, device_name, resolve_device
from redbench.core.metrics import psnr
from redbench.core.names import NETWORK_NAME_RULE, is_network_name, printable_name
from redbench.core.plots import plot_training_curves
from redbench.core.weights_id import format_weights_id

from redbench.training import ship_rule
from redbench.training.holdout import VAL_SET, split_images
from redbench.training.checkpoint import load_checkpoint, save_checkpoint
from redbench.training.patches import PatchSource
from redbench.training.precision import PRECISIONS, resolve_precision
from redbench.training.vector_patches import VectorPatchSource

# bounds of the sizes a run may ask for (memory: a batch of MAX_BATCH patches of MAX_PATCH^2 pixels through a
# network of MAX_WIDTH maps is already tens of GB); the smallest patch still trains a 3x3 convolution chain
MAX_BATCH, MIN_PATCH, MAX_PATCH, MAX_WIDTH = 4096, 8, 1024, 1024
# recipe -> (peak lr, schedule, batch size)
RECIPES = {
    "paper": (1e-4, "constant", 64),    # the paper: Adam, lr 1e-4
    "fast": (1e-3, "cosine", 32),       # measured faster in wall time on CPU (notes/cpu-performance.md)
}
# Validation: centre crops of the held-out VAL_SET images (holdout.py)
VAL_CROP = 128


@dataclass
class TrainConfig:
    model: str = "red30"            # red10 | red20 | red30 | red<N> | srcnn
    task: str = "denoise"
    levels: str = levels_text("denoise")
    recipe: str = "fast"
    lr: float | None = None         # overrides the recipe
    batch_size: int | None = None
    patch: int = 50
    minutes: float | None = None    # wall-time budget of this training (all resumes together)
    iters: int | None = None        # iteration budget
    patches: int | None = None      # budget in training patches (what the campaign plan uses)
    precision: str = "auto"         # auto | fp32 | bf16 (autocast; master weights stay fp32)
    init: str | None = None         # start from these weights (a name in methods/weights/ or a path)
    holdout: int = 4                # BSDS500-train images kept out of training for validation
    sampler: str = "auto"           # loop (CPU default) | vector (batched on the device; CUDA default)
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
    publish_dir: str | None = None  # where --publish writes (default methods/weights/)
    snapshot_minutes: float | None = None   # with --publish: publish an improving snapshot this often
    weights_dtype: str = "float16"  # storage of published weights (fp16 changes PSNR by < 0.005 dB)
    stop_after: int | None = None   # end this invocation after N steps (checkpointed; rerun to continue)
    ship_if_better: bool = False    # with --publish: replace an installed network only by a resolved gain (ship_rule.py)


def build_model(config: TrainConfig) -> torch.nn.Module:
    """A new network for --model (the architecture registry, methods/architectures.py, builds it)."""
    return training_network(config.model, width=config.width, skip=config.skip, span=config.span)[1]


def lr_at(config: TrainConfig, progress: float) -> float:
    peak, schedule, _ = RECIPES[config.recipe]
    peak = config.lr or peak
    if schedule == "constant":
        return peak
    warm = 0.02
    if progress < warm:
        return peak * max(progress / warm, 0.05)
    return 1e-5 + (peak - 1e-5) * 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warm) / (1 - warm))))


def split_holdout(config: TrainConfig) -> tuple[list, list]:
    """(training refs, validation refs): the last `holdout` BSDS500-train images never train (holdout.py)."""
    return split_images(config.holdout, config.train_set, config.data_dir)


def _validation_set(config: TrainConfig, levels: list, held: list) -> list[tuple[np.ndarray, np.ndarray, object]]:
    spec = get_spec(VAL_SET)
    pairs = []
    crop = 243 if config.model.startswith("strided") else VAL_CROP   # strided nets need 3^5 inputs
    for i, ref in enumerate(held):
        clean = ground_truth(ref.path, spec)
        h, w = clean.shape
        clean = clean[(h - crop) // 2:(h - crop) // 2 + crop, (w - crop) // 2:(w - crop) // 2 + crop]
        for level in levels:
            degradation = make_degradation(config.task, level)
            pairs.append((degradation.target(clean), degradation.apply(clean, seed=1000 + i), degradation))
    return pairs


@torch.no_grad()
def validate(model: torch.nn.Module, pairs, device: str) -> float:
    """Mean PSNR over the validation pairs, in fp32 (the evaluation's precision)."""
    if not pairs:
        return float("nan")
    model.eval()
    scores = [psnr(target, apply_network(model, degraded, device=device), shave=degradation.shave)
              for target, degraded, degradation in pairs]
    model.train()
    return float(np.mean(scores))


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
    """Loads the starting weights and returns their card (checked first as every network is: its file, its card
    and no NaN or infinite weights, which would train into NaN)."""
    from redbench.methods.red_family import check_fits
    name, directory = weights_io.split_ref(ref)
    check_fits(weights_io.read_card(name, directory), directory)
    state, card = weights_io.load(name, directory)
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


def check_config(config: TrainConfig) -> None:
    """Every bad option as a one-line error before any work starts."""
    if config.recipe not in RECIPES:
        raise UserError(f"unknown recipe '{config.recipe}': use {', '.join(RECIPES)}.")
    if config.minutes is None and config.iters is None and config.patches is None:
        raise UserError("give a budget: --patches N, --minutes M and/or --iters N.")
    # every number up front: nan, 0 or a negative used to train 0 steps, fall back silently or crash mid-run
    for flag, value, integer, maximum in (
            ("--minutes", config.minutes, False, None), ("--iters", config.iters, True, None),
            ("--patches", config.patches, True, None), ("--lr", config.lr, False, None),
            ("--batch-size", config.batch_size, True, MAX_BATCH), ("--val-every", config.val_every, True, None),
            ("--log-every", config.log_every, True, None),
            ("--stop-after", config.stop_after, True, None),
            ("--span", config.span, True, None), ("--width", config.width, True, MAX_WIDTH)):
        check_number(flag, value, maximum=maximum, integer=integer, positive=True)
    check_number("--snapshot-minutes", config.snapshot_minutes, minimum=0)
    check_number("--checkpoint-seconds", config.checkpoint_seconds, minimum=0, fix="0 checkpoints every step")
    check_number("--patch", config.patch, MIN_PATCH, MAX_PATCH, integer=True)
    check_number("--holdout", config.holdout, 0, integer=True, fix="0 validates on nothing")
    check_number("--seed", config.seed, 0, 2**32 - 1, integer=True)
    check_number("--threads", config.threads, 1, integer=True, fix="leave it out for all cores")
    if config.name is not None and not is_network_name(config.name):
        raise UserError(f"--name '{printable_name(config.name)}' is not a file name; give a plain name of "
                        f"{NETWORK_NAME_RULE}, such as red30-denoise-s30.")
    if config.precision not in PRECISIONS:
        raise UserError(f"unknown precision '{config.precision}': use {', '.join(PRECISIONS)}.")
    if config.weights_dtype not in ("float16", "float32"):
        raise UserError(f"--weights-dtype must be float16 or float32, got '{config.weights_dtype}'.")
    spec = get_spec(config.train_set)
    if config.task not in spec.tasks:
        raise UserError(f"train set '{config.train_set}' is not a {config.task} set (it serves "
                        f"{', '.join(spec.tasks)}); use bsd300-train or bsds500-train.")
    build_model(config)


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
    val_pairs = _validation_set(config, levels, held) if is_main else []

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
        _check_replicas(model, rank, world, counters["step"])
    if progress() < 1.0:
        if is_main:
            print(f"paused at step {counters['step']} (--stop-after); rerun the same command to continue.")
        return None
    if not is_main:
        return None
    last_val = state["last_val"] if state["last_val"] is not None else validate(model, val_pairs, device)
    card = make_card(config, model, counters, levels, batch_size, world, device, precision, name, last_val)
    return _publish(config, model, card, out, log_path)


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


def make_card(config: TrainConfig, model, counters: dict, levels: list, batch_size: int, world: int, device: str,
              precision: str, name: str, val_psnr: float, complete: bool = True) -> weights_io.ModelCard:
    device_words = device_name(device)
    budget = (f"{config.patches} patches" if config.patches else
              f"{config.minutes:g} min" if config.minutes else f"{config.iters} iterations")
    return weights_io.ModelCard(
        name=name, architecture=architecture_of(model),
        config=model.config.as_dict(), task=config.task, levels=levels, recipe=config.recipe,
        iterations=counters["step"], patches_seen=counters["patches"], batch_size=batch_size * world,
        patch_size=config.patch, train_set=config.train_set, device=device_words,
        wall_seconds=round(counters["seconds"], 1),
        budget=budget + f" on {device_words}" + (f" x{world} ranks" if world > 1 else ""),
        val_psnr=round(val_psnr, 3) if math.isfinite(val_psnr) else None,   # --holdout 0: nothing validated
        val_protocol=f"mean PSNR over levels {levels} on {VAL_CROP}x{VAL_CROP} centre crops of the last "
                     f"{config.holdout} {VAL_SET} images, held out of training",
        git_commit=git_commit(), seed=config.seed, patches_planned=config.patches, complete=complete,
        precision=precision, init=counters.get("init", config.init), extra={"train_config": asdict(config)},
        earlier_patches=counters.get("earlier_patches", 0), earlier_iterations=counters.get("earlier_iterations", 0))


class SnapshotPublisher:
    """Publishes the network while it trains, whenever validation improved and enough time passed, so a
    long campaign has usable weights long before each budget is spent (the card says how far it got)."""

    def __init__(self, config: TrainConfig, name: str, levels: list, batch_size: int, world: int, device: str,
                 precision: str):
        self.config, self.name, self.levels = config, name, levels
        self.batch_size, self.world, self.device, self.precision = batch_size, world, device, precision
        self.last_seconds: float | None = None
        self.best = -math.inf
        published = publish_dir(config) / f"{name}.json"
        if published.exists():   # a resumed run must beat what is already published
            try:
                card = weights_io.read_card(name, publish_dir(config))
                if card.val_psnr is not None and card.val_protocol.endswith("held out of training"):
                    self.best = card.val_psnr
                    self.last_seconds = card.wall_seconds
            except UserError:
                pass

    def consider(self, model, counters: dict, val_psnr: float, log_path: Path) -> None:
        seconds = counters["seconds"]
        due = self.last_seconds is None or seconds - self.last_seconds >= self.config.snapshot_minutes * 60
        if not due or not val_psnr > self.best:
            return
        card = make_card(self.config, model, counters, self.levels, self.batch_size, self.world, self.device,
                         self.precision, self.name, val_psnr, complete=False)
        weights_io.save(model.state_dict(), card, publish_dir(self.config), dtype=self.config.weights_dtype)
        self.best, self.last_seconds = val_psnr, seconds
        print(f"snapshot {self.name} published: val {val_psnr:.3f} dB at {counters['patches']} patches", flush=True)


def publish_dir(config: TrainConfig) -> Path:
    return Path(config.publish_dir) if config.publish_dir else weights_io.WEIGHTS_DIR


def _publish(config: TrainConfig, model, card: weights_io.ModelCard, out: Path, log_path: Path) -> Path:
    """Final weights, model card and curves; --publish copies them into methods/weights/ (with --ship-if-better,
    only when training/ship_rule.py says they replace the network installed under that name)."""
    path = weights_io.save(model.state_dict(), card, out, dtype=config.weights_dtype)
    try:
        plot_training_curves([log_path], out / "curves.png", labels=[card.name])
    except Exception as exc:  # a failed plot must not lose the trained weights
        print(f"warning: could not plot curves: {exc}")
    if config.publish:
        target = publish_dir(config)
        decision = ship_rule.decide(str(target / card.name), str(out / card.name), config.data_dir, config.device) \
            if config.ship_if_better and (target / f"{card.name}.json").exists() else None
        if decision is not None:
            print(f"{'shipped' if decision.ships else 'not shipped'}: {card.name}: {decision.reason}", flush=True)
        if decision is not None and not decision.ships:
            print(f"the installed {card.name} stays; the new one is in {out}.")
        else:
            target.mkdir(parents=True, exist_ok=True)
            for suffix in (".safetensors", ".json"):
                copy_atomic(out / f"{card.name}{suffix}", target / f"{card.name}{suffix}")
            print(f"published {card.name} to {target}")
    val = f"val {card.val_psnr:.3f} dB" if card.val_psnr is not None else "not validated (--holdout 0)"
    print(f"done: {path} {val} after {card.iterations} steps / {card.wall_seconds:.0f} s")
    return path


# The command line (`redbench train`, cli.py) has one flag per TrainConfig field, with this help and these choices.
FLAG_HELP = {
    "model": f"network: {TRAINING_MODELS}",
    "task": "what the network learns",
    "levels": "sigmas (denoise) or scales (sr), comma-separated; several = one model for all",
    "recipe": "paper: Adam 1e-4 constant, batch 64; fast: Adam 1e-3 cosine, batch 32",
    "lr": "peak learning rate (default: the recipe's)",
    "batch_size": "patches per step and rank (default: the recipe's)",
    "patch": "patch side in pixels", "minutes": "budget: minutes of training (all resumes together)",
    "iters": "budget: optimizer steps", "patches": "budget: training patches",
    "precision": "auto: bf16 autocast on CUDA and on CPUs with AMX/AVX512-BF16, else fp32",
    "init": "start from these weights (a name in methods/weights/ or a path without suffix)",
    "holdout": "BSDS500-train images held out of training for validation",
    "sampler": "patch sampler: loop (per patch) or vector (batched on the device); auto: vector on CUDA",
    "train_set": "training images: bsd300-train (the paper's 300) or bsds500-train (no overlap with test sets)",
    "skip": "skip connections of red models: red (symmetric), he (block shortcuts), none (default: by depth, "
            "none for red10)",
    "span": "layers between skips", "width": "feature maps per layer", "seed": "seed of weights, patches and noise",
    "device": "where to train (auto: cuda if available)", "threads": "CPU threads (default: all cores / ranks)",
    "out": "run folder: checkpoint, log.csv, curves.png, weights and card",
    "name": "weights name (default: <model>-<task>)", "data_dir": "local dataset mirror (default: $REDBENCH_DATA_DIR)",
    "checkpoint_seconds": "seconds between checkpoints", "val_every": "steps between validations",
    "log_every": "steps between log rows", "publish": "also copy the final weights and card to methods/weights/",
    "publish_dir": "folder --publish writes to (default: methods/weights/)",
    "snapshot_minutes": "with --publish: publish an improving snapshot this often while training",
    "weights_dtype": "storage of saved weights (float16 changes PSNR by < 0.005 dB)",
    "stop_after": "end this invocation after N steps, checkpointed (rerun to continue)",
    "ship_if_better": "with --publish: replace an installed network of the same name only if this one is better on "
                      "the held-out images at full size by more than the half-width of the 95%% interval of the gain",
}
FLAG_CHOICES = {"sampler": ("auto", "loop", "vector"), "recipe": tuple(RECIPES), "precision": PRECISIONS,
                "weights_dtype": ("float16", "float32"), "task": TASKS, "device": ("auto", "cpu", "cuda"),
                "skip": ("red", "he", "none"), "train_set": tuple(sorted(SPECS))}
FLAG_TYPES = {"lr": float, "minutes": float, "iters": int, "patches": int, "batch_size": int, "threads": int,
              "stop_after": int, "snapshot_minutes": float}
