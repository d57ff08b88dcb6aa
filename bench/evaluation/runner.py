"""Evaluate methods on datasets under degradations; one row per image x method x level.

    redbench eval --task denoise --sigma 10,30,50,70 [--datasets set12] [--methods bm3d,tv]
    redbench eval --task sr --scale 2,3,4            (python run_bench.py ... from a source checkout)

Rows go to the results store OUT/rows.sqlite as they finish (bench/evaluation/rows.py), keyed by the
exact weights or parameters of each method; a rerun computes only the rows the installed
methods do not have yet. rows.csv, the tables (markdown + LaTeX) and run.json are written
from the store afterwards, and rows.csv also on interrupt.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

from redbench.core.atomic import remove_stale_temps
from redbench.core.checks import INT64_MAX, INT64_MIN, check_number, check_out_dir
from redbench.evaluation.cluster import backend_context, interrupt_on_signals
from redbench.core.defaults import DEVICES, LEVEL_NAME
from redbench.core.degradations import Degradation, make_degradation, noise_seed
from redbench.core.errors import UserError
from redbench.evaluation.rows import ResultStore, row_image, row_key
from redbench.evaluation.runinfo import dataset_record, write_run_json

# how eval and restore allow a level a network was not trained for, in the untrained-level error (check_trained_pairs)
ALLOW_UNTRAINED = "pass --allow-untrained-levels"


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
    device: str = "cpu"   # where torch methods run (resolved: 'cpu' or 'cuda')
    save_dir: str = ""    # eval --save-images: the restored image is written there as PNG (saved_images.py)


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
    device: str = "auto"        # networks: auto (CUDA when available) | cpu | cuda; metrics stay on the CPU
    save_images: str = ""       # a folder: every restored image as PNG (saved_images.py); rows reused from the
                                # store whose PNG is not there are computed again to write it


@lru_cache(maxsize=64)
def _ground_truth(path: str, dataset: str, task: str, image: str):
    # `image` keys the cache too: in a dir: set it carries the file's sha256, so a replaced file is read afresh
    from redbench.datasets.catalog import get_spec
    from redbench.datasets.images import ground_truth
    return ground_truth(path, get_spec(dataset), task)


@lru_cache(maxsize=16)
def load_method(name: str, task: str, device: str = "cpu"):
    """The method instance `name` for `task` on `device`, built once per process (networks load their weights
    once)."""
    from redbench.methods.registry import get_method
    method = get_method(name, task)
    return method.on_device(device) if device != "cpu" else method


def degrade(item: WorkItem) -> tuple[Degradation, object, object, int]:
    """(degradation, degraded input, target, noise seed): the exact input every method sees for `item`."""
    from redbench.datasets.fetch import worker_path
    clean = _ground_truth(worker_path(item.dataset, item.image, item.path), item.dataset, item.task, item.image)
    degradation = make_degradation(item.task, item.level, item.clip)
    seed = noise_seed(item.seed, item.dataset, item.image, item.level) if item.task == "denoise" else 0
    return degradation, degradation.apply(clean, seed), degradation.target(clean), seed


def evaluate(item: WorkItem) -> dict:
    """Run one method on one degraded image and score it (executes in a worker process)."""
    row, _ = evaluate_item(item)
    return row


def evaluate_item(item: WorkItem):
    """(row, restored image) of `item`: the method restores the evaluation's exact input and is scored through
    restore_and_score, the code path of `verify`, `redbench restore`, the Python API and the paired validation."""
    if item.threads:
        import torch
        torch.set_num_threads(item.threads)
    method = load_method(item.method, item.task, item.device)
    weights = method.weights_id(make_degradation(item.task, item.level, item.clip))
    if item.weights and weights != item.weights:
        # a cluster worker with other weights installed must not file its output under the parent's
        raise UserError(f"worker {os.uname().nodename} has {weights} for {item.method} at "
                        f"level {item.level:g}, the submitting machine {item.weights}: install the same weights "
                        f"and code on every worker.")
    scored = restore_and_score(method, item)
    row = {"task": item.task, "dataset": item.dataset, "image": item.image, "method": item.method,
           "level": item.level, "psnr": scored["psnr"], "ssim": scored["ssim"], "seconds": scored["seconds"],
           "seed": item.seed, "noise_seed": scored["noise_seed"], "clip": item.clip,
           "worker": f"{os.uname().nodename}:{os.getpid()}", "weights": item.weights,
           "device": item.device if method.uses_torch else "cpu"}
    if item.save_dir:
        from redbench.evaluation.saved_images import save_restored
        save_restored(item.save_dir, item, scored["image"])
    return row, scored["image"]


def restore_and_score(method, item: WorkItem) -> dict:
    """`method` restores the degraded input of `item` (restoration.restore_plane) and is scored against its target:
    psnr, ssim, seconds and noise_seed as a row stores them, the restored `image`, and how many `pixels` were
    scored (the paired validation of trained networks weighs by it)."""
    from redbench.evaluation.restoration import restore_plane
    degradation, degraded, target, seed = degrade(item)
    result = restore_plane(method, degraded, degradation, target)
    shave = degradation.shave
    return {"psnr": result.psnr, "ssim": result.ssim, "seconds": round(result.seconds, 4), "noise_seed": seed,
            "image": result.image, "pixels": (target.shape[0] - 2 * shave) * (target.shape[1] - 2 * shave)}


@dataclass
class RunPlan:
    """Everything checked before any work starts: methods, the weights of each (method, level), the images."""
    weights: dict          # (method, level) -> weights_id
    refs: dict             # dataset -> [ImageRef]
    digests: dict          # dataset -> digest for run.json
    threads: int
    device: str = "cpu"    # where the torch methods run, resolved from RunConfig.device


def plan_run(config: RunConfig) -> RunPlan:
    """Check every input (methods, levels, datasets) and instantiate each method once in the parent, so
    weights problems surface before any work and every row is keyed by the weights that will make it."""
    from redbench.datasets.catalog import get_spec
    from redbench.datasets.fetch import data_dir, dataset_files
    from redbench.datasets.images import max_pixels
    from redbench.methods.registry import check_method, check_trained_pairs
    # cheap checks first, then the ones that load weights or hash images
    check_number("seed", config.seed, INT64_MIN, INT64_MAX, integer=True,
                 fix="the results store keeps seeds as 64-bit integers")
    max_pixels()   # a bad $REDBENCH_MAX_PIXELS here, not in the first worker to read an image
    for name in config.methods:
        check_method(name, config.task)
    for dataset in config.datasets:
        spec = get_spec(dataset)
        if config.task not in spec.tasks:
            raise UserError(f"dataset '{dataset}' is not a {config.task} set (it serves: {', '.join(spec.tasks)}).")
    data_dir(config.data_dir)
    check_trained_pairs([(name, load_method(name, config.task), level)
                         for name in config.methods for level in config.levels],
                        config.task, config.allow_untrained_levels, ALLOW_UNTRAINED)
    weights = {(name, level): load_method(name, config.task).weights_id(
                   make_degradation(config.task, level, config.clip_noise))
               for name in config.methods for level in config.levels}
    refs, digests = {}, {}
    for dataset in config.datasets:
        refs[dataset] = dataset_files(dataset, config.data_dir)
        # every set, listed ones too: a lowered $REDBENCH_MAX_PIXELS refuses an image now, not in a worker
        check_image_sizes(config.task, config.levels, refs[dataset])
        digests[dataset] = dataset_record(get_spec(dataset), refs[dataset])
    threads = max(1, (os.cpu_count() or 1) // resolve_jobs(config.jobs))
    return RunPlan(weights, refs, digests, threads, network_device(config))


def min_image_side(task: str, level) -> int:
    """The smallest image side scored at `level`: the scored region (SR: cropped to a multiple of the scale,
    then `scale` pixels shaved off each border) must hold SSIM's window."""
    from redbench.core.metrics import SSIM_WINDOW
    if task != "sr":
        return SSIM_WINDOW
    scale = int(level)
    return scale * -(-(SSIM_WINDOW + 2 * scale) // scale)


def check_image_sizes(task: str, levels: list, refs: list) -> None:
    """Refuse, before any work, an image too small to be scored at every level (a 1x1 file in a dir: set) or
    over the pixel bound (datasets/images.max_pixels), from each file's header."""
    from redbench.datasets.images import image_size
    need = max(min_image_side(task, level) for level in levels)
    for ref in refs:
        width, height = image_size(ref.path)
        if min(width, height) < need:
            raise UserError(f"image {ref.path} is {width}x{height} pixels; {task} at {LEVEL_NAME[task]} "
                            f"{'/'.join(f'{lvl:g}' for lvl in levels)} needs at least {need}x{need} (SSIM's 11x11 "
                            f"window{', after the SR crop and border shave' if task == 'sr' else ''}): remove it from "
                            f"the folder or enlarge it.")


def network_device(config: RunConfig) -> str:
    """config.device resolved, where a method of the run uses torch; 'cpu' otherwise (no CUDA check needed)."""
    from redbench.methods.torch_inference import resolve_device
    if config.device not in DEVICES:
        return resolve_device(config.device)   # the one-line error
    if config.device == "cpu" or not any(load_method(name, config.task).uses_torch for name in config.methods):
        return "cpu"
    return resolve_device(config.device)


def pending_items(config: RunConfig, run_plan: RunPlan, done: set) -> list[WorkItem]:
    """The work items whose rows (with the installed weights) are not in `done`."""
    items = []
    for dataset, refs in run_plan.refs.items():
        for method in config.methods:
            for level in config.levels:
                for ref in refs:
                    item = WorkItem(config.task, dataset, row_image(ref), ref.path, method, level, config.seed,
                                    config.clip_noise, threads=run_plan.threads,
                                    weights=run_plan.weights[(method, level)], device=run_plan.device,
                                    save_dir=config.save_images)
                    if row_key(asdict(item)) not in done or (config.save_images and not image_saved(item)):
                        items.append(item)
    return items


def image_saved(item: WorkItem) -> bool:
    from redbench.evaluation.saved_images import saved_path
    return saved_path(item.save_dir, item).is_file()


def resolve_jobs(jobs: int, items: int | None = None) -> int:
    """Worker processes for --jobs (0 = all cores), bounded by the cores and by the work items: each loky
    worker holds a Python, numpy and torch (~200 MB), so --jobs 100000 would start ~1,000 of them and exhaust
    the machine's memory, and workers beyond the cores only slow the others."""
    cores = os.cpu_count() or 1
    return max(1, min(jobs if jobs > 0 else cores, cores, items if items is not None else cores))


def _weights_record(config: RunConfig, run_plan: RunPlan) -> dict:
    """run.json: per method the weights id at each level, and the model card where there is one."""
    weights = {}
    for name in config.methods:
        record = {"by_level": {f"{level:g}": run_plan.weights[(name, level)] for level in config.levels}}
        method = load_method(name, config.task)
        cards = method.cards()
        if cards:
            record["cards"] = [{"weights": card.name, "sha256": card.sha256, "levels": card.levels,
                                "budget": card.budget, "iterations": card.iterations} for card in cards]
        weights[name] = record
    return weights


def _device_record(config: RunConfig, run_plan: RunPlan) -> dict:
    """run.json: the device asked for and the one the networks ran on, by name."""
    record = {"requested": config.device, "networks_on": run_plan.device}
    if run_plan.device != "cpu":
        from redbench.methods.torch_inference import device_name
        record["name"] = device_name(run_plan.device)
    return record


def execute(items: list[WorkItem], store: ResultStore, config: RunConfig, progress: bool = True) -> int:
    """Run items with joblib on the chosen backend, adding each finished row to the store (one INSERT)."""
    from joblib import Parallel, delayed
    if not items:
        return 0
    jobs = resolve_jobs(config.jobs, len(items))
    if config.jobs > jobs:
        print(f"note: --jobs {config.jobs} reduced to {jobs} ({os.cpu_count() or 1} cores, {len(items)} "
              f"restorations to run).", file=sys.stderr)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(items), unit="restoration", file=sys.stderr, dynamic_ncols=True)
    done = 0
    with interrupt_on_signals(), backend_context(config.backend, config.scheduler, jobs, task_module=__name__):
        kwargs = {} if config.backend != "loky" else {"n_jobs": jobs}
        runner = Parallel(return_as="generator_unordered", batch_size=1, **kwargs)
        rows = runner(delayed(evaluate)(item) for item in items)
        try:
            for row in rows:
                store.add(row)
                done += 1
                if bar is not None:
                    bar.set_postfix_str(f"{row['method']} {row['dataset']} {row['level']:g}: {row['psnr']:.2f} dB",
                                        refresh=False)
                    bar.update(1)
        finally:
            rows.close()   # on an error or an interrupt: joblib aborts the rest and ends its workers here
    if bar is not None:
        bar.close()
    return done


