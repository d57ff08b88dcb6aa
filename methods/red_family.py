"""RED10/20/30 as harness methods, loaded from the committed weights in methods/weights/.

`red30` is the paper's Tables 1-5 model: one network per noise level or scale
(weights `red30-denoise-s<sigma>`, `red30-sr-x<scale>`), chosen by the degradation's
level. `red30-single` is the paper's Tables 6-7 model: one network for all levels
(`red30-<task>-single`). Append `+` for the x8 self-ensemble. Large images are tiled.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache

import torch
from redbench.core.errors import UserError
from redbench.core.weights_id import format_weights_id

from redbench.methods.architectures import RED_MODELS, architecture, network_for_card
from redbench.methods.base import Method, register_method
from redbench.methods.torch_inference import apply_network
from redbench.methods.weights import WEIGHTS_DIR, ModelCard, load, read_card, split_ref, verify_file

TILE_ENV, TILE_DEFAULT, TILE_MIN = "REDBENCH_TILE", 256, 16   # tiles narrower than 16 px only cost time


def tile_size() -> int:
    """The tile side for large images: $REDBENCH_TILE (default 256), a whole number of pixels >= TILE_MIN."""
    text = os.environ.get(TILE_ENV, str(TILE_DEFAULT)).strip()
    if not (text.isascii() and text.isdigit()) or int(text) < TILE_MIN:
        raise UserError(f"{TILE_ENV}={text!r} is not a tile size: give a whole number of pixels >= {TILE_MIN} "
                        f"(default {TILE_DEFAULT}), or unset it.")
    return int(text)


def check_fits(card: ModelCard, directory) -> None:
    """Before any weights load: the file is the card's (sha256) and its tensors have the shapes of the network the
    card describes, so an edited card (say config.depth 10 -> 20) is one line naming it, not a load_state_dict
    traceback in a worker. Cached by the file's sha256."""
    _check_fits(card.name, str(directory), card.sha256, card.architecture, repr(sorted(card.config.items())))


@lru_cache(maxsize=64)
def _check_fits(name: str, directory: str, sha256: str, architecture_name: str, config: str) -> None:
    from pathlib import Path

    from safetensors import safe_open
    card = read_card(name, Path(directory))
    path = verify_file(card, Path(directory))
    try:
        with safe_open(str(path), "pt") as fh:
            stored = {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}
            # NaN or infinite weights give NaN images, scored as black ones: refused here, one tensor at a time
            broken = next((k for k in fh.keys() if not torch.isfinite(fh.get_tensor(k)).all()), None)
    except Exception as exc:   # safetensors raises its own error types for a damaged header
        raise UserError(f"weights file {path} is not readable safetensors ({exc}); restore it from git or "
                        f"retrain.") from None
    if broken is not None:
        raise UserError(f"weights '{name}' ({path}) hold NaN or infinite values (tensor {broken}): the training "
                        f"diverged or the file was damaged; retrain or restore them from git.")
    expected = _card_shapes(card, stored, path)
    if stored != expected:
        differ = sorted(set(stored) ^ set(expected)) or sorted(k for k in stored if stored[k] != expected[k])
        raise UserError(f"weights '{name}' do not fit the network their card {Path(directory) / (name + '.json')} "
                        f"describes ({card.architecture} {card.config}; first difference: {differ[0]}): the card "
                        f"was edited; restore it from git or retrain.")


def _card_shapes(card: ModelCard, stored: dict, path) -> dict:
    """The tensor shapes of the network `card` describes, built on torch's meta device (shapes, no memory), and
    only after every number of its config is bounded by the weights file: no count or size in a network these
    weights fit exceeds the file's number of tensors or largest dimension, so a card naming depth 10**6 or
    width 10**5 is refused before a single layer is built."""
    limit = max([len(stored), *(d for shape in stored.values() for d in shape)], default=0)
    big = {k: v for k, v in card.config.items() if isinstance(v, int) and not isinstance(v, bool) and v > limit}
    if big:
        raise UserError(f"weights '{card.name}' do not fit the network their card describes ({card.architecture} "
                        f"{card.config}): {big} is more than the {len(stored)} tensors of at most {limit} per side "
                        f"in {path} can hold; the card was edited: restore it from git or retrain.")
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in network_for_card(card).state_dict().items()}


