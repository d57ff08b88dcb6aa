"""Restoration methods (redbench.methods): one module per method, the registry, the networks and their weights.

What a method written elsewhere needs (README, "Methods"):

    from redbench.methods import Method, register_method
"""
from redbench.methods.base import Method, register_method

__all__ = ["Method", "register_method"]
