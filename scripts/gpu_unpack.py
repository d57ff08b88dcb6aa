#!/usr/bin/env python
"""Unpack a GPU campaign's archives into methods/weights/ (sha256-checked), the plan's logs folder and results/.

    python scripts/gpu_unpack.py /work/.device/<...> [--plan campaign/phase2.toml]   # the folder the call returned
    python scripts/gpu_unpack.py --pack WORK --plan PLAN --results OUT [--rows-root results]   # gpu_campaign.sh
    python scripts/gpu_unpack.py --seed WORK --plan PLAN [--weights-dir DIR] # likewise, before training
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redbench.core.atomic import write_text_atomic  # noqa: E402
from redbench.core.errors import UserError  # noqa: E402
from redbench.methods.weights import WEIGHTS_DIR  # noqa: E402
from redbench.training.campaign import load_plan, seed_finished, summary_table  # noqa: E402
from redbench.training.gpu_results import pack, unpack, unpack_rows  # noqa: E402


def evaluated_rows(root: Path) -> list[tuple[str, Path]]:
    """(folder under root, rows.csv) of every results folder, each rows.csv exported afresh from its store: an
    evaluation stopped by the call's time limit has its rows in rows.sqlite, not yet in rows.csv."""
    from redbench.evaluation.rows import ResultStore
    out = []
    for db in sorted(root.rglob("rows.sqlite")):
        store = ResultStore(db.parent)
        try:
            store.export_csv()
        finally:
            store.close()
    for csv_path in sorted(root.rglob("rows.csv")):
        out.append((csv_path.parent.relative_to(root).as_posix(), csv_path))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="?", help="folder holding weights-*.tar and logs.tar.gz")
    parser.add_argument("--weights-dir", default=str(WEIGHTS_DIR))
    parser.add_argument("--log-dir", help="where the logs go (default: the --plan's log folder, then gpu/)")
    parser.add_argument("--pack", metavar="WORK", help="pack the campaign in WORK instead (device side)")
    parser.add_argument("--plan", default=str(ROOT / "campaign" / "plan.toml"))
    parser.add_argument("--results", dest="out", help="with --pack: where the archives go")
    parser.add_argument("--rows-root", default=str(ROOT / "results"),
                        help="results folder whose stores take the evaluated rows (with --pack: whose rows.csv "
                             "files travel; unpacking: where they are merged)")
    parser.add_argument("--with-rows", action="store_true", help="with --pack: also pack the rows.csv of every "
                        "results folder under --rows-root (the call evaluated them)")
    parser.add_argument("--data-dir", help="dataset mirror for the paired validation that decides whether a network "
                        "replaces the installed one (default: $REDBENCH_DATA_DIR)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="where that validation runs")
    parser.add_argument("--seed", metavar="WORK", help="copy the networks of --weights-dir that meet their GPU budget "
                        "into WORK/weights, so the campaign skips them and fine-tunes from them (device side)")
    args = parser.parse_args()
    try:
        if args.seed:
            work = Path(args.seed)
            seeded = seed_finished(load_plan(args.plan), "gpu", Path(args.weights_dir), work / "weights",
                                   logs_dest=work / "work" / "logs")
            write_text_atomic(work / "seeded.txt", "".join(f"{name}\n" for name in seeded))
            print(f"seeded {len(seeded)} networks already at their GPU budget: {', '.join(seeded) or 'none'}")
            return 0
        if args.pack:
            work = Path(args.pack)
            summary = summary_table(load_plan(args.plan), work / "weights")
            print(summary)
            write_text_atomic(work / "summary.md", summary + "\n")
            logs = sorted(work.glob("work/logs/*.csv")) + sorted(work.glob("work/*/log.csv"))   # finished, in progress
            seeded = work / "seeded.txt"
            skip = frozenset(seeded.read_text().split()) if seeded.exists() else frozenset()
            rows = evaluated_rows(Path(args.rows_root)) if args.with_rows else []
            archives = pack(work / "weights", logs, [work / "summary.md", work / "train.log", work / "preflight.log",
                                                      work / "eval.log", work / "check.log"],
                            Path(args.out or ROOT / "runs" / "gpu-results"), skip, rows)
            print("archives: " + ", ".join(f"{a.name} ({a.stat().st_size / 2**20:.1f} MiB)" for a in archives))
            return 0
        if not args.results:
            raise UserError("give the folder with the campaign's archives.")
        log_dir = Path(args.log_dir) if args.log_dir else load_plan(args.plan).log_dir / "gpu"
        names, kept = unpack(Path(args.results), Path(args.weights_dir), log_dir, args.data_dir, args.device)
        print(f"unpacked {len(names)} networks into {args.weights_dir}: {', '.join(names)}")
        merged = unpack_rows(Path(args.results), Path(args.rows_root))
        if merged:
            print("merged evaluated rows: " + ", ".join(f"{folder} +{n}" for folder, n in merged.items()))
        if kept:
            print(f"kept the installed {', '.join(kept)}, for the reasons above (bench/training/ship_rule.py; the logs "
                  f"of both are kept)")
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
