"""The training campaign: one declarative plan (TOML) of every shipped network, worked through in priority order.

    redbench train --plan campaign/plan.toml            # train (low priority), resumable
    redbench train --plan campaign/plan.toml --status   # progress table   (python run_bench.py train ... alike)

Each network trains into `campaign/work/<name>/` (checkpoint + log, tracked in git so a fresh clone on
another machine continues it), publishes improving snapshots to methods/weights/ while it trains and its
final weights when its budget is reached; its log then moves to `campaign/logs/` and the checkpoint is
deleted, so the repository holds at most the one checkpoint in progress.
"""
from __future__ import annotations

import csv
import os
import shutil
import tempfile
import time
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from redbench.core.atomic import copy_atomic
from redbench.core.checks import check_number
from redbench.core.errors import UserError
from redbench.core.names import NETWORK_NAME_RULE, is_network_name
from redbench.methods import weights as weights_io

from redbench.training.config import TrainConfig, check_config
from redbench.training.train import train

TARGETS = ("cpu", "gpu")


@dataclass(frozen=True)
class PlanEntry:
    name: str
    model: str
    task: str
    levels: str
    priority: int
    cpu_patches: int
    gpu_patches: int
    init: str | None = None          # None: from scratch; else the name of an earlier network of the plan
    lr: float = 1e-3                 # peak of the cosine schedule
    batch_size: int = 16             # CPU: small batches buy more updates for the same compute
    gpu_lr: float = 2e-3
    gpu_batch_size: int = 128        # a GPU needs large batches to be busy
    recipe: str = "fast"
    train_set: str | None = None     # default: the plan's [campaign] train_set
    continues: bool = False          # start from the installed network of this name; ships only by the ship rule (ship_rule.py)

    def patches(self, target: str) -> int:
        return self.cpu_patches if target == "cpu" else self.gpu_patches


@dataclass(frozen=True)
class Plan:
    path: Path
    entries: list[PlanEntry]
    work_dir: Path
    log_dir: Path
    snapshot_minutes: float
    train_set: str

    def ordered(self) -> list[PlanEntry]:
        return sorted(self.entries, key=lambda e: (e.priority, e.name))


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"training plan {path} not found; the shipped one is campaign/plan.toml.")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"training plan {path} is not valid TOML: {exc}.") from None
    for section in ("campaign", "defaults"):
        if not isinstance(data.get(section, {}), dict):
            raise UserError(f"{path}: [{section}] must be a table of settings (`[{section}]` then `key = value` "
                            f"lines).")
    settings = data.get("campaign", {})
    defaults = data.get("defaults", {})
    networks = data.get("network", [])
    if not isinstance(networks, list) or not all(isinstance(raw, dict) for raw in networks):
        raise UserError(f"{path}: each network is a `[[network]]` entry (double brackets: an array of tables); "
                        f"a single `[network]` table or a plain value is not a list of networks.")
    known = {f.name for f in fields(PlanEntry)}
    entries = []
    for raw in networks:
        merged = {**defaults, **raw}
        unknown = set(merged) - known
        if unknown:
            raise UserError(f"{path}: network '{raw.get('name', '?')}' has unknown keys {sorted(unknown)} "
                            f"(known: {', '.join(sorted(known))}).")
        try:
            entry = PlanEntry(**merged)
        except TypeError as exc:
            raise UserError(f"{path}: network '{raw.get('name', '?')}' is incomplete ({exc}).") from None
        _check_values(path, entry)
        entries.append(entry)
    if not entries:
        raise UserError(f"{path} lists no [[network]] entries.")
    for key, kind in (("work_dir", str), ("log_dir", str), ("train_set", str), ("snapshot_minutes", (int, float))):
        if key in settings and (not isinstance(settings[key], kind) or isinstance(settings[key], bool)):
            raise UserError(f"{path}: [campaign] {key} = {settings[key]!r} must be a "
                            f"{'number' if key == 'snapshot_minutes' else 'string'}.")
    check_number(f"{path}: [campaign] snapshot_minutes", settings.get("snapshot_minutes", 20), minimum=0,
                 fix="0 publishes at every validation")
    plan = Plan(path, entries, path.parent / settings.get("work_dir", "work"), path.parent / settings.get("log_dir", "logs"),
                float(settings.get("snapshot_minutes", 20)), settings.get("train_set", "bsd300-train"))
    _check(plan)
    return plan


