"""run.json: what a run needs to be reproduced (versions, commit, seeds, data and weights checksums)."""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from redbench.core.atomic import write_text_atomic
from redbench.core.environment import git_state, machine, package_versions
from redbench.core.names import printable_name


def dataset_digest(refs) -> dict:
    """One sha256 over the sorted per-file checksums identifies the exact image set."""
    shas = sorted(f"{r.name}:{r.sha256 or 'unverified'}" for r in refs)
    return {"images": len(shas), "sha256": hashlib.sha256("\n".join(shas).encode()).hexdigest(),
            "verified": all(r.sha256 for r in refs)}


def dataset_record(spec, refs) -> dict:
    """run.json's entry for one dataset: the digest, and for a folder of the user's own images (dir:PATH,
    which has no checksum list) the folder and every file's sha256."""
    record = dataset_digest(refs)
    if spec.folder is not None:
        record.update(folder=spec.folder, files={r.name: {"file": printable_name(Path(r.path).name), "sha256": r.sha256}
                                                 for r in refs})
    return record


def write_run_json(path: Path, config: dict, datasets: dict, weights: dict, totals: dict, argv: list[str],
                   keep_existing: bool = False, command: str = "redbench eval", device: dict | None = None) -> None:
    record = {
        "command": f"{command} {' '.join(argv)}".rstrip(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": config,
        "git": git_state(),
        "packages": package_versions(),
        "machine": machine(),
        "device": device or {"networks_on": "cpu"},
        "datasets": datasets,
        "weights": weights,
        "totals": totals,
    }
    if not (keep_existing and path.exists()):
        write_text_atomic(path, json.dumps(record, indent=2, default=str) + "\n")
    # run.json is the latest run; runs.jsonl keeps every run that wrote into this folder. One write() of
    # one line in append mode: runs finishing together add whole lines, never interleaved ones
    line = (json.dumps(record, default=str) + "\n").encode()
    fd = os.open(path.with_name("runs.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
