#!/usr/bin/env python
"""redbench from a source checkout, without installing: `python run_bench.py ...` is the `redbench` command.

    python run_bench.py --task denoise --sigma 10,30,50,70     # no subcommand: evaluate (`eval`)
    python run_bench.py train ... | reproduce | list methods | fetch set5 ...

This folder on sys.path makes `import redbench` find redbench.py, which maps the package onto
bench/, methods/ and datasets/ (README, "Layout").
"""
import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from redbench.cli import run
    run(prog="run_bench.py")
