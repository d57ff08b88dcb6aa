"""Evaluate methods on datasets under degradations; one row per image x method x level.

    python run_bench.py --task denoise --sigma 10,30,50,70 [--datasets set12] [--methods bm3d,tv]
    python run_bench.py --task sr --scale 2,3,4

Rows go to OUT/rows.csv as they finish; a rerun computes only missing rows.
Tables (markdown + LaTeX) and run.json are rendered from the rows afterwards.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from .degradations import make_degradation, noise_seed, parse_levels
from .errors import UserError
from .rows import RowStore, row_key

DEFAULTS = {
    "denoise": {"datasets": "set12,bsd200-half", "methods": "bm3d,tv,red10,red20,red30"},
    "sr": {"datasets": "set5,set14,bsd100", "methods": "bicubic,srcnn,red10,red20,red30"},
}
BACKENDS = ("loky", "dask", "ray")


@dataclass(frozen=True)
class WorkItem:
    task: str
    dataset: str
    image: str
    path: str
    method: str
    level: float
    seed: int
    clip: bool
    threads: int = 1


@dataclass
class RunConfig:
    task: str
    levels: list
    datasets: list[str]
    methods: list[str]
    out: str = "results/latest"
    jobs: int = 0               # 0 = all cores
    seed: int = 0
    clip_noise: bool = False
    data_dir: str | None = None
    backend: str = "loky"
    scheduler: str | None = None   # dask scheduler / ray address (or $DASK_SCHEDULER_ADDRESS / $RAY_ADDRESS)
    tables: bool = True


@lru_cache(maxsize=64)
def _ground_truth(path: str, dataset: str):
    from datasets.fetch import get_spec
    from datasets.images import ground_truth
    return ground_truth(path, get_spec(dataset))


@lru_cache(maxsize=16)
def _method(name: str, task: str):
    from methods.registry import get_method
    return get_method(name, task)


def degrade(item: WorkItem):
    """(degradation, degraded input, target, noise seed): the exact input every method sees for `item`."""
    from .cluster import worker_path
    clean = _ground_truth(worker_path(item.dataset, item.image, item.path), item.dataset)
    degradation = make_degradation(item.task, item.level, item.clip)
    seed = noise_seed(item.seed, item.dataset, item.image, item.level) if item.task == "denoise" else 0
    return degradation, degradation.apply(clean, seed), degradation.target(clean), seed


def evaluate(item: WorkItem) -> dict:
    """Run one method on one degraded image and score it (executes in a worker process)."""
    from .metrics import psnr, ssim
    if item.threads:
        import torch
        torch.set_num_threads(item.threads)
    degradation, degraded, target, seed = degrade(item)
    method = _method(item.method, item.task)
    start = time.perf_counter()
    restored = method.restore(degraded, degradation)
    seconds = time.perf_counter() - start
    if restored.shape != target.shape:
        raise RuntimeError(f"{item.method} returned shape {restored.shape}, expected {target.shape}")
    shave = getattr(degradation, "shave", 0)
    return {"task": item.task, "dataset": item.dataset, "image": item.image, "method": item.method,
            "level": item.level, "psnr": round(psnr(target, restored, shave), 4),
            "ssim": round(ssim(target, restored, shave), 5), "seconds": round(seconds, 4), "seed": item.seed,
            "noise_seed": seed, "clip": item.clip, "worker": f"{os.uname().nodename}:{os.getpid()}"}


def plan(config: RunConfig, store: RowStore) -> tuple[list[WorkItem], dict]:
    """Work items still missing from the store, and the dataset digests for run.json."""
    from datasets.fetch import dataset_files, get_spec
    from methods.registry import check_method

    from .runinfo import dataset_digest
    for name in config.methods:
        check_method(name, config.task)
    digests, items = {}, []
    jobs = resolve_jobs(config.jobs)
    for dataset in config.datasets:
        spec = get_spec(dataset)
        if config.task not in spec.tasks:
            raise UserError(f"dataset '{dataset}' is not a {config.task} set (it serves: {', '.join(spec.tasks)}).")
        refs = dataset_files(dataset, config.data_dir)
        digests[dataset] = dataset_digest(refs)
        for method in config.methods:
            for level in config.levels:
                for ref in refs:
                    item = WorkItem(config.task, dataset, ref.name, ref.path, method, level, config.seed,
                                    config.clip_noise, threads=max(1, (os.cpu_count() or 1) // jobs))
                    if row_key(asdict(item)) not in store:
                        items.append(item)
    return items, digests


def resolve_jobs(jobs: int) -> int:
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def _preload_methods(config: RunConfig) -> dict:
    """Instantiate each method once in the parent: weights problems surface before any work."""
    weights = {}
    for name in config.methods:
        method = _method(name, config.task)
        card = getattr(getattr(method, "inner", method), "card", None)
        if card is not None:
            weights[name] = {"weights": card.name, "sha256": card.sha256, "budget": card.budget,
                             "iterations": card.iterations}
    return weights


def execute(items: list[WorkItem], store: RowStore, config: RunConfig, progress: bool = True) -> int:
    """Run items with joblib on the chosen backend, adding each finished row to the store."""
    from joblib import Parallel, delayed, parallel_config
    if not items:
        return 0
    jobs = resolve_jobs(config.jobs)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(items), unit="restoration", file=sys.stderr, dynamic_ncols=True)
    done = 0
    with backend_context(config, jobs):
        kwargs = {} if config.backend != "loky" else {"n_jobs": jobs}
        runner = Parallel(return_as="generator_unordered", batch_size=1, **kwargs)
        for row in runner(delayed(evaluate)(item) for item in items):
            store.add(row)
            done += 1
            if bar is not None:
                bar.set_postfix_str(f"{row['method']} {row['dataset']} {row['level']:g}: {row['psnr']:.2f} dB",
                                    refresh=False)
                bar.update(1)
    if bar is not None:
        bar.close()
    return done


def backend_context(config: RunConfig, jobs: int):
    from joblib import parallel_config
    if config.backend == "loky":
        return parallel_config(backend="loky" if jobs > 1 else "sequential", n_jobs=jobs)
    from .cluster import cluster_backend
    return cluster_backend(config, jobs)


def run(config: RunConfig, argv: list[str], progress: bool = True) -> dict:
    from .runinfo import write_run_json
    out = Path(config.out)
    store = RowStore(out / "rows.csv")
    items, digests = plan(config, store)
    weights = _preload_methods(config) if items else {}
    planned = len(items)
    reused = sum(1 for r in store.rows if r["task"] == config.task)
    print(f"{planned} restorations to run, {reused} {config.task} rows reused from {out / 'rows.csv'}",
          file=sys.stderr)
    start = time.time()
    computed = execute(items, store, config, progress)
    totals = {"computed": computed, "reused": reused, "wall_seconds": round(time.time() - start, 2)}
    written = []
    if config.tables:
        from .tables import write_tables
        frame = store.frame()
        written = write_tables(frame, out)
    # a rerun that computed nothing keeps run.json of the run that made the rows (runs.jsonl gets both)
    write_run_json(out / "run.json", asdict(config), digests, weights, totals, argv,
                   keep_existing=computed == 0)
    totals["tables"] = [str(p) for p in written]
    return totals


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run_bench.py", description=__doc__.split("\n")[0],
                                     epilog="Train networks with `run_bench.py train --help`.")
    parser.add_argument("--task", choices=("denoise", "sr"), help="denoise (Gaussian noise) or sr (bicubic x scale)")
    parser.add_argument("--sigma", help="noise levels on 0..255, e.g. 10,30,50,70")
    parser.add_argument("--scale", help="SR factors, e.g. 2,3,4")
    parser.add_argument("--datasets", help="comma-separated; default: the paper's sets for the task")
    parser.add_argument("--methods", help="comma-separated registry names; append + for the x8 ensemble (red30+)")
    parser.add_argument("--jobs", type=int, default=0, help="parallel workers (default: all cores)")
    parser.add_argument("--out", default="results/latest", help="output folder for rows.csv, tables, run.json")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (each image/sigma gets its own stream)")
    parser.add_argument("--clip-noise", action="store_true", help="clip noisy inputs to [0,255] (paper: no)")
    parser.add_argument("--data-dir", help="local dataset mirror (else $REDBENCH_DATA_DIR, else download)")
    parser.add_argument("--backend", choices=BACKENDS, default="loky", help="joblib backend for evaluation")
    parser.add_argument("--scheduler", help="dask scheduler / ray address (else $DASK_SCHEDULER_ADDRESS / $RAY_ADDRESS, "
                        "else a local cluster)")
    parser.add_argument("--reproduce", action="store_true",
                        help="regenerate every table and figure of the paper and results/REPORT.md (cached)")
    parser.add_argument("--no-train", action="store_true", help="with --reproduce: never train, use stored logs")
    parser.add_argument("--budget-scale", type=float, default=1.0,
                        help="with --reproduce: multiply the training budgets of the experiments (e.g. 10 on a GPU)")
    parser.add_argument("--force-figures", action="store_true", help="with --reproduce: re-render all figures")
    parser.add_argument("--list-methods", action="store_true", help="list registered methods and exit")
    parser.add_argument("--list-datasets", action="store_true", help="list datasets and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def config_from_args(args: argparse.Namespace) -> RunConfig:
    if not args.task:
        raise UserError("choose a task: --task denoise --sigma 10,30,50,70 or --task sr --scale 2,3,4.")
    if args.task == "denoise" and args.scale:
        raise UserError("--scale is for --task sr; denoising takes --sigma.")
    if args.task == "sr" and args.sigma:
        raise UserError("--sigma is for --task denoise; SR takes --scale.")
    text = args.sigma if args.task == "denoise" else args.scale
    levels = parse_levels(args.task, text or ("10,30,50,70" if args.task == "denoise" else "2,3,4"))
    datasets = [d.strip() for d in (args.datasets or DEFAULTS[args.task]["datasets"]).split(",") if d.strip()]
    methods = [m.strip() for m in (args.methods or DEFAULTS[args.task]["methods"]).split(",") if m.strip()]
    if args.jobs < 0:
        raise UserError(f"--jobs must be >= 0 (0 = all cores), got {args.jobs}.")
    return RunConfig(task=args.task, levels=levels, datasets=datasets, methods=methods, out=args.out,
                     jobs=args.jobs, seed=args.seed, clip_noise=args.clip_noise, data_dir=args.data_dir,
                     backend=args.backend, scheduler=args.scheduler)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.list_methods:
        from methods.registry import registered
        for name, e in sorted(registered().items()):
            kind = "published numbers only" if e.reported_only else e.description
            print(f"{name:14s} {','.join(e.tasks):12s} {kind}")
        return 0
    if args.list_datasets:
        from datasets.catalog import SPECS
        for name, spec in SPECS.items():
            print(f"{name:14s} {','.join(spec.tasks):12s} {spec.description}")
        return 0
    if args.reproduce:
        from .reproduce import reproduce
        report = reproduce(args.jobs, args.data_dir, train=not args.no_train, force_figures=args.force_figures,
                           argv=argv, budget_scale=args.budget_scale)
        print(f"report written: {report}")
        return 0
    config = config_from_args(args)
    totals = run(config, argv, progress=not args.quiet)
    out = Path(config.out)
    tables_md = out / "tables.md"
    if tables_md.exists():
        print(tables_md.read_text())
    print(f"rows: {out / 'rows.csv'}  tables: {out}  ({totals['computed']} computed, {totals['reused']} reused, "
          f"{totals['wall_seconds']:.1f} s)")
    return 0
