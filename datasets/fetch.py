"""Find the files of a dataset: in a local mirror, in the download cache, or on the web.

Order: `--data-dir` / $REDBENCH_DATA_DIR (a read-only mirror laid out like
`../shared/datasets`), then the download cache, then a download into the cache.
A $REDBENCH_DATA_DIR that does not exist is skipped with one note (the README's commands name
`../shared/datasets`, which a fresh clone elsewhere lacks); a --data-dir that does not exist is an error.
$REDBENCH_DATA_URL, when set, is the base URL every file is downloaded from instead
(`<base>/<relpath>`: a copy of the mirror served over HTTP, e.g. behind a firewall).
The cache and the downloads are pooch's, set up as scikit-image sets up its data:
one `pooch.create` whose registry (file -> sha256, file -> URL) is read from
datasets/checksums/*.tsv, with retries, in $REDBENCH_CACHE or the OS cache dir.
Every file with a known sha256 is checked; a mismatch names the file. pooch is
imported only when the cache is needed, so a machine that has a mirror needs no pooch.

`dir:PATH` datasets are a folder of the user's own images: no list, each file's
sha256 is computed and recorded.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from redbench.core.atomic import copy_atomic, normal_mode
from redbench.core.errors import UserError
from redbench.core.hashing import file_sha256
from redbench.core.names import printable_name

from redbench.datasets import catalog
from redbench.datasets.catalog import DatasetSpec, FileEntry, get_spec, read_checksums

DATA_ENV = "REDBENCH_DATA_DIR"
CACHE_ENV = "REDBENCH_CACHE"
DATA_URL_ENV = "REDBENCH_DATA_URL"
DOWNLOAD_RETRIES = 3
IMAGE_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg")


@dataclass(frozen=True)
class ImageRef:
    dataset: str
    name: str
    path: str
    sha256: str | None


@lru_cache(maxsize=1)
def registry() -> tuple[dict[str, str | None], dict[str, str]]:
    """pooch's registry from every checksum file: ({relpath: 'sha256:<hex>' or None}, {relpath: url})."""
    hashes, urls = {}, {}
    for tsv in sorted(catalog.CHECKSUM_DIR.glob("*.tsv")):
        for entry in read_checksums(tsv.stem):
            hashes[entry.relpath] = f"sha256:{entry.sha256}" if entry.sha256 else None
            urls[entry.relpath] = entry.url
    return hashes, urls


def source_url(relpath: str, url: str) -> str:
    """Where a file is downloaded from: `url` from its checksum list, or `<$REDBENCH_DATA_URL>/<relpath>`."""
    base = os.environ.get(DATA_URL_ENV)
    return f"{base.rstrip('/')}/{relpath}" if base else url


def fetcher():
    """The pooch that downloads into the cache (built per call: the cache folder follows $REDBENCH_CACHE,
    the URLs $REDBENCH_DATA_URL)."""
    try:
        import pooch
    except ImportError:
        raise UserError(f"downloading needs the package 'pooch' (pip install pooch); or give a mirror with "
                        f"--data-dir or ${DATA_ENV}.") from None
    # pooch logs a line per file and per retry; our progress bar and one-line errors say it instead, and an
    # offline run's error must not be buried under retry notes
    pooch.get_logger().setLevel("WARNING")
    hashes, urls = registry()
    return pooch.create(path=pooch.os_cache("redbench"), base_url="", env=CACHE_ENV, registry=dict(hashes),
                        urls={rel: source_url(rel, url) for rel, url in urls.items()},
                        retry_if_failed=DOWNLOAD_RETRIES)


