"""Paired validation: a candidate network against an installed one on the held-out images at full size.

Both networks restore every pixel of each held-out image at every level the candidate serves, from the same
degraded input (the evaluation's own noise seeds, restore and scoring: evaluation/runner.restore_and_score), so
each image gives a paired PSNR difference in which the image's own difficulty cancels. The spread of those
differences over images gives the standard error of their mean and a 95% t-interval: what a gain must clear
before it counts (training/ship_rule.py).

Held-out images are those that both model cards say were kept out of training (the last `holdout` images of
the validation set, training/holdout.py), never more.

Many candidates against one installed network (the snapshots of a leg, scripts/leg_curve.py) share its scores:
a ScoreCache keeps them, in memory and optionally on disk, so the installed network restores each image once. A
cache of the candidates' scores too lets two candidates be compared with each other afterwards without restoring
anything (scripts/leg_probe.py: the lead of the best candidate over the runner-up).
"""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

from redbench.core.atomic import write_text_atomic
from redbench.core.defaults import levels_slashed
from redbench.core.errors import UserError
from redbench.core.weights_id import format_weights_id
from redbench.methods import weights as weights_io
from redbench.training.holdout import VAL_SET, held_out

CONFIDENCE = 0.95
# the validation protocol of a card without a training config: "... of the last 4 bsds500-train images, held out"
PROTOCOL_HOLDOUT = re.compile(r"the last (\d+) (\S+) images, held out of training")


@dataclass(frozen=True)
class PairedScore:
    """One image at one level: the PSNR of each network (as an evaluation row stores it)."""
    image: str
    level: float
    candidate: float
    installed: float

    @property
    def difference(self) -> float:
        return self.candidate - self.installed


