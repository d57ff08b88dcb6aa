"""Where a result came from: the git commit of the code, package versions and the machine.

run.json (evaluation) and the model cards (training) record these, from this one place."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

# the checkout this code runs from (bench/ is one level below it); an installed copy has no git and says 'unknown'
CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGES = ("torch", "numpy", "scipy", "scikit-image", "bm3d", "pandas", "joblib", "resize-right", "pillow",
            "safetensors", "pooch", "dask", "distributed", "ray")


def _git(*args: str) -> str:
    if not (CHECKOUT / "pyproject.toml").is_file():   # an installed copy (site-packages): no commit to name
        return ""
    try:
        return subprocess.run(["git", *args], cwd=CHECKOUT, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return ""


def git_commit() -> str:
    """HEAD of the checkout, or 'unknown'."""
    return _git("rev-parse", "HEAD") or "unknown"


def git_state() -> dict[str, str | bool]:
    """{'commit': HEAD or 'unknown', 'dirty': whether the tree has uncommitted changes}."""
    return {"commit": git_commit(), "dirty": bool(_git("status", "--porcelain"))}


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in ("redbench",) + PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def machine() -> dict:
    return {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()}
