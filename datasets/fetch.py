"""Find the files of a dataset: in a local mirror, in the download cache, or on the web.

Order: `--data-dir` / $REDBENCH_DATA_DIR (a read-only mirror laid out like
`../shared/datasets`), then the pooch cache ($REDBENCH_CACHE or the OS cache dir),
downloading from the public source into the cache when the file is missing.
Every file with a known sha256 is checked; a mismatch names the file.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bench.errors import UserError

from .catalog import SPECS, DatasetSpec

DATA_ENV = "REDBENCH_DATA_DIR"
CACHE_ENV = "REDBENCH_CACHE"
CHECKSUM_DIR = Path(__file__).parent / "checksums"


@dataclass(frozen=True)
class FileEntry:
    relpath: str
    sha256: str | None   # None: not yet known, used unverified
    url: str

    @property
    def stem(self) -> str:
        return Path(self.relpath).stem


@dataclass(frozen=True)
class ImageRef:
    dataset: str
    name: str
    path: str
    sha256: str | None


def read_checksums(name: str) -> list[FileEntry]:
    entries = []
    with open(CHECKSUM_DIR / f"{name}.tsv") as fh:
        for line in fh:
            if not line.strip():
                continue
            rel, sha, url = line.rstrip("\n").split("\t")
            entries.append(FileEntry(rel, None if sha == "-" else sha, url))
    return entries


def get_spec(name: str) -> DatasetSpec:
    if name in SPECS:
        return SPECS[name]
    import difflib
    close = difflib.get_close_matches(name, list(SPECS), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise UserError(f"unknown dataset '{name}'.{hint} Known: {', '.join(sorted(SPECS))}.")


def data_dir(option: str | None = None) -> Path | None:
    value = option or os.environ.get(DATA_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise UserError(f"data directory '{path}' does not exist; fix --data-dir or ${DATA_ENV}.")
    return path


def cache_dir() -> Path:
    value = os.environ.get(CACHE_ENV)
    if value:
        return Path(value).expanduser()
    import pooch
    return Path(pooch.os_cache("redbench"))


@lru_cache(maxsize=4096)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    st = path.stat()
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


def _verify(path: Path, entry: FileEntry) -> None:
    if entry.sha256 is None:
        return
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise UserError(
            f"checksum mismatch for {path}: expected sha256 {entry.sha256[:12]}..., got {actual[:12]}...; "
            f"the file is corrupt or a different version: delete it (or fix the mirror) and rerun.")


def _download(entry: FileEntry, mirror: Path | None = None) -> Path:
    import pooch
    target = cache_dir() / entry.relpath
    if target.exists():
        return target
    try:
        fetched = pooch.retrieve(entry.url, known_hash=f"sha256:{entry.sha256}" if entry.sha256 else None,
                                 fname=target.name, path=target.parent, progressbar=False)
    except ValueError as exc:  # pooch's hash mismatch
        raise UserError(f"checksum mismatch downloading {entry.relpath} from {entry.url}: {exc}") from None
    except Exception as exc:  # network errors come in many types
        if mirror is not None:   # the user already gave a mirror: it lacks this file
            raise UserError(
                f"missing file {entry.relpath} in the mirror {mirror}, and downloading it from {entry.url} failed "
                f"({type(exc).__name__}); add the file to the mirror (or fix the path) and rerun.") from None
        raise UserError(
            f"could not download {entry.relpath} from {entry.url} ({type(exc).__name__}); "
            f"without internet, point --data-dir or ${DATA_ENV} at a local mirror.") from None
    return Path(fetched)


def locate(entry: FileEntry, mirror: Path | None, download: bool = True) -> Path:
    """Path of one verified file, downloading it into the cache if needed."""
    for root in ([mirror] if mirror else []) + [cache_dir()]:
        candidate = root / entry.relpath
        if candidate.is_file():
            _verify(candidate, entry)
            return candidate
    if not download:
        where = f"{mirror}" if mirror else f"the cache {cache_dir()}"
        raise UserError(f"missing file {entry.relpath} in {where}; rerun with downloads enabled or fix the mirror.")
    return _download(entry, mirror)


def dataset_files(name: str, data_dir_option: str | None = None, download: bool = True) -> list[ImageRef]:
    """The images of a dataset, each located and checksum-verified."""
    spec = get_spec(name)
    mirror = data_dir(data_dir_option)
    refs = []
    for checksum_file in spec.checksum_files:
        for entry in read_checksums(checksum_file):
            path = locate(entry, mirror, download)
            refs.append(ImageRef(spec.name, entry.stem, str(path), entry.sha256))
    return refs
