"""The one registry of network architectures: how a network is built from its model card (evaluation,
figures) and from a training `--model` name (training).

A card names its architecture ('red', 'srcnn', 'strided5') and the config of that architecture; an
architecture this registry does not know, or a config that does not fit it, is a one-line error.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from redbench.core.errors import UserError

from redbench.methods.red_network import REDConfig, REDNet, StridedConfig, StridedRED, red
from redbench.methods.srcnn_net import SRCNN, SRCNNConfig


@dataclass(frozen=True)
class Architecture:
    name: str
    network: type            # nn.Module class, built as network(config)
    config: type             # its config dataclass; a card stores it as a dict
    whole_images: bool       # False: fixed input size only (Figure 3(a)), so it cannot restore a test image
    description: str


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (
    Architecture("red", REDNet, REDConfig, True, "RED-Net: conv/deconv chain with symmetric skips (red<N>)"),
    Architecture("srcnn", SRCNN, SRCNNConfig, True, "SRCNN 9-5-5"),
    Architecture("strided5", StridedRED, StridedConfig, False, "Figure 3(a): 5 conv + 5 deconv, stride 3, 243x243"),
)}
TRAINING_MODELS = ("red10, red20, red30 (any even red<N>, with -c<maps> for other widths: red30-c128 is the authors' "
                   "released RED30), srcnn, strided5 or strided5-noskip")
# The RED models by name: (depth, feature maps). red10/20/30 are the paper's (64 maps, its Tables 1-7); red30-c128 is
# the network of the authors' released deploy file (model/REDNet_ch1.prototxt: 15 conv + 15 deconv of 3x3 with 128
# maps, skips every second layer, residual output), which later papers measured as "RED30".
RED_MODELS = {"red10": (10, 64), "red20": (20, 64), "red30": (30, 64), "red30-c128": (30, 128)}


def architecture(name: str, source: str = "") -> Architecture:
    found = ARCHITECTURES.get(name)
    if found is None:
        where = f"{source}: " if source else ""
        raise UserError(f"{where}unknown network architecture '{name}'; redbench builds {', '.join(ARCHITECTURES)}: "
                        f"fix the model card or retrain the network.")
    return found


def build_network(name: str, config: dict, source: str = "") -> torch.nn.Module:
    """A freshly initialised network of architecture `name` with `config` (a card's config dict)."""
    arch = architecture(name, source)
    try:
        return arch.network(arch.config(**config))
    except (TypeError, ValueError, RuntimeError) as exc:   # RuntimeError: torch refuses a negative size
        where = f"{source}: " if source else ""
        raise UserError(f"{where}the {name} config {config} does not fit that architecture ({exc}); "
                        f"fix the model card or retrain the network.") from None


def network_for_card(card) -> torch.nn.Module:
    """The network a model card describes, without weights."""
    return build_network(card.architecture, card.config, f"weights '{card.name}'")


def training_network(model: str, width: int = 64, skip: str | None = None, span: int = 2
                     ) -> tuple[str, torch.nn.Module]:
    """(architecture name, new network) for a training --model name."""
    if model == "srcnn":
        return "srcnn", SRCNN(SRCNNConfig())
    if model in ("strided5", "strided5-noskip"):
        return "strided5", StridedRED(StridedConfig(width=width, skips=model == "strided5"))
    parsed = parse_red_model(model)
    if parsed is not None:
        depth, maps = parsed
        width = maps if maps is not None else width
        if depth < 2 or depth % 2:   # encoder and decoder halves: REDNet itself would raise a raw ValueError
            raise UserError(f"--model {model}: a RED network needs an even depth >= 2; use red10, red20, "
                            f"red30 or another even red<N>.")
        return "red", red(depth, width=width, span=span, **({"skip": skip} if skip else {}))
    raise UserError(f"unknown model '{model}': use {TRAINING_MODELS}.")


def parse_red_model(model: str) -> tuple[int, int | None] | None:
    """'red30' -> (30, None: the --width given); 'red30-c128' -> (30, 128); anything else -> None."""
    stem, _, maps = model.partition("-c")
    if not (stem.startswith("red") and stem[3:].isdigit()) or (_ and not maps.isdigit()) or (_ and int(maps) < 1):
        return None
    return int(stem[3:]), int(maps) if maps else None


def architecture_of(network: torch.nn.Module) -> str:
    """The registry name of a network's architecture (what its model card records)."""
    for arch in ARCHITECTURES.values():
        if isinstance(network, arch.network):
            return arch.name
    raise ValueError(f"{type(network).__name__} is not an architecture of the registry (methods/architectures.py)")
