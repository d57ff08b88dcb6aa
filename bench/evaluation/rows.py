"""Results store: one SQLite database per output folder, one row per finished restoration.

OUT/rows.sqlite (WAL mode) holds every row computed into OUT, keyed by
(task, dataset, image, method, weights, level, seed, clip). `weights` names exactly what
produced the row ('<weights>@<sha256>' for a network, a parameter digest for a classical
method), so a row is reused only while the installed method is the one that made it; rows
of other weights stay in the database, apart, and are never mixed into a table column.

Each finished restoration is one INSERT, so writing a row costs the same at 100 rows as at
100,000, and any number of runs can write one folder at once: SQLite serializes the writers
and nothing is lost. OUT/rows.csv is the tidy export that users read, rewritten atomically
from the database at the end of a run and on interrupt. A rows.csv of an older run (before
the database existed) is imported once, when the database is created; its rows carry no
weights ('unrecorded'), so they are kept but never reused.

Rows are validated when read: one with a missing or out-of-range value is reported in one
line, left out of exports and tables, and computed again (the new row replaces it).
"""
from __future__ import annotations

import csv
import math
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from redbench.datasets.catalog import FOLDER_PREFIX

from redbench.core import csv_cells
from redbench.core.atomic import atomic_path
from redbench.core.checks import INT64_MAX, INT64_MIN
from redbench.core.errors import UserError

DB_NAME = "rows.sqlite"
CSV_NAME = "rows.csv"
# rows.csv columns: the historical ones, then the weights that produced the row and the device that ran it
COLUMNS = ["task", "dataset", "image", "method", "level", "psnr", "ssim", "seconds",
           "seed", "noise_seed", "clip", "worker", "weights", "device"]
# one table cell per KEY (what older readers dedupe on); the store's own key adds the weights
KEY = ["task", "dataset", "image", "method", "level", "seed", "clip"]
STORE_KEY = ["task", "dataset", "image", "method", "weights", "level", "seed", "clip"]
# `device` ('cpu', 'cuda'; empty in rows older than it) is recorded, not keyed: both compute in fp32 (TF32 off),
# and the GPU check of docs/gpu.md holds GPU and CPU means to 0.001 dB, so either serves the same cell
VALUES = ["psnr", "ssim", "seconds", "noise_seed", "worker", "device"]
UNRECORDED = "unrecorded"   # weights of rows imported from a rows.csv that did not record them
BUSY_SECONDS = 120          # how long a writer waits for another process's transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    task TEXT NOT NULL, dataset TEXT NOT NULL, image TEXT NOT NULL, method TEXT NOT NULL,
    weights TEXT NOT NULL, level REAL NOT NULL, seed INTEGER NOT NULL, clip INTEGER NOT NULL,
    psnr REAL, ssim REAL, seconds REAL, noise_seed INTEGER, worker TEXT,
    written REAL NOT NULL, device TEXT,
    PRIMARY KEY (task, dataset, image, method, weights, level, seed, clip)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _insert(conflict: str) -> str:
    """The one INSERT of a row (its key, values and write time); `conflict`: 'OR IGNORE' or 'OR REPLACE'."""
    columns = STORE_KEY + VALUES + ["written"]
    return f"INSERT {conflict} INTO rows ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def row_image(ref) -> str:
    """The `image` of a row made from `ref` (an ImageRef): the file's name in a listed dataset, whose checksum
    list pins each file's content; `<name>@<sha256[:12]>` in a folder of the user's own images (dir:PATH), so a
    file replaced under the same name is computed afresh instead of reusing the old file's row."""
    if ref.dataset.startswith(FOLDER_PREFIX) and ref.sha256:
        return f"{ref.name}@{ref.sha256[:12]}"
    return ref.name


def row_key(row: dict) -> tuple:
    """The store key of a row or work item (dict with the STORE_KEY fields)."""
    return (str(row["task"]), str(row["dataset"]), str(row["image"]), str(row["method"]), str(row["weights"]),
            float(row["level"]), int(row["seed"]), _bool(row["clip"]))


def _fix(exc: sqlite3.Error) -> str:
    """What to do about a database error: a lock held past BUSY_SECONDS is another process, not the disk."""
    if "locked" in str(exc) or "busy" in str(exc):
        return (f"another process holds it locked (a run writing the same --out, or a program with the database "
                f"open; a run waits {BUSY_SECONDS} s for it): let it finish or close it, or choose another --out")
    return "free space or fix the folder's permissions"


