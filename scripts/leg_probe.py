#!/usr/bin/env python
"""The probe that chooses a continuation leg's batch and peak learning rate: short continuations at equal patches.

    REDBENCH_DATA_DIR=../shared/datasets python scripts/leg_probe.py --installed red30-denoise-single \
        --patches 24000 --grid 16:1e-4,16:3e-4,32:2e-4,32:5e-4 --work DIR [--levels 10,30,50,70] [--device cpu] \
        [--seed 0] [--threads N]

For each BATCH:LR of the grid, a continuation of INSTALLED for exactly --patches patches (the same for every
candidate) into DIR/b<BATCH>-lr<LR>/, by the training the CLI runs (`train --init INSTALLED --name <its name>
--patches P --batch-size BATCH --lr LR`: the fast recipe's 2% warm-up and cosine decay to the end of the budget),
then the paired validation of its final weights against INSTALLED (bench/training/paired_validation.py). Every
level resumes: a finished candidate is not trained again, a half-trained one resumes from its checkpoint, a scored
one (its weights id in DIR/probe.csv) is not scored again. The installed network's scores are computed once for all
candidates (DIR/installed_scores.json), the candidates' own are kept too (DIR/candidate_scores.json): the verdict
compares the best candidate with the runner-up over the same images without restoring anything. DIR/probe.md holds
the table and the verdict: the candidate with the largest mean gain, and whether its lead over the runner-up is
resolved by the ship rule's test (bench/training/ship_rule.py) applied to the paired difference of the two.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redbench.core.allocator import reexec_with_fast_allocator  # noqa: E402
from redbench.core.atomic import write_text_atomic  # noqa: E402
from redbench.core.checks import check_number, check_out_dir  # noqa: E402
from redbench.core.degradations import parse_levels  # noqa: E402
from redbench.core.defaults import levels_slashed  # noqa: E402
from redbench.core.errors import UserError  # noqa: E402
from redbench.core.markdown import md_table  # noqa: E402
from redbench.core.weights_id import format_weights_id, short_weights_id  # noqa: E402
from redbench.methods.weights import ModelCard, read_card, split_ref  # noqa: E402
from redbench.training.config import MAX_BATCH, MAX_SEED, TrainConfig, check_config  # noqa: E402
from redbench.training.paired_validation import ScoreCache, paired_validation  # noqa: E402
from redbench.training.scored_csv import (check_setting, read_scored, score_fields,  # noqa: E402
                                          write_scored)
from redbench.training.ship_rule import gain_is_resolved  # noqa: E402
from redbench.training.train import train  # noqa: E402

COLUMNS = ("batch", "lr", "patches", "updates", "train_seconds", "weights", "installed", "levels", "seed", "images",
           "pairs", "psnr", "installed_psnr", "mean_gain_db", "se_db", "half_width_db", "resolved",
           "validation_seconds")
# what the rows of one CSV must share: their gains compare with each other only at one setting
SETTING = ("installed", "patches", "levels", "seed")
# what the installed network was trained as, which its continuation keeps: its weights fit only that network, and
# its holdout keeps the images of the paired validation out of the continuation's training as well
KEPT = ("model", "task", "levels", "patch", "holdout", "train_set", "skip", "span", "width")
GRID_FORM = "BATCH:LR with BATCH a positive integer and LR a positive number, such as 16:1e-4"


def parse_grid(text: str, patches: int) -> list[tuple[int, float]]:
    """[(batch, peak lr)] of --grid, in its order; anything else is one line, before any work starts."""
    entries = [part.strip() for part in text.split(",") if part.strip()]
    if not entries:
        raise UserError(f"--grid {text!r} names nothing; give comma-separated {GRID_FORM}.")
    grid = []
    for entry in entries:
        batch_text, colon, lr_text = entry.partition(":")
        try:
            batch, lr = int(batch_text), float(lr_text)
        except ValueError:
            batch, lr = 0, math.nan
        if not colon or not 0 < batch <= MAX_BATCH or not (math.isfinite(lr) and lr > 0):
            raise UserError(f"--grid entry {entry!r} is not {GRID_FORM} (batch at most {MAX_BATCH}).")
        if patches % batch:
            # a batch that does not divide the budget would see more patches than the others (the last step is whole)
            raise UserError(f"--patches {patches} is not a multiple of batch {batch} (--grid entry {entry!r}), so "
                            f"that candidate would see more patches than the others; give a --patches every batch "
                            f"of the grid divides.")
        if folder_name(batch, lr) in {folder_name(*pair) for pair in grid}:
            raise UserError(f"--grid lists {folder_name(batch, lr)} twice; give each BATCH:LR once.")
        grid.append((batch, lr))
    return grid


def lr_cell(lr: float) -> str:
    """A peak lr as probe.csv, probe.md and the folder names write it (6 significant digits)."""
    return f"{lr:g}"


def folder_name(batch: int, lr: float) -> str:
    """The candidate's folder, and what tells two candidates apart (the lr as lr_cell renders it)."""
    return f"b{batch}-lr{lr_cell(lr)}"


