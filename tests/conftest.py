import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# resolved once, here: the README's command sets a relative path, and tests that start processes in
# another working directory (torchrun, the CLI) must still find the mirror
MIRROR = Path(os.path.abspath(os.path.expanduser(os.environ.get("REDBENCH_DATA_DIR", ROOT.parent / "shared" / "datasets"))))
if "REDBENCH_DATA_DIR" in os.environ:
    os.environ["REDBENCH_DATA_DIR"] = str(MIRROR)


@pytest.fixture(scope="session")
def mirror() -> Path:
    if not (MIRROR / "MANIFEST.tsv").is_file():
        pytest.skip(f"no dataset mirror at {MIRROR}; set REDBENCH_DATA_DIR")
    os.environ["REDBENCH_DATA_DIR"] = str(MIRROR)
    return MIRROR


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # never touch the user's download cache from tests
    monkeypatch.setenv("REDBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def drop_rows(out: Path, n: int) -> None:
    """Delete n rows from OUT/rows.sqlite, as if the run had been interrupted before finishing them."""
    import sqlite3
    from contextlib import closing
    with closing(sqlite3.connect(Path(out) / "rows.sqlite")) as db:
        keys = db.execute("SELECT method, level, image FROM rows ORDER BY method, level, image LIMIT ?",
                          (n,)).fetchall()
        db.executemany("DELETE FROM rows WHERE method = ? AND level = ? AND image = ?", keys)
        db.commit()
