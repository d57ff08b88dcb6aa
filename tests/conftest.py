import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MIRROR = Path(os.environ.get("REDBENCH_DATA_DIR", ROOT.parent / "shared" / "datasets"))


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
