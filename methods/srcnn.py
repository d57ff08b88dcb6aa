"""SRCNN-style baseline (9-5-5) trained by this repository on the same Y-channel bicubic inputs.

`srcnn` is one network per scale, as Dong et al. trained it and as the paper's Tables 3-5 quote it (weights
`srcnn-sr-x<scale>`); `srcnn-single` is one network for all scales (weights `srcnn-sr`), from which the per-scale
ones are fine-tuned. A 3-layer network that maps the whole image, not a residual, gives up most of its x2 gain
when it has to serve x3 and x4 too (docs/training.md, Where the networks stand).
"""
from __future__ import annotations

from redbench.methods.base import register_method
from redbench.methods.red_family import PerLevelNetwork, TrainedNetwork, per_level_weights, single_weights


@register_method("srcnn", tasks=("sr",), ensemble=True,
                 weights_from_cards=per_level_weights(lambda task: "srcnn-sr"),
                 description="SRCNN 9-5-5, trained here, one network per scale, weights srcnn-sr-x<scale>")
def srcnn(task: str = "sr") -> PerLevelNetwork:
    return PerLevelNetwork("srcnn", task, "srcnn-sr")


@register_method("srcnn-single", tasks=("sr",), ensemble=True,
                 weights_from_cards=single_weights(lambda task: "srcnn-sr"),
                 description="SRCNN 9-5-5, trained here, one network for all scales, weights srcnn-sr")
def srcnn_single(task: str = "sr") -> TrainedNetwork:
    method = TrainedNetwork("srcnn-single", task, "srcnn-sr")
    method.margin = 8
    return method
