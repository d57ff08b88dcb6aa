"""Command line: `run_bench.py [--task ...]` evaluates, `run_bench.py train ...` trains."""
from __future__ import annotations

import sys

from .errors import UserError


def main(argv: list[str]) -> int:
    try:
        from .checks import resolve_data_paths
        argv = resolve_data_paths(argv)
        if argv and argv[0] == "train":
            from .training.train import main as train_main
            train_main(argv[1:])
            return 0
        from .runner import main as run_main
        return run_main(argv) or 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if argv and argv[0] == "train":
            return 130      # training has said where its checkpoint is
        print("interrupted: finished rows are saved (rows.sqlite, exported to rows.csv); rerun the same command "
              "to continue.", file=sys.stderr)
        return 130
