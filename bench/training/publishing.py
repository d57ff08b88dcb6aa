"""What a training leaves behind: the model card, the final weights and curves in the run folder, the copy
--publish installs (or not, with --ship-if-better), the snapshots --snapshot-minutes publishes meanwhile and the
ones --keep-every keeps in the run folder."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from redbench.core.atomic import copy_atomic
from redbench.core.environment import git_commit
from redbench.core.errors import UserError
from redbench.core.plots import plot_training_curves
from redbench.methods import weights as weights_io
from redbench.methods.architectures import architecture_of
from redbench.methods.torch_inference import device_name
from redbench.training import ship_rule
from redbench.training.config import TrainConfig
from redbench.training.validation import VAL_SET, validation_crop

def make_card(config: TrainConfig, model, counters: dict, levels: list, batch_size: int, world: int, device: str,
              precision: str, name: str, val_psnr: float, complete: bool = True) -> weights_io.ModelCard:
    device_words = device_name(device)
    crop = validation_crop(model)   # the side the validation used (a strided network's one input size), not VAL_CROP
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
        val_protocol=f"mean PSNR over levels {levels} on {crop}x{crop} centre crops of the last "
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


SNAPSHOTS = "snapshots"   # OUT/snapshots/: what --keep-every keeps (scripts/leg_curve.py reads it)


def kept_multiple(before: int, after: int, every: int) -> int | None:
    """The largest multiple of `every` that a step from `before` to `after` total patches passed (None: none). A
    step that passes several (a batch larger than `every`) keeps one network: there is only one to keep."""
    multiple = after // every * every
    return multiple if multiple > before else None


def snapshot_name(name: str, patches: int) -> str:
    """'<name>-p<patches in thousands>k': red30-denoise-single-p1300k (p0.016k for a test's 16 patches)."""
    thousands = f"{patches // 1000}" if patches % 1000 == 0 else f"{patches / 1000:.3f}".rstrip("0")
    return f"{name}-p{thousands}k"


def keep_snapshot(config: TrainConfig, model, out: Path, name: str,
                  card: Callable[[], weights_io.ModelCard]) -> Path | None:
    """Save the network and its card (`card()`, named `name`) to OUT/snapshots/ unless that snapshot exists: a
    resumed run passes the same multiple again, at the same step and with the same weights (resumes are exact).
    The card, written after the weights, is what marks a snapshot as kept; `card` is only called (it may
    validate) when the snapshot is new."""
    folder = out / SNAPSHOTS
    if (folder / f"{name}.json").exists():
        return None
    made = card()
    path = weights_io.save(model.state_dict(), made, folder, dtype=config.weights_dtype)
    print(f"kept {name} ({made.total_patches} patches in all) in {folder}", flush=True)
    return path


def publish_dir(config: TrainConfig) -> Path:
    return Path(config.publish_dir) if config.publish_dir else weights_io.WEIGHTS_DIR


def publish_final(config: TrainConfig, model, card: weights_io.ModelCard, out: Path, log_path: Path) -> Path:
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
