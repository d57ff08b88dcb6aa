"""glibc's allocator setting for long CPU work, in one place for the CLI and the scripts that train or evaluate.

Without it glibc maps and unmaps every large activation buffer and pays for it in page faults: training ran
1.6x slower on a Zen 3 in fp32 (shared notes, 2026-11-25); `scripts/bench_speed.py --variants glibc-malloc`
measures it on the machine at hand. The setting only takes effect if present before Python starts, so the
process re-executes itself once with it. REDBENCH_NO_REEXEC=1 opts out.
"""
from __future__ import annotations

import os
import sys

FAST_ALLOCATOR = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "100000000000"}


def reexec_with_fast_allocator() -> None:
    """Replaces this process by itself with FAST_ALLOCATOR set; returns at once when it is set or opted out."""
    if os.environ.get("MALLOC_MMAP_MAX_") is None and os.environ.get("REDBENCH_NO_REEXEC") is None:
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], dict(os.environ, **FAST_ALLOCATOR))
