"""rows.csv: one tidy row per (task, dataset, image, method, level, seed, clip).

The file is rewritten atomically (temp file + rename) after every finished row,
so an interrupted run keeps every row it finished and never a half-written one;
a rerun reads it back and computes only the missing keys.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .errors import UserError

COLUMNS = ["task", "dataset", "image", "method", "level", "psnr", "ssim", "seconds",
           "seed", "noise_seed", "clip", "worker"]
KEY = ["task", "dataset", "image", "method", "level", "seed", "clip"]


def row_key(row: dict) -> tuple:
    return (str(row["task"]), str(row["dataset"]), str(row["image"]), str(row["method"]),
            f"{float(row['level']):g}", int(row["seed"]), str(row["clip"]).lower() == "true")


class RowStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows: list[dict] = []
        if self.path.exists():
            try:
                frame = pd.read_csv(self.path, dtype={"image": str})
            except Exception as exc:
                raise UserError(f"cannot read {self.path} ({exc}); move it away to start a fresh run.") from None
            missing = set(KEY) - set(frame.columns)
            if missing:
                raise UserError(f"{self.path} lacks columns {sorted(missing)}; it is not a redbench rows file.")
            self.rows = frame.to_dict("records")
        self._keys = {row_key(r) for r in self.rows}

    def __contains__(self, key: tuple) -> bool:
        return key in self._keys

    def add(self, row: dict) -> None:
        self.rows.append(row)
        self._keys.add(row_key(row))
        self.flush()

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        if frame.empty:
            return pd.DataFrame(columns=COLUMNS)
        return frame[[c for c in COLUMNS if c in frame.columns] + [c for c in frame.columns if c not in COLUMNS]]

    def flush(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.frame().to_csv(tmp, index=False)
        os.replace(tmp, self.path)
