"""The real download path: pooch over HTTP from a server on 127.0.0.1 that the test starts and stops.

The server is Python's http.server in a thread, serving a small mirror (three PNGs made here, with their
checksum list). The registry's URLs are redirected to it by $REDBENCH_DATA_URL, the setting a user behind
a mirror or proxy uses; nothing here reaches beyond this machine.
"""
import functools
import hashlib
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redbench.core.errors import UserError
from redbench.datasets import fetch
from redbench.datasets import catalog
from redbench.datasets.catalog import SPECS, DatasetSpec
from redbench.datasets.fetch import dataset_files

ROOT = Path(__file__).resolve().parent.parent
TINY = "tiny"
NAMES = ("a", "b", "c")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the mirror; records each GET; a file named in `server.cut` gets half its bytes, and then the
    server stops, as a server that goes down mid-file."""

    def do_GET(self):
        relpath = self.path.lstrip("/")
        self.server.requested.append(relpath)
        if relpath not in self.server.cut:
            return super().do_GET()
        data = (Path(self.directory) / relpath).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.server.shutdown()         # this handler runs in its own thread, so this does not wait on itself
        self.server.socket.close()     # pooch's retries now find nothing listening
        self.close_connection = True

    def log_message(self, format, *args):
        pass


class LocalServer:
    def __init__(self, root: Path):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
        self.httpd.requested, self.httpd.cut = [], set()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requested(self) -> list[str]:
        return self.httpd.requested

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def _write_tiny_mirror(root: Path) -> Path:
    """root/mirror/tiny/{a,b,c}.png (gray, random) and root/checksums/tiny.tsv listing them."""
    rng = np.random.default_rng(29)
    (root / "mirror" / TINY).mkdir(parents=True)
    (root / "checksums").mkdir()
    lines = []
    for name in NAMES:
        path = root / "mirror" / TINY / f"{name}.png"
        Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(path)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        # the URL of the checksum list is never reached: $REDBENCH_DATA_URL redirects it
        lines.append(f"{TINY}/{name}.png\t{sha}\thttps://upstream.invalid/{TINY}/{name}.png\n")
    (root / "checksums" / f"{TINY}.tsv").write_text("".join(lines))
    return root / "mirror"


def _clear_lists():
    fetch.read_checksums.cache_clear()
    fetch.registry.cache_clear()


@pytest.fixture
def served(tmp_path, monkeypatch, no_retry_wait):
    """A `tiny` dataset whose only source is a local server; an empty cache of this test's own."""
    mirror = _write_tiny_mirror(tmp_path)
    monkeypatch.setattr(catalog, "CHECKSUM_DIR", tmp_path / "checksums")
    monkeypatch.setitem(SPECS, TINY, DatasetSpec(TINY, "three small test images", (TINY,), ("denoise",)))
    monkeypatch.setenv("REDBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("REDBENCH_DATA_DIR", raising=False)
    _clear_lists()
    server = LocalServer(mirror)
    monkeypatch.setenv("REDBENCH_DATA_URL", server.url + "/")
    yield server, mirror, tmp_path / "cache" / TINY
    server.stop()
    _clear_lists()


def test_first_run_downloads_and_verifies_second_reuses_the_cache(served, tmp_path, monkeypatch, capsys):
    server, mirror, cache = served
    # the README's commands name ../shared/datasets; where it does not exist, one note, then the cache
    monkeypatch.setenv("REDBENCH_DATA_DIR", str(tmp_path / "no-mirror-here"))
    refs = dataset_files(TINY)
    assert sorted(server.requested) == [f"{TINY}/{n}.png" for n in NAMES]
    assert [Path(r.path) for r in refs] == [cache / f"{n}.png" for n in NAMES]
    for ref in refs:
        assert Path(ref.path).read_bytes() == (mirror / TINY / f"{ref.name}.png").read_bytes()
        assert hashlib.sha256(Path(ref.path).read_bytes()).hexdigest() == ref.sha256
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("note:")] == [
        f"note: $REDBENCH_DATA_DIR is '{tmp_path / 'no-mirror-here'}', which does not exist; using the download "
        f"cache {tmp_path / 'cache'} and downloading what it lacks."]
    assert "downloading tiny" in err and "3/3" in err and "Downloading file" not in err   # our bar, not pooch's log

    again = dataset_files(TINY)
    assert [r.path for r in again] == [r.path for r in refs] and len(server.requested) == 3
    assert "note:" not in capsys.readouterr().err     # once per process


