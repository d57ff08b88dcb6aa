"""CSV injection: no CSV redbench writes holds a cell a spreadsheet would run as a formula (issue 30)."""
import csv
import io
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from redbench.core.csv_cells import FORMULA_START, neutral, restore, restore_frame, write_frame, writer
from tests.conftest import ROOT
from tests.test_results_store import _main

# image names a spreadsheet would execute, names that only look close, and numbers that must stay numbers
FORMULA_NAMES = ["=1+1", "@SUM(A1)", "+cmd", "-2+3", "\t=tab", "\r=cr", "'=quoted", "''@twice"]
HARMLESS = ["photo", "a=b", "'plain", "", "-0.5", "+3", "1e-3", "12"]


def _runs_as_formula(cell: str) -> bool:
    """What a spreadsheet does with a CSV text cell: a formula start runs, unless the cell is a plain number."""
    plain_number = re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cell)
    return cell.startswith(FORMULA_START) and not plain_number


def test_formula_cells_get_a_quote_and_come_back_exactly():
    for text in FORMULA_NAMES:
        cell = neutral(text)
        assert cell == "'" + text and not _runs_as_formula(cell)
        assert restore(cell) == text
    for text in HARMLESS:
        assert neutral(text) == text and restore(text) == text
    for number in (-0.5, -1, 0.0, float("inf"), None, True):
        assert neutral(number) is number


def test_writer_and_frames_round_trip_through_a_csv_file():
    buffer = io.StringIO()
    out = writer(buffer)
    out.writerow(["image", "psnr"])
    out.writerows([[name, -0.5] for name in FORMULA_NAMES + HARMLESS])
    cells = [cell for line in csv.reader(io.StringIO(buffer.getvalue())) for cell in line]
    assert not [cell for cell in cells if _runs_as_formula(cell)]
    assert cells[3::2] == ["-0.5"] * len(FORMULA_NAMES + HARMLESS)      # numbers are written as numbers
    frame = pd.DataFrame({"image": FORMULA_NAMES + HARMLESS, "psnr": -0.5})
    text = io.StringIO()
    write_frame(frame, text, index=False)
    back = restore_frame(pd.read_csv(io.StringIO(text.getvalue()), dtype={"image": str}, keep_default_na=False))
    assert back["image"].tolist() == frame["image"].tolist() and (back["psnr"] == -0.5).all()


def test_every_csv_writer_neutralises_its_cells():
    """One home for the rule: a csv.writer or DataFrame.to_csv in the project's code must go through csv_cells."""
    offenders = []
    for path in [*ROOT.joinpath("bench").rglob("*.py"), *ROOT.joinpath("scripts").glob("*.py"),
                 *ROOT.joinpath("methods").rglob("*.py"), *ROOT.joinpath("datasets").rglob("*.py")]:
        if path.name == "csv_cells.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "csv.writer(" in line or "DictWriter(" in line or ".to_csv(" in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, offenders


def _gray(folder: Path, name: str, seed: int) -> None:
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 16), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / name)


def test_formula_image_names_are_inert_in_rows_csv_and_exact_in_the_store(tmp_path, capsys):
    """The issue's case: `=1+1.png` and `@SUM(A1).png` in a dir: set."""
    mine = tmp_path / "mine"
    mine.mkdir()
    names = ["=1+1", "@SUM(A1)", "-2+3", "plain"]
    for seed, name in enumerate(names):
        _gray(mine, f"{name}.png", seed)
    out = tmp_path / "out"
    args = ["--task", "denoise", "--sigma", "30", "--methods", "noisy", "--jobs", "1", "--quiet",
            "--datasets", f"dir:{mine}", "--out", str(out)]
    code, stdout, err = _main(capsys, *args)
    assert code == 0, err

    with open(out / "rows.csv", newline="", encoding="utf-8") as fh:
        cells = [cell for line in csv.reader(fh) for cell in line]
    assert not [cell for cell in cells if _runs_as_formula(cell)]
    assert sorted(c[1:].rsplit("@", 1)[0] for c in cells if c.startswith("'")) == sorted(names[:3])   # quoted once

    def stored() -> list[str]:
        with closing(sqlite3.connect(out / "rows.sqlite")) as db:
            return sorted(image.rsplit("@", 1)[0] for (image,) in db.execute("SELECT image FROM rows"))

    assert stored() == sorted(names)
    from redbench.evaluation.folder_tables import read_rows_csv
    assert sorted(read_rows_csv(out)["image"].str.rsplit("@", n=1).str[0]) == sorted(names)

    # the store rebuilt from rows.csv holds the exact names again, so every row is reused
    (out / "rows.sqlite").rename(tmp_path / "moved.sqlite")
    for extra in out.glob("rows.sqlite-*"):
        extra.unlink()
    code, stdout, err = _main(capsys, *args)
    assert code == 0 and "(0 computed, 4 reused" in stdout, err
    assert stored() == sorted(names)
