"""`redbench restore`: restore image files with any method and write 8-bit PNGs.

    redbench restore noisy.png photos/ --method red30 --sigma 50 --out restored/
    redbench restore photo.jpg --method red30 --add-noise 50 --seed 0 --out demo/     (noise made here, scored)
    redbench restore small.png --method red30+ --scale 2 --out big/
    redbench restore photo.jpg --method srcnn --downscale 3 --out demo/                (low-res made here, scored)

Every input is checked (readable, within the pixel bound, one output name each, none inside --out) before
any work. Each image goes through evaluation/restoration.py, the code path of `eval`: with --add-noise or
--downscale the degraded input is built exactly as `eval --datasets dir:FOLDER --seed N` builds it for the same
file (the same noise seed), so the PSNR/SSIM printed here is that run's row.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from redbench.core.defaults import LEVEL_NAME
from redbench.core.errors import UserError

NOISY_SUFFIX, LOW_SUFFIX = "-noisy", "-lowres"


@dataclass
class RestoreConfig:
    inputs: list[str]
    method: str
    task: str                       # 'denoise' or 'sr'
    level: float                    # sigma of the input's noise, or the SR scale
    out: str
    add_noise: bool = False         # the inputs are clean: add noise of sigma `level` first, and score
    downscale: bool = False         # the inputs are full size: downscale by `level` first, and score
    seed: int = 0
    color: str = "gray"             # denoising a colour image: 'gray' or 'channels' (restoration.COLOR_MODES)
    device: str = "auto"
    allow_untrained_levels: bool = False
    progress: bool = True


@dataclass
class Job:
    """One input file and the files it becomes."""
    source: Path
    output: Path
    degraded: Path | None = None    # the degraded input made here (--add-noise / --downscale)


@dataclass
class Summary:
    written: list[Path] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)   # with --add-noise / --downscale: one per image


def input_files(inputs: list[str]) -> list[Path]:
    """The image files named, folders expanded to their images (not recursive), in the order given."""
    from redbench.datasets.fetch import IMAGE_SUFFIXES
    files: list[Path] = []
    for text in inputs:
        path = Path(text).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise UserError(f"folder {path} holds no PNG, BMP, TIFF or JPEG images; name image files or a "
                                f"folder that holds some.")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"no such file or folder: {path}; check the path.")
    # absolute, not resolved: eval names a dir: set by its absolute path (catalog.folder_name), links kept
    return list(dict.fromkeys(Path(os.path.abspath(p)) for p in files))


def plan_jobs(config: RestoreConfig) -> list[Job]:
    """Every input checked and given its output names, before any work."""
    from redbench.core.checks import check_out_dir
    from redbench.datasets.images import MAX_PIXELS_ENV, check_image, max_pixels
    files = input_files(config.inputs)
    out = Path(config.out).expanduser().resolve()
    limit = max_pixels()
    factor = config.level if config.task == "sr" and not config.downscale else 1
    need = min_side(config) if (config.add_noise or config.downscale) else 1
    stems: dict[str, Path] = {}
    jobs = []
    for path in files:
        if path.parent.resolve() == out:
            raise UserError(f"--out {out} holds the input {path.name}: choose another --out, so no input can be "
                            f"overwritten.")
        if path.stem in stems:
            raise UserError(f"two inputs are named '{path.stem}' ({stems[path.stem]}, {path}), and both would be "
                            f"written to {out / (path.stem + '.png')}: rename one or restore them separately.")
        stems[path.stem] = path
        width, height = check_image(str(path))
        pixels = width * height * int(factor) ** 2
        if pixels > limit:
            raise UserError(f"image {path} is {width}x{height} pixels"
                            f"{f' (x{int(factor)} output: {pixels:,} pixels)' if factor > 1 else ''}, more than the "
                            f"bound of {limit:,} ({MAX_PIXELS_ENV}); crop or shrink it, or raise {MAX_PIXELS_ENV} "
                            f"if the machine has the memory (about {8 * 8 * pixels / 1e9:.1f} GB).")
        if min(width, height) < need:
            raise UserError(f"image {path} is {width}x{height} pixels; scoring it at {LEVEL_NAME[config.task]} "
                            f"{config.level:g} needs at least {need}x{need}: give a larger image.")
        degraded = None
        if config.add_noise:
            degraded = out / f"{path.stem}{NOISY_SUFFIX}.png"
        elif config.downscale:
            degraded = out / f"{path.stem}{LOW_SUFFIX}-x{int(config.level)}.png"
        jobs.append(Job(path, out / f"{path.stem}.png", degraded))
    clash = {j.degraded.name for j in jobs if j.degraded} & {j.output.name for j in jobs}
    if clash:
        raise UserError(f"output name {sorted(clash)[0]} is both a restored and a degraded image: rename the input "
                        f"of that name.")
    check_out_dir(out)
    return jobs


def min_side(config: RestoreConfig) -> int:
    from redbench.evaluation.runner import min_image_side
    return min_image_side(config.task, config.level)


def check_method(config: RestoreConfig):
    """The method, on the device, at a level it was trained for (or allowed): one line otherwise."""
    from redbench.evaluation.runner import ALLOW_UNTRAINED, load_method
    from redbench.methods.registry import check_trained
    from redbench.methods.torch_inference import resolve_device
    method = load_method(config.method, config.task)
    check_trained(config.method, method, config.task, config.level, config.allow_untrained_levels,
                  ALLOW_UNTRAINED)
    device = resolve_device(config.device) if method.uses_torch else "cpu"
    return load_method(config.method, config.task, device) if device != "cpu" else method


def restore_files(config: RestoreConfig) -> Summary:
    """Restore every input into config.out; returns what was written and, when scored, the scores."""
    from redbench.methods.registry import check_method as registered
    registered(config.method, config.task)     # a wrong name first; then the files, then the weights load
    jobs = plan_jobs(config)
    method = check_method(config)
    from redbench.core.atomic import remove_stale_temps
    remove_stale_temps(Path(config.out).expanduser())   # a killed run's leftovers, once every input passed its checks
    from tqdm import tqdm

    from redbench.core.names import printable_name
    summary = Summary()
    bar = tqdm(jobs, unit="image", file=sys.stderr, disable=not config.progress, dynamic_ncols=True)
    for job in bar:
        bar.set_postfix_str(printable_name(job.source.name), refresh=False)
        if config.add_noise or config.downscale:
            summary.scores.append(degrade_and_restore(method, job, config))
            summary.written.append(job.degraded)
        else:
            from redbench.datasets.images import read_image
            from redbench.evaluation.restoration import restore_image
            from redbench.evaluation.saved_images import write_png
            write_png(job.output, restore_image(method, read_image(str(job.source)), config.task, config.level,
                                                config.color))
        summary.written.append(job.output)
    return summary


def eval_item(job: Job, config: RestoreConfig):
    """The work item `eval --datasets dir:<the file's folder> --seed N` makes for this file: same dataset name,
    image name (escaped as folder_files escapes it) and so the same noise seed and input (runner.degrade)."""
    from redbench.core.hashing import file_sha256
    from redbench.core.names import printable_name
    from redbench.datasets.catalog import FOLDER_PREFIX, folder_name
    from redbench.datasets.fetch import ImageRef
    from redbench.evaluation.rows import row_image
    from redbench.evaluation.runner import WorkItem
    dataset = folder_name(FOLDER_PREFIX + str(job.source.parent))
    image = row_image(ImageRef(dataset, printable_name(job.source.stem), str(job.source), file_sha256(job.source)))
    return WorkItem(config.task, dataset, image, str(job.source), config.method, config.level, config.seed, False)


def degrade_and_restore(method, job: Job, config: RestoreConfig) -> dict:
    """--add-noise / --downscale: the degraded input made as `eval --datasets dir:<the file's folder>` makes it,
    written, restored and scored (restored and degraded input against the original)."""
    from redbench.core.resize import to_uint8
    from redbench.datasets.images import read_image
    from redbench.evaluation.restoration import combine_ycbcr, restore_plane, score
    from redbench.evaluation.runner import degrade
    from redbench.evaluation.saved_images import write_png
    degradation, degraded, target, seed = degrade(eval_item(job, config))
    if config.task == "denoise":
        rgb = read_image(str(job.source)) if config.color == "channels" else None
        if rgb is not None and rgb.ndim == 3:   # each channel with the gray input's noise draw pattern (seeded like eval's)
            clean = rgb.astype(np.float64)
            noisy = degradation.apply(clean, seed)
            planes = [restore_plane(method, noisy[..., c], degradation) for c in range(3)]
            restored = np.stack([p.image for p in planes], axis=-1)
            result = dict(zip(("psnr", "ssim"), score(clean, restored)))
        else:
            clean, noisy = target, degraded
            done = restore_plane(method, noisy, degradation, clean)
            restored, result = done.image, {"psnr": done.psnr, "ssim": done.ssim}
        write_png(job.degraded, noisy)
        before = score(clean, noisy)
        result.update(noise_seed=seed)
    else:
        done = restore_plane(method, degraded, degradation, target)
        restored, result = done.image, {"psnr": done.psnr, "ssim": done.ssim}
        before = score(target, degraded, degradation.shave)
        rgb = read_image(str(job.source))
        if rgb.ndim == 3:   # colour: Cb and Cr through the same bicubic down and up, Y from the network
            from redbench.core.color import rgb2ycbcr
            from redbench.core.resize import modcrop
            planes = to_uint8(rgb2ycbcr(modcrop(rgb, int(config.level)))).astype(np.float64)
            restored = combine_ycbcr(restored, [degradation.upscale(degradation.downscale(planes[..., c]),
                                                                    target.shape) for c in (1, 2)])
            low = np.stack([degradation.downscale(rgb[..., c].astype(np.float64)) for c in range(3)], axis=-1)
        else:
            low = degradation.downscale(target)   # target is the cropped Y, which downscale crops to anyway
        write_png(job.degraded, low)
    write_png(job.output, restored)
    from redbench.core.names import printable_name
    return {"image": printable_name(job.source.name), "input_psnr": before[0], "input_ssim": before[1], **result}


def report(config: RestoreConfig, summary: Summary) -> str:
    """What the command prints: the files written, and with --add-noise / --downscale the scores."""
    lines = []
    if summary.scores:
        what = "noisy input" if config.task == "denoise" else "bicubic input"
        on = ("RGB" if config.color == "channels" else "gray") if config.task == "denoise" else \
            f"Y, {int(config.level)} border pixels shaved"
        lines.append(f"PSNR (dB) / SSIM against the original ({on}), {config.method} at "
                     f"{LEVEL_NAME[config.task]} {config.level:g}:")
        for s in summary.scores:
            lines.append(f"  {s['image']}: {what} {s['input_psnr']:.2f} / {s['input_ssim']:.4f} -> restored "
                         f"{s['psnr']:.2f} / {s['ssim']:.4f}")
        if len(summary.scores) > 1:
            lines.append(f"  mean: {what} {np.mean([s['input_psnr'] for s in summary.scores]):.2f} -> restored "
                         f"{np.mean([s['psnr'] for s in summary.scores]):.2f}")
    lines.append(f"{len(summary.written)} PNG files written to {Path(config.out).expanduser().resolve()}")
    return "\n".join(lines)