@dataclass(frozen=True)
class PairedValidation:
    candidate: str            # weights ids, name@sha256
    installed: str
    dataset: str
    levels: tuple
    scores: tuple[PairedScore, ...]
    seconds: float = 0.0
    pixels: int = 0           # scored pixels per network, all images and levels together

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.image for s in self.scores))

    def differences(self) -> dict[str, float]:
        """{image: candidate minus installed PSNR, averaged over the levels}: the unit the error is taken over."""
        return {image: sum(s.difference for s in self.scores if s.image == image)
                / sum(1 for s in self.scores if s.image == image) for image in self.images}

    @property
    def mean(self) -> float:
        diffs = list(self.differences().values())
        return sum(diffs) / len(diffs) if diffs else math.nan

    def mean_psnr(self, role: str) -> float:
        """The mean PSNR of the 'candidate' or the 'installed' network over the images (each image's averaged over
        the levels first, as the differences are)."""
        per_image = [[getattr(s, role) for s in self.scores if s.image == image] for image in self.images]
        return sum(sum(p) / len(p) for p in per_image) / len(per_image) if per_image else math.nan

    @property
    def standard_error(self) -> float:
        """Sample standard deviation of the per-image differences over sqrt(images); inf with one image."""
        diffs = list(self.differences().values())
        if len(diffs) < 2:
            return math.inf
        mean = sum(diffs) / len(diffs)
        return math.sqrt(sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1) / len(diffs))

    @property
    def half_width(self) -> float:
        """Half-width of the CONFIDENCE t-interval of the mean difference (n - 1 degrees of freedom)."""
        n = len(self.images)
        if n < 2:
            return math.inf
        from scipy.stats import t
        return float(t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * self.standard_error

    @property
    def interval(self) -> tuple[float, float]:
        return self.mean - self.half_width, self.mean + self.half_width

    def table(self) -> str:
        """Per-image differences and the summary, as markdown."""
        levels = levels_slashed(self.levels)
        lines = ["| image | candidate PSNR | installed PSNR | difference (dB) |", "|---|---:|---:|---:|"]
        for image, diff in self.differences().items():
            mine = [s for s in self.scores if s.image == image]
            lines.append(f"| {image} | {sum(s.candidate for s in mine) / len(mine):.4f} | "
                         f"{sum(s.installed for s in mine) / len(mine):.4f} | {diff:+.4f} |")
        low, high = self.interval
        lines += ["", f"candidate {self.candidate}", f"installed {self.installed}",
                  f"{len(self.images)} held-out {self.dataset} images at full size ({self.pixels} pixels per network), "
                  f"level(s) {levels}: mean difference {self.mean:+.4f} dB, standard error {self.standard_error:.4f} dB, "
                  f"{CONFIDENCE:.0%} interval [{low:+.4f}, {high:+.4f}] (half-width {self.half_width:.4f} dB); "
                  f"{self.seconds:.0f} s"]
        return "\n".join(lines)


class ScoreCache:
    """The scores of a network that several paired validations share, keyed by (weights id, image, level, seed,
    device): what restoring that image would give again (the restore is deterministic on one device; CPU and CUDA
    kernels differ in their last digits, so a score from one device is not reused on the other). With a path, also
    a JSON file, written after each new score, so a later invocation does not restore them either."""

    def __init__(self, path: Path | None = None):
        self.path, self.scores = path, {}
        if path is not None and path.exists():
            try:
                records = json.loads(path.read_text())
                # a record without a device (written before the key had one) cannot say where it was computed: it
                # is left out, so its score is recomputed on the device asked for
                self.scores = {(r["weights"], r["image"], float(r["level"]), int(r["seed"]), str(r["device"])):
                               {"psnr": float(r["psnr"]), "pixels": int(r["pixels"])} for r in records
                               if "device" in r}
            except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
                raise UserError(f"score cache {path} is damaged ({exc!r}); delete it (its scores are recomputed)."
                                ) from None

    def get(self, weights: str, image: str, level: float, seed: int, device: str) -> dict | None:
        return self.scores.get((weights, image, float(level), int(seed), device))

    def put(self, weights: str, image: str, level: float, seed: int, device: str, scored: dict) -> None:
        self.scores[(weights, image, float(level), int(seed), device)] = {"psnr": scored["psnr"],
                                                                          "pixels": scored["pixels"]}
        if self.path is not None:
            records = [{"weights": w, "image": i, "level": lvl, "seed": sd, "device": dv, **v}
                       for (w, i, lvl, sd, dv), v in self.scores.items()]
            write_text_atomic(self.path, json.dumps(records, indent=1) + "\n")


def held_out_names(card: weights_io.ModelCard, data_dir: str | None = None) -> tuple[str, frozenset[str]]:
    """(validation set, names of its images that `card` says were kept out of training). The training config on
    the card gives the holdout; an older card without one, its validation protocol. A card that says neither kept
    nothing out that can be named."""
    config = card.extra.get("train_config") if isinstance(card.extra, dict) else None
    holdout, dataset = None, VAL_SET
    if isinstance(config, dict) and isinstance(config.get("holdout"), int):
        holdout = config["holdout"]
    else:
        found = PROTOCOL_HOLDOUT.search(card.val_protocol or "")
        if found:
            holdout, dataset = int(found.group(1)), found.group(2)
    if not holdout or dataset != VAL_SET:
        return VAL_SET, frozenset()
    return VAL_SET, frozenset(ref.name for ref in held_out(holdout, data_dir))


def shared_held_out(candidate: weights_io.ModelCard, installed: weights_io.ModelCard,
                    data_dir: str | None = None) -> list:
    """The ImageRefs of the validation set that both cards kept out of training, in the set's order."""
    from redbench.datasets.fetch import dataset_files
    dataset, mine = held_out_names(candidate, data_dir)
    _, theirs = held_out_names(installed, data_dir)
    shared = mine & theirs
    return [ref for ref in dataset_files(dataset, data_dir) if ref.name in shared]


def paired_validation(candidate_ref: str, installed_ref: str, data_dir: str | None = None, device: str = "cpu",
                      seed: int = 0, levels: list | None = None,
                      installed_scores: ScoreCache | None = None,
                      candidate_scores: ScoreCache | None = None) -> PairedValidation:
    """Candidate and installed network (a name in methods/weights/ or a path without suffix) restore the shared
    held-out images at full size at `levels` (default: every level the candidate serves). The installed network's
    scores found in `installed_scores` are taken from there, and the ones it restores are added to it; likewise the
    candidate's with `candidate_scores` (the two may be one cache: its keys name the weights)."""
    from redbench.evaluation.rows import row_image
    from redbench.evaluation.runner import WorkItem, restore_and_score
    from redbench.methods.registry import get_method
    from redbench.methods.torch_inference import resolve_device
    candidate = weights_io.read_card(*weights_io.split_ref(candidate_ref))
    installed = weights_io.read_card(*weights_io.split_ref(installed_ref))
    if candidate.task != installed.task:
        raise UserError(f"{candidate_ref} is a {candidate.task} network and {installed_ref} a {installed.task} one; "
                        f"compare two networks of one task.")
    levels = list(levels or candidate.levels)
    unserved = [lvl for lvl in levels if float(lvl) not in {float(x) for x in installed.levels}
                or float(lvl) not in {float(x) for x in candidate.levels}]
    if unserved:
        raise UserError(f"level(s) {', '.join(f'{lvl:g}' for lvl in unserved)} are not served by both "
                        f"{candidate_ref} ({candidate.levels}) and {installed_ref} ({installed.levels}); compare at "
                        f"levels both networks were trained for.")
    refs = shared_held_out(candidate, installed, data_dir)
    if not refs:
        raise UserError(f"{candidate_ref} and {installed_ref} kept no image out of training in common (their cards' "
                        f"holdout), so nothing can validate them against each other; train with --holdout > 0.")
    device = resolve_device(device)
    refs_of = {"candidate": candidate_ref, "installed": installed_ref}
    networks = {}

    ids = {"candidate": format_weights_id(candidate.name, candidate.sha256),
           "installed": format_weights_id(installed.name, installed.sha256)}
    caches = {"candidate": candidate_scores, "installed": installed_scores}

    def score(role: str, item: WorkItem, level, seed: int) -> dict:
        cache = caches[role]
        found = None if cache is None else cache.get(ids[role], item.image, level, seed, device)
        if found is not None:
            return found
        if role not in networks:   # loaded when first needed: a network whose scores are all cached is never loaded
            networks[role] = get_method(f"net:{refs_of[role]}", candidate.task).on_device(device)
        scored = restore_and_score(networks[role], item)
        if cache is not None:
            cache.put(ids[role], item.image, level, seed, device, scored)
        return scored

    start = time.perf_counter()
    scores, pixels = [], 0
    for ref in refs:
        for level in levels:
            item = WorkItem(candidate.task, ref.dataset, row_image(ref), ref.path, "paired", level, seed, False,
                            device=device)
            mine, theirs = score("candidate", item, level, seed), score("installed", item, level, seed)
            scores.append(PairedScore(item.image, float(level), mine["psnr"], theirs["psnr"]))
            pixels += mine["pixels"]
    return PairedValidation(ids["candidate"], ids["installed"], refs[0].dataset, tuple(levels), tuple(scores),
                            round(time.perf_counter() - start, 1), pixels)