# each PlanEntry field: the TOML types it takes (an int is a float too, as TOML writes 1e-3 and 2 alike)
FIELD_TYPES = {"name": (str,), "model": (str,), "task": (str,), "levels": (str,), "priority": (int,),
               "cpu_patches": (int,), "gpu_patches": (int,), "init": (str, type(None)), "lr": (int, float),
               "batch_size": (int,), "gpu_lr": (int, float), "gpu_batch_size": (int,), "recipe": (str,),
               "train_set": (str, type(None)), "continues": (bool,)}


def _check_values(path: Path, entry: PlanEntry) -> None:
    """Each value of a plan entry, by type and range, before anything trains or a status table is drawn (a string
    priority could not be sorted, cpu_patches = 0 divided by zero in the table)."""
    from redbench.datasets.catalog import SPECS
    from redbench.core.defaults import TASKS
    from redbench.core.degradations import parse_levels

    from redbench.training.config import RECIPES
    where = f"{path}: network '{entry.name}'"
    for key, kinds in FIELD_TYPES.items():
        value = getattr(entry, key)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join({str: "a string", int: "an integer", float: "a number", bool: "true or false",
                                 type(None): "left out"}[k] for k in kinds if not (k is int and float in kinds))
            raise UserError(f"{where}: {key} = {value!r} must be {names}.")
    if not is_network_name(entry.name):
        raise UserError(f"{path}: network name {entry.name!r} must be a plain file name of {NETWORK_NAME_RULE}, e.g. "
                        f"red30-denoise-s30.")
    for key in ("cpu_patches", "gpu_patches", "lr", "batch_size", "gpu_lr", "gpu_batch_size"):
        check_number(f"{where}: {key}", getattr(entry, key), positive=True)
    if entry.task not in TASKS:
        raise UserError(f"{where}: task = {entry.task!r} must be one of {', '.join(TASKS)}.")
    if entry.recipe not in RECIPES:
        raise UserError(f"{where}: recipe = {entry.recipe!r} must be one of {', '.join(RECIPES)}.")
    if entry.train_set is not None and entry.train_set not in SPECS:
        raise UserError(f"{where}: train_set = {entry.train_set!r} is not a dataset (`list datasets`).")
    try:
        parse_levels(entry.task, entry.levels)
    except UserError as exc:
        raise UserError(f"{where}: levels = {entry.levels!r}: {exc}") from None


def _check(plan: Plan) -> None:
    names = [e.name for e in plan.entries]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise UserError(f"{plan.path}: networks named twice: {', '.join(sorted(duplicates))}.")
    by_name = {e.name: e for e in plan.entries}
    for entry in plan.entries:
        if entry.continues and entry.init:
            raise UserError(f"{plan.path}: '{entry.name}' continues its installed weights, so it cannot also start "
                            f"from '{entry.init}'; drop one of the two.")
        if entry.init is None:
            continue
        parent = by_name.get(entry.init)
        if parent is None:
            raise UserError(f"{plan.path}: '{entry.name}' starts from '{entry.init}', which the plan does not train.")
        if parent.priority >= entry.priority or parent.model != entry.model or parent.task != entry.task:
            raise UserError(f"{plan.path}: '{entry.name}' must start from a network of the same model and task "
                            f"with a smaller priority number; '{entry.init}' is not one.")