def run(config: RunConfig, argv: list[str], progress: bool = True, command: str = "redbench eval",
        notes: list[str] = ()) -> dict:
    """Evaluate `config` into config.out (rows, tables, run.json); `command` + `argv` is what run.json records.
    `notes` (e.g. default methods left out) are printed once the input checks have passed."""
    out = check_out_dir(config.out)
    if config.save_images:
        config = replace(config, save_images=str(check_out_dir(config.save_images, "--save-images").resolve()))
    run_plan = plan_run(config)
    remove_stale_temps(out)   # a killed run's leftovers; after the checks, so a refused run changes nothing
    for note in notes:
        print(note, file=sys.stderr)
    store = ResultStore(out)
    try:
        for note in store.notes:
            print(note, file=sys.stderr)
        valid, invalid = store.read(config.task)
        if invalid:
            examples = "; ".join(str(bad) for bad in invalid[:3]) + ("; ..." if len(invalid) > 3 else "")
            print(f"{len(invalid)} stored {config.task} rows in {store.db_path} have missing or out-of-range values "
                  f"and are not used (those this run covers are computed again): {examples}", file=sys.stderr)
        items = pending_items(config, run_plan, {row_key(row) for row in valid})
        cells = len(config.methods) * len(config.levels) * sum(len(r) for r in run_plan.refs.values())
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
            from redbench.evaluation.folder_tables import write_folder_tables
            current = {(config.task, name, float(level)): (weights, config.seed, config.clip_noise)
                       for (name, level), weights in run_plan.weights.items()}
            # the one writer and row rule of every table (reproduce uses it too): rows of weights no longer
            # installed stay in the store but never reach a table, and a cell shows one seed and clip setting
            written = write_folder_tables(out, store.frame(), current)
    finally:
        store.close()
    # a rerun that computed nothing keeps run.json of the run that made the rows (runs.jsonl gets both)
    write_run_json(out / "run.json", asdict(config), run_plan.digests, _weights_record(config, run_plan), totals,
                   argv, keep_existing=computed == 0, command=command, device=_device_record(config, run_plan))
    totals["tables"] = [str(p) for p in written]
    return totals

