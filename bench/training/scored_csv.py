"""A CSV of networks scored by the paired validation at one setting (scripts/leg_curve.py, scripts/leg_probe.py).

Its rows compare with each other only at one setting (the installed network, the levels, the noise seed, ...), so a
CSV of another kind or another setting is refused; it is rewritten whole and atomically after each new row, so an
interrupted run keeps every row it finished; its cells go through core/csv_cells like every CSV the project writes.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from redbench.core import csv_cells
from redbench.core.atomic import write_text_atomic
from redbench.core.checks import check_out_dir
from redbench.core.errors import UserError
from redbench.training.paired_validation import PairedValidation
from redbench.training.ship_rule import gain_is_resolved

# the part of a row that the paired validation gives, whatever else a script records beside it
SCORE_COLUMNS = ("images", "pairs", "psnr", "installed_psnr", "mean_gain_db", "se_db", "half_width_db", "resolved")


def score_fields(result: PairedValidation) -> dict:
    """The SCORE_COLUMNS of one network: its mean PSNR and the installed one's over the held-out images, the mean
    paired gain with its standard error and 95% half-width, and whether the ship rule calls the gain resolved."""
    return {"images": len(result.images), "pairs": len(result.scores),
            "psnr": f"{result.mean_psnr('candidate'):.4f}", "installed_psnr": f"{result.mean_psnr('installed'):.4f}",
            "mean_gain_db": f"{result.mean:.5f}", "se_db": f"{result.standard_error:.5f}",
            "half_width_db": f"{result.half_width:.5f}",
            "resolved": "yes" if gain_is_resolved(result.mean, result.half_width) else "no"}


def read_scored(path: Path, columns: tuple, kind: str, fix: str) -> list[dict]:
    """The rows of `path` (none if it does not exist yet, or is empty); one whose header lacks `columns` is not a
    `kind` CSV, even with no row under the header, and neither is a file that is not CSV text: `fix`."""
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = [{k: csv_cells.restore(v) for k, v in row.items()} for row in reader]
            header = reader.fieldnames
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path} is not a {kind} CSV (not CSV text: {exc}); {fix}") from None
    except OSError as exc:   # a folder, or unreadable
        raise UserError(f"{path} cannot be read as a {kind} CSV ({exc.strerror or exc}); {fix}") from None
    missing = set(columns) - set(header or columns)   # an empty file has no header: nothing in it to keep
    if missing:
        raise UserError(f"{path} is not a {kind} CSV (it lacks {', '.join(sorted(missing))}); {fix}")
    return rows


def check_outputs(paths: dict[str, Path]) -> None:
    """Each output's folder exists (made if needed) and is writable, and the output is not a folder: one line
    before the first network is validated, not a traceback after it (`paths`: the flag naming each)."""
    for flag, path in paths.items():
        if path.is_dir():
            raise UserError(f"{flag} {path} is a folder; give a file name.")
        check_out_dir(path.parent, flag)


def check_setting(path: Path, rows: list[dict], setting: dict, keys: tuple, fix: str) -> None:
    """Every row of `path` was scored at `setting` (its `keys`); the first that was not is an error: `fix`."""
    for row in rows:
        differs = [key for key in keys if str(row[key]) != str(setting[key])]
        if differs:
            key = differs[0]
            raise UserError(f"{path} holds rows with {key} {row[key]}, not {setting[key]}; {fix}")


def write_scored(path: Path, columns: tuple, rows: list[dict]) -> None:
    """The whole CSV, atomically, in the order given."""
    text = io.StringIO()
    writer = csv_cells.writer(text)
    writer.writerow(columns)
    writer.writerows([[row[c] for c in columns] for row in rows])
    write_text_atomic(path, text.getvalue())
