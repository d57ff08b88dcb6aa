#!/usr/bin/env python
"""Train Figure 3's experiments at the budget that decides its claims: 20,000 updates at the paper's learning
rate (bench/reporting/experiments.py DECISIVE_SETTINGS), into results/experiments-20k/. Resumable; meant for a GPU call
(docs/gpu.md), where it runs in minutes; on 2 CPU cores a 20-layer network takes about 37 minutes in bf16 with
AMX (2026-12-04) and several hours in fp32.

    python scripts/figure3.py [--panel 3a|3b|3c] [--only NAMES] [--device auto|cpu|cuda] [--iters N]
                              [--results DIR] [--work DIR] [--pack OUT]
    python scripts/figure3.py --pack-only OUT | --unpack FILE

--pack OUT writes OUT/figure3.tar.gz of the finished runs (logs, cards, the stride-3 networks' weights);
`python scripts/figure3.py --unpack FILE` puts such an archive into results/experiments-20k/ here.
"""
from __future__ import annotations

import argparse
import os
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redbench.core.allocator import reexec_with_fast_allocator  # noqa: E402
from redbench.core.atomic import atomic_path  # noqa: E402
from redbench.core.errors import UserError  # noqa: E402
from redbench.reporting.experiments import DECISIVE, decisive, figure3, is_done, run_experiment  # noqa: E402

ALLOWED = {"log.csv", "{name}.json", "{name}.safetensors"}


def pack(results: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "figure3.tar.gz"
    with atomic_path(path) as tmp, tarfile.open(tmp, "w:gz") as tar:
        for exp in figure3():
            if is_done(exp, results):
                for pattern in ALLOWED:
                    file = results / exp.name / pattern.format(name=exp.name)
                    if file.exists():
                        tar.add(file, arcname=f"{exp.name}/{file.name}")
    return path


def unpack(archive: Path, results: Path) -> list[str]:
    """Every member must be <experiment>/<log.csv|experiment.json|experiment.safetensors> of a Figure 3
    experiment, or nothing is written."""
    names = {e.name for e in figure3()}
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            parts = member.name.split("/")
            if (not member.isfile() or len(parts) != 2 or parts[0] not in names
                    or parts[1] not in {p.format(name=parts[0]) for p in ALLOWED}):
                raise UserError(f"{archive.name} holds an unexpected member '{member.name}'; nothing was unpacked.")
        for member in members:
            target = results / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                tmp.write_bytes(tar.extractfile(member).read())
    return sorted({m.name.split("/")[0] for m in members})


def chosen(panel: str | None, only: str | None) -> list:
    """The experiments of `panel` (all panels: None), or those named in `only`, in its order."""
    experiments = {e.name: e for e in figure3(panel)}
    if not only:
        return list(experiments.values())
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in experiments]
    if unknown or not names:
        what = f"{', '.join(unknown)} is not an experiment of" if unknown else "names no experiment of"
        raise UserError(f"--only: {what} {'panel ' + panel if panel else 'Figure 3'}; "
                        f"choose from {', '.join(experiments)}.")
    return [experiments[n] for n in dict.fromkeys(names)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panel", choices=("3a", "3b", "3c"), help="one panel (default: all)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--iters", type=int, help="another budget (tests); the report names whatever the cards say")
    parser.add_argument("--only", metavar="LIST", help="comma-separated experiment names of the panel(s), in this "
                        "order (e.g. the two block-2 networks of 3c first: fig3b-red20-skip,fig3c-he-span2)")
    parser.add_argument("--work", default=str(ROOT / "runs" / "experiments-20k"),
                        help="checkpoints of the runs in progress (a committed folder lets a CPU run span sessions)")
    parser.add_argument("--results", default=str(ROOT / DECISIVE), help="where the runs go")
    parser.add_argument("--data-dir", help="dataset mirror (default $REDBENCH_DATA_DIR)")
    parser.add_argument("--pack", metavar="OUT", help="afterwards, pack the finished runs into OUT/figure3.tar.gz")
    parser.add_argument("--pack-only", metavar="OUT", help="only pack the finished runs (no training)")
    parser.add_argument("--unpack", metavar="FILE", help="only unpack FILE into --results")
    args = parser.parse_args()
    results = Path(args.results)
    try:
        if args.unpack:
            print("unpacked: " + ", ".join(unpack(Path(args.unpack), results)))
            return 0
        if args.pack_only:
            print(f"packed {pack(results, Path(args.pack_only))}")
            return 0
        if args.iters is not None and args.iters < 1:
            raise UserError(f"--iters must be at least 1, got {args.iters}.")
        for exp in chosen(args.panel, args.only):
            run = decisive(exp)
            if args.iters:
                run = replace(run, config={**run.config, "iters": args.iters})
            print(f"== {exp.name}: {run.config['iters']} updates, lr {run.config['lr']:g}", flush=True)
            run_experiment(run, args.data_dir, results=results, work=Path(args.work), device=args.device)
        if args.pack:
            print(f"packed {pack(results, Path(args.pack))}")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:   # the run saved its checkpoint and said so; the same command resumes it
        return 130
    return 0


if __name__ == "__main__":
    reexec_with_fast_allocator()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
