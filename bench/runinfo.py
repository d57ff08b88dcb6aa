"""run.json: what a run needs to be reproduced (versions, commit, seeds, data and weights checksums)."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from .atomic import write_text_atomic

PACKAGES = ("torch", "numpy", "scipy", "scikit-image", "bm3d", "pandas", "joblib", "resize-right", "pillow",
            "safetensors", "dask", "distributed", "ray")


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def git_state(root: Path) -> dict[str, str | bool]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return ""
    return {"commit": git("rev-parse", "HEAD") or "unknown", "dirty": bool(git("status", "--porcelain"))}


def dataset_digest(refs) -> dict:
    """One sha256 over the sorted per-file checksums identifies the exact image set."""
    shas = sorted(f"{r.name}:{r.sha256 or 'unverified'}" for r in refs)
    return {"images": len(shas), "sha256": hashlib.sha256("\n".join(shas).encode()).hexdigest(),
            "verified": all(r.sha256 for r in refs)}


def write_run_json(path: Path, config: dict, datasets: dict, weights: dict, totals: dict, argv: list[str],
                   keep_existing: bool = False) -> None:
    record = {
        "command": "python run_bench.py " + " ".join(argv),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": config,
        "git": git_state(Path(__file__).resolve().parent.parent),
        "packages": package_versions(),
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "datasets": datasets,
        "weights": weights,
        "totals": totals,
    }
    if not (keep_existing and path.exists()):
        write_text_atomic(path, json.dumps(record, indent=2, default=str) + "\n")
    # run.json is the latest run; runs.jsonl keeps every run that wrote into this folder. One write() of
    # one line in append mode: runs finishing together add whole lines, never interleaved ones
    line = (json.dumps(record, default=str) + "\n").encode()
    fd = os.open(path.with_name("runs.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
