"""redbench: train and benchmark RED-Net (Mao, Shen & Yang, NIPS 2016) against classical baselines.

The folders are the layers. A module imports from its own layer or a lower one, never from a higher one;
LAYERS below is the one list of them (tests/test_package.py checks every import against it, and the README's
Layout section is held to it by a test).
"""
__version__ = "0.1.0"

# (layer, the parts of the redbench namespace in it), lowest first
LAYERS = (
    ("foundation", ("core",)),
    ("data and methods", ("datasets", "methods")),
    ("evaluation and training", ("evaluation", "training")),
    ("reporting", ("reporting",)),
    ("reproduction", ("reproduce",)),
    ("command line", ("cli", "__main__")),
)

# The Python API (README, "Use the networks"): name -> the module that defines it, in the evaluation layer.
# Loaded on first use, so `import redbench` stays light and the package top imports nothing from a layer.
API = {name: "redbench.evaluation.api" for name in ("load_network", "restore", "psnr", "ssim", "list_networks")}


def __getattr__(name: str):
    if name in API:
        from importlib import import_module
        return getattr(import_module(API[name]), name)
    raise AttributeError(f"module 'redbench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *API})