def _busy(exc: sqlite3.Error) -> bool:
    """Whether an error is another connection's lock (SQLITE_BUSY or SQLITE_LOCKED, any extended code)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def _patiently(db: sqlite3.Connection, step, wait: float | None = None):
    """Run `step()` (statements on `db`), retrying it while another connection's lock refuses it, until `wait`
    seconds (default BUSY_SECONDS) have passed in all. SQLite waits for a lock through its busy handler, but some
    refusals skip the handler and come at once: two connections switching a fresh file to WAL together, or one
    that must upgrade a read lock another writer has overtaken (SQLite answers such a deadlock at once rather than
    wait). Those are retried here with a growing, jittered pause, and each try's own busy wait is cut to the time
    left, so a run is refused only when the promised wait has run out. The error that ends the tries is raised
    with `waited`, the seconds that passed."""
    wait = BUSY_SECONDS if wait is None else wait
    start = time.monotonic()
    pause = 0.005
    try:
        while True:
            left = wait - (time.monotonic() - start)
            db.execute(f"PRAGMA busy_timeout = {max(1, int(left * 1000))}")
            try:
                return step()
            except sqlite3.OperationalError as exc:
                left = wait - (time.monotonic() - start)
                if not _busy(exc) or left <= 0:
                    exc.waited = time.monotonic() - start
                    raise
                time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
                pause = min(pause * 2, 0.5)
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")


def _bool(value) -> bool:
    if isinstance(value, str):
        if value.strip().lower() in ("true", "1"):
            return True
        if value.strip().lower() in ("false", "0"):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    return bool(value)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# The largest finite PSNR two 8-bit images of N pixels can have: one pixel off by one, MSE = 1/N, so
# PSNR = 10 log10(255^2 N). For N up to 10^12 pixels (a terapixel, far beyond any test image) that is 168.1 dB;
# a stored PSNR above it (say 999 from an edited rows.csv) cannot come from a restoration, and would be bolded
# as the best cell, so such a row is rejected and computed again.
PSNR_MAX = 10 * math.log10(255.0 ** 2 * 1e12)


def problems(row: dict) -> list[str]:
    """What is missing or out of range in a stored row (empty: the row can be trusted)."""
    found = []
    psnr, ssim, seconds = row.get("psnr"), row.get("ssim"), row.get("seconds")
    # PSNR is +inf for an exact restoration; anything else must be a finite number in [0, PSNR_MAX] (8-bit images)
    if not (_finite(psnr) or psnr == math.inf) or psnr < 0 or (_finite(psnr) and psnr > PSNR_MAX):
        found.append(f"psnr {_show(psnr)}")
    if not _finite(ssim) or not -1 <= ssim <= 1:
        found.append(f"ssim {_show(ssim)}")
    if not _finite(seconds) or seconds < 0:
        found.append(f"seconds {_show(seconds)}")
    if not (isinstance(row.get("noise_seed"), int) and row["noise_seed"] >= 0):
        found.append(f"noise_seed {_show(row.get('noise_seed'))}")
    elif row["task"] == "denoise":
        # the noise stream is a function of the key: a mismatch means the row was edited or mangled
        from redbench.core.degradations import noise_seed
        if row["noise_seed"] != noise_seed(int(row["seed"]), row["dataset"], row["image"], float(row["level"])):
            found.append("noise_seed does not match the key")
    if not row.get("worker"):
        found.append("worker missing")
    if not _finite(row.get("level")) or row["level"] <= 0:
        found.append(f"level {_show(row.get('level'))}")
    return found


def _show(value) -> str:
    return "missing" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(value)


def _describe(row: dict) -> str:
    return f"{row['dataset']}/{row['image']} {row['method']} level {float(row['level']):g}"


@dataclass
class Invalid:
    row: dict
    reasons: list[str]

    def __str__(self) -> str:
        return f"{_describe(self.row)}: {', '.join(self.reasons)}"


class ResultStore:
    """The rows of one output folder (see the module docstring)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.db_path = self.folder / DB_NAME
        self.csv_path = self.folder / CSV_NAME
        self.notes: list[str] = []        # one-line messages for the user (imports)
        self.db = sqlite3.connect(self.db_path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            _patiently(self.db, self._open)
        except sqlite3.OperationalError as exc:    # locked past the timeout, no space, no permission
            self.db.close()
            if _busy(exc):
                raise UserError(f"cannot use {self.db_path}: still locked after waiting "
                                f"{_seconds(getattr(exc, 'waited', BUSY_SECONDS))} "
                                f"({exc}); {_fix(exc)}, then rerun.") from None
            raise UserError(f"cannot use {self.db_path} ({exc}); {_fix(exc)}, then rerun.") from None
        except sqlite3.DatabaseError as exc:       # not a database, or a malformed one
            self.db.close()
            raise UserError(f"{self.db_path} is damaged ({exc}); move it (and any {DB_NAME}-wal/-shm) away and "
                            f"rerun: {self.csv_path} from the last finished run is then imported and only the "
                            f"missing rows are computed.") from None
        except BaseException:
            self.db.close()
            raise

    def _open(self) -> None:
        self.notes = []   # a retried open imports afresh
        # WAL: readers never block the writer and each commit appends to the log instead of
        # rewriting pages; NORMAL sync cannot corrupt the database, a power cut may lose the last rows
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        check = self.db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(check)
        self._create()

    def _create(self) -> None:
        # BEGIN IMMEDIATE takes the write lock: of two runs starting together, one creates the
        # tables and imports rows.csv, the other then finds that done
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(rows)")}
            if "device" not in columns:   # a store written before rows recorded their device
                self.db.execute("ALTER TABLE rows ADD COLUMN device TEXT")
            done = self.db.execute("SELECT value FROM meta WHERE key = 'csv_import'").fetchone()
            if done is None:
                imported = self._import_csv() if self.csv_path.exists() else "no rows.csv"
                self.db.execute("INSERT INTO meta VALUES ('csv_import', ?)", (imported,))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:   # BEGIN itself may be what failed (busy): then there is nothing to undo
                self.db.execute("ROLLBACK")
            raise

    def _import_csv(self) -> str:
        """Rows of an existing rows.csv (an older run's, or the export of a database moved away)."""
        try:
            with open(self.csv_path, newline="", encoding="utf-8", errors="replace") as fh:
                reader = csv.DictReader(fh)
                header = set(reader.fieldnames or ())
                records = list(reader)
        except (OSError, csv.Error) as exc:
            raise UserError(f"cannot read {self.csv_path} ({exc}); move it away to start a fresh run.") from None
        missing = set(KEY) - header
        if missing:
            raise UserError(f"{self.csv_path} lacks columns {sorted(missing)}; it is not a redbench rows file: "
                            f"move it away to start a fresh run.")
        now, rows, unkeyed = time.time(), [], 0
        for record in records:
            try:
                row = _parse_record(record)
            except (TypeError, ValueError):
                unkeyed += 1      # a half line or a mangled key: nothing to attach it to, it is recomputed
                continue
            rows.append(tuple(row[c] for c in STORE_KEY + VALUES) + (now,))
        self.db.executemany(_insert("OR IGNORE"), rows)
        unrecorded = sum(1 for r in rows if r[4] == UNRECORDED)
        note = f"imported {len(rows)} rows from {self.csv_path} into {self.db_path}"
        if unrecorded:
            note += f"; {unrecorded} of them do not record their weights, so they are kept but never reused"
        if unkeyed:
            note += f"; {unkeyed} lines without a readable key were skipped (they are computed again)"
        self.notes.append(note)
        return f"{len(rows)} rows at {time.strftime('%Y-%m-%dT%H:%M:%S')}"

    def merge_csv(self, text: str) -> int:
        """Rows of a rows.csv computed elsewhere (a GPU call's results folder) that this store lacks; rows this
        store already has are kept as they are. Returns how many were added."""
        reader = csv.DictReader(text.splitlines())
        missing = set(KEY) - set(reader.fieldnames or ())
        if missing:
            raise UserError(f"the rows to merge into {self.db_path} lack columns {sorted(missing)}; "
                            f"they are not a redbench rows file.")
        now, rows = time.time(), []
        for record in reader:
            try:
                row = _parse_record(record)
            except (TypeError, ValueError):
                continue
            if row["weights"] != UNRECORDED and not problems(row):
                rows.append(tuple(row[c] for c in STORE_KEY + VALUES) + (now,))
        before = self.db.total_changes
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(_insert("OR IGNORE"), rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return self.db.total_changes - before

    def add(self, row: dict) -> None:
        """Store one finished restoration (replacing an invalid or older row of the same key)."""
        values = tuple(row.get(c) if c == "device" else row[c] for c in STORE_KEY + VALUES)
        values = values[:5] + (float(values[5]), int(values[6]), int(_bool(values[7]))) + values[8:]
        try:
            self.db.execute(_insert("OR REPLACE"), values + (time.time(),))
        except sqlite3.Error as exc:
            raise UserError(f"cannot write a row to {self.db_path} ({exc}); the rows written so far are kept: "
                            f"{_fix(exc)}, then rerun.") from None

    def read(self, task: str | None = None) -> tuple[list[dict], list[Invalid]]:
        """(valid rows, invalid rows), each row a dict with COLUMNS and `written`."""
        query = f"SELECT {', '.join(STORE_KEY + VALUES)}, written FROM rows"
        args: tuple = ()
        if task is not None:
            query, args = query + " WHERE task = ?", (task,)
        try:
            cursor = self.db.execute(query, args)
            names = [d[0] for d in cursor.description]
            records = [dict(zip(names, values)) for values in cursor]
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.db_path} is damaged ({exc}); move it away and rerun.") from None
        valid, invalid = [], []
        for row in records:
            row["clip"] = bool(row["clip"])
            found = problems(row)
            (invalid.append(Invalid(row, found)) if found else valid.append(row))
        return valid, invalid

    def frame(self) -> pd.DataFrame:
        """Every valid row, COLUMNS first, then `written` (unix time)."""
        valid, _ = self.read()
        if not valid:
            return pd.DataFrame(columns=COLUMNS + ["written"])
        return pd.DataFrame(valid)[COLUMNS + ["written"]]

    def export_csv(self) -> Path:
        """rows.csv from the database, atomically. Within one cell the newest row comes first, so a reader
        that keeps the first row per KEY (as report.load_rows does) gets the latest weights."""
        frame = self.frame()
        frame = frame.assign(_newest=-frame["written"]).sort_values(
            ["task", "dataset", "method", "level", "image", "seed", "clip", "_newest"], kind="stable")
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.csv_path) as tmp:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                writer = csv_cells.writer(fh)   # a name like '=1+1.png' must not run as a formula
                writer.writerow(COLUMNS)
                for row in frame[COLUMNS].itertuples(index=False):
                    writer.writerow([_csv_value(name, value) for name, value in zip(COLUMNS, row)])
        return self.csv_path

    def close(self) -> None:
        self.db.close()