def candidate_of(row: dict) -> str:
    """folder_name of a probe.csv row: its cells go back through the same rendering as the candidate's, so an lr of
    more digits than the cell keeps still matches its own row."""
    return folder_name(int(row["batch"]), float(row["lr"]))


def candidate_config(installed: ModelCard, installed_ref: str, batch: int, lr: float, folder: Path,
                     args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of `train --init INSTALLED --name <its name> --patches P --batch-size B --lr LR --out FOLDER`
    with the network and data the installed one was trained with (its card's training config; an older card
    without one gives its task and levels, and the defaults for the rest)."""
    given = installed.extra.get("train_config") if isinstance(installed.extra, dict) else None
    given = given if isinstance(given, dict) else {}
    kept = {key: given[key] for key in KEPT if key in given}
    kept.setdefault("task", installed.task)
    kept.setdefault("levels", ",".join(f"{float(level):g}" for level in installed.levels))
    return TrainConfig(**kept, recipe="fast", init=installed_ref, name=installed.name, patches=args.patches,
                       batch_size=batch, lr=lr, out=str(folder), device=args.device, threads=args.threads,
                       seed=args.seed, data_dir=args.data_dir)


def check_work(work: Path, setting: dict) -> None:
    """DIR/probe.json records what its candidates were trained from: a rerun with another installed network,
    budget or seed would resume them into a mixture, so it is an error instead."""
    path = work / "probe.json"
    if path.exists():
        try:
            recorded = json.loads(path.read_text())
        except ValueError:
            raise UserError(f"{path} is damaged; delete {work} (or give another --work) to probe afresh.") from None
        differs = [key for key in setting if recorded.get(key) != setting[key]]
        if differs:
            key = differs[0]
            raise UserError(f"--work {work} holds a probe with {key} {recorded.get(key)}, not {setting[key]}; give "
                            f"another --work.")
    else:
        write_text_atomic(path, json.dumps(setting, indent=1) + "\n")


def trained(config: TrainConfig) -> Path:
    """The candidate's final weights (a path without suffix): trained now, resumed, or found finished (its card
    complete: in a fresh clone the folder holds the committed weights, card and log, without the checkpoint)."""
    folder, name = Path(config.out), config.name
    if (folder / f"{name}.json").exists() and read_card(name, folder).complete:
        print(f"{folder.name}: trained already", flush=True)
    else:
        train(config)
    return folder / name


def row_of(batch: int, lr: float, card: ModelCard, result, setting: dict) -> dict:
    return {"batch": batch, "lr": lr_cell(lr), "patches": card.patches_seen, "updates": card.iterations,
            "train_seconds": f"{card.wall_seconds:.1f}", "weights": result.candidate, **setting,
            **score_fields(result), "validation_seconds": f"{result.seconds:.1f}"}


def verdict(ranked: list[dict], refs: dict[str, Path], args: argparse.Namespace, levels: list,
            scores: ScoreCache) -> str:
    """One line: the candidate with the largest mean gain, and whether its lead over the runner-up is resolved:
    the paired validation of the one against the other, from the cached scores of both (`scores`, the
    candidates' cache, in both roles: its keys name the weights), so nothing is restored."""
    best = ranked[0]
    words = (f"best: batch {best['batch']}, lr {best['lr']} (mean gain {float(best['mean_gain_db']):+.4f} dB over "
             f"the installed network, {'resolved' if best['resolved'] == 'yes' else 'not resolved'})")
    if len(ranked) < 2:
        return f"{words}; the only candidate, so no lead to test."
    runner_up = ranked[1]
    lead = paired_validation(str(refs[best["weights"]]), str(refs[runner_up["weights"]]), args.data_dir,
                             args.device, args.seed, levels, installed_scores=scores, candidate_scores=scores)
    resolved = gain_is_resolved(lead.mean, lead.half_width)
    return (f"{words}; its lead over batch {runner_up['batch']}, lr {runner_up['lr']} is {lead.mean:+.4f} dB, 95% "
            f"half-width {lead.half_width:.4f} dB over the same {len(lead.images)} images: "
            + ("resolved." if resolved else "not resolved: this probe cannot tell the two apart."))


def table(rows: list[dict], line: str) -> str:
    first = rows[0]
    lines = [[r["batch"], r["lr"], f"{int(r['patches']):,}", r["updates"], r["train_seconds"],
              f"`{short_weights_id(r['weights'])}`", r["psnr"], f"{float(r['mean_gain_db']):+.4f}", r["se_db"],
              f"{float(r['half_width_db']):.4f}", r["resolved"], r["validation_seconds"]] for r in rows]
    return (f"Continuations of `{short_weights_id(first['installed'])}` ({first['installed_psnr']} dB), "
            f"{int(first['patches']):,} patches each, against it on {first['images']} held-out images at full size, "
            f"level(s) {first['levels']}, seed {first['seed']}, best first:\n\n"
            + md_table(["batch", "peak lr", "patches", "updates", "train seconds", "network", "mean PSNR (dB)",
                        "paired gain (dB)", "SE (dB)", "95% half-width (dB)", "resolved", "validation seconds"], lines)
            + f"\n{line}\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--installed", required=True,
                        help="the network the leg continues (a name in methods/weights/ or a path without suffix)")
    parser.add_argument("--patches", type=int, required=True, help="the training patches of every candidate")
    parser.add_argument("--grid", required=True, help="the candidates, comma-separated BATCH:LR (peak lr)")
    parser.add_argument("--work", required=True, help="folder of the candidates and the results (resumable)")
    parser.add_argument("--levels", help="validation sigmas or scales, comma-separated (default: the installed's)")
    parser.add_argument("--data-dir", help="dataset mirror (default: $REDBENCH_DATA_DIR)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="where to train and validate (auto: cuda if available)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the training's patches and of the validation's noise (default 0)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_number("--patches", args.patches, integer=True, positive=True)
        check_number("--threads", args.threads, 1, integer=True, fix="leave it out for all cores")
        # the seed trains the candidates as well as seeding the validation's noise: the training's bound
        check_number("--seed", args.seed, 0, MAX_SEED, integer=True)
        grid = parse_grid(args.grid, args.patches)
        installed = read_card(*split_ref(args.installed))
        levels = parse_levels(installed.task, args.levels) if args.levels else list(installed.levels)
        work = check_out_dir(args.work, "--work")
        configs = [(batch, lr, candidate_config(installed, args.installed, batch, lr, work / folder_name(batch, lr),
                                                args)) for batch, lr in grid]
        for _, _, config in configs:   # every candidate's options, before the first one trains
            check_config(config)
        installed_id = format_weights_id(installed.name, installed.sha256)
        check_work(work, {"installed": installed_id, "patches": args.patches, "seed": args.seed})
        setting = {"installed": installed_id, "patches": args.patches,
                   "levels": levels_slashed(levels), "seed": args.seed}
        csv_path = work / "probe.csv"
        rows = read_scored(csv_path, COLUMNS, "probe",
                           "delete it (its candidates are scored again, not trained again).")
        check_setting(csv_path, rows, setting, SETTING,
                      "delete it to score the candidates at this setting (they are not trained again).")
        if args.threads:   # for the validation; each training sets its own (--threads)
            import torch
            torch.set_num_threads(args.threads)
        installed_scores = ScoreCache(work / "installed_scores.json")
        candidate_scores = ScoreCache(work / "candidate_scores.json")
        refs = {}
        for batch, lr, config in configs:
            ref = trained(config)
            card = read_card(ref.name, ref.parent)
            weights = format_weights_id(card.name, card.sha256)
            refs[weights] = ref
            if any(row["weights"] == weights for row in rows):
                print(f"{ref.parent.name}: in {csv_path} already", flush=True)
                continue
            result = paired_validation(str(ref), args.installed, args.data_dir, args.device, args.seed, levels,
                                       installed_scores=installed_scores, candidate_scores=candidate_scores)
            rows = [row for row in rows if candidate_of(row) != folder_name(batch, lr)]   # retrained: its old row
            rows.append(row_of(batch, lr, card, result, {k: setting[k] for k in ("installed", "levels", "seed")}))
            write_scored(csv_path, COLUMNS, rows)
            print(f"{ref.parent.name}: paired gain {result.mean:+.4f} dB, half-width {result.half_width:.4f} dB "
                  f"({result.seconds:.0f} s)", flush=True)
        ranked = sorted((row for row in rows if row["weights"] in refs), key=lambda r: -float(r["mean_gain_db"]))
        line = verdict(ranked, refs, args, levels, candidate_scores)
        md_path = work / "probe.md"
        write_text_atomic(md_path, table(ranked, line))
        print(line)
        print(f"wrote {csv_path} and {md_path}")
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # a candidate in training has saved its checkpoint, and every finished score is in probe.csv
        print(f"interrupted: rerun the same command to resume from what is in {args.work}.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    reexec_with_fast_allocator()
    sys.exit(main())