def train_config(plan: Plan, entry: PlanEntry, target: str, data_dir: str | None, device: str = "auto",
                 publish_dir: str | None = None, out_dir: Path | None = None) -> TrainConfig:
    gpu = target == "gpu"
    init = entry.name if entry.continues else entry.init
    if init and publish_dir:   # the parent was published beside this network, not in methods/weights/
        init = str(Path(publish_dir) / init)
    return TrainConfig(model=entry.model, task=entry.task, levels=entry.levels, recipe=entry.recipe,
                       lr=entry.gpu_lr if gpu else entry.lr, batch_size=entry.gpu_batch_size if gpu else entry.batch_size,
                       patches=entry.patches(target), init=init,
                       train_set=entry.train_set or plan.train_set, device=device,
                       out=str((out_dir or plan.work_dir) / entry.name), name=entry.name, data_dir=data_dir,
                       checkpoint_seconds=60.0 if gpu else 300.0, val_every=500 if gpu else 200,
                       log_every=100 if gpu else 20, publish=True, publish_dir=publish_dir,
                       snapshot_minutes=None if entry.continues else 0.5 if gpu else plan.snapshot_minutes,
                       sampler="vector" if gpu else "auto", ship_if_better=entry.continues)


def _published(entry: PlanEntry, publish_dir: Path) -> weights_io.ModelCard | None:
    if not (publish_dir / f"{entry.name}.json").exists():
        return None
    try:
        return weights_io.read_card(entry.name, publish_dir)
    except UserError:
        return None


def is_finished(entry: PlanEntry, target: str, publish_dir: Path, log_dir: Path | None = None) -> bool:
    """A network trained from scratch or from another is finished when its published card met the budget; one
    that continues an installed network, when the log of its run met it (the run may not have shipped)."""
    if entry.continues:
        return log_dir is not None and _logged_patches(log_dir / f"{entry.name}.csv") >= entry.patches(target)
    card = _published(entry, publish_dir)
    return bool(card and card.complete and card.patches_seen >= entry.patches(target))


def _logged_patches(log: Path) -> int:
    if not log.exists():
        return 0
    with open(log) as fh:
        rows = list(csv.DictReader(fh))
    return int(rows[-1]["patches"]) if rows else 0


def continuation_log(plan: Plan, entry: PlanEntry, target: str) -> Path | None:
    """The kept log of a continuation that met its `target` budget, or None. A CPU run keeps it in the plan's
    log folder; a GPU run's comes back through scripts/gpu_unpack.py into <log folder>/gpu/, or into
    <log folder>/gpu/runs/ when the installed network stayed."""
    if target == "cpu":
        candidates = [plan.log_dir / f"{entry.name}.csv"]
    else:
        gpu = plan.log_dir / "gpu"
        candidates = [gpu / f"{entry.name}.csv", *sorted((gpu / "runs").glob(f"*-{entry.name}.csv"))]
    return next((log for log in candidates if _logged_patches(log) >= entry.patches(target)), None)


def seed_finished(plan: Plan, target: str, source: Path, dest: Path, logs_dest: Path | None = None) -> list[str]:
    """Copy the networks of `source` that already meet their `target` budget into `dest`, so that a campaign
    publishing into `dest` (the GPU one, on a bare machine) skips them and fine-tunes from them. With `logs_dest`
    (that campaign's log folder), the logs of the continuations already run to their budget go there too, so it
    does not run them again."""
    seeded = []
    dest.mkdir(parents=True, exist_ok=True)
    for entry in plan.ordered():
        log = continuation_log(plan, entry, target) if entry.continues and logs_dest is not None else None
        if log is not None:
            logs_dest.mkdir(parents=True, exist_ok=True)
            copy_atomic(log, logs_dest / f"{entry.name}.csv")
        wanted = entry.continues or is_finished(entry, target, source)   # a continued network starts from its own
        if wanted and (source / f"{entry.name}.json").exists() and not (dest / f"{entry.name}.json").exists():
            for suffix in (".safetensors", ".json"):   # the card last: a card means its weights are there
                copy_atomic(source / f"{entry.name}{suffix}", dest / f"{entry.name}{suffix}")
            seeded.append(entry.name)
    return seeded