def _csv_value(name: str, value):
    if name == "device":   # None or NaN in rows older than the column
        return value if isinstance(value, str) else ""
    if name == "level":
        return f"{float(value):g}"
    if name in ("seed", "noise_seed"):
        return int(value)
    return value


def _parse_record(record: dict) -> dict:
    """A rows.csv line as a store row. Key fields must parse (else ValueError/TypeError); value fields
    that do not parse become None and the row is recomputed after validation reports it."""
    row = {"task": _text(record["task"]), "dataset": _text(record["dataset"]), "image": _text(record["image"]),
           "method": _text(record["method"]), "weights": _optional(record.get("weights")) or UNRECORDED,
           "level": float(record["level"]), "seed": int(float(record["seed"])), "clip": int(_bool(record["clip"]))}
    if not math.isfinite(row["level"]):
        raise ValueError("level")
    if not INT64_MIN <= row["seed"] <= INT64_MAX:   # SQLite's integers are 64-bit: 1e30 would stop the import
        raise ValueError("seed")
    for name, kind in (("psnr", float), ("ssim", float), ("seconds", float), ("noise_seed", int)):
        try:
            row[name] = kind(record.get(name))
        except (TypeError, ValueError):
            row[name] = None
    if row["noise_seed"] is not None and not INT64_MIN <= row["noise_seed"] <= INT64_MAX:
        row["noise_seed"] = None
    row["worker"] = _optional(record.get("worker"))
    row["device"] = _optional(record.get("device"))
    return row


