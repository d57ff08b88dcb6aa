#!/usr/bin/env python
"""Compare a candidate network with an installed one on the held-out images at full size, and say whether it ships.

    REDBENCH_DATA_DIR=../shared/datasets python scripts/paired_validation.py CANDIDATE INSTALLED \
        [--levels 50] [--device auto] [--threads N] [--out FILE.md]

CANDIDATE and INSTALLED: a name in methods/weights/ or a path without suffix (e.g. runs/train/red30-denoise-s50).
Both restore every pixel of every image that both model cards kept out of training, at every level the candidate
serves (or --levels), with the evaluation's noise seeds and scoring. Prints the per-image paired PSNR differences,
their mean, standard error and 95% t-interval, and whether the gain is resolved, the ship rule's test
(bench/training/ship_rule.py): a network ships only when the mean gain exceeds the interval's half-width. Nothing
is installed or changed.
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
from redbench.core.errors import UserError  # noqa: E402
from redbench.methods.weights import read_card, split_ref  # noqa: E402
from redbench.core.degradations import parse_levels  # noqa: E402
from redbench.training.paired_validation import paired_validation  # noqa: E402
from redbench.training.ship_rule import gain_is_resolved  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("candidate", help="the newly trained network (name or path without suffix)")
    parser.add_argument("installed", help="the network it would replace (name or path without suffix)")
    parser.add_argument("--levels", help="sigmas or scales, comma-separated (default: every level of the candidate)")
    parser.add_argument("--data-dir", help="dataset mirror (default: $REDBENCH_DATA_DIR)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--seed", type=int, default=0, help="noise seed of the evaluation (default 0)")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    parser.add_argument("--out", help="also write the table and verdict to this markdown file")
    args = parser.parse_args(argv)
    try:
        check_number("--threads", args.threads, 1, integer=True, fix="leave it out for all cores")
        check_number("--seed", args.seed, 0, INT64_MAX, integer=True)
        if args.threads:
            import torch
            torch.set_num_threads(args.threads)
        levels = None
        if args.levels:
            levels = parse_levels(read_card(*split_ref(args.candidate)).task, args.levels)
        result = paired_validation(args.candidate, args.installed, args.data_dir, args.device, args.seed, levels)
        ships = gain_is_resolved(result.mean, result.half_width)
        verdict = (f"verdict: the gain is {'resolved' if ships else 'not resolved'} (the mean gain "
                   f"{result.mean:+.4f} dB {'exceeds' if ships else 'does not exceed'} the half-width "
                   f"{result.half_width:.4f} dB); the ship rule also keeps a finished installed network against a "
                   f"snapshot and ships nothing for identical weights (bench/training/ship_rule.py decide)")
        text = result.table() + "\n" + verdict
        print(text)
        if args.out:
            write_text_atomic(Path(args.out), text + "\n")
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    reexec_with_fast_allocator()
    sys.exit(main())
