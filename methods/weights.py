"""Shipped weights: safetensors (never pickles) plus a JSON model card beside each file.

The card records what produced the weights (model, task, levels, recipe,
budget, device, validation PSNR, git commit) and their sha256, which loading
checks before use.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from redbench.core.atomic import atomic_path, write_text_atomic
from redbench.core.errors import UserError
from redbench.core.hashing import file_sha256

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass
class ModelCard:
    name: str
    architecture: str            # a name in methods/architectures.py: 'red', 'srcnn', 'strided5'
    config: dict                 # the network's config dataclass as a dict
    task: str
    levels: list
    recipe: str
    iterations: int
    patches_seen: int
    batch_size: int
    patch_size: int
    train_set: str
    device: str
    wall_seconds: float
    budget: str                  # e.g. '12 min on 2 CPU cores'
    val_psnr: float | None
    val_protocol: str
    git_commit: str
    seed: int
    sha256: str = ""
    patches_planned: int | None = None   # the plan's budget; patches_seen < planned marks a snapshot
    complete: bool = True                # False: an improving snapshot published while training goes on
    precision: str = "fp32"              # training arithmetic (bf16 = autocast, fp32 master weights)
    init: str | None = None              # the network it was fine-tuned from, if any
    storage: str = "float32"             # dtype of the stored tensors; loading always gives float32
    licence: str = "MIT (weights trained by redbench on BSDS500, research use)"
    extra: dict = field(default_factory=dict)
    earlier_patches: int = 0             # a continued network: patches of the runs before this one (same name)
    earlier_iterations: int = 0

    @property
    def total_patches(self) -> int:
        return self.patches_seen + self.earlier_patches

    @property
    def total_iterations(self) -> int:
        return self.iterations + self.earlier_iterations


def save(state_dict: dict, card: ModelCard, directory: Path, dtype: str = "float32") -> Path:
    """Write `<name>.safetensors` and `<name>.json` atomically; returns the weights path.
    dtype='float16' halves the file (the shipped networks lose < 0.005 dB, see docs/training.md)."""
    import torch
    from safetensors.torch import save_file
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{card.name}.safetensors"
    card.storage = dtype
    with atomic_path(target) as tmp:   # unique temp names: two publishers of one name cannot collide
        save_file({k: v.detach().cpu().to(getattr(torch, dtype)).contiguous() for k, v in state_dict.items()}, str(tmp))
        card.sha256 = file_sha256(tmp)
    write_text_atomic(directory / f"{card.name}.json", json.dumps(asdict(card), indent=2) + "\n")
    return target


def split_ref(ref: str) -> tuple[str, Path]:
    """'red30-denoise' -> (name, WEIGHTS_DIR); 'runs/x/red10-denoise' -> (name, runs/x)."""
    if "/" in ref or "\\" in ref:
        path = Path(ref)
        return path.name.removesuffix(".safetensors"), path.parent
    return ref, WEIGHTS_DIR


def read_card(name: str, directory: Path = WEIGHTS_DIR) -> ModelCard:
    card_path = directory / f"{name}.json"
    if not card_path.is_file():
        available = sorted(p.stem for p in directory.glob("*.json"))
        raise UserError(f"no trained weights '{name}' in {directory} (available: {', '.join(available) or 'none'}); "
                        f"train them with `python run_bench.py train ...` or pull the committed weights.")
    if card_path.stat().st_size > CARD_BYTES:
        raise UserError(f"model card {card_path} is {card_path.stat().st_size:,} bytes, not a model card (they are a "
                        f"few KB); restore it from git or retrain.")
    try:
        data = json.loads(card_path.read_text())
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:   # RecursionError: [[[[...]]]] nested deep
        raise UserError(f"model card {card_path} is damaged ({exc}); restore it from git or retrain.") from None
    card = card_from_dict(data, card_path)
    if card.name != name:   # the name keys the weights file, the rows and the weights id
        raise UserError(f"model card {card_path} names weights {card.name!r}, not {name!r}: the files were renamed "
                        f"or the card edited; rename them back or retrain.")
    return card


CARD_BYTES = 1 << 20   # a card is a few KB; a larger file is not read into memory
# the fields a card must have, and the JSON types of those that code relies on before the weights load
CARD_FIELDS = {f.name for f in fields(ModelCard)}
CARD_TYPES = {"name": str, "architecture": str, "config": dict, "task": str, "levels": list, "sha256": str,
              "complete": bool, "patches_seen": int, "iterations": int, "wall_seconds": (int, float),
              "val_protocol": str, "val_psnr": (int, float, type(None)), "earlier_patches": int,
              "earlier_iterations": int, "extra": dict}


def card_from_dict(data, source) -> ModelCard:
    """A model card from its JSON, field by field: an unknown or missing key, or a value of the wrong type, is a
    one-line error naming the card (an edited card must not reach the network builder as a TypeError)."""
    if not isinstance(data, dict):
        raise UserError(f"model card {source} is damaged (not a JSON object); restore it from git or retrain.")
    unknown = sorted(set(data) - CARD_FIELDS)
    if unknown:
        raise UserError(f"model card {source} has unknown keys {unknown}: it was edited or written by another "
                        f"version; restore it from git or retrain.")
    for key, kind in CARD_TYPES.items():
        if key in data and (not isinstance(data[key], kind) or (isinstance(data[key], bool) and kind is int)):
            raise UserError(f"model card {source}: {key} = {data[key]!r} has the wrong type; restore it from git or "
                            f"retrain.")
    levels = data.get("levels", [])
    # JSON as Python reads it takes NaN and Infinity: a level must be a finite positive number
    if not levels or not all(isinstance(lvl, (int, float)) and not isinstance(lvl, bool) and 0 < lvl < math.inf
                             for lvl in levels):
        raise UserError(f"model card {source}: levels = {levels!r} must be a non-empty list of positive numbers; "
                        f"restore it from git or retrain.")
    try:
        return ModelCard(**data)
    except TypeError as exc:
        raise UserError(f"model card {source} is damaged ({exc}); restore it from git or retrain.") from None


def verify_file(card: ModelCard, directory: Path) -> Path:
    """The weights file of `card`, after checking that it exists and matches the card's sha256."""
    path = directory / f"{card.name}.safetensors"
    if not path.is_file():
        raise UserError(f"weights file {path} is missing although its card exists; restore it from git.")
    actual = file_sha256(path)
    if actual != card.sha256:
        raise UserError(f"checksum mismatch for {path}: card says {card.sha256[:12]}..., file is {actual[:12]}...; "
                        f"the weights are corrupt or were replaced: restore them from git or retrain.")
    return path


def load(name: str, directory: Path = WEIGHTS_DIR) -> tuple[dict, ModelCard]:
    """State dict and card, after checking the file's sha256 against the card."""
    from safetensors.torch import load_file
    card = read_card(name, directory)
    path = verify_file(card, directory)
    return {k: v.float() for k, v in load_file(str(path)).items()}, card
