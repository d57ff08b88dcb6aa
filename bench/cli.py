"""The `redbench` command (also `python run_bench.py` in a source checkout, and `python -m redbench`).

    redbench eval --task denoise --sigma 10,30,50,70      evaluate methods on datasets (the default command)
    redbench train --model red30 --task denoise ...       train a network, or --plan campaign/plan.toml
    redbench reproduce                                    every table and figure of the paper + results/REPORT.md
    redbench list methods|datasets|networks               what can be evaluated; the installed networks
    redbench fetch set5 set14 ...                         fill the download cache ahead of a cluster run
    redbench restore photo.png --method red30 --sigma 50 --out restored/     restore your own images
    redbench verify results/reproduce --sample 20         recompute committed rows here and compare

Without a subcommand the arguments are those of `eval`, and the older spellings `--reproduce`,
`--list-methods` and `--list-datasets` still work, so `python run_bench.py --task denoise ...` does what
it always did. Bad input is one line, `error: <what is wrong and what to do>`, with exit code 2.
"""
from __future__ import annotations

import argparse
import os
import sys

from redbench.core.allocator import reexec_with_fast_allocator
from redbench.core.defaults import DEVICES
from redbench.core.errors import UserError

SUBCOMMANDS = ("eval", "train", "reproduce", "list", "fetch", "restore", "verify")   # COMMANDS below, in this order
# older spellings without a subcommand -> the subcommand they mean
LEGACY = {"--reproduce": ["reproduce"], "--list-methods": ["list", "methods"], "--list-datasets": ["list", "datasets"]}


class _Parser(argparse.ArgumentParser):
    """argparse with the project's errors: one line naming the problem and the fix, exit code 2."""

    def error(self, message):
        raise UserError(f"{self.prog}: {message}; see `{self.prog} --help`.")