def test_wrong_bytes_are_refused_naming_the_file(served):
    server, mirror, cache = served
    (mirror / TINY / "b.png").write_bytes(b"not the image the checksum list names")
    with pytest.raises(UserError, match=rf"checksum mismatch downloading {TINY}/b\.png from {server.url}/{TINY}/b\.png"):
        dataset_files(TINY)
    assert server.requested.count(f"{TINY}/b.png") == 1 + fetch.DOWNLOAD_RETRIES
    assert sorted(p.name for p in cache.iterdir()) == ["a.png"]     # nothing of b.png, not even a temporary file


def test_server_stopping_mid_file_leaves_no_partial_file(served, monkeypatch):
    server, mirror, cache = served
    server.httpd.cut.add(f"{TINY}/b.png")
    with pytest.raises(UserError, match=rf"could not download {TINY}/b\.png from {server.url}/{TINY}/b\.png"):
        dataset_files(TINY)
    assert sorted(p.name for p in cache.iterdir()) == ["a.png"]

    # a server that is back completes the set, and a.png is not downloaded again
    again = LocalServer(mirror)
    try:
        monkeypatch.setenv("REDBENCH_DATA_URL", again.url)
        assert len(dataset_files(TINY)) == 3 and sorted(again.requested) == [f"{TINY}/b.png", f"{TINY}/c.png"]
    finally:
        again.stop()


def test_fetch_downloads_from_the_server(served, capsys):
    from redbench.cli import main
    server, mirror, cache = served
    assert main(["fetch", TINY]) == 0
    assert "tiny: 3 files" in capsys.readouterr().err and sorted(p.name for p in cache.iterdir()) == ["a.png", "b.png", "c.png"]


def test_readme_main_job_offline_without_the_mirror_is_one_line(tmp_path):
    """The README's main-job command, run from a folder with no ../shared and no network (the download URL
    points at a port nothing listens on): one note, one error line, exit 2, nothing downloaded."""
    server = LocalServer(tmp_path)
    server.stop()      # its port is now closed
    clone = tmp_path / "elsewhere" / "redbench"
    clone.mkdir(parents=True)
    env = dict(os.environ, REDBENCH_DATA_DIR="../shared/datasets", REDBENCH_DATA_URL=server.url,
               REDBENCH_CACHE=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, str(ROOT / "run_bench.py"), "--task", "denoise", "--sigma", "10,30,50,70",
                             "--out", str(tmp_path / "out")], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 2 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"note: $REDBENCH_DATA_DIR is '{tmp_path / 'elsewhere' / 'shared' / 'datasets'}', "
                               f"which does not exist")
    assert lines[1].startswith(f"error: could not download set12/01.png from {server.url}/set12/01.png "
                               f"(ConnectionError, 3 retries)")
    assert "--data-dir or $REDBENCH_DATA_DIR" in lines[1] and not (tmp_path / "out" / "rows.csv").exists()


def test_summary_counts_the_tests_skipped_for_want_of_data(tmp_path):
    """The README's test command without the mirror: the run passes, and its summary says what it skipped."""
    env = dict(os.environ, REDBENCH_DATA_DIR=str(tmp_path / "none"))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q",
                             "tests/test_datasets.py::test_set_sizes", "tests/test_datasets.py::test_ground_truth_conventions"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("2 tests skipped for want of data: set REDBENCH_DATA_DIR to the dataset mirror (laid out like "
            "../shared/datasets) to run them.") in result.stdout


def test_readme_states_the_download_settings():
    """The README's Data section names what the tests above hold: the variables, the retries, the error."""
    data = (ROOT / "README.md").read_text().split("## Data", 1)[1].split("\n## ", 1)[0]
    for text in (f"${fetch.DATA_URL_ENV}", f"${fetch.DATA_ENV}` that does not exist is skipped with one",
                 f"with {fetch.DOWNLOAD_RETRIES} retries", "`error: could not download ...`",
                 "python -m http.server -d ../shared/datasets"):
        assert text in " ".join(data.split()), text
