"""Evaluate methods on datasets under degradations; one row per image x method x level.

    python run_bench.py --task denoise --sigma 10,30,50,70 [--datasets set12] [--methods bm3d,tv]
    python run_bench.py --task sr --scale 2,3,4

Rows go to the results store OUT/rows.sqlite as they finish (bench/rows.py), keyed by the
exact weights or parameters of each method; a rerun computes only the rows the installed
methods do not have yet. rows.csv, the tables (markdown + LaTeX) and run.json are written
from the store afterwards, and rows.csv also on interrupt.
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
from .rows import ResultStore, row_key, select_current

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
    weights: str = ""     # the method's weights_id at this level, checked again by the worker


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
    allow_untrained_levels: bool = False   # evaluate networks at levels they were not trained for


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
    if item.weights and method.weights_id(degradation) != item.weights:
        # a cluster worker with other weights installed must not file its output under the parent's
        raise UserError(f"worker {os.uname().nodename} has {method.weights_id(degradation)} for {item.method} at "
                        f"level {item.level:g}, the submitting machine {item.weights}: install the same weights "
                        f"and code on every worker.")
    start = time.perf_counter()
    restored = method.restore(degraded, degradation)
    seconds = time.perf_counter() - start
    if restored.shape != target.shape:
        raise RuntimeError(f"{item.method} returned shape {restored.shape}, expected {target.shape}")
    shave = getattr(degradation, "shave", 0)
    return {"task": item.task, "dataset": item.dataset, "image": item.image, "method": item.method,
            "level": item.level, "psnr": round(psnr(target, restored, shave), 4),
            "ssim": round(ssim(target, restored, shave), 5), "seconds": round(seconds, 4), "seed": item.seed,
            "noise_seed": seed, "clip": item.clip, "worker": f"{os.uname().nodename}:{os.getpid()}",
            "weights": item.weights}


@dataclass
class Plan:
    """Everything checked before any work starts: methods, the weights of each (method, level), the images."""
    weights: dict          # (method, level) -> weights_id
    refs: dict             # dataset -> [ImageRef]
    digests: dict          # dataset -> digest for run.json
    threads: int


def prepare(config: RunConfig) -> Plan:
    """Check every input (methods, levels, datasets) and instantiate each method once in the parent, so
    weights problems surface before any work and every row is keyed by the weights that will make it."""
    from datasets.fetch import data_dir, dataset_files, get_spec
    from methods.registry import check_method

    from .runinfo import dataset_digest
    # cheap checks first, then the ones that load weights or hash images
    for name in config.methods:
        check_method(name, config.task)
    for dataset in config.datasets:
        spec = get_spec(dataset)
        if config.task not in spec.tasks:
            raise UserError(f"dataset '{dataset}' is not a {config.task} set (it serves: {', '.join(spec.tasks)}).")
    data_dir(config.data_dir)
    untrained = []
    for name in config.methods:
        trained = _method(name, config.task).trained_levels()
        known = None if trained is None else {float(level) for level in trained}
        untrained += [(name, level, trained) for level in config.levels
                      if known is not None and float(level) not in known]
    if untrained and not config.allow_untrained_levels:
        name, level, trained = untrained[0]
        what = "sigma" if config.task == "denoise" else "scale"
        others = "" if len(untrained) == 1 else f" (and {len(untrained) - 1} more method/level pairs)"
        raise UserError(f"{name} was trained for {what} {'/'.join(f'{t:g}' for t in trained)}, not {level:g}{others}: "
                        f"evaluate at the trained levels, or pass --allow-untrained-levels to measure it anyway.")
    weights = {(name, level): _method(name, config.task).weights_id(
                   make_degradation(config.task, level, config.clip_noise))
               for name in config.methods for level in config.levels}
    refs, digests = {}, {}
    for dataset in config.datasets:
        refs[dataset] = dataset_files(dataset, config.data_dir)
        digests[dataset] = dataset_digest(refs[dataset])
    threads = max(1, (os.cpu_count() or 1) // resolve_jobs(config.jobs))
    return Plan(weights, refs, digests, threads)


def plan(config: RunConfig, prepared: Plan, done: set) -> list[WorkItem]:
    """The work items whose rows (with the installed weights) are not in `done`."""
    items = []
    for dataset, refs in prepared.refs.items():
        for method in config.methods:
            for level in config.levels:
                for ref in refs:
                    item = WorkItem(config.task, dataset, ref.name, ref.path, method, level, config.seed,
                                    config.clip_noise, threads=prepared.threads,
                                    weights=prepared.weights[(method, level)])
                    if row_key(asdict(item)) not in done:
                        items.append(item)
    return items


def resolve_jobs(jobs: int) -> int:
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def _weights_record(config: RunConfig, prepared: Plan) -> dict:
    """run.json: per method the weights id at each level, and the model card where there is one."""
    weights = {}
    for name in config.methods:
        record = {"by_level": {f"{level:g}": prepared.weights[(name, level)] for level in config.levels}}
        method = _method(name, config.task)
        cards = getattr(getattr(method, "inner", method), "cards", None)
        if cards is not None:
            record["cards"] = [{"weights": card.name, "sha256": card.sha256, "levels": card.levels,
                                "budget": card.budget, "iterations": card.iterations} for card in cards()]
        weights[name] = record
    return weights


def execute(items: list[WorkItem], store: ResultStore, config: RunConfig, progress: bool = True) -> int:
    """Run items with joblib on the chosen backend, adding each finished row to the store (one INSERT)."""
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
    from .checks import check_out_dir
    from .runinfo import write_run_json
    out = check_out_dir(config.out)
    prepared = prepare(config)
    store = ResultStore(out)
    try:
        for note in store.notes:
            print(note, file=sys.stderr)
        valid, invalid = store.read(config.task)
        if invalid:
            examples = "; ".join(str(bad) for bad in invalid[:3]) + ("; ..." if len(invalid) > 3 else "")
            print(f"{len(invalid)} stored {config.task} rows in {store.db_path} have missing or out-of-range values "
                  f"and are not used (those this run covers are computed again): {examples}", file=sys.stderr)
        items = plan(config, prepared, {row_key(row) for row in valid})
        cells = len(config.methods) * len(config.levels) * sum(len(r) for r in prepared.refs.values())
        reused = cells - len(items)
        print(f"{len(items)} restorations to run, {reused} rows reused from {store.db_path}", file=sys.stderr)
        start = time.time()
        try:
            computed = execute(items, store, config, progress)
        finally:
            # on success, error or Ctrl-C alike: rows.csv shows every row the database holds
            store.export_csv()
        totals = {"computed": computed, "reused": reused, "wall_seconds": round(time.time() - start, 2)}
        written = []
        if config.tables:
            from .tables import write_tables
            current = {(config.task, name, float(level)): (weights, config.seed, config.clip_noise)
                       for (name, level), weights in prepared.weights.items()}
            written = write_tables(select_current(store.frame(), current).drop(columns="written"), out)
    finally:
        store.close()
    # a rerun that computed nothing keeps run.json of the run that made the rows (runs.jsonl gets both)
    write_run_json(out / "run.json", asdict(config), prepared.digests, _weights_record(config, prepared), totals,
                   argv, keep_existing=computed == 0)
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
    parser.add_argument("--out", default="results/latest",
                        help="output folder: rows.sqlite (results store), rows.csv, tables, run.json")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (each image/sigma gets its own stream)")
    parser.add_argument("--clip-noise", action="store_true", help="clip noisy inputs to [0,255] (paper: no)")
    parser.add_argument("--data-dir", help="local dataset mirror (else $REDBENCH_DATA_DIR, else download)")
    parser.add_argument("--allow-untrained-levels", action="store_true",
                        help="evaluate networks at sigmas/scales they were not trained for (an error otherwise)")
    parser.add_argument("--backend", choices=BACKENDS, default="loky", help="joblib backend for evaluation")
    parser.add_argument("--scheduler", help="dask scheduler / ray address (else $DASK_SCHEDULER_ADDRESS / "
                        "$RAY_ADDRESS, else a local cluster)")
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
                     backend=args.backend, scheduler=args.scheduler,
                     allow_untrained_levels=args.allow_untrained_levels)


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
