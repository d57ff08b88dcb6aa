"""Train RED-Net or SRCNN on 50x50 patches; resumable, time-budgeted, CPU or CUDA, DDP-ready.

    redbench train --model red30 --task denoise --levels 10,30,50,70 --minutes 10
    torchrun --nproc_per_node 2 run_bench.py train ...   (DistributedDataParallel)

Writes to --out: checkpoint.safetensors (resume state, every --checkpoint-seconds),
log.csv (loss, lr, validation PSNR), curves.png, and the final weights with their
model card; --publish also copies them into methods/weights/ (and, with
--snapshot-minutes, publishes improving snapshots while it trains). --keep-every keeps snapshots in
OUT/snapshots/ (never published) for scripts/leg_curve.py.
SIGTERM and SIGINT end the run after the current step with a checkpoint.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from redbench.core import csv_cells
from redbench.core.atomic import remove_stale_temps, write_text_atomic
from redbench.core.checks import check_out_dir
from redbench.core.degradations import parse_levels
from redbench.core.errors import UserError
from redbench.core.weights_id import format_weights_id
from redbench.datasets.catalog import get_spec
from redbench.methods import weights as weights_io
from redbench.methods.torch_inference import resolve_device
from redbench.training import ddp
from redbench.training.checkpoint import load_checkpoint, save_checkpoint
from redbench.training.config import RECIPES, TrainConfig, build_model, check_config, lr_at
from redbench.training.ddp import Ranks
from redbench.training.patches import PatchSource
from redbench.training.precision import resolve_precision
from redbench.training.publishing import (SNAPSHOTS, SnapshotPublisher, keep_snapshot, kept_multiple, make_card,
                                          publish_final, snapshot_name)
from redbench.training.validation import split_holdout, validate, validation_crop, validation_set
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


class TrainingLog:
    """log.csv and the console line of each logged step (rank 0 only)."""

    def __init__(self, path: Path, name: str):
        new = not path.exists()
        self.name, self.file = name, open(path, "a", newline="")
        self.writer = csv_cells.writer(self.file)
        if new:
            self.writer.writerow(["step", "patches", "seconds", "lr", "loss", "val_psnr"])

    def row(self, counters: dict, lr: float, mean_loss: float, val: str) -> None:
        self.writer.writerow([counters["step"], counters["patches"], f"{counters['seconds']:.1f}", f"{lr:.3g}",
                              f"{mean_loss:.6g}", val])
        self.file.flush()
        print(f"{self.name} step {counters['step']} patches {counters['patches']} {counters['seconds']:.0f}s "
              f"loss {mean_loss:.5f} lr {lr:.2g}" + (f" val {val} dB" if val else ""), flush=True)

    def close(self) -> None:
        self.file.close()


@dataclass
class Trainer:
    """The state of one training, named: train() builds it top to bottom, then runs its steps."""
    config: TrainConfig
    ranks: Ranks
    device: str
    precision: str
    levels: list
    name: str
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    batch_size: int
    source: PatchSource | VectorPatchSource
    val_pairs: list
    out: Path                             # the run folder: checkpoint, log.csv, weights
    counters: dict                        # step, patches, seconds (+ init, earlier_*): in every checkpoint
    net: torch.nn.Module | None = None    # what a step calls: the model or its DDP wrapper
    log: TrainingLog | None = None        # rank 0 only
    publisher: SnapshotPublisher | None = None
    last_val: float | None = None
    losses: list = field(default_factory=list)   # since the last log row; tensors, as .item() would synchronise
    last_save: float = 0.0                # time.monotonic() of the last checkpoint (or of the first step)

    @property
    def checkpoint(self) -> Path:
        return self.out / "checkpoint.safetensors"

    @property
    def log_path(self) -> Path:
        return self.out / "log.csv"

    def progress(self) -> float:
        """The largest fraction spent of the budgets given (minutes, iterations, patches); 1.0 ends the training."""
        config, parts = self.config, []
        if config.minutes:
            parts.append(self.counters["seconds"] / (config.minutes * 60))
        if config.iters:
            parts.append(self.counters["step"] / config.iters)
        if config.patches:
            parts.append(self.counters["patches"] / config.patches)
        return max(parts)

    def step(self) -> None:
        """One optimizer step, then what is due: validation (and a snapshot), a kept network (--keep-every), a log
        row, a checkpoint."""
        lr, loss, seconds = self.optimize()
        before = self.counters["patches"]
        self.counters["step"] += 1
        self.counters["patches"] += self.batch_size * self.ranks.world
        self.counters["seconds"] += seconds
        self.losses.append(loss)
        val = ""
        if self.ranks.is_main and (self.counters["step"] % self.config.val_every == 0 or self.progress() >= 1.0):
            self.last_val = validate(self.model, self.val_pairs, self.device)
            val = f"{self.last_val:.3f}"
            if self.publisher is not None and self.progress() < 1.0:
                self.publisher.consider(self.model, self.counters, self.last_val, self.log_path)
        if self.ranks.is_main and self.config.keep_every:
            self.keep(before, validated=bool(val))
        if self.ranks.is_main and (self.counters["step"] % self.config.log_every == 0 or val):
            self.log.row(self.counters, lr, float(torch.stack(self.losses).float().mean()), val)
            self.losses = []
        if time.monotonic() - self.last_save > self.config.checkpoint_seconds:
            self.save()
            self.last_save = time.monotonic()

    def keep(self, before: int, validated: bool) -> None:
        """--keep-every: keep the network when this step's total patches (the earlier runs' included, so a leg's
        snapshots are named by the patches the network has seen) passed a multiple of it."""
        earlier = self.counters.get("earlier_patches", 0)
        multiple = kept_multiple(earlier + before, earlier + self.counters["patches"], self.config.keep_every)
        if multiple is None:
            return
        name = snapshot_name(self.name, multiple)

        def card() -> weights_io.ModelCard:
            val = self.last_val if validated else validate(self.model, self.val_pairs, self.device)
            return make_card(self.config, self.model, self.counters, self.levels, self.batch_size, self.ranks.world,
                             self.device, self.precision, name, val, complete=False)
        keep_snapshot(self.config, self.model, self.out, name, card)

    def optimize(self) -> tuple[float, torch.Tensor, float]:
        """(learning rate, loss, seconds) of one step on a fresh batch."""
        tick = time.monotonic()
        lr = lr_at(self.config, self.progress())
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = self.source.batch(self.batch_size)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
        on_cuda = self.device.startswith("cuda")
        with torch.autocast("cuda" if on_cuda else "cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            loss = torch.nn.functional.mse_loss(self.net(inputs).float(), targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        if on_cuda and (self.counters["step"] + 1) % self.config.log_every == 0:
            # the only host synchronisation: between two of these the GPU runs ahead freely, and the
            # steps' summed time catches up here, so the seconds counter stays true at every log row
            torch.cuda.synchronize()
        return lr, loss.detach(), ddp.slowest(self.ranks, time.monotonic() - tick, self.device)

    def save(self) -> None:
        """A checkpoint: model, Adam moments, counters and every rank's patch RNG (rank 0 writes it)."""
        rng = ddp.gather(self.ranks, {f"rank{self.ranks.rank}.{k}": v for k, v in self.source.state().items()})
        if self.ranks.is_main:
            save_checkpoint(self.checkpoint, self.model, self.optimizer, rng, self.counters)

    def resume(self) -> None:
        """Continue from the checkpoint in --out if there is one; otherwise a stale log.csv goes."""
        if self.checkpoint.exists():
            rng, self.counters = load_checkpoint(self.checkpoint, self.model, self.optimizer)
            prefix = f"rank{self.ranks.rank}."
            rank_rng = {k[len(prefix):]: v for k, v in rng.items() if k.startswith(prefix)}
            if rank_rng:
                self.source.load_state(rank_rng)
            if self.ranks.is_main:
                cut = _trim_log(self.log_path, self.counters["step"])
                print(f"resuming {self.name} from step {self.counters['step']} ({self.counters['patches']} patches, "
                      f"{self.counters['seconds']:.0f} s trained)"
                      + (f"; {cut} log rows past the checkpoint dropped" if cut else ""), flush=True)
        elif self.ranks.is_main and self.log_path.exists():
            self.log_path.unlink()
            print(f"{self.name}: no checkpoint in {self.out}, so training starts from step 0 (the old "
                  "log was discarded).", flush=True)

    def run(self, stop: StopRequest) -> None:
        """Steps until the budget is spent, --stop-after steps were taken or a signal came; checkpoints at the end."""
        self.model.train()
        self.last_save, steps_this_run = time.monotonic(), 0
        try:
            while self.progress() < 1.0 and (self.config.stop_after is None or steps_this_run < self.config.stop_after):
                self.step()
                steps_this_run += 1
                if stop.signal is not None:
                    break
        except KeyboardInterrupt:
            self.save()
            print(f"interrupted: checkpoint saved at step {self.counters['step']}; rerun the same command to resume.")
            raise
        finally:
            if self.log:
                self.log.close()
        self.save()


