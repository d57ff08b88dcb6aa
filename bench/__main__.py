"""`python -m redbench ...` is the `redbench` command."""
from redbench.cli import run

run(prog="python -m redbench")
