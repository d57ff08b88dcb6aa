"""What a command uses when it is not told: the paper's levels, datasets and methods per task."""
from __future__ import annotations

TASKS = ("denoise", "sr")
# the noise sigmas (0..255) and SR scales of the paper's tables
PAPER_LEVELS = {"denoise": (10, 30, 50, 70), "sr": (2, 3, 4)}
# the test sets of the paper's tables that we have (Set12 stands in for the 14 images, BSD200 at half size)
DATASETS = {"denoise": ("set12", "bsd200-half"), "sr": ("set5", "set14", "bsd100")}
# our methods in the paper's tables, identity baselines left out
METHODS = {"denoise": ("bm3d", "tv", "red10", "red20", "red30"), "sr": ("bicubic", "srcnn", "red10", "red20", "red30")}
LEVEL_NAME = {"denoise": "sigma", "sr": "scale"}


def levels_slashed(levels) -> str:
    """Levels as captions, tables and the scored CSVs write them: '10/30/50/70' ('/', not a CSV's comma)."""
    return "/".join(f"{float(level):g}" for level in levels)


def levels_text(task: str) -> str:
    """'10,30,50,70' or '2,3,4': the default levels as a command line writes them."""
    return ",".join(str(level) for level in PAPER_LEVELS[task])

# where networks run: auto = a CUDA GPU when torch sees one, else the CPU (methods/torch_inference.resolve_device)
DEVICES = ("auto", "cpu", "cuda")
