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