def run_plan(path: str | Path, status_only: bool = False, target: str = "cpu", niceness: int = 19,
             data_dir: str | None = None, device: str = "auto", publish_dir: str | None = None,
             out_dir: Path | None = None, only: list[str] | None = None, preflight_steps: int = 0) -> None:
    plan = load_plan(path)
    check_only(plan, only)
    target_dir = Path(publish_dir) if publish_dir else weights_io.WEIGHTS_DIR
    out_dir = Path(out_dir) if out_dir else None
    if status_only:
        print(status_table(plan, target, target_dir, out_dir))
        return
    if niceness:
        os.nice(niceness)   # background training must not slow the machine's interactive work
    if preflight_steps:
        preflight(plan, target, data_dir, device, preflight_steps)
        return
    log_dir = out_dir / "logs" if out_dir else plan.log_dir
    for entry in plan.ordered():   # every network's settings, before the first one trains for hours
        if not only or entry.name in only:
            check_config(train_config(plan, entry, target, data_dir, device, publish_dir, out_dir))
    for entry in plan.ordered():
        if only and entry.name not in only:
            continue
        if is_finished(entry, target, target_dir, log_dir):
            stale = (out_dir or plan.work_dir) / entry.name
            if stale.exists():   # finished elsewhere (say by the GPU campaign) while this checkpoint waited
                shutil.rmtree(stale, ignore_errors=True)
                print(f"{entry.name}: finished elsewhere; its checkpoint here was dropped.", flush=True)
            continue
        if entry.continues and not (target_dir / f"{entry.name}.json").exists():
            raise UserError(f"'{entry.name}' continues the installed network of that name, but {target_dir} has none; "
                            f"train it with campaign/plan.toml first.")
        if entry.init and not is_finished(plan_entry(plan, entry.init), target, target_dir, log_dir):
            raise UserError(f"'{entry.name}' starts from '{entry.init}', which is not finished; "
                            f"raise the priority number of '{entry.name}' or finish '{entry.init}' first.")
        config = train_config(plan, entry, target, data_dir, device, publish_dir, out_dir)
        print(f"== {entry.name}: {entry.patches(target)} patches ({target} budget), priority {entry.priority}, "
              f"init {_start(entry)}", flush=True)
        if train(config) is None:
            return   # paused (--stop-after); the checkpoint is saved
        _archive(log_dir, entry, Path(config.out))
    print("plan complete: every network reached its budget.")


def check_only(plan: Plan, only: list[str] | None) -> None:
    """--only names networks of the plan; a misspelt one would train nothing and report "plan complete"."""
    import difflib
    names = [e.name for e in plan.entries]
    for name in only or ():
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise UserError(f"--only {name}: {plan.path} has no network of that name.{hint} Its networks: "
                            f"{', '.join(sorted(names))}.")


def preflight(plan: Plan, target: str, data_dir: str | None, device: str, steps: int) -> None:
    """A few steps of every network, from scratch, into a scratch folder: a network that cannot train
    fails in seconds instead of after the networks before it have spent the budget."""
    with tempfile.TemporaryDirectory() as scratch:
        for entry in plan.ordered():
            config = replace(train_config(plan, entry, target, data_dir, device, scratch, Path(scratch)),
                             init=None, patches=None, iters=steps, publish=False, snapshot_minutes=None,
                             val_every=10**9, log_every=steps)
            tick = time.monotonic()
            train(config)
            print(f"preflight {entry.name}: {steps} steps ok ({time.monotonic() - tick:.1f} s)", flush=True)
    print(f"preflight: all {len(plan.entries)} networks train.", flush=True)


