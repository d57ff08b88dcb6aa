#!/usr/bin/env python
"""redbench: train and benchmark RED-Net against classical baselines (see README.md)."""
import os
import sys


def _reexec_with_fast_allocator() -> None:
    # glibc otherwise maps/unmaps every large activation buffer (~1.6x slower training on CPU,
    # see shared notes); the setting only takes effect if present before Python starts.
    if os.environ.get("MALLOC_MMAP_MAX_") is None and os.environ.get("REDBENCH_NO_REEXEC") is None:
        env = dict(os.environ, MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_="100000000000")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


if __name__ == "__main__":
    _reexec_with_fast_allocator()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench.cli import main
    sys.exit(main(sys.argv[1:]))
