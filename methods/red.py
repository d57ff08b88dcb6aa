"""RED10/20/30 as harness methods, loaded from the committed weights in methods/weights/.

`red30` is the paper's Tables 1-5 model: one network per noise level or scale
(weights `red30-denoise-s<sigma>`, `red30-sr-x<scale>`), chosen by the degradation's
level. `red30-single` is the paper's Tables 6-7 model: one network for all levels
(`red30-<task>-single`). Append `+` for the x8 self-ensemble. Large images are tiled.
"""
from __future__ import annotations

import os
from functools import lru_cache

import torch

from redbench.errors import UserError

from .architectures import RED_MODELS, architecture, network_for_card
from .base import Method, register_method
from .torch_inference import apply_network
from .weights import WEIGHTS_DIR, ModelCard, load, read_card, split_ref

TILE = int(os.environ.get("REDBENCH_TILE", "256"))


def load_network(weights_name: str, whole_images: bool = True, device: str = "cpu"
                 ) -> tuple[torch.nn.Module, ModelCard]:
    """The network and card of `weights_name`, in eval mode on `device`; cached by the card's sha256, so weights
    replaced on disk (a new snapshot of the campaign) are loaded afresh rather than served from the cache.
    `whole_images`: refuse networks that take one input size only (they cannot restore a test image)."""
    return _load_network(weights_name, read_card(*split_ref(weights_name)).sha256, whole_images, device)


@lru_cache(maxsize=32)
def _load_network(weights_name: str, sha256: str, whole_images: bool, device: str
                  ) -> tuple[torch.nn.Module, ModelCard]:
    state, card = load(*split_ref(weights_name))
    if whole_images and not architecture(card.architecture, f"weights '{weights_name}'").whole_images:
        raise UserError(f"weights '{weights_name}' are a {card.architecture} network, which takes one input size "
                        f"only and cannot restore whole test images; evaluate a red or srcnn network.")
    net = network_for_card(card)
    net.load_state_dict(state)
    net.eval()
    return net.to(device).to(memory_format=torch.channels_last), card


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
        self.net, self.card = load_network(weights_name)
        if self.card.task != task:
            raise UserError(f"weights '{weights_name}' were trained for {self.card.task}, not {task}.")
        self.margin = tile_margin(self.card)

    def restore(self, degraded, degradation):
        return apply_network(self.net, degraded, tile=TILE, margin=self.margin, device=self.device)

    def on_device(self, device: str) -> "TrainedNetwork":
        self.device = device
        self.net, self.card = load_network(self.weights_name, device=device)
        return self

    def weights_id(self, degradation) -> str:
        return f"{self.card.name}@{self.card.sha256}"

    def trained_levels(self) -> tuple:
        return tuple(self.card.levels)

    def cards(self) -> list[ModelCard]:
        return [self.card]


class PerLevelNetwork(Method):
    """One network per level, `<prefix>-<s|x><level>`, picked by the degradation's level (paper section 3.3)."""
    uses_torch = True

    def __init__(self, name: str, task: str, prefix: str, directory=WEIGHTS_DIR):
        self.name, self.tasks, self.prefix, self.task, self.directory = name, (task,), prefix, task, directory
        self.available = {}
        for path in sorted(directory.glob(f"{prefix}-*.json")):
            card = read_card(path.stem, directory)
            if path.stem == f"{prefix}-{level_suffix(task, card.levels[0])}" and len(card.levels) == 1:
                self.available[float(card.levels[0])] = card
        if not self.available:
            raise UserError(f"{name} has no trained per-level networks ({prefix}-{level_suffix(task, 0)[0]}<level> in "
                            f"{directory}); train them with `python run_bench.py train --plan campaign/plan.toml` "
                            f"or use {name}-single.")

    def card_for(self, degradation) -> ModelCard:
        card = self.available.get(float(degradation.level))
        if card is None:
            raise UserError(f"{self.name} has no network for {_level_words(self.task, degradation.level)}; trained levels: "
                            f"{', '.join(f'{lvl:g}' for lvl in sorted(self.available))}.")
        return card

    def restore(self, degraded, degradation):
        card = self.card_for(degradation)
        net, _ = load_network(card.name if self.directory == WEIGHTS_DIR else str(self.directory / card.name),
                              device=self.device)
        return apply_network(net, degraded, tile=TILE, margin=tile_margin(card), device=self.device)

    def weights_id(self, degradation) -> str:
        card = self.card_for(degradation)
        return f"{card.name}@{card.sha256}"

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


def _described(model: str) -> str:
    depth, maps = RED_MODELS[model]
    return f"RED{depth}" + ("" if maps == 64 else f" with {maps} feature maps (the authors' released architecture)")


for _model in RED_MODELS:
    register_method(_model, tasks=("denoise", "sr"), ensemble=True,
                    description=f"{_described(_model)}, one network per sigma / scale (Tables 1-5), "
                                f"weights {_model}-<task>-<s|x><level>")(_per_level(_model))
    register_method(f"{_model}-single", tasks=("denoise", "sr"), ensemble=True,
                    description=f"{_described(_model)}, one network for all sigmas / scales (Tables 6-7), "
                                f"weights {_model}-<task>-single")(_single(_model))
