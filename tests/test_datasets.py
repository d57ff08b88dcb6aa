import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from redbench.datasets.catalog import SPECS, get_spec
from redbench.datasets.catalog import CHECKSUM_DIR, read_checksums
from redbench.datasets.fetch import dataset_files, fetcher
from redbench.datasets.images import ground_truth, read_image
from redbench.core.errors import UserError


def test_every_spec_has_checksum_files_with_urls():
    for spec in SPECS.values():
        for name in spec.checksum_files:
            entries = read_checksums(name)
            assert entries, name
            assert all(e.url.startswith("https://") for e in entries)
            if spec.verified:
                assert all(e.sha256 and len(e.sha256) == 64 for e in entries), name
    assert all(e.sha256 is None for e in read_checksums("fourteen"))
    assert len(read_checksums("fourteen")) == 14


def test_set_sizes(mirror):
    sizes = {"set5": 5, "set14": 14, "set12": 12, "bsd68": 68, "bsd100": 100, "bsd200": 200, "bsd300-train": 300}
    for name, n in sizes.items():
        assert len(dataset_files(name)) == n


def test_ground_truth_conventions(mirror):
    ref = dataset_files("bsd200")[0]
    full = ground_truth(ref.path, get_spec("bsd200"))
    half = ground_truth(ref.path, get_spec("bsd200-half"))
    assert full.ndim == 2 and half.shape == (int(np.ceil(full.shape[0] / 2)), int(np.ceil(full.shape[1] / 2)))
    assert np.all(half == np.round(half))
    # Set5 ground truth is the 16..235 Y plane
    y = ground_truth(dataset_files("set5")[0].path, get_spec("set5"))
    assert y.min() >= 16 and y.max() <= 235


def test_bsd68_is_rgb2gray_of_bsds500_val(mirror):
    # the DnCNN PNG equals MATLAB rgb2gray of the decoded JPEG: our colour path agrees
    gray = ground_truth(str(mirror / "bsds500/val/101085.jpg"), get_spec("bsd200"))
    assert np.array_equal(gray, read_image(str(mirror / "bsd68/test001.png")).astype(float))


def test_unknown_dataset_suggests(mirror):
    with pytest.raises(UserError, match="Did you mean 'set14'"):
        get_spec("set41")


def _copy_mirror(mirror, tmp_path, folder):
    shutil.copytree(mirror / folder, tmp_path / folder)
    return tmp_path


def test_checksum_mismatch_names_the_file(mirror, tmp_path, monkeypatch):
    fake = _copy_mirror(mirror, tmp_path, "set5")
    (fake / "set5" / "bird.png").write_bytes(b"not the bird")
    with pytest.raises(UserError, match=r"checksum mismatch for .*bird\.png"):
        dataset_files("set5", str(fake))


def _fake_downloads(monkeypatch, download):
    """Every pooch download goes through `download(url, output_file)` instead of the network."""
    import pooch

    def call(self, url, output_file, pooch, check_only=False):
        return download(url, output_file)
    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", call)


def test_missing_file_without_network_is_a_clear_error(mirror, tmp_path, monkeypatch):
    fake = _copy_mirror(mirror, tmp_path, "set5")
    (fake / "set5" / "baby.png").unlink()

    def offline(url, output_file):
        raise ConnectionError("no network")
    _fake_downloads(monkeypatch, offline)
    # a mirror was given, so the advice is to complete it, not to "point --data-dir at a mirror"
    with pytest.raises(UserError, match=r"missing file set5/baby\.png in the mirror .*add the file to the mirror"):
        dataset_files("set5", str(fake))


def test_download_goes_through_pooch_with_checksum(mirror, tmp_path, monkeypatch, no_retry_wait):
    fake = _copy_mirror(mirror, tmp_path, "set5")
    (fake / "set5" / "baby.png").unlink()
    calls = []

    def download(url, output_file):
        calls.append(url)
        shutil.copy(mirror / "set5" / "baby.png", output_file)
    _fake_downloads(monkeypatch, download)
    pooch = fetcher()       # one pooch: registry from the checksum files, retries, cache from $REDBENCH_CACHE
    assert pooch.registry["set5/baby.png"].startswith("sha256:cb85956d") and pooch.retry_if_failed == 3
    assert str(pooch.abspath) == os.environ["REDBENCH_CACHE"] and pooch.registry["fourteen/1.bmp"] is None
    refs = dataset_files("set5", str(fake))
    assert len(refs) == 5 and len(calls) == 1 and calls[0].endswith("CSet5/baby.png")
    cached = Path(os.environ["REDBENCH_CACHE"]) / "set5" / "baby.png"
    assert refs[0].path == str(cached) and cached.stat().st_mode & 0o077 == 0o666 & ~_umask() & 0o077

    # a download whose bytes do not match the registry is refused, naming the file (pooch retries it first)
    cached.unlink()
    _fake_downloads(monkeypatch, lambda url, output_file: Path(output_file).write_bytes(b"not the baby"))
    with pytest.raises(UserError, match=r"checksum mismatch downloading set5/baby\.png"):
        dataset_files("set5", str(fake))
    assert not cached.exists()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_fetch_fills_the_cache_from_the_mirror_for_workers_without_one(mirror, tmp_path, monkeypatch, capsys):
    from redbench.cli import main
    assert main(["fetch", "set5", "set12", "--data-dir", str(mirror)]) == 0
    assert "set5: 5 files" in capsys.readouterr().err
    cache = Path(os.environ["REDBENCH_CACHE"])
    assert len(list((cache / "set5").iterdir())) == 5 and len(list((cache / "set12").iterdir())) == 12
    # a worker with neither mirror nor network finds everything in the cache
    monkeypatch.delenv("REDBENCH_DATA_DIR", raising=False)
    _fake_downloads(monkeypatch, lambda url, output_file: pytest.fail(f"downloaded {url}"))
    assert [Path(r.path).parent for r in dataset_files("set5")] == [cache / "set5"] * 5
    assert main(["fetch", "set5"]) == 0 and "(5 already there, 0 copied" in capsys.readouterr().err
    assert main(["fetch", "set55"]) == 2 and "invalid choice: 'set55'" in capsys.readouterr().err


def test_missing_data_dir_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        dataset_files("set5", str(tmp_path / "nowhere"))


def test_unreadable_image_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"garbage")
    with pytest.raises(UserError, match="cannot read image"):
        read_image(str(bad))


def test_checksum_dir_is_complete():
    names = {p.stem for p in CHECKSUM_DIR.glob("*.tsv")}
    assert {n for s in SPECS.values() for n in s.checksum_files} <= names
