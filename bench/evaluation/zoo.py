"""The model zoo: one row per installed network (a model card in methods/weights/), with what a user needs to
choose one, and the mean test PSNR of its main cell from the committed results rows.

The main cell of a network is the set of committed rows its exact weights made (weights id = name@sha256) in
one (dataset, method, level): a method that runs these weights today before one that ran them once (an earlier
method of the same weights), the dataset of the paper's first table for the task that has such rows
(DatasetSpec.role.table), the plain method before its x8 ensemble, and the network's lowest level with rows.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

from redbench.core import csv_cells
from redbench.core.defaults import levels_slashed
from redbench.core.weights_id import format_weights_id

FORMATS = ("md", "csv", "json")
# (key, heading) in print order
COLUMNS = (("name", "network"), ("architecture", "architecture"), ("feature_maps", "feature maps"),
           ("parameters", "parameters"), ("task", "task"), ("levels", "levels"), ("patches", "training patches"),
           ("updates", "updates"), ("device", "trained on"), ("val_psnr", "validation PSNR"),
           ("test_psnr", "test PSNR"), ("test_cell", "test cell"))


def networks(results: str | Path = "results", weights_dir: Path | None = None) -> list[dict]:
    """The rows of the zoo, by network name. `results`: the folder whose rows.csv files (at any depth) are the
    committed rows; a missing folder leaves the test columns empty."""
    from redbench.methods.architectures import network_for_card
    from redbench.methods.weights import WEIGHTS_DIR, read_card
    directory = weights_dir or WEIGHTS_DIR
    rows = committed_rows(Path(results))
    out = []
    for path in sorted(directory.glob("*.json"), key=lambda p: p.stem):
        card = read_card(path.stem, directory)
        net = network_for_card(card)
        psnr, cell = main_cell(rows, format_weights_id(card.name, card.sha256), card.task)
        out.append({"name": card.name, "architecture": architecture_text(card), "feature_maps": feature_maps(card),
                    "parameters": sum(p.numel() for p in net.parameters()), "task": card.task,
                    "levels": levels_slashed(card.levels), "patches": card.total_patches,
                    "updates": card.total_iterations, "device": card.device, "val_psnr": card.val_psnr,
                    "test_psnr": psnr, "test_cell": cell})
    return out


def architecture_text(card) -> str:
    depth = card.config.get("depth")
    return f"{card.architecture}{depth}" if card.architecture == "red" and depth else card.architecture


def feature_maps(card) -> str:
    """'64' for RED (every layer), '64/32' for SRCNN's two hidden layers."""
    if "width" in card.config:
        return str(card.config["width"])
    from redbench.methods.architectures import network_for_card
    hidden = [m.out_channels for m in network_for_card(card).modules() if hasattr(m, "out_channels")][:-1]
    return "/".join(str(n) for n in hidden)


def committed_rows(results: Path):
    """Every rows.csv under `results`, as one frame (empty where there are none)."""
    import pandas as pd
    frames = [pd.read_csv(path, dtype={"image": str}) for path in sorted(results.rglob("rows.csv"))] \
        if results.is_dir() else []
    frames = [f for f in frames if {"weights", "dataset", "method", "level", "psnr"} <= set(f.columns)]
    if not frames:
        return pd.DataFrame(columns=["task", "dataset", "image", "method", "level", "psnr", "weights"])
    rows = pd.concat(frames, ignore_index=True)
    # the same row may be stored by several runs (or results folders): one per image and cell
    return rows.drop_duplicates(subset=["task", "dataset", "image", "method", "level", "seed", "clip", "weights"])


def main_cell(rows, weights: str, task: str) -> tuple[float | None, str]:
    """(mean PSNR, 'dataset method level') of the network's main cell (module docstring), or (None, '')."""
    from redbench.datasets.catalog import SPECS
    from redbench.evaluation.installed import installed_lookup
    mine = rows[(rows["weights"] == weights) & (rows["task"] == task)]
    if mine.empty:
        return None, ""
    installed = installed_lookup()

    def rank(key):
        dataset, method, level = key
        spec = SPECS.get(dataset)
        table = spec.role.table if spec is not None and spec.role.table is not None else 99
        return (installed(task, method, level, False) != weights, table, str(method).endswith("+"), float(level),
                dataset, method)

    dataset, method, level = min(mine.groupby(["dataset", "method", "level"]).groups, key=rank)
    cell = mine[(mine["dataset"] == dataset) & (mine["method"] == method) & (mine["level"] == level)]
    word = f"sigma {float(level):g}" if task == "denoise" else f"x{int(level)}"
    return round(float(cell["psnr"].mean()), 2), f"{dataset} {method} {word} ({len(cell)} images)"


def render(rows: list[dict], fmt: str) -> str:
    """The zoo as a markdown table, CSV (safe to open in a spreadsheet) or JSON."""
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv_cells.writer(buffer, lineterminator="\n")    # text from a model card is not trusted
        writer.writerow([heading for _, heading in COLUMNS])
        for row in rows:
            writer.writerow(["" if row[key] is None else row[key] for key, _ in COLUMNS])
        return buffer.getvalue()
    from redbench.core.markdown import md_table
    return md_table([heading for _, heading in COLUMNS],
                    [[md_cell(key, row[key]) for key, _ in COLUMNS] for row in rows])


def md_cell(key: str, value) -> str:
    if value is None:
        return "-"
    if key == "test_psnr":
        return f"{value:.2f}"
    if key == "parameters":
        return f"{value:,}"
    return str(value)
