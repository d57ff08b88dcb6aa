"""What a training is told: TrainConfig (one field per `redbench train` flag), the recipes, the learning-rate
schedule, and check_config, which turns every bad option into a one-line error before any work starts."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from redbench.core.checks import check_number
from redbench.core.defaults import levels_text
from redbench.core.errors import UserError
from redbench.core.names import NETWORK_NAME_RULE, is_network_name, printable_name
from redbench.datasets.catalog import get_spec
from redbench.methods.architectures import training_network
from redbench.training.precision import PRECISIONS

# bounds of the sizes a run may ask for (memory: a batch of MAX_BATCH patches of MAX_PATCH^2 pixels through a
# network of MAX_WIDTH maps is already tens of GB); the smallest patch still trains a 3x3 convolution chain
MAX_BATCH, MIN_PATCH, MAX_PATCH, MAX_WIDTH = 4096, 8, 1024, 1024
# a training's --seed: the patch generators seed with seed * 100003 + 2 * rank (+ 1), which stays far inside torch's
# 64-bit seeds below this bound
MAX_SEED = 2**32 - 1
# recipe -> (peak lr, schedule, batch size)
RECIPES = {
    "paper": (1e-4, "constant", 64),    # the paper: Adam, lr 1e-4
    "fast": (1e-3, "cosine", 32),       # measured faster in wall time on CPU (notes/cpu-performance.md)
}


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
    keep_every: int | None = None   # save OUT/snapshots/<name>-p<total>k at each multiple of this many total patches


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
            ("--stop-after", config.stop_after, True, None), ("--keep-every", config.keep_every, True, None),
            ("--span", config.span, True, None), ("--width", config.width, True, MAX_WIDTH)):
        check_number(flag, value, maximum=maximum, integer=integer, positive=True)
    check_number("--snapshot-minutes", config.snapshot_minutes, minimum=0)
    if config.ship_if_better and config.snapshot_minutes is not None:
        # a snapshot would replace the installed network on its crop validation alone, before the paired rule runs
        raise UserError("--snapshot-minutes publishes snapshots over the installed network, which --ship-if-better "
                        "must judge first: use one of the two.")
    check_number("--checkpoint-seconds", config.checkpoint_seconds, minimum=0, fix="0 checkpoints every step")
    check_number("--patch", config.patch, MIN_PATCH, MAX_PATCH, integer=True)
    check_number("--holdout", config.holdout, 0, integer=True, fix="0 validates on nothing")
    check_number("--seed", config.seed, 0, MAX_SEED, integer=True)
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
