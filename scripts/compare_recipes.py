"""Recipe comparison for the campaign (not a test): validation PSNR per unit of compute on RED10 sigma 30.

    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 REDBENCH_DATA_DIR=../shared/datasets \
        python scripts/compare_recipes.py [--patches 24000] [--out runs/recipes] [--figure docs/figures/recipes.png]

Every recipe trains the same per-level network on the paper's training images minus the held-out
BSDS500-train crops it is scored on (no test set involved), for the same number of patches, in the
precision `auto` picks. "finetune" first trains one all-sigma RED10 for `--patches` (its cost is shared
by the four per-level networks, so a quarter of it is charged), then fine-tunes at sigma 30 for a
quarter of the budget. Resumable: finished recipes are read back from their logs.

Compute is counted in training patches: for one model and precision a patch costs the same whatever
the learning rate, and batches of 16 and 32 run at the same patches/s, so patches are proportional to
CPU-minutes; wall minutes are printed too, but on a shared machine they measure the neighbours.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redbench.core.allocator import reexec_with_fast_allocator  # noqa: E402
from redbench.core.atomic import atomic_path  # noqa: E402
from redbench.core.csv_cells import write_frame  # noqa: E402
from redbench.training.train import TrainConfig, train  # noqa: E402

RECIPES = {   # name -> TrainConfig overrides
    "lr1e-3-b16": dict(lr=1e-3, batch_size=16),
    "lr1e-3-b32": dict(lr=1e-3, batch_size=32),
    "lr2e-3-b16": dict(lr=2e-3, batch_size=16),
    "lr5e-4-b8": dict(lr=5e-4, batch_size=8),
}


def run(name: str, out: Path, patches: int, **overrides) -> pd.DataFrame:
    settings = dict(model="red10", task="denoise", levels="30", recipe="fast", patches=patches, out=str(out / name),
                    name=name, val_every=100, log_every=20, weights_dtype="float32")
    settings.update(overrides)
    config = TrainConfig(**settings)
    if not (out / name / f"{name}.json").exists():
        train(config)
    log = pd.read_csv(out / name / "log.csv")
    return log[log["val_psnr"].notna()].assign(recipe=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patches", type=int, default=24000)
    parser.add_argument("--out", default="runs/recipes")
    parser.add_argument("--figure", default="docs/figures/recipes.png")
    parser.add_argument("--only", help="comma-separated recipe names (default: all, then finetune)")
    args = parser.parse_args()
    out = Path(args.out)
    wanted = args.only.split(",") if args.only else list(RECIPES) + ["finetune"]
    curves = []
    for name in wanted:
        if name == "finetune":
            single = run("single-all-sigma", out, args.patches, levels="10,30,50,70", lr=1e-3, batch_size=16)
            tuned = run("finetune", out, args.patches // 4, lr=3e-4, batch_size=16,
                        init=str(out / "single-all-sigma" / "single-all-sigma"))
            shared = single.iloc[-1][["seconds", "patches"]] / 4          # a quarter of the single model's cost
            curves.append(tuned.assign(seconds=tuned["seconds"] + shared["seconds"],
                                       patches=tuned["patches"] + shared["patches"],
                                       recipe="finetune (1/4 of single charged)"))
        else:
            curves.append(run(name, out, args.patches, **RECIPES[name]))
    frame = pd.concat(curves)
    print("| recipe | patches charged | wall minutes (shared machine) | final val PSNR (dB) | best val PSNR |\n"
          "|---|---:|---:|---:|---:|")
    for recipe, group in frame.groupby("recipe", sort=False):
        last = group.iloc[-1]
        print(f"| {recipe} | {int(last['patches'])} | {last['seconds'] / 60:.1f} | {last['val_psnr']:.3f} | "
              f"{group['val_psnr'].max():.3f} |")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for recipe, group in frame.groupby("recipe", sort=False):
        ax.plot(group["patches"] / 1000, group["val_psnr"], label=recipe, marker=".")
    ax.set_xlabel("training patches charged (thousands; proportional to CPU-minutes)")
    ax.set_ylabel("validation PSNR (dB), held-out crops, sigma 30")
    ax.set_title("RED10 sigma 30: recipes by validation PSNR per unit of compute", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.figure) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    with atomic_path(Path(args.figure).with_suffix(".csv")) as tmp:
        write_frame(frame, tmp, index=False)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    reexec_with_fast_allocator()
    main()
