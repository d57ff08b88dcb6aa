import os
import re
import sys
from collections import Counter
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


# a test that lacks data skips with a reason ending in "; set VARIABLE" (the variable that gives it the data)
DATA_SKIP = re.compile(r"; set (REDBENCH_\w+)$")
DATA_VARIABLES = {"REDBENCH_DATA_DIR": "the dataset mirror (laid out like ../shared/datasets)",
                  "REDBENCH_PAPER": "the paper's text (../shared/paper/mao2016-red-net.md)"}


def pytest_terminal_summary(terminalreporter):
    """Say how many tests skipped for want of data, and which variable runs them: with every data test
    skipped, a run still passes, and -q shows no reasons."""
    wanted = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        match = DATA_SKIP.search(reason)
        if match:
            wanted[match.group(1)] += 1
    for variable, count in sorted(wanted.items()):
        what = DATA_VARIABLES.get(variable, "where the data is")
        terminalreporter.write_line(f"{count} test{'' if count == 1 else 's'} skipped for want of data: set "
                                    f"{variable} to {what} to run {'it' if count == 1 else 'them'}.")


@pytest.fixture
def no_retry_wait(monkeypatch):
    """pooch waits 1, 2, 3 s between download retries; tests that make downloads fail need not."""
    import pooch.core

    class NoSleep:
        def sleep(self, seconds):
            pass
    monkeypatch.setattr(pooch.core, "time", NoSleep())


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # never touch the user's download cache from tests
    monkeypatch.setenv("REDBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def load_script(name: str):
    """scripts/<name>.py as a module, so a test calls its main() and functions in this process."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def drop_rows(out: Path, n: int) -> None:
    """Delete n rows from OUT/rows.sqlite, as if the run had been interrupted before finishing them."""
    import sqlite3
    from contextlib import closing
    with closing(sqlite3.connect(Path(out) / "rows.sqlite")) as db:
        keys = db.execute("SELECT method, level, image FROM rows ORDER BY method, level, image LIMIT ?",
                          (n,)).fetchall()
        db.executemany("DELETE FROM rows WHERE method = ? AND level = ? AND image = ?", keys)
        db.commit()