def load_network(weights_name: str, whole_images: bool = True, device: str = "cpu"
                 ) -> tuple[torch.nn.Module, ModelCard]:
    """The network and card of `weights_name`, in eval mode on `device`; cached by the card's sha256, so weights
    replaced on disk (a new snapshot of the campaign) are loaded afresh rather than served from the cache.
    `whole_images`: refuse networks that take one input size only (they cannot restore a test image)."""
    return _load_network(weights_name, read_card(*split_ref(weights_name)).sha256, whole_images, device)


@lru_cache(maxsize=32)
def _load_network(weights_name: str, sha256: str, whole_images: bool, device: str
                  ) -> tuple[torch.nn.Module, ModelCard]:
    name, directory = split_ref(weights_name)
    card = read_card(name, directory)
    if whole_images and not architecture(card.architecture, f"weights '{weights_name}'").whole_images:
        raise UserError(f"weights '{weights_name}' are a {card.architecture} network, which takes one input size "
                        f"only and cannot restore whole test images; evaluate a red or srcnn network.")
    check_fits(card, directory)
    state, card = load(name, directory)
    net = network_for_card(card)
    net.load_state_dict(state)
    net.eval()
    return net.to(device).to(memory_format=torch.channels_last), card


def finite_output(restored, weights_name: str):
    """`restored`, when every pixel is a number: a NaN or infinite output would be cast to black and scored as a
    (very bad) restoration; it is an error naming the weights instead (finite weights can still overflow)."""
    import numpy as np
    if not np.isfinite(restored).all():
        raise UserError(f"weights '{weights_name}' gave a NaN or infinite output: the network overflows on this "
                        f"image; retrain it or restore the weights from git.")
    return restored


def tile_margin(card: ModelCard) -> int:
    """Tiles overlap by the receptive-field radius (one pixel per 3x3 layer), plus a little."""
    depth = card.config.get("depth")
    return depth + 2 if depth else 8


def level_suffix(task: str, level) -> str:
    return f"s{float(level):g}" if task == "denoise" else f"x{int(level)}"


class TrainedNetwork(Method):
    """One trained network for every level it is given."""
    uses_torch = True

    def __init__(self, name: str, task: str, weights_name: str):
        self.name, self.tasks, self.weights_name = name, (task,), weights_name
        self.tile = tile_size()
        self.net, self.card = load_network(weights_name)
        if self.card.task != task:
            raise UserError(f"weights '{weights_name}' were trained for {self.card.task}, not {task}.")
        self.margin = tile_margin(self.card)

    def restore(self, degraded, degradation):
        return finite_output(apply_network(self.net, degraded, tile=self.tile, margin=self.margin,
                                           device=self.device), self.card.name)

    def on_device(self, device: str) -> "TrainedNetwork":
        self.device = device
        self.net, self.card = load_network(self.weights_name, device=device)
        return self

    def weights_id(self, degradation) -> str:
        return format_weights_id(self.card.name, self.card.sha256)

    def trained_levels(self) -> tuple:
        return tuple(self.card.levels)

    def cards(self) -> list[ModelCard]:
        return [self.card]


def per_level_cards(prefix: str, task: str, directory=WEIGHTS_DIR) -> dict[float, ModelCard]:
    """{level: card} of the per-level networks `<prefix>-<s|x><level>` in `directory`: each card names one level,
    the one in its name. Read by PerLevelNetwork and by the card-only weights lookup of the registry."""
    found = {}
    for path in sorted(directory.glob(f"{prefix}-*.json")):
        card = read_card(path.stem, directory)
        if path.stem == f"{prefix}-{level_suffix(task, card.levels[0])}" and len(card.levels) == 1:
            found[float(card.levels[0])] = card
    return found


