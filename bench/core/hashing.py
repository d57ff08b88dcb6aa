"""sha256 digests of files and bytes: dataset files, weights, archives all use these."""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file; remembered per (path, inode, size, mtime), so a file read again by the same process
    is not hashed twice, and a file replaced or rewritten is hashed afresh."""
    st = os.stat(path)
    return _file_sha256(os.path.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=4096)
def _file_sha256(path: str, inode: int, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
