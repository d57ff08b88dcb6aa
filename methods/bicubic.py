"""Bicubic interpolation: the SR input itself (the degradation already is bicubic down-up)."""
from __future__ import annotations

from redbench.methods.base import Method, parameter_digest, register_method


@register_method("bicubic", tasks=("sr",), description="MATLAB bicubic upscaling of the low-resolution image")
class Bicubic(Method):
    def restore(self, degraded, degradation):
        return degraded

    def weights_id(self, degradation) -> str:
        return parameter_digest("bicubic", {"output": "the degraded input"})
