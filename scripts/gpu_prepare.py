#!/usr/bin/env python
"""Prepare a GPU call: copy the images it needs and the wheels the device machine lacks into one git-ignored
folder inside the checkout, which the device call carries, and check that the call fits the 64 MiB it may carry.

    python scripts/gpu_prepare.py [--call train|eval] [--plan P] [--datasets LIST] [--bundle gpu_bundle]
                                  [--no-wheels] [--slim]

--call train: the plan's training and validation images (a training call, scripts/gpu_campaign.sh).
--call eval: the images of the network cells the call evaluates (`reproduce --networks-only --datasets LIST`).
--call figure3: the training images of scripts/figure3.py (Figure 3 at 20,000 updates).
The device machine (Python 3.12, PyTorch with CUDA, numpy/scipy/scikit-image/...) has no network and lacks
pooch, platformdirs and resize-right; those are pure-Python wheels. The call carries the whole working tree
(tracked files and untracked ones git does not ignore) with the bundle: this prints what that comes to, the
weights the call needs and the largest things it does not. --slim deletes those from the working tree (weights
the call does not use, figures, in-progress CPU checkpoints): everything deleted must be committed, so
`git checkout -- .` brings it back after the call (docs/gpu.md).
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

from redbench.core.atomic import copy_atomic  # noqa: E402
from redbench.datasets.catalog import get_spec  # noqa: E402
from redbench.datasets.catalog import read_checksums  # noqa: E402
from redbench.datasets.fetch import data_dir  # noqa: E402
from redbench.core.errors import UserError  # noqa: E402
from redbench.training.campaign import load_plan  # noqa: E402
from redbench.training.validation import VAL_SET  # noqa: E402

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


def needed_weights(call: str, plan_path: str, datasets: list[str] | None, data_dir: str | None) -> set[str]:
    """Names in methods/weights/ the call reads: a training call the networks its plan seeds (those it continues
    or fine-tunes from); an evaluation call the networks of the cells it evaluates."""
    import tempfile

    from redbench.methods.weights import WEIGHTS_DIR
    from redbench.reproduce import network_runs
    from redbench.evaluation.runner import load_method
    from redbench.training.campaign import seed_finished
    if call == "figure3":
        return set()
    if call == "train":
        with tempfile.TemporaryDirectory() as scratch:
            return set(seed_finished(load_plan(plan_path), "gpu", WEIGHTS_DIR, Path(scratch)))
    names = set()
    for _, config in network_runs(data_dir, datasets):
        for method in config.methods:
            found = load_method(method, config.task)
            names |= {card.name for card in found.cards()}
    return names


def slimmable(keep_weights: set[str]) -> list[Path]:
    """Tracked files (and untracked checkpoints) a call does not need: other weights, figures, CPU checkpoints."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True).stdout
    out = []
    for rel in (p for p in listed.decode().split("\0") if p):
        path = Path(rel)
        weights = path.parts[:2] == ("methods", "weights") and path.stem not in keep_weights
        figures = path.parts[:2] in (("results", "figures"), ("docs", "figures"))
        checkpoint = path.parts[0] == "campaign" and path.name == "checkpoint.safetensors"
        if (weights or figures or checkpoint) and (ROOT / path).is_file():
            out.append(ROOT / path)
    return out


def uncommitted(paths: list[Path]) -> list[str]:
    """Of `paths`, those git could not bring back: untracked or changed since the last commit."""
    rels = [str(p.relative_to(ROOT)) for p in paths]
    status = subprocess.run(["git", "status", "--porcelain", "--", *rels], cwd=ROOT, capture_output=True,
                            text=True).stdout
    return [line[3:] for line in status.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--call", choices=("train", "eval", "figure3"), default="train",
                        help="what the GPU call does (figure3: scripts/figure3.py, which reads no installed network)")
    parser.add_argument("--datasets", help="--call eval: the datasets it evaluates (default: all)")
    parser.add_argument("--slim", action="store_true", help="delete from the working tree what the call does not "
                        "need (it must be committed; `git checkout -- .` restores it)")
    parser.add_argument("--plan", default=str(ROOT / "campaign" / "plan.toml"))
    parser.add_argument("--limit-mib", type=float, default=TREE_LIMIT / 2**20,
                        help="what the device call may carry (the device tool's limit)")
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
        wanted = [d.strip() for d in (args.datasets or "").split(",") if d.strip()] or None
        if args.call in ("train", "figure3"):
            names = {entry.train_set or plan.train_set for entry in plan.entries} | {VAL_SET}
        else:
            from redbench.reproduce import network_runs
            names = {d for _, config in network_runs(args.data_dir, wanted) for d in config.datasets}
        if bundle.exists():   # one call's bundle at a time: a train bundle must not ride along with an eval call
            import shutil
            shutil.rmtree(bundle / "datasets", ignore_errors=True)
        copy_datasets(names, mirror, bundle / "datasets")
        data = folder_bytes(bundle / "datasets")
        if not args.no_wheels:
            download_wheels(bundle / "wheels")
        keep = needed_weights(args.call, args.plan, wanted, args.data_dir)
        spare = slimmable(keep)
        if args.slim:
            left = uncommitted(spare)
            if left:
                raise UserError(f"--slim deletes only what git can restore; commit these first: {', '.join(left[:5])}"
                                + (" ..." if len(left) > 5 else "") + ".")
            for path in spare:
                path.unlink()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total, limit = tree_bytes() + folder_bytes(bundle), args.limit_mib * 2**20
    print(f"bundle {bundle}: datasets {', '.join(sorted(names))} ({data / 2**20:.1f} MiB), "
          f"wheels {len(list((bundle / 'wheels').glob('*.whl'))) if (bundle / 'wheels').exists() else 0}; "
          f"the call reads {len(keep)} installed networks; "
          f"working tree + bundle {total / 2**20:.1f} MiB of {limit / 2**20:.0f} MiB")
    if args.slim:
        print(f"deleted {len(spare)} files the call does not need; after the call: git checkout -- .")
    if total > limit:
        spare_bytes = sum(p.stat().st_size for p in spare if p.exists())
        print(f"error: the call would carry {total / 2**20:.1f} MiB, over the device's {limit / 2**20:.0f} MiB; "
              + (f"--slim frees {spare_bytes / 2**20:.1f} MiB" if spare_bytes else "give --datasets fewer sets")
              + ".", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
