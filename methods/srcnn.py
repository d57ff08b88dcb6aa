"""SRCNN-style baseline (9-5-5) trained by this repository on the same Y-channel bicubic inputs."""
from __future__ import annotations

from .base import register_method
from .red import TrainedNetwork


@register_method("srcnn", tasks=("sr",), ensemble=True, description="SRCNN 9-5-5, trained here, weights srcnn-sr")
def srcnn(task: str = "sr") -> TrainedNetwork:
    method = TrainedNetwork("srcnn", task, "srcnn-sr")
    method.margin = 8
    return method