class PerLevelNetwork(Method):
    """One network per level, `<prefix>-<s|x><level>`, picked by the degradation's level (paper section 3.3)."""
    uses_torch = True

    def __init__(self, name: str, task: str, prefix: str, directory=WEIGHTS_DIR):
        self.name, self.tasks, self.prefix, self.task, self.directory = name, (task,), prefix, task, directory
        self.tile = tile_size()
        self.available = per_level_cards(prefix, task, directory)
        # weights files whose card is gone: that level is then a missing card, not a level never trained
        self.cardless = {}
        for path in sorted(directory.glob(f"{prefix}-{level_suffix(task, 0)[0]}*.safetensors")):
            level = path.stem[len(prefix) + 2:]
            if not path.with_suffix(".json").exists() and level.replace(".", "", 1).isdigit():
                self.cardless[float(level)] = path
        if not self.available:
            raise UserError(f"{name} has no trained per-level networks ({prefix}-{level_suffix(task, 0)[0]}<level> in "
                            f"{directory}); train them with `python run_bench.py train --plan campaign/plan.toml` "
                            f"or use {name}-single.")

    def missing_card(self, level) -> str | None:
        """Why `level` has no network when the reason is a lost model card (its weights file is there)."""
        path = self.cardless.get(float(level))
        if path is None:
            return None
        return (f"{self.name}: weights file {path} has no model card {path.with_suffix('.json').name}, so "
                f"{_level_words(self.task, level)} cannot be checked or used; restore the card from git (or delete "
                f"the weights and retrain).")

    def card_for(self, degradation) -> ModelCard:
        card = self.available.get(float(degradation.level))
        if card is None and self.missing_card(degradation.level):
            raise UserError(self.missing_card(degradation.level))
        if card is None:
            raise UserError(f"{self.name} has no network for {_level_words(self.task, degradation.level)}; trained levels: "
                            f"{', '.join(f'{lvl:g}' for lvl in sorted(self.available))}.")
        return card

    def restore(self, degraded, degradation):
        card = self.card_for(degradation)
        net, _ = load_network(card.name if self.directory == WEIGHTS_DIR else str(self.directory / card.name),
                              device=self.device)
        return finite_output(apply_network(net, degraded, tile=self.tile, margin=tile_margin(card), device=self.device),
                             card.name)

    def weights_id(self, degradation) -> str:
        card = self.card_for(degradation)
        check_fits(card, self.directory)   # a corrupt or replaced weights file: found now, before any work
        return format_weights_id(card.name, card.sha256)

    def trained_levels(self) -> tuple:
        return tuple(int(lvl) if float(lvl).is_integer() else lvl for lvl in sorted(self.available))

    def cards(self) -> list[ModelCard]:
        return [self.available[lvl] for lvl in sorted(self.available)]


def _level_words(task: str, level) -> str:
    return f"sigma {float(level):g}" if task == "denoise" else f"scale x{int(level)}"


def _per_level(model: str):
    def factory(task: str) -> PerLevelNetwork:
        return PerLevelNetwork(model, task, f"{model}-{task}")
    return factory


def _single(model: str):
    def factory(task: str) -> TrainedNetwork:
        return TrainedNetwork(f"{model}-single", task, f"{model}-{task}-single")
    return factory


# The weights ids of both families read from the model cards alone (MethodEntry.weights_from_cards): the same
# ids weights_id gives, without loading a network, for the report's "which rows did the installed weights make".
def per_level_weights(prefix: Callable[[str], str]) -> Callable:
    """weights_from_cards of a PerLevelNetwork family whose weights for `task` are named `prefix(task)-<level>`."""
    def weights(task: str, level) -> str:
        card = per_level_cards(prefix(task), task).get(float(level))
        if card is None:
            raise UserError(f"{prefix(task)} has no network for {_level_words(task, level)}.")
        return format_weights_id(card.name, card.sha256)
    return weights


def single_weights(name: Callable[[str], str]) -> Callable:
    """weights_from_cards of a TrainedNetwork whose weights for `task` are named `name(task)`."""
    def weights(task: str, level) -> str:
        card = read_card(name(task))
        return format_weights_id(card.name, card.sha256)
    return weights


def _per_level_weights(model: str) -> Callable:
    return per_level_weights(lambda task: f"{model}-{task}")


def _single_weights(model: str) -> Callable:
    return single_weights(lambda task: f"{model}-{task}-single")


def _described(model: str) -> str:
    depth, maps = RED_MODELS[model]
    return f"RED{depth}" + ("" if maps == 64 else f" with {maps} feature maps (the authors' released architecture)")


for _model in RED_MODELS:
    register_method(_model, tasks=("denoise", "sr"), ensemble=True, weights_from_cards=_per_level_weights(_model),
                    description=f"{_described(_model)}, one network per sigma / scale (Tables 1-5), "
                                f"weights {_model}-<task>-<s|x><level>")(_per_level(_model))
    register_method(f"{_model}-single", tasks=("denoise", "sr"), ensemble=True,
                    weights_from_cards=_single_weights(_model),
                    description=f"{_described(_model)}, one network for all sigmas / scales (Tables 6-7), "
                                f"weights {_model}-<task>-single")(_single(_model))
