"""`python -m redbench ...` is the `redbench` command."""
from .cli import run

run(prog="python -m redbench")
