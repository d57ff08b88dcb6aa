"""The held-out images: the last few images of the validation set never train, so snapshots, recipes and the ship
rule can be judged on them without touching a test set.

BSDS500-train is in no test set (BSD100/BSD68 are BSDS500 val, BSD200 is BSDS500 test). Training (train.py) and
the paired validation (paired_validation.py) both take the held-out images from `held_out`.
"""
from __future__ import annotations

from redbench.core.errors import UserError
from redbench.datasets.fetch import dataset_files

VAL_SET = "bsds500-train"


def held_out(holdout: int, data_dir: str | None = None) -> list:
    """The refs of the last `holdout` VAL_SET images, which never train."""
    pool = dataset_files(VAL_SET, data_dir)
    if holdout >= len(pool):
        raise UserError(f"--holdout {holdout} would hold out all {len(pool)} {VAL_SET} images; give at most "
                        f"{len(pool) - 1} (the default is 4).")
    return pool[len(pool) - holdout:] if holdout > 0 else []


def split_images(holdout: int, train_set: str, data_dir: str | None = None) -> tuple[list, list]:
    """(training refs, validation refs): `train_set` without the held-out images, and those."""
    held = held_out(holdout, data_dir)
    held_names = {ref.name for ref in held}
    train_refs = [ref for ref in dataset_files(train_set, data_dir) if ref.name not in held_names]
    if not train_refs:
        raise UserError(f"train set '{train_set}' has no images left after holding out {holdout} "
                        f"for validation; pass --holdout 0 or a larger --train-set.")
    return train_refs, held