class _Formatter(argparse.HelpFormatter):
    """Shows each flag's default where it has one (not for switches, and not where the help already says it)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if action.option_strings and "default" not in text and default is not None \
                and default is not argparse.SUPPRESS and not isinstance(default, bool):
            text += " (default: %(default)s)"
        return text


def build_parser(prog: str = "redbench", only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with `only`, only that command gets its flags (the others stay listed), so a
    command imports no more than it needs (`fetch` and `list` no torch)."""
    from redbench import __version__
    parser = _Parser(prog=prog, formatter_class=_Formatter, description=__doc__.split("\n\n")[0],
                     epilog=f"`{prog} COMMAND --help` describes each command's flags. Without a command, "
                            f"`{prog} --task ...` is `{prog} eval --task ...`.")
    parser.add_argument("--version", action="version", version=f"redbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (flags, summary, description) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=description, formatter_class=_Formatter)
        if only in (None, name):
            flags(sub)
    return parser


def _data_dir(parser) -> None:
    parser.add_argument("--data-dir", metavar="DIR",
                        help="local dataset mirror, laid out like ../shared/datasets (default: $REDBENCH_DATA_DIR, "
                             "then the download cache)")


def _cluster(parser) -> None:
    from redbench.evaluation.cluster import BACKENDS
    parser.add_argument("--jobs", type=int, default=0, help="parallel workers; 0 = all cores")
    parser.add_argument("--backend", choices=BACKENDS, default="loky",
                        help="where restorations run: local processes, or a Dask or Ray cluster (docs/cluster.md)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="dask scheduler / ray address (default: $DASK_SCHEDULER_ADDRESS / $RAY_ADDRESS, "
                             "else a local cluster)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="where RED and SRCNN networks run (fp32, tiled and x8 as on the CPU): auto = a CUDA GPU "
                             "when torch sees one, else the CPU; metrics are always computed on the CPU")


def _eval_flags(p) -> None:
    from redbench.core.defaults import DATASETS, METHODS, TASKS, levels_text
    p.add_argument("--task", choices=TASKS, help="denoise: Gaussian noise on gray images; sr: bicubic x scale on Y")
    p.add_argument("--sigma", metavar="LIST",
                   help=f"denoise: noise sigmas on 0..255 (default: {levels_text('denoise')})")
    p.add_argument("--scale", metavar="LIST", help=f"sr: scale factors, integers 2..8 (default: {levels_text('sr')})")
    p.add_argument("--datasets", metavar="LIST",
                   help="comma-separated names (`list datasets`), or dir:PATH for a folder of your own images "
                        f"(default: denoise {','.join(DATASETS['denoise'])}; sr {','.join(DATASETS['sr'])})")
    p.add_argument("--methods", metavar="LIST",
                   help="comma-separated names (`list methods`); append + for the x8 flip/rotate ensemble (red30+); "
                        "net:PATH evaluates trained weights (default: denoise "
                        f"{','.join(METHODS['denoise'])}; sr {','.join(METHODS['sr'])})")
    p.add_argument("--out", default="results/latest", metavar="DIR",
                   help="output folder: rows.sqlite (results store), rows.csv, tables, run.json")
    p.add_argument("--save-images", metavar="DIR",
                   help="also write every restored image of the run as an 8-bit PNG, "
                        "DIR/<dataset>/<method>/<sigma|x><level>/<image>.png (rows reused from OUT whose PNG is "
                        "missing are computed again)")
    p.add_argument("--seed", type=int, default=0, help="noise seed; each image and sigma gets its own stream")
    p.add_argument("--clip-noise", action="store_true",
                   help="clip noisy inputs to [0, 255] (the paper's code does not)")
    p.add_argument("--allow-untrained-levels", action="store_true",
                   help="evaluate networks at sigmas/scales they were not trained for (an error otherwise)")
    _data_dir(p)
    _cluster(p)


# flags of `train --plan` and their defaults; without --plan, any of them set is an error
PLAN_DEFAULTS = {"status": False, "target": "cpu", "nice": 19, "work_dir": None, "preflight": 0, "only": None}
PLAN_PASSES = ("data_dir", "device", "publish_dir")   # the single-network flags a plan run uses
METAVARS = {"data_dir": "DIR", "out": "DIR", "publish_dir": "DIR", "init": "WEIGHTS", "levels": "LIST",
            "keep_every": "PATCHES"}


def _train_flag_tables() -> tuple[dict, dict, dict]:
    """(help, choices, types) of the `train` flags, one flag per TrainConfig field (imported when `train` is parsed,
    as they name the models, recipes and datasets)."""
    from redbench.core.defaults import TASKS
    from redbench.datasets.catalog import SPECS
    from redbench.methods.architectures import TRAINING_MODELS
    from redbench.training.config import RECIPES
    from redbench.training.precision import PRECISIONS
    helps = {
        "model": f"network: {TRAINING_MODELS}",
        "task": "what the network learns",
        "levels": "sigmas (denoise) or scales (sr), comma-separated; several = one model for all",
        "recipe": "paper: Adam 1e-4 constant, batch 64; fast: Adam 1e-3 cosine, batch 32",
        "lr": "peak learning rate (default: the recipe's)",
        "batch_size": "patches per step and rank (default: the recipe's)",
        "patch": "patch side in pixels", "minutes": "budget: minutes of training (all resumes together)",
        "iters": "budget: optimizer steps", "patches": "budget: training patches",
        "precision": "auto: bf16 autocast on CUDA and on CPUs with AMX/AVX512-BF16, else fp32",
        "init": "start from these weights (a name in methods/weights/ or a path without suffix)",
        "holdout": "BSDS500-train images held out of training for validation",
        "sampler": "patch sampler: loop (per patch) or vector (batched on the device); auto: vector on CUDA",
        "train_set": "training images: bsd300-train (the paper's 300) or bsds500-train (no overlap with test sets)",
        "skip": "skip connections of red models: red (symmetric), he (block shortcuts), none (default: by depth, "
                "none for red10)",
        "span": "layers between skips", "width": "feature maps per layer", "seed": "seed of weights, patches and noise",
        "device": "where to train (auto: cuda if available)", "threads": "CPU threads (default: all cores / ranks)",
        "out": "run folder: checkpoint, log.csv, curves.png, weights and card",
        "name": "weights name (default: <model>-<task>)", "data_dir": "local dataset mirror (default: $REDBENCH_DATA_DIR)",
        "checkpoint_seconds": "seconds between checkpoints", "val_every": "steps between validations",
        "log_every": "steps between log rows", "publish": "also copy the final weights and card to methods/weights/",
        "publish_dir": "folder --publish writes to (default: methods/weights/)",
        "snapshot_minutes": "with --publish: publish an improving snapshot this often while training",
        "weights_dtype": "storage of saved weights (float16 changes PSNR by < 0.005 dB)",
        "stop_after": "end this invocation after N steps, checkpointed (rerun to continue)",
        "keep_every": "keep the network with its card in OUT/snapshots/ each time the total patches (earlier runs "
                      "of a continued network included) pass a multiple of this; for scripts/leg_curve.py",
        "ship_if_better": "with --publish: replace an installed network of the same name only if this one is better "
                          "on the held-out images at full size by more than the half-width of the 95%% interval of "
                          "the gain",
    }
    choices = {"sampler": ("auto", "loop", "vector"), "recipe": tuple(RECIPES), "precision": PRECISIONS,
               "weights_dtype": ("float16", "float32"), "task": TASKS, "device": DEVICES,
               "skip": ("red", "he", "none"), "train_set": tuple(sorted(SPECS))}
    types = {"lr": float, "minutes": float, "iters": int, "patches": int, "batch_size": int, "threads": int,
             "stop_after": int, "snapshot_minutes": float, "keep_every": int}
    return helps, choices, types


def _train_flags(p) -> None:
    from dataclasses import fields

    from redbench.training.campaign import TARGETS
    from redbench.training.config import TrainConfig
    helps, choices, types = _train_flag_tables()
    plan = p.add_argument_group("training plan", "work through a plan (TOML) instead of training one network")
    plan.add_argument("--plan", metavar="TOML", help="the plan, e.g. campaign/plan.toml")
    plan.add_argument("--status", action="store_true", help="print the plan's progress and exit")
    plan.add_argument("--target", choices=TARGETS, default=PLAN_DEFAULTS["target"], help="whose budgets to use")
    plan.add_argument("--nice", type=int, default=PLAN_DEFAULTS["nice"],
                      help="scheduling niceness (19 = lowest priority)")
    plan.add_argument("--work-dir", metavar="DIR", help="folder of the in-progress checkpoints (default: the plan's)")
    plan.add_argument("--preflight", type=int, default=PLAN_DEFAULTS["preflight"], metavar="STEPS",
                      help="only run STEPS steps of every network from scratch, to fail fast")
    plan.add_argument("--only", metavar="LIST", help="comma-separated network names to train; the rest are skipped")
    one = p.add_argument_group("one network", "with --plan, only --data-dir, --device and --publish-dir apply")
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        flag, value = "--" + f.name.replace("_", "-"), getattr(defaults, f.name)
        if isinstance(value, bool):
            one.add_argument(flag, action="store_true", help=helps[f.name])
        else:
            one.add_argument(flag, type=types.get(f.name, type(value) if value is not None else str),
                             default=value, choices=choices.get(f.name), help=helps[f.name],
                             metavar=None if f.name in choices else METAVARS.get(f.name, f.name.upper()))


def _reproduce_flags(p) -> None:
    p.add_argument("--render-only", action="store_true",
                   help="only re-render the figures that are missing and REPORT.md from the stored rows and logs")
    p.add_argument("--no-train", action="store_true",
                   help="never train; an experiment without a stored log is an error")
    p.add_argument("--budget-scale", type=float, default=1.0,
                   help="multiply the training budgets of the experiments (e.g. 10 on a GPU)")
    p.add_argument("--force-figures", action="store_true", help="re-render every figure, not only missing ones")
    p.add_argument("--networks-only", action="store_true",
                   help="evaluate only the network cells (RED, SRCNN, x8 included), no experiments and no report: "
                        "what a GPU call does")
    p.add_argument("--datasets", metavar="LIST", help="with --networks-only: only these datasets")
    _data_dir(p)
    _cluster(p)


def _list_flags(p) -> None:
    from redbench.evaluation.zoo import FORMATS
    p.add_argument("what", choices=("methods", "datasets", "networks"),
                   help="what to list; networks: the installed networks (methods/weights/*.json) with their size, "
                        "training and test PSNR")
    p.add_argument("--format", choices=FORMATS, default="md",
                   help="networks: a markdown table, CSV (safe to open in a spreadsheet) or JSON")
    p.add_argument("--results", metavar="DIR", default="results",
                   help="networks: the folder whose rows.csv files give the test PSNR column")


def _restore_flags(p) -> None:
    from redbench.evaluation.restoration import COLOR_MODES
    from redbench.datasets.images import MAX_PIXELS_DEFAULT, MAX_PIXELS_ENV
    p.description += (f" Images above ${MAX_PIXELS_ENV} pixels (default {MAX_PIXELS_DEFAULT:,}; an SR output counts) "
                      f"are refused.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="image files (PNG/BMP/TIFF/JPEG) or folders of them, already noisy (--sigma) or low-resolution "
                        "(--scale); with --add-noise / --downscale, clean originals")
    p.add_argument("--method", required=True,
                   help="any method of `list methods` (red30, red30+ for the x8 ensemble, bm3d, srcnn, bicubic, ...) "
                        "or net:PATH for trained weights")
    level = p.add_mutually_exclusive_group()
    level.add_argument("--sigma", type=float, help="denoise: the inputs' noise sigma on 0..255 (picks the network)")
    level.add_argument("--scale", type=int, help="sr: enlarge the inputs by this factor, 2..8")
    make = p.add_mutually_exclusive_group()
    make.add_argument("--add-noise", type=float, metavar="SIGMA",
                      help="add Gaussian noise of SIGMA to each (clean) input first, as eval does for the same file and "
                           "--seed; writes NAME-noisy.png and prints PSNR/SSIM against the original")
    make.add_argument("--downscale", type=int, metavar="SCALE",
                      help="shrink each (full-size) input by SCALE first (MATLAB bicubic, as eval); writes "
                           "NAME-lowres-xSCALE.png and prints PSNR/SSIM on Y against the original")
    p.add_argument("--seed", type=int, default=0, help="with --add-noise: the noise seed, as in eval --seed")
    p.add_argument("--color", choices=COLOR_MODES, default="gray",
                   help="denoising a colour image: gray = convert to gray first (the evaluation's protocol, gray "
                        "output), channels = denoise R, G and B one by one (colour output). SR of colour is always "
                        "on Y, with Cb and Cr enlarged by bicubic")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for the 8-bit PNGs, NAME.png per input; it must not hold the inputs")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="where networks run: auto = a CUDA GPU when torch sees one, else the CPU; large images are "
                        "tiled ($REDBENCH_TILE pixels, 256 unless set), with the same output as untiled")
    p.add_argument("--allow-untrained-levels", action="store_true",
                   help="run a network at a sigma/scale it was not trained for (an error otherwise)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _verify_flags(p) -> None:
    from redbench.evaluation.verify import DEFAULT_DIR, PSNR_TOLERANCE, SSIM_TOLERANCE
    p.add_argument("dir", nargs="?", default=DEFAULT_DIR, metavar="DIR",
                   help=f"a folder of results: every rows.csv under it (default: {DEFAULT_DIR})")
    p.add_argument("--sample", type=int, default=20, help="how many rows to recompute, chosen at random")
    p.add_argument("--seed", type=int, default=0, help="seed of the random choice of rows")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _data_dir(p)
    p.epilog = (f"Exit code 0 when every recomputed PSNR is within {PSNR_TOLERANCE} dB and SSIM within "
                f"{SSIM_TOLERANCE:.5f} of the stored value (half a unit of the last digit the tables print), 1 when "
                f"not, 2 for bad input (the rows name weights that are not installed, say).")


def _fetch_flags(p) -> None:
    from redbench.datasets.catalog import SPECS
    p.add_argument("datasets", nargs="+", choices=[*sorted(SPECS), "all"], metavar="DATASET",
                   help=f"datasets to fetch, or all: {', '.join(sorted(SPECS))}")
    _data_dir(p)


COMMANDS = {   # name -> (its flags, one-line summary, description)
    "eval": (_eval_flags, "evaluate methods on datasets (PSNR/SSIM rows and paper-shaped tables)",
             "Evaluate methods on datasets under Gaussian noise (denoise) or bicubic downscaling (sr). Rows go to "
             "OUT/rows.sqlite as they finish; a rerun computes only what is missing. Writes rows.csv, tables "
             "(markdown and LaTeX) and run.json to OUT."),
    "train": (_train_flags, "train a network (RED-Net, SRCNN) or work through a training plan",
              "Train one network on 50x50 patches (resumable, time/patch/step budgets, CPU or CUDA, torchrun for "
              "DDP), or with --plan every network of a training plan in priority order."),
    "reproduce": (_reproduce_flags, "every table and figure of the paper, and results/REPORT.md",
                  "Train the paper's experiments that have no stored log, evaluate the rows the tables need, render "
                  "the figures and results/REPORT.md. Everything is cached under results/: a rerun with nothing "
                  "new computes nothing."),
    "list": (_list_flags, "list the registered methods, the datasets or the installed networks",
             "List what `eval --methods` and `eval --datasets` accept (methods include those of installed "
             "plugins, entry point group redbench.methods), or the installed networks (the model zoo)."),
    "fetch": (_fetch_flags, "fill the download cache with datasets, ahead of a cluster run",
              "Put every file of the given datasets into the download cache ($REDBENCH_CACHE, else the OS cache "
              "dir), checksum-verified: copied from the mirror (--data-dir / $REDBENCH_DATA_DIR) where it has them, "
              "else downloaded. Workers that share the cache then need no mirror and no internet."),
    "restore": (_restore_flags, "restore your own images with any method and write 8-bit PNGs",
                "Restore image files or folders with a method of the registry (networks, classical methods, "
                "net:PATH) and write NAME.png to --out, never over an input. Colour: SR works on Y with Cb and Cr "
                "enlarged by bicubic; denoising converts to gray (as the evaluation) unless --color channels. "
                "With --add-noise or --downscale the degraded input is made first (exactly as eval makes it), "
                "written, and PSNR/SSIM against the original printed."),
    "verify": (_verify_flags, "recompute committed rows with the installed weights and compare",
               "Recompute a random sample of the rows under DIR that the installed weights made, on this machine, "
               "and report the largest PSNR and SSIM differences from the stored values."),
}


# ---------------------------------------------------------------- handlers

def _eval(args, argv: list[str], command: str) -> int:
    from pathlib import Path

    from redbench.evaluation.runner import run
    notes: list[str] = []
    config = config_from_args(args, notes)
    totals = run(config, argv, progress=not args.quiet, command=command, notes=notes)
    out = Path(config.out)
    tables_md = out / "tables.md"
    if tables_md.exists():
        print(tables_md.read_text())
    print(f"rows: {out / 'rows.csv'}  tables: {out}  ({totals['computed']} computed, {totals['reused']} reused, "
          f"{totals['wall_seconds']:.1f} s)")
    return 0


def config_from_args(args: argparse.Namespace, notes: list[str] | None = None):
    from redbench.datasets.catalog import folder_name

    from redbench.core.checks import INT64_MAX, INT64_MIN, check_number, dedupe, parse_list
    from redbench.core.defaults import DATASETS, METHODS, levels_text
    from redbench.core.degradations import parse_levels
    from redbench.evaluation.runner import RunConfig
    if not args.task:
        raise UserError("choose a task: --task denoise --sigma 10,30,50,70 or --task sr --scale 2,3,4.")
    if args.task == "denoise" and args.scale is not None:
        raise UserError("--scale is for --task sr; denoising takes --sigma.")
    if args.task == "sr" and args.sigma is not None:
        raise UserError("--sigma is for --task denoise; SR takes --scale.")
    notes = notes if notes is not None else []
    flag, given = ("--sigma", args.sigma) if args.task == "denoise" else ("--scale", args.scale)
    levels = dedupe(flag, parse_levels(args.task, levels_text(args.task) if given is None else given), notes)
    datasets = parse_list("--datasets", args.datasets, notes)
    datasets = list(DATASETS[args.task]) if datasets is None else dedupe(
        "--datasets", [folder_name(d) for d in datasets], notes)   # dir:./x and dir:x are one folder
    methods = parse_list("--methods", args.methods, notes)
    if methods is None:
        methods = trained_defaults(args.task, levels, list(METHODS[args.task]), notes)
    check_number("--jobs", args.jobs, minimum=0, integer=True, fix="0 = all cores")
    check_number("--seed", args.seed, INT64_MIN, INT64_MAX, integer=True, fix="the results store keeps seeds as "
                 "64-bit integers")
    return RunConfig(task=args.task, levels=levels, datasets=datasets, methods=methods,
                     out=args.out, jobs=args.jobs, seed=args.seed, clip_noise=args.clip_noise, data_dir=args.data_dir,
                     backend=args.backend, scheduler=args.scheduler, allow_untrained_levels=args.allow_untrained_levels,
                     device=args.device, save_images=args.save_images or "")


def trained_defaults(task: str, levels: list, names: list[str], notes: list[str]) -> list[str]:
    """The default methods that can run at every level asked for. While the training campaign has not yet
    trained a network (say RED10 at sigma 50), the default run leaves that method out with a note (appended to
    `notes`, which the run prints once its input checks pass) instead of failing; naming it in --methods still
    gets the one-line error."""
    from redbench.methods.registry import get_method, untrained_levels
    kept = []
    for name in names:
        try:
            method = get_method(name, task)
            missing = untrained_levels(method, levels)
        except UserError as exc:
            notes.append(f"note: default method {name} left out: {exc}")
            continue
        cardless = [method.missing_card(lvl) for lvl in missing]
        if any(cardless):
            notes.append(f"note: default method {name} left out: {next(c for c in cardless if c)}")
            continue
        if missing:
            notes.append(f"note: default method {name} left out: no trained network yet for "
                         f"{', '.join(f'{lvl:g}' for lvl in missing)} (progress: run_bench.py train --plan "
                         f"campaign/plan.toml --status); name it in --methods with --allow-untrained-levels to run it "
                         f"anyway.")
            continue
        kept.append(name)
    return kept


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _train(args) -> int:
    from dataclasses import fields

    from redbench.training.train import TrainConfig, train
    settings = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    if args.plan:
        defaults = TrainConfig()
        ignored = [f"--{k.replace('_', '-')}" for k, v in settings.items()
                   if k not in PLAN_PASSES and v != getattr(defaults, k)]
        if ignored:
            raise UserError(f"{', '.join(ignored)} {'has' if len(ignored) == 1 else 'have'} no effect with --plan "
                            f"(the plan sets each network's training); drop {'it' if len(ignored) == 1 else 'them'}.")
        from redbench.core.checks import parse_list
        from redbench.training.campaign import run_plan
        notes: list[str] = []
        run_plan(args.plan, status_only=args.status, target=args.target, niceness=args.nice, data_dir=args.data_dir,
                 device=args.device, publish_dir=args.publish_dir, out_dir=args.work_dir,
                 only=parse_list("--only", args.only, notes), preflight_steps=args.preflight)
        return 0
    used = [f"--{k.replace('_', '-')}" for k, v in PLAN_DEFAULTS.items() if getattr(args, k) != v]
    if used:
        raise UserError(f"{', '.join(used)} {'needs' if len(used) == 1 else 'need'} --plan FILE.")
    train(TrainConfig(**settings))
    return 0


def _reproduce(args, argv: list[str], command: str) -> int:
    from redbench.reproduce import reproduce, write_report
    if args.render_only:
        report = write_report(args.data_dir, force_figures=args.force_figures)
    else:
        from redbench.core.checks import check_number
        check_number("--jobs", args.jobs, minimum=0, integer=True, fix="0 = all cores")
        check_number("--budget-scale", args.budget_scale, positive=True, fix="1 is the planned budget")
        if args.datasets and not args.networks_only:
            raise UserError("--datasets applies to --networks-only; the full reproduction evaluates every dataset.")
        report = reproduce(args.jobs, args.data_dir, train=not args.no_train, force_figures=args.force_figures,
                           argv=argv, budget_scale=args.budget_scale, backend=args.backend, scheduler=args.scheduler,
                           progress=False if args.quiet else None, command=command, device=args.device,
                           networks_only=args.networks_only, datasets=_names(args.datasets) or None)
    print(f"report written: {report}" if report else "network cells evaluated; no report (--networks-only)")
    return 0


def _list(args) -> int:
    if args.what != "networks" and (args.format != "md" or args.results != "results"):
        raise UserError(f"--format and --results apply to `list networks`, not `list {args.what}`.")
    if args.what == "networks":
        from redbench.evaluation.zoo import networks, render
        print(render(networks(args.results), args.format), end="")
        return 0
    if args.what == "methods":
        from redbench.methods.registry import plugin_errors, registered
        for name, e in sorted(registered().items()):
            kind = "published numbers only" if e.reported_only else e.description
            origin = "" if e.origin == "redbench" else f" [{e.origin}]"
            print(f"{name:14s} {','.join(e.tasks):12s} {kind}{origin}")
        for name, error in sorted(plugin_errors().items()):
            print(f"{name:14s} {'-':12s} plugin that did not load: {error}")
        print(f"{'net:PATH':14s} {'denoise,sr':12s} any trained network: a weights name in methods/weights/ or a path "
              f"without suffix")
    else:
        from redbench.datasets.catalog import FOLDER_PREFIX, SPECS
        for name, spec in SPECS.items():
            print(f"{name:14s} {','.join(spec.tasks):12s} {spec.description}")
        print(f"{FOLDER_PREFIX + 'PATH':14s} {'denoise,sr':12s} every PNG/BMP/TIFF/JPEG image in a folder of your own")
    return 0


def _restore(args) -> int:
    from redbench.core.checks import INT64_MAX, INT64_MIN, check_number
    from redbench.core.degradations import parse_levels
    from redbench.evaluation.restore_files import RestoreConfig, report, restore_files
    task = "sr" if args.scale is not None or args.downscale is not None else "denoise"
    made = args.add_noise if task == "denoise" else args.downscale
    given = args.sigma if task == "denoise" else args.scale
    if given is None and made is None:
        raise UserError("give the degradation: --sigma S for noisy inputs or --scale X for low-resolution ones "
                        "(or --add-noise S / --downscale X to make them from clean images).")
    if given is not None and made is not None and float(given) != float(made):
        flags = ("--sigma", "--add-noise") if task == "denoise" else ("--scale", "--downscale")
        raise UserError(f"{flags[0]} {given:g} and {flags[1]} {made:g} differ: {flags[1]} alone sets the level.")
    if args.downscale is not None and args.sigma is not None:
        raise UserError("--downscale is for SR (--scale); denoising takes --add-noise.")
    if args.add_noise is not None and args.scale is not None:
        raise UserError("--add-noise is for denoising (--sigma); SR takes --downscale.")
    check_number("--seed", args.seed, INT64_MIN, INT64_MAX, integer=True, fix="noise seeds are 64-bit integers")
    level = parse_levels(task, str(given if given is not None else made))[0]   # eval's parsing, precision check too
    config = RestoreConfig(inputs=args.inputs, method=args.method, task=task, level=level, out=args.out,
                           add_noise=args.add_noise is not None, downscale=args.downscale is not None,
                           seed=args.seed, color=args.color, device=args.device,
                           allow_untrained_levels=args.allow_untrained_levels, progress=not args.quiet)
    print(report(config, restore_files(config)))
    return 0


def _verify(args) -> int:
    from redbench.core.checks import check_number
    from redbench.evaluation.verify import report, verify
    check_number("--sample", args.sample, minimum=1, integer=True, fix="how many rows to recompute")
    check_number("--seed", args.seed, integer=True)
    verdict = verify(args.dir, args.sample, args.seed, args.data_dir, progress=not args.quiet)
    print(report(verdict, args.dir))
    return 0 if verdict.passed else 1


def _fetch(args) -> int:
    from redbench.datasets.catalog import SPECS
    from redbench.datasets.fetch import fill_cache
    names = list(SPECS) if "all" in args.datasets else list(dict.fromkeys(args.datasets))
    fill_cache(names, args.data_dir)
    return 0


# ---------------------------------------------------------------- entry points

def resolve_data_paths(argv: list[str]) -> list[str]:
    """Make $REDBENCH_DATA_DIR and --data-dir absolute, once, at start-up.

    A relative mirror path means 'relative to where the command was typed'; torchrun ranks,
    loky/dask workers and tests that change directory would otherwise read it relative to their own
    working directory and not find the data."""
    from redbench.datasets.fetch import DATA_ENV
    value = os.environ.get(DATA_ENV)
    if value and not os.path.isabs(os.path.expanduser(value)):
        os.environ[DATA_ENV] = os.path.abspath(os.path.expanduser(value))
    out = list(argv)
    for i, arg in enumerate(out):
        given = out[i + 1] if arg == "--data-dir" and i + 1 < len(out) else (
            arg.split("=", 1)[1] if arg.startswith("--data-dir=") else None)
        if given is not None and not given.strip():   # abspath('') is the current folder: never meant
            raise UserError("--data-dir '' names no folder; give the mirror's folder, or leave --data-dir out.")
        if arg == "--data-dir" and i + 1 < len(out):
            out[i + 1] = os.path.abspath(os.path.expanduser(out[i + 1]))
        elif arg.startswith("--data-dir="):
            out[i] = "--data-dir=" + os.path.abspath(os.path.expanduser(arg.split("=", 1)[1]))
    return out


def with_subcommand(argv: list[str]) -> list[str]:
    """The arguments with their subcommand: `--task ...` means `eval --task ...`; older flags their command."""
    if not argv or not argv[0].startswith("-") or argv[0] in ("-h", "--help", "--version"):
        return list(argv)    # a command (or a word argparse will reject with the list of commands)
    for flag, command in LEGACY.items():
        if flag in argv:
            return command + ([a for a in argv if a != flag] if command == ["reproduce"] else [])
    return ["eval", *argv]


def main(argv: list[str], prog: str = "redbench") -> int:
    """Run one command; returns the exit code (2 for bad input, 130 on Ctrl-C)."""
    command = None
    try:
        argv = resolve_data_paths(argv)
        full = with_subcommand(argv)
        parser = build_parser(prog, only=full[0] if full and full[0] in SUBCOMMANDS else None)
        if not full:
            parser.print_help()
            return 0
        args = parser.parse_args(full)
        command = args.command
        typed = f"python {prog}" if prog.endswith(".py") else prog
        if command == "eval":
            return _eval(args, argv, typed)
        if command == "train":
            return _train(args)
        if command == "reproduce":
            return _reproduce(args, argv, typed)
        if command == "list":
            return _list(args)
        if command == "restore":
            return _restore(args)
        if command == "verify":
            return _verify(args)
        return _fetch(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        # Ctrl-C, or SIGTERM/SIGHUP turned into it by cluster.interrupt_on_signals (exit code 128 + the signal)
        import signal
        name = exc.args[0] if exc.args and exc.args[0] in ("SIGTERM", "SIGHUP") else None
        code = 128 + signal.Signals[name] if name else 130
        if command == "train":
            return code     # training has said where its checkpoint is
        by = f" by {name}" if name else ""
        if command in ("eval", "reproduce"):
            print(f"interrupted{by}: finished rows are saved (rows.sqlite, exported to rows.csv); rerun the same "
                  f"command to continue.", file=sys.stderr)
        else:
            print(f"interrupted{by}.", file=sys.stderr)
        return code


def run(prog: str | None = None) -> None:
    """Console entry point (`redbench`, run_bench.py, python -m redbench): exits with main's code."""
    reexec_with_fast_allocator()
    sys.exit(main(sys.argv[1:], prog=prog or os.path.basename(sys.argv[0])))