def _set_threads(requested: int | None, ranks: Ranks) -> None:
    cores = max(1, (os.cpu_count() or 1) // ranks.world)
    if requested and requested > cores and ranks.is_main:
        print(f"note: --threads {requested} reduced to {cores} (the cores per rank).", flush=True)
    torch.set_num_threads(min(requested or cores, cores))


def _new_model(config: TrainConfig, device: str) -> tuple[torch.nn.Module, weights_io.ModelCard | None]:
    """(the network on its device, the card of its --init weights or None)."""
    model = build_model(config)
    init_card = _load_init(model, config.init) if config.init else None
    model = model.to(device)
    model = model.to(memory_format=torch.channels_last)   # oneDNN and cuDNN both run NHWC convolutions fastest
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True             # fixed patch size: pick the fastest kernels once
    return model, init_card


def _patch_source(config: TrainConfig, levels: list, refs: list, device: str, rank: int):
    sampler = config.sampler if config.sampler != "auto" else ("vector" if device.startswith("cuda") else "loop")
    source_class = VectorPatchSource if sampler == "vector" else PatchSource
    return source_class(config.task, levels, refs, get_spec(config.train_set), config.patch, device, config.seed, rank)


def train(config: TrainConfig) -> Path | None:
    """Train one network (see the module's docstring); the weights' path, or None when this invocation ends
    before the budget is spent (--stop-after) or on a rank other than 0."""
    check_config(config)
    ranks = ddp.ranks_from_env()
    if ranks.is_main:
        check_out_dir(config.out)   # an existing file as --out: one line now, not a traceback at the first write
    levels = parse_levels(config.task, config.levels)
    device = ddp.join(ranks, resolve_device(config.device))
    if device == "cpu":
        _set_threads(config.threads, ranks)
    precision = resolve_precision(config.precision, device)
    torch.manual_seed(config.seed)   # identical initial weights on every rank

    out = Path(config.out)
    name = config.name or f"{config.model}-{config.task}"
    model, init_card = _new_model(config, device)
    train_refs, held = split_holdout(config)
    source = _patch_source(config, levels, train_refs, device, ranks.rank)
    val_pairs = validation_set(config, levels, held, validation_crop(model)) if ranks.is_main else []
    if ranks.is_main:
        # only now that the init weights and the datasets are found: a refused run changes nothing in OUT
        out.mkdir(parents=True, exist_ok=True)
        for folder in (out, out / SNAPSHOTS):   # a killed run's half-written checkpoint, log or kept snapshot
            remove_stale_temps(folder)
    trainer = Trainer(
        config=config, ranks=ranks, device=device, precision=precision, levels=levels, name=name, model=model,
        optimizer=torch.optim.Adam(model.parameters(), lr=lr_at(config, 0.0)),
        batch_size=config.batch_size or RECIPES[config.recipe][2], source=source, val_pairs=val_pairs, out=out,
        counters={"step": 0, "patches": 0, "seconds": 0.0, **(_init_counters(init_card, name) if init_card else {})})
    trainer.resume()
    trainer.net = ddp.wrap(model, ranks, device)
    if ranks.is_main:
        trainer.log = TrainingLog(trainer.log_path, name)
        print(f"{name}: {precision} on {device}, batch {trainer.batch_size}, {trainer.counters['patches']}/"
              f"{config.patches or '?'} patches", flush=True)
        if config.publish and config.snapshot_minutes:
            trainer.publisher = SnapshotPublisher(config, name, levels, trainer.batch_size, ranks.world, device,
                                                  precision)

    with StopRequest() as stop:
        trainer.run(stop)
    if stop.signal is not None:
        print(f"{signal.Signals(stop.signal).name}: checkpoint saved at step {trainer.counters['step']} "
              f"({trainer.counters['patches']} patches); rerun the same command to resume.", flush=True)
        raise KeyboardInterrupt
    if ranks.world > 1:
        ddp.check_replicas(model, ranks.rank, ranks.world, trainer.counters["step"])
    if trainer.progress() < 1.0:
        if ranks.is_main:
            print(f"paused at step {trainer.counters['step']} (--stop-after); rerun the same command to continue.")
        return None
    if not ranks.is_main:
        return None
    last_val = trainer.last_val if trainer.last_val is not None else validate(model, trainer.val_pairs, device)
    card = make_card(config, model, trainer.counters, levels, trainer.batch_size, ranks.world, device, precision,
                     name, last_val)
    return publish_final(config, model, card, out, trainer.log_path)
