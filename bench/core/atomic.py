"""Atomic file replacement: every file redbench writes (rows.csv, tables, run.json, figures, weights,
checkpoints, logs, the download cache) goes through atomic_path.

A reader (or a crash) sees either the old file or the new one, never half of one. The temp
file gets a unique name in the target's folder, so two processes writing the same target
at once cannot take each other's temp file; the last rename wins with a complete file.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back
    mask = os.umask(0)
    os.umask(mask)
    return mask


def normal_mode(path: str | Path) -> None:
    """Give a file the mode a plain open() would have (0666 less the umask).

    mkstemp and safetensors create files 0600, which would hide results and weights from
    the other users of a shared folder."""
    os.chmod(path, 0o666 & ~_umask())


@contextmanager
def atomic_path(path: str | Path):
    """Yields a temp path beside `path` to write to; on success it replaces `path` with normal permissions."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        normal_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def copy_atomic(source: str | Path, target: str | Path) -> Path:
    """Copy a file so that `target` is at every moment either absent, the old file or the whole copy."""
    import shutil
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return Path(target)