def _text(value) -> str:
    """A key field of rows.csv, as the store holds it (the quote export_csv put before a formula-like cell
    removed)."""
    if value is None or not str(value).strip():
        raise ValueError("empty key field")
    return csv_cells.restore(str(value).strip())


def _optional(value) -> str | None:
    return _text(value) if value is not None and str(value).strip() else None


def select_current(frame: pd.DataFrame, current: dict) -> pd.DataFrame:
    """The rows a table shows: per cell (task, dataset, method, level) the rows of one (weights, seed, clip),
    so a column never averages two networks or two noise draws. That is the current run's
    (`current[(task, method, level)] = (weights, seed, clip)`) where it covers the cell, else the most recently
    written."""
    if frame.empty:
        return frame
    cell = ["task", "dataset", "method", "level"]
    group = cell + ["weights", "seed", "clip"]
    groups = frame.groupby(group, sort=False)["written"].max().reset_index()
    groups["current"] = [current.get((t, m, float(lv))) == (w, int(s), bool(c)) for t, m, lv, w, s, c in
                         groups[["task", "method", "level", "weights", "seed", "clip"]].itertuples(index=False)]
    chosen = groups.sort_values(["current", "written"], kind="stable").drop_duplicates(cell, keep="last")
    return frame.merge(chosen[group], on=group, how="inner")
