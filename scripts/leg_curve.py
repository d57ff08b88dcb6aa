#!/usr/bin/env python
"""The curve of a continuation leg: each network a `train --keep-every` run kept, against the installed network.

    REDBENCH_DATA_DIR=../shared/datasets python scripts/leg_curve.py --run runs/leg1 --installed red30-denoise-single \
        [--levels 10,30,50,70] [--device cpu] [--threads N] [--csv FILE] [--md FILE] [--png FILE]

For every snapshot in RUN/snapshots/ and the run's final weights, in the order of the patches they had seen in all,
the paired validation against INSTALLED (bench/training/paired_validation.py: the held-out images at full size,
the evaluation's noise and scoring): mean paired gain, its standard error and 95% half-width, and whether the ship
rule would call it resolved (bench/training/ship_rule.py). Each result is a row of the CSV (default
RUN/leg_curve.csv) as soon as it is known; a rerun skips the networks already there (same weights sha256), so the
script resumes, and as the leg goes on it only validates the new snapshots. The installed network's scores are the
same for every snapshot: they are computed once and kept beside the CSV (<csv>.installed.json). Then the markdown
table (default RUN/leg_curve.md) and the plot (default RUN/leg_curve.png): mean PSNR over the held-out images
against total patches, the installed network as a line, error bars the 95% half-width of the paired gain.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redbench.core.allocator import reexec_with_fast_allocator  # noqa: E402
from redbench.core.atomic import write_text_atomic  # noqa: E402
from redbench.core.checks import INT64_MAX, check_number  # noqa: E402
from redbench.core.degradations import parse_levels  # noqa: E402
from redbench.core.defaults import levels_slashed  # noqa: E402
from redbench.core.errors import UserError  # noqa: E402
from redbench.core.markdown import md_table  # noqa: E402
from redbench.core.plots import plot_leg_curve  # noqa: E402
from redbench.core.weights_id import format_weights_id, parse_weights_id, short_weights_id  # noqa: E402
from redbench.methods.weights import ModelCard, read_card, split_ref  # noqa: E402
from redbench.training.paired_validation import ScoreCache, paired_validation  # noqa: E402
from redbench.training.scored_csv import (check_outputs, check_setting, read_scored,  # noqa: E402
                                          score_fields, write_scored)
from redbench.training.publishing import SNAPSHOTS  # noqa: E402

COLUMNS = ("patches", "weights", "installed", "levels", "seed", "images", "pairs", "psnr", "installed_psnr",
           "mean_gain_db", "se_db", "half_width_db", "resolved", "seconds")
# what the rows of one CSV must share: its scores compare with each other only at one setting
SETTING = ("installed", "levels", "seed")


def networks(run: Path) -> list[tuple[str, ModelCard]]:
    """(ref, card) of every snapshot in RUN/snapshots/ and of the final weights in RUN, by total patches seen."""
    if not run.is_dir():
        raise UserError(f"--run {run} is not a folder; give the --out folder of a `train --keep-every` run.")
    found = {}
    for folder in (run / SNAPSHOTS, run):   # the final weights last: they replace a snapshot of the same file
        for card_path in sorted(folder.glob("*.json")):
            if card_path.with_suffix(".safetensors").is_file():   # the checkpoint has no card; our outputs no weights
                card = read_card(card_path.stem, folder)
                found[card.sha256] = (str(folder / card_path.stem), card)
    if not found:
        raise UserError(f"{run} holds no kept snapshot ({SNAPSHOTS}/*.safetensors with its card) and no final "
                        f"weights; train with --keep-every PATCHES --out {run} first.")
    return sorted(found.values(), key=lambda pair: (pair[1].total_patches, pair[1].complete))


def row_of(card: ModelCard, result, setting: dict) -> dict:
    return {"patches": card.total_patches, "weights": result.candidate, **setting, **score_fields(result),
            "seconds": f"{result.seconds:.1f}"}


def table(rows: list[dict]) -> str:
    first = rows[0]
    lines = [[f"{int(r['patches']):,}", f"`{short_weights_id(r['weights'])}`", r["psnr"],
              f"{float(r['mean_gain_db']):+.4f}", f"{float(r['half_width_db']):.4f}", r["resolved"], r["seconds"]]
             for r in rows]
    return (f"Against `{short_weights_id(first['installed'])}` ({first['installed_psnr']} dB), {first['images']} "
            f"held-out images at full size, level(s) {first['levels']}, noise seed {first['seed']}:\n\n"
            + md_table(["patches seen", "network", "mean PSNR (dB)", "paired gain (dB)", "95% half-width (dB)",
                        "resolved", "seconds"], lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="the --out folder of a `train --keep-every` run")
    parser.add_argument("--installed", required=True,
                        help="the network the leg continues (a name in methods/weights/ or a path without suffix)")
    parser.add_argument("--levels", help="sigmas or scales, comma-separated (default: every level of the run's)")
    parser.add_argument("--data-dir", help="dataset mirror (default: $REDBENCH_DATA_DIR)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--seed", type=int, default=0, help="noise seed of the evaluation (default 0)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    parser.add_argument("--csv", help="the results, one row per network (default: RUN/leg_curve.csv)")
    parser.add_argument("--md", help="the markdown table (default: RUN/leg_curve.md)")
    parser.add_argument("--png", help="the plot (default: RUN/leg_curve.png)")
    args = parser.parse_args(argv)
    try:
        check_number("--threads", args.threads, 1, integer=True, fix="leave it out for all cores")
        # only a noise seed here (nothing trains): the evaluation's bound, as `eval --seed` has it
        check_number("--seed", args.seed, 0, INT64_MAX, integer=True)
        run = Path(args.run)
        found = networks(run)
        csv_path = Path(args.csv) if args.csv else run / "leg_curve.csv"
        md_path = Path(args.md) if args.md else run / "leg_curve.md"
        png_path = Path(args.png) if args.png else run / "leg_curve.png"
        installed = read_card(*split_ref(args.installed))
        levels = parse_levels(installed.task, args.levels) if args.levels else list(found[0][1].levels)
        setting = {"installed": format_weights_id(installed.name, installed.sha256),
                   "levels": levels_slashed(levels), "seed": args.seed}
        check_outputs({"--csv": csv_path, "--md": md_path, "--png": png_path})   # before the first validation
        rows = read_scored(csv_path, COLUMNS, "leg-curve", "give another --csv.")
        check_setting(csv_path, rows, setting, SETTING,
                      "give another --csv (or delete it) to compare at this setting.")
        if args.threads:
            import torch
            torch.set_num_threads(args.threads)
        cache = ScoreCache(csv_path.with_name(csv_path.stem + ".installed.json"))
        # by digest, as networks() tells them apart: the final weights are the last snapshot's file under another
        # name, and must not get a second row
        done = {parse_weights_id(row["weights"])[1] for row in rows}
        for ref, card in found:
            if card.sha256 in done:
                print(f"{card.name}: in {csv_path} already", flush=True)
                continue
            result = paired_validation(ref, args.installed, args.data_dir, args.device, args.seed, levels,
                                       installed_scores=cache)
            rows.append(row_of(card, result, setting))
            write_scored(csv_path, COLUMNS, sorted(rows, key=lambda r: int(r["patches"])))
            print(f"{card.name}: {card.total_patches} patches, paired gain {result.mean:+.4f} dB, half-width "
                  f"{result.half_width:.4f} dB ({result.seconds:.0f} s)", flush=True)
        rows.sort(key=lambda r: int(r["patches"]))
        write_text_atomic(md_path, table(rows))
        png_path = plot_leg_curve([int(r["patches"]) for r in rows], [float(r["psnr"]) for r in rows],
                                  [float(r["half_width_db"]) for r in rows], float(rows[0]["installed_psnr"]),
                                  f"installed {installed.name}", png_path,
                                  title=f"{run.name} against {short_weights_id(setting['installed'])}, "
                                        f"level(s) {setting['levels']}")
        print(f"wrote {csv_path}, {md_path} and {png_path}")
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # every network validated so far is a row of the CSV, and the installed network's scores are on disk
        print(f"interrupted: rerun the same command to resume from what is in {args.csv or args.run}.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    reexec_with_fast_allocator()
    sys.exit(main())
