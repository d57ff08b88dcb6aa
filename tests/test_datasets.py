import shutil

import numpy as np
import pytest

from bench.errors import UserError
from datasets.catalog import SPECS
from datasets.fetch import CHECKSUM_DIR, dataset_files, get_spec, read_checksums
from datasets.images import ground_truth, read_image


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


def test_missing_file_without_network_is_a_clear_error(mirror, tmp_path, monkeypatch):
    fake = _copy_mirror(mirror, tmp_path, "set5")
    (fake / "set5" / "baby.png").unlink()
    import pooch

    def offline(*args, **kwargs):
        raise ConnectionError("no network")
    monkeypatch.setattr(pooch, "retrieve", offline)
    # a mirror was given, so the advice is to complete it, not to "point --data-dir at a mirror"
    with pytest.raises(UserError, match=r"missing file set5/baby\.png in the mirror .*add the file to the mirror"):
        dataset_files("set5", str(fake))


def test_download_goes_through_pooch_with_checksum(mirror, tmp_path, monkeypatch):
    fake = _copy_mirror(mirror, tmp_path, "set5")
    (fake / "set5" / "baby.png").unlink()
    calls = []
    import pooch

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.append((url, known_hash))
        path.mkdir(parents=True, exist_ok=True)
        shutil.copy(mirror / "set5" / "baby.png", path / fname)
        return str(path / fname)
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    refs = dataset_files("set5", str(fake))
    assert len(refs) == 5
    assert calls[0][0].endswith("CSet5/baby.png") and calls[0][1].startswith("sha256:cb85956d")


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
