#!/usr/bin/env python
"""Prepare the one-shot GPU campaign: copy the plan's training (and validation) images and the wheels the
device machine lacks into one git-ignored folder inside the checkout, which the device call carries.

    python scripts/gpu_prepare.py [--plan campaign/plan.toml] [--bundle gpu_bundle] [--no-wheels]

The device machine (Python 3.12, PyTorch with CUDA, numpy/scipy/scikit-image/...) has no network and
lacks pooch, platformdirs and resize-right; those are pure-Python wheels. It prints the size of what
will travel, which must stay under 64 MiB with the rest of the working tree.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redbench.atomic import copy_atomic  # noqa: E402
from redbench.datasets.catalog import get_spec  # noqa: E402
from redbench.datasets.fetch import data_dir, read_checksums  # noqa: E402
from redbench.errors import UserError  # noqa: E402
from redbench.training.campaign import load_plan  # noqa: E402
from redbench.training.train import VAL_SET  # noqa: E402

WHEELS = ("pooch", "platformdirs", "resize-right")
TREE_LIMIT = 64 * 2**20


def copy_datasets(names: set[str], mirror: Path, target: Path) -> None:
    for name in sorted(names):
        for checksum_file in get_spec(name).checksum_files:
            for entry in read_checksums(checksum_file):
                source, dest = mirror / entry.relpath, target / entry.relpath
                if not source.is_file():
                    raise UserError(f"{source} is missing from the mirror; fix --data-dir.")
                if not dest.exists() or dest.stat().st_size != source.stat().st_size:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    copy_atomic(source, dest)


def download_wheels(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}=={metadata.version(name)}" for name in WHEELS]
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version", "3.12",
           "--implementation", "py", "-d", str(target), *specs]
    if subprocess.run(cmd).returncode != 0:
        raise UserError(f"pip could not download {', '.join(specs)}; check the package registry, or copy the wheels "
                        f"into {target} by hand.")


def tree_bytes() -> int:
    """What the device call sends: tracked and untracked-not-ignored files."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True).stdout
    return sum((ROOT / p).stat().st_size for p in listed.decode().split("\0") if p and (ROOT / p).is_file())


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan", default=str(ROOT / "campaign" / "plan.toml"))
    parser.add_argument("--bundle", default=str(ROOT / "gpu_bundle"), help="git-ignored folder inside the checkout")
    parser.add_argument("--data-dir", help="dataset mirror (default $REDBENCH_DATA_DIR)")
    parser.add_argument("--no-wheels", action="store_true", help="skip the wheels (tests; a machine that has them)")
    args = parser.parse_args()
    try:
        mirror = data_dir(args.data_dir)
        if mirror is None:
            raise UserError("give the dataset mirror: --data-dir or $REDBENCH_DATA_DIR.")
        plan = load_plan(args.plan)
        bundle = Path(args.bundle)
        names = {entry.train_set or plan.train_set for entry in plan.entries} | {VAL_SET}
        copy_datasets(names, mirror, bundle / "datasets")
        data = folder_bytes(bundle / "datasets")
        if not args.no_wheels:
            download_wheels(bundle / "wheels")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = tree_bytes() + folder_bytes(bundle)
    print(f"bundle {bundle}: datasets {', '.join(sorted(names))} ({data / 2**20:.1f} MiB), "
          f"wheels {len(list((bundle / 'wheels').glob('*.whl'))) if (bundle / 'wheels').exists() else 0}; "
          f"working tree + bundle {total / 2**20:.1f} MiB of {TREE_LIMIT / 2**20:.0f} MiB")
    if total > TREE_LIMIT:
        print("warning: over the device call's limit; move methods/weights/ aside for the call", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
