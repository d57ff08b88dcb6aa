"""RED10/20/30 as harness methods, loaded from the committed weights in methods/weights/.

One network per task (the paper's single model for all sigmas / all scales);
`red30+` is the x8 self-ensemble. Large images are processed in tiles.
"""
from __future__ import annotations

import os
from functools import lru_cache

import torch

from .base import Method
from .rednet import REDConfig, REDNet
from .registry import register_method
from .torch_inference import apply_network
from .weights import load, split_ref

TILE = int(os.environ.get("REDBENCH_TILE", "256"))


@lru_cache(maxsize=8)
def load_network(weights_name: str) -> tuple[torch.nn.Module, object]:
    from .srcnn_net import SRCNN, SRCNNConfig
    state, card = load(*split_ref(weights_name))
    net = REDNet(REDConfig(**card.config)) if card.architecture == "red" else SRCNN(SRCNNConfig(**card.config))
    net.load_state_dict(state)
    net.eval()
    return net.to(memory_format=torch.channels_last), card


class TrainedNetwork(Method):
    uses_torch = True
    margin = 32

    def __init__(self, name: str, task: str, weights_name: str):
        self.name, self.tasks, self.weights_name = name, (task,), weights_name
        self.net, self.card = load_network(weights_name)
        if self.card.task != task:
            from bench.errors import UserError
            raise UserError(f"weights '{weights_name}' were trained for {self.card.task}, not {task}.")
        depth = self.card.config.get("depth")
        if depth:   # tiles overlap by the receptive-field radius (one pixel per 3x3 layer)
            self.margin = depth + 2

    def restore(self, degraded, degradation):
        return apply_network(self.net, degraded, tile=TILE, margin=self.margin)


def _red(depth: int):
    def factory(task: str) -> TrainedNetwork:
        return TrainedNetwork(f"red{depth}", task, f"red{depth}-{task}")
    return factory


for _depth in (10, 20, 30):
    register_method(f"red{_depth}", tasks=("denoise", "sr"), ensemble=True,
                    description=f"RED{_depth}, one model for all sigmas / all scales, weights red{_depth}-<task>")(_red(_depth))
