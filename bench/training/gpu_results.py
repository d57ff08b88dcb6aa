"""What a GPU campaign sends back: weights, cards and logs packed into a few archives, and unpacked here.

The device machine returns at most 8 files of at most 16 MiB each, 64 MiB in all; `pack` groups each
network's weights and card into tar files under that size (fp16 weights barely compress) plus one
compressed archive of logs and the summary, and refuses to produce more than the limits allow.
`unpack` checks every weights file against its card's sha256 before it copies it into place.
"""
from __future__ import annotations

import json
import re
import tarfile
import time
from pathlib import Path

from redbench.core.atomic import atomic_path
from redbench.core.errors import UserError
from redbench.core.hashing import bytes_sha256
from redbench.methods import weights as weights_io

MAX_FILES, MAX_FILE_BYTES, MAX_TOTAL_BYTES = 8, 16 * 2**20, 64 * 2**20
ARCHIVE_ROOM = MAX_FILE_BYTES - 2**20   # tar headers and padding
ROWS_PREFIX = "rows/"                   # logs.tar.gz: rows/<results folder>/rows.csv, evaluated by the call
ROWS_FOLDER = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")


def pack(weights_dir: Path, logs: list[Path], extra: list[Path], results: Path,
         skip: frozenset[str] = frozenset(), rows: list[tuple[str, Path]] = ()) -> list[Path]:
    """weights-<n>.tar (each network's .safetensors + .json together) and logs.tar.gz, in `results`;
    the networks named in `skip` (seeded from the repository, not trained here) stay behind. `rows`:
    (results folder such as 'reproduce/denoise', its rows.csv) evaluated by the call, packed with the logs."""
    results.mkdir(parents=True, exist_ok=True)
    groups: list[list[Path]] = [[]]
    size = 0
    for card in sorted(weights_dir.glob("*.json")):
        if card.stem in skip:
            continue
        files = [card.with_suffix(".safetensors"), card]
        group_size = sum(f.stat().st_size for f in files if f.exists())
        if groups[-1] and size + group_size > ARCHIVE_ROOM:
            groups.append([])
            size = 0
        groups[-1].extend(f for f in files if f.exists())
        size += group_size
    archives = []
    for index, group in enumerate(g for g in groups if g):
        path = results / f"weights-{index + 1}.tar"
        with atomic_path(path) as tmp, tarfile.open(tmp, "w") as tar:
            for file in group:
                tar.add(file, arcname=file.name)
        archives.append(path)
    path = results / "logs.tar.gz"
    with atomic_path(path) as tmp, tarfile.open(tmp, "w:gz") as tar:
        for log in logs:
            tar.add(log, arcname=f"logs/{log.parent.name}.csv" if log.name == "log.csv" else f"logs/{log.name}")
        for file in extra:
            if file.exists():
                tar.add(file, arcname=file.name)
        for folder, file in rows:
            if not ROWS_FOLDER.fullmatch(folder):
                raise UserError(f"results folder '{folder}' cannot travel: use names of letters, digits, - and _.")
            tar.add(file, arcname=f"{ROWS_PREFIX}{folder}/rows.csv")
    archives.append(path)
    check_limits(archives)
    return archives


def check_limits(archives: list[Path]) -> None:
    sizes = {a.name: a.stat().st_size for a in archives}
    if len(sizes) > MAX_FILES or any(s > MAX_FILE_BYTES for s in sizes.values()) or sum(sizes.values()) > MAX_TOTAL_BYTES:
        raise UserError(f"the archives exceed what the device returns ({MAX_FILES} files of 16 MiB, 64 MiB in all): "
                        + ", ".join(f"{n} {s / 2**20:.1f} MiB" for n, s in sizes.items())
                        + "; train fewer networks per call (--only) or store weights as float16.")


# What each archive may hold, by member name; anything else (a traversal path such as logs/.., an absolute path, a
# link, a folder, another name) refuses the whole archive before anything is installed
WEIGHTS_MEMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\.(safetensors|json)")
LOG_MEMBER = re.compile(r"logs/[A-Za-z0-9][A-Za-z0-9._+-]*\.csv|[A-Za-z0-9][A-Za-z0-9._-]*\.(md|log)")   # + the run's files


def expected_member(archive: Path, name: str) -> bool:
    if archive.name.startswith("weights-"):
        return bool(WEIGHTS_MEMBER.fullmatch(name))
    if name.startswith(ROWS_PREFIX):
        return name.endswith("/rows.csv") and bool(ROWS_FOLDER.fullmatch(name[len(ROWS_PREFIX):-len("/rows.csv")]))
    return bool(LOG_MEMBER.fullmatch(name))


def check_archive(path: Path) -> None:
    """Refuse `path` whole unless every member is a regular file of an expected name and size (members are read
    into memory: each is at most what the device returns)."""
    try:
        with tarfile.open(path) as tar:
            members = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise UserError(f"{path} is not a readable archive ({exc}); copy it again from the device's results.") from None
    for member in members:
        kind = "a regular file" if member.isfile() else "a link" if member.issym() or member.islnk() else "not a file"
        if not member.isfile() or not expected_member(path, member.name) or member.size > MAX_TOTAL_BYTES:
            raise UserError(f"{path.name} holds an unexpected member '{member.name}' ({kind}, {member.size} bytes); "
                            f"nothing was installed from {path.parent}: use the archives the GPU campaign wrote.")