def summary_table(plan: Plan, publish_dir: Path) -> str:
    """Per network: patches, training seconds, patches/s and validation PSNR, from the published cards."""
    lines = ["| network | device | patches | seconds | patches/s | val PSNR | complete |", "|---|---|---:|---:|---:|---:|---|"]
    for entry in plan.ordered():
        card = _published(entry, publish_dir)
        if card is None:
            lines.append(f"| {entry.name} | - | - | - | - | - | not trained |")
            continue
        speed = card.patches_seen / card.wall_seconds if card.wall_seconds else 0.0
        lines.append(f"| {entry.name} | {card.device} | {card.patches_seen:,} | {card.wall_seconds:.1f} | {speed:,.0f} | "
                     f"{card.val_psnr if card.val_psnr is not None else '-'} | {'yes' if card.complete else 'snapshot'} |")
    return "\n".join(lines)


def plan_entry(plan: Plan, name: str) -> PlanEntry:
    return next(e for e in plan.entries if e.name == name)


def _archive(log_dir: Path, entry: PlanEntry, work: Path) -> None:
    """Keep the finished network's log, drop its checkpoint: the repository holds one checkpoint at most."""
    log = work / "log.csv"
    if log.exists():
        log_dir.mkdir(parents=True, exist_ok=True)
        copy_atomic(log, log_dir / f"{entry.name}.csv")
    shutil.rmtree(work, ignore_errors=True)


def _progress(entry: PlanEntry, plan: Plan, target: str, target_dir: Path, work_dir: Path
              ) -> tuple[str, int, float | None, str]:
    """(state, patches seen, validation PSNR, device) from the checkpoint log or the published card."""
    card = _published(entry, target_dir)
    log_dir = plan.log_dir if work_dir == plan.work_dir else work_dir / "logs"
    log = work_dir / entry.name / "log.csv"
    if not log.exists():
        log = log_dir / f"{entry.name}.csv"
    seen, val = 0, None
    if log.exists():
        with open(log) as fh:
            rows = list(csv.DictReader(fh))
        if rows:
            seen = int(rows[-1]["patches"])
            vals = [float(r["val_psnr"]) for r in rows if r.get("val_psnr")]
            val = vals[-1] if vals else None
    device = card.device if card else "-"
    if entry.continues and is_finished(entry, target, target_dir, log_dir):
        shipped = card is not None and card.earlier_patches > 0 and card.patches_seen == seen
        return ("done, shipped" if shipped else "done, installed network kept"), seen, val, device
    if is_finished(entry, target, target_dir):   # as run_plan decides; it drops a checkpoint left here
        stale = (work_dir / entry.name).exists()
        return ("done (stale checkpoint here)" if stale else "done"), card.patches_seen, card.val_psnr, device
    if (work_dir / entry.name / "checkpoint.safetensors").exists():
        return ("training, snapshot published" if card and not entry.continues else "training"), seen, val, device
    if entry.continues:
        return "pending", 0, None, device
    if card and card.complete:
        return "done (smaller budget)", card.patches_seen, card.val_psnr, device
    return "pending", 0, None, "-"


def status_table(plan: Plan, target: str, target_dir: Path, out_dir: Path | None = None) -> str:
    work_dir = out_dir or plan.work_dir
    lines = [f"Training plan {plan.path} ({target} budgets)", "",
             "| priority | network | init | patches seen / planned | done | val PSNR | state | trained on |",
             "|---:|---|---|---:|---:|---:|---|---|"]
    for entry in plan.ordered():
        state, seen, val, device = _progress(entry, plan, target, target_dir, work_dir)
        planned = entry.patches(target)
        lines.append(f"| {entry.priority} | {entry.name} | {_start(entry)} | {seen:,} / {planned:,} | "
                     f"{min(seen / planned, 1):.0%} | {f'{val:.2f}' if val is not None else '-'} | {state} | {device} |")
    return "\n".join(lines)


def _start(entry: PlanEntry) -> str:
    return "its installed weights" if entry.continues else entry.init or "scratch"