def data_dir(option: str | None = None) -> Path | None:
    """The local mirror: --data-dir, else $REDBENCH_DATA_DIR, else none (cache and downloads only)."""
    if option:
        path = Path(option).expanduser()
        if not path.is_dir():
            raise UserError(f"data directory '{path}' does not exist; fix --data-dir, or leave it out to use "
                            f"the download cache.")
        return path
    value = os.environ.get(DATA_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        _note_missing_mirror(str(path))
        return None
    return path


@lru_cache(maxsize=None)
def _note_missing_mirror(path: str) -> None:
    """Once per process and path: the variable may be set for a layout this machine does not have."""
    print(f"note: ${DATA_ENV} is '{path}', which does not exist; using the download cache {cache_dir()} and "
          f"downloading what it lacks.", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    """The download cache: $REDBENCH_CACHE, else the OS cache dir (pooch's choice, as it downloads there)."""
    value = os.environ.get(CACHE_ENV)
    if value:
        path = Path(value).expanduser()
        if path.exists() and not path.is_dir():
            raise UserError(f"${CACHE_ENV}={value} is a file, not a folder; point it at a folder for the download "
                            f"cache, or unset it.")
        return path
    return Path(fetcher().abspath)


def _verify(path: Path, entry: FileEntry) -> None:
    if entry.sha256 is None:
        return
    actual = file_sha256(path)
    if actual != entry.sha256:
        raise UserError(
            f"checksum mismatch for {path}: expected sha256 {entry.sha256[:12]}..., got {actual[:12]}...; "
            f"the file is corrupt or a different version: delete it (or fix the mirror) and rerun.")


def _readable(path: str, action: str, pooch) -> str:
    """pooch processor: downloads get normal permissions (pooch's temp files are 0600), so a shared cache
    serves every user."""
    normal_mode(path)
    return path


def _download(entry: FileEntry, mirror: Path | None = None) -> Path:
    pooch = fetcher()
    import requests  # pooch's own dependency, present wherever pooch is
    url = source_url(entry.relpath, entry.url)
    try:
        # pooch streams into a temporary file beside the target and moves it in only once its sha256 matches,
        # so a download cut off mid-file leaves nothing in the cache
        return Path(pooch.fetch(entry.relpath, processor=_readable))
    except ValueError as exc:   # pooch's hash mismatch, after its retries
        raise UserError(f"checksum mismatch downloading {entry.relpath} from {url}: {exc}") from None
    except (OSError, requests.RequestException) as exc:   # no network, refused, timed out, no space
        if mirror is not None:   # the user already gave a mirror: it lacks this file
            raise UserError(
                f"missing file {entry.relpath} in the mirror {mirror}, and downloading it from {url} failed "
                f"({type(exc).__name__}); add the file to the mirror (or fix the path) and rerun.") from None
        raise UserError(
            f"could not download {entry.relpath} from {url} ({type(exc).__name__}, {DOWNLOAD_RETRIES} retries); "
            f"without internet, point --data-dir or ${DATA_ENV} at a local mirror.") from None


def _download_all(label: str, entries: list[FileEntry], mirror: Path | None) -> list[Path]:
    """Download `entries` into the cache, with one progress bar (files) for all of them. The bar appears
    after the first file has arrived, so a machine without network sees only the one-line error."""
    from tqdm import tqdm
    paths, bar = [], None
    try:
        for entry in entries:
            paths.append(_download(entry, mirror))
            if bar is None:
                bar = tqdm(total=len(entries), initial=1, desc=f"downloading {label}", unit="file",
                           file=sys.stderr, dynamic_ncols=True)
            else:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return paths


def _local(entry: FileEntry, mirror: Path | None) -> Path | None:
    """The verified file in the mirror, else in the cache; None when neither has it."""
    if mirror is not None and (mirror / entry.relpath).is_file():
        _verify(mirror / entry.relpath, entry)
        return mirror / entry.relpath
    cached = cache_dir() / entry.relpath
    if cached.is_file():
        _verify(cached, entry)
        return cached
    return None


def locate_all(label: str, entries: list[FileEntry], mirror: Path | None, download: bool = True) -> list[Path]:
    """Paths of verified files, in order: the mirror's, else the cache's, else downloaded into the cache."""
    found = [_local(entry, mirror) for entry in entries]
    missing = [entry for entry, path in zip(entries, found) if path is None]
    if missing and not download:
        where = f"{mirror}" if mirror else f"the cache {cache_dir()}"
        raise UserError(f"missing file {missing[0].relpath} in {where}; rerun with downloads enabled or fix the "
                        f"mirror.")
    downloaded = iter(_download_all(label, missing, mirror))
    return [path if path is not None else next(downloaded) for path in found]


def locate(entry: FileEntry, mirror: Path | None, download: bool = True) -> Path:
    """Path of one verified file: the mirror's, else the cache's, else downloaded into the cache."""
    return locate_all(entry.relpath, [entry], mirror, download)[0]


def folder_files(spec: DatasetSpec) -> list[ImageRef]:
    """Every image of a dir:PATH set, by file name (bytes that are not UTF-8 escaped as \\xNN, see
    core/names.py); each file checked readable and no larger than the pixel bound, and hashed for run.json."""
    from redbench.datasets.images import check_image
    folder = Path(spec.folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(f"dataset {spec.name}: no PNG, BMP, TIFF or JPEG images in {folder}; give a folder that "
                        f"holds some.")
    stems: dict[str, Path] = {}
    for path in files:
        stem = printable_name(path.stem)
        if stem in stems:
            raise UserError(f"dataset {spec.name}: two images named '{stem}' ({printable_name(stems[stem].name)}, "
                            f"{printable_name(path.name)}); rename one, since rows are keyed by the name without "
                            f"suffix.")
        stems[stem] = path
        check_image(str(path))
    return [ImageRef(spec.name, stem, str(path), file_sha256(path)) for stem, path in stems.items()]


def dataset_files(name: str, data_dir_option: str | None = None, download: bool = True) -> list[ImageRef]:
    """The images of a dataset, each located and checksum-verified."""
    spec = get_spec(name)
    if spec.folder is not None:
        return folder_files(spec)
    mirror = data_dir(data_dir_option)
    entries = [entry for checksum_file in spec.checksum_files for entry in read_checksums(checksum_file)]
    paths = locate_all(spec.name, entries, mirror, download)
    return [ImageRef(spec.name, entry.stem, str(path), entry.sha256) for entry, path in zip(entries, paths)]


def worker_path(dataset: str, image: str, path: str) -> str:
    """The image file as seen from this process (a cluster worker).

    The parent's path is used when this machine sees it (same machine or shared filesystem;
    the parent already verified its checksum). Otherwise the file is located like the parent
    does, from this process's own $REDBENCH_DATA_DIR or download cache, checksum verified.
    """
    if os.path.isfile(path):
        return path
    return _locate_image(dataset, image)


@lru_cache(maxsize=4096)
def _locate_image(dataset: str, image: str) -> str:
    spec = get_spec(dataset)
    for name in spec.checksum_files:
        for entry in read_checksums(name):
            if entry.stem == image:
                return str(locate(entry, data_dir()))
    where = os.uname().nodename
    if spec.folder is not None:
        raise UserError(f"image '{image}' of {dataset} is not readable on worker {where}; a folder of your own "
                        f"images must be on a filesystem every worker sees at the same path.")
    raise UserError(f"image '{image}' is not in dataset '{dataset}' on worker {where}; "
                    f"the worker's redbench checkout differs from the parent's.")


@dataclass
class FetchReport:
    dataset: str
    files: int = 0
    cached: int = 0       # already in the cache, verified
    copied: int = 0       # copied from the mirror
    downloaded: int = 0


def fill_cache(names: list[str], data_dir_option: str | None = None, progress: bool = True) -> list[FetchReport]:
    """Put every file of `names` into the download cache, verified: copied from the mirror where it has
    them, else downloaded. Run ahead of a cluster run so that workers without the mirror find the files."""
    mirror = data_dir(data_dir_option)
    cache = cache_dir()
    reports = []
    for name in names:
        spec = get_spec(name)
        if spec.folder is not None:
            raise UserError(f"{name} is a folder of your own images; there is nothing to fetch for it.")
        report, pending = FetchReport(spec.name), []
        for checksum_file in spec.checksum_files:
            for entry in read_checksums(checksum_file):
                report.files += 1
                target = cache / entry.relpath
                if target.is_file():
                    _verify(target, entry)
                    report.cached += 1
                    continue
                found = _local(entry, mirror)   # locate's order: the mirror's file, or else downloaded below
                if found is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    copy_atomic(found, target)
                    report.copied += 1
                else:
                    pending.append(entry)
        _download_all(spec.name, pending, mirror)
        report.downloaded = len(pending)
        if progress:
            print(f"{spec.name}: {report.files} files in {cache} ({report.cached} already there, {report.copied} "
                  f"copied from the mirror, {report.downloaded} downloaded)", file=sys.stderr, flush=True)
        reports.append(report)
    return reports