def _members(path: Path):
    """Regular files only, by base name: an archive cannot write outside the target folders."""
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            if member.isfile():
                yield member.name, tar.extractfile(member).read()


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def unpack(results: Path, weights_dir: Path, log_dir: Path, data_dir: str | None = None, device: str = "auto",
           validate=None) -> tuple[list[str], list[str]]:
    """Verified weights and cards into `weights_dir`, logs into `log_dir`; returns (networks unpacked,
    installed networks kept, by training/ship_rule.py: compared with `validate`, default its paired validation
    on the held-out images of `data_dir`, on `device`).
    The log of each network put in place replaces the one of the network it replaces; the logs of the networks
    kept out and the run's own files (summary, train.log, preflight.log) go to `log_dir/runs/<archive time>-<name>`,
    so the installed networks and earlier runs keep theirs."""
    archives = sorted(results.glob("weights-*.tar"))
    if not archives and not (results / "logs.tar.gz").exists():
        raise UserError(f"no weights-*.tar or logs.tar.gz in {results}; give the folder the GPU campaign wrote to.")
    logs = results / "logs.tar.gz"
    for archive in archives + ([logs] if logs.exists() else []):
        check_archive(archive)
    arrived = []   # every network of every archive, checked before the first is installed
    for archive in archives:
        files = dict(_members(archive))
        for name, data in files.items():
            if not name.endswith(".json"):
                continue
            stem = name[:-5]
            blob = files.get(f"{stem}.safetensors")
            if blob is None:
                raise UserError(f"{archive.name} has the card of {stem} but not its weights; rerun the campaign.")
            try:
                card = weights_io.card_from_dict(json.loads(data), f"{archive.name}:{name}")
            except (ValueError, RecursionError) as exc:
                raise UserError(f"{archive.name}:{name} is not a model card ({exc}); the archive is damaged.") from None
            if card.name != stem or bytes_sha256(blob) != card.sha256:
                raise UserError(f"{stem} in {archive.name} does not match its card's name and sha256; the archive is "
                                f"damaged.")
            arrived.append((stem, card, blob, data))
    names, kept = [], []
    for stem, card, blob, data in arrived:
        if (weights_dir / f"{stem}.json").exists():
            decision = _ship_decision(weights_dir / stem, blob, data, data_dir, device, validate)
            print(f"{'shipped' if decision.ships else 'kept the installed'} {stem}: {decision.reason}", flush=True)
            if not decision.ships:
                kept.append(stem)
                continue
        _write(weights_dir / f"{stem}.safetensors", blob)
        _write(weights_dir / f"{stem}.json", data)
        names.append(stem)
    if logs.exists():
        stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(logs.stat().st_mtime))
        for name, data in _members(logs):
            if name.startswith(ROWS_PREFIX):
                continue   # evaluated rows: unpack_rows merges them into the results stores
            installed = name.startswith("logs/") and Path(name).stem not in kept   # beside its network's weights
            _write(log_dir / Path(name).name if installed else log_dir / "runs" / f"{stamp}-{Path(name).name}", data)
    return sorted(names), sorted(kept)


def _ship_decision(installed: Path, blob: bytes, card: bytes, data_dir: str | None, device: str, validate):
    """ship_rule.decide for a network that arrived as bytes: it is compared from a scratch folder."""
    import tempfile

    from redbench.training import ship_rule
    with tempfile.TemporaryDirectory(prefix="redbench-arrived-") as scratch:
        arrived = Path(scratch) / installed.name
        (arrived.parent / f"{installed.name}.safetensors").write_bytes(blob)
        (arrived.parent / f"{installed.name}.json").write_bytes(card)
        return ship_rule.decide(str(installed), str(arrived), data_dir, device, validate)


def unpack_rows(results: Path, results_root: Path) -> dict[str, int]:
    """Merge the rows a GPU call evaluated into the stores under `results_root` (results/): {folder: rows
    added}. A row the store already has stays as it is; each folder's rows.csv is exported afresh."""
    from redbench.evaluation.rows import ResultStore
    logs = results / "logs.tar.gz"
    if not logs.exists():
        return {}
    merged = {}
    for name, data in _members(logs):
        if not name.startswith(ROWS_PREFIX):
            continue
        folder = name[len(ROWS_PREFIX):].removesuffix("/rows.csv")
        if not name.endswith("/rows.csv") or not ROWS_FOLDER.fullmatch(folder):
            raise UserError(f"{logs.name} holds rows under an unexpected name '{name}'; nothing was merged from it.")
        target = results_root / folder
        target.mkdir(parents=True, exist_ok=True)
        store = ResultStore(target)
        try:
            merged[folder] = store.merge_csv(data.decode("utf-8", errors="replace"))
            store.export_csv()
        finally:
            store.close()
    return merged
