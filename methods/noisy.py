"""The identity baseline for denoising: the noisy input itself, scored like any method.

It is the denoising counterpart of `bicubic` (the SR input itself): every table shows
what doing nothing scores, so a method that comes out below its own input stands out.
"""
from __future__ import annotations

from redbench.methods.base import Method, register_method


@register_method("noisy", tasks=("denoise",), description="identity: the noisy input itself, as a baseline")
class Noisy(Method):
    def restore(self, degraded, degradation):
        return degraded
