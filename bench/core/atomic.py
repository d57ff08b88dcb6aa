"""Atomic file replacement: every file redbench writes (rows.csv, tables, run.json, figures, weights,
checkpoints, logs, the download cache) goes through atomic_path.

A reader (or a crash) sees either the old file or the new one, never half of one. The temp
file gets a unique name in the target's folder, so two processes writing the same target
at once cannot take each other's temp file; the last rename wins with a complete file.

The temp name says who wrote it, `.NAME.<host>.<pid>.<random>.tmp` (temp_prefix), so that a run
starting in a folder can remove what a killed run left there (remove_stale_temps) without ever
taking the temp file of a run still writing.
"""
from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path

# what temp_prefix + mkstemp make: .NAME.<host>.<pid>.<random>.tmp (mkstemp's random part: letters, digits, _)
TEMP_NAME = re.compile(r"\.(?P<target>.+)\.(?P<host>[0-9a-f]{8})\.(?P<pid>[0-9]{1,10})\.[a-z0-9_]+\.tmp", re.DOTALL)


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path.name), suffix=".tmp")
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


MACHINE_ID = Path("/etc/machine-id")   # systemd's per-installation id; absent on macOS and some containers


@cache
def host_tag() -> str:
    """8 hex digits naming the process table a pid in a temp name belongs to: the host name, /etc/machine-id where
    it is readable and, on Linux, the pid namespace. The initial pid namespace has the same inode on every Linux
    host, so the namespace alone tells containers apart, not machines; the machine id tells apart two machines
    that share a host name (a cluster's --out folder). A live writer's temp on another machine or in another
    container is then never taken for a dead one because its pid is free here."""
    place = socket.gethostname()
    try:
        place += f"/{MACHINE_ID.read_text(encoding='ascii').strip()}"
    except (OSError, UnicodeDecodeError):
        pass   # no machine id: the host name (and namespace) alone
    try:
        place += f"/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        pass   # no /proc (macOS): the host name alone
    return hashlib.sha256(place.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def temp_prefix(name: str, pid: int | None = None) -> str:
    """The start of a temp file's name for target `name`, written by process `pid` (this one by default)."""
    return f".{name}.{host_tag()}.{os.getpid() if pid is None else pid}."


def pid_alive(pid: int) -> bool:
    """False only when no process `pid` exists on this host (POSIX): anything else counts as alive."""
    if os.name != "posix" or pid <= 0:   # on Windows os.kill would end the process, not probe it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):   # PermissionError: another user's live process
        return True
    return True


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Remove, from `folder` (not its subfolders), the temp files of atomic writes whose writer is certainly gone:
    a regular file named as temp_prefix names them, by this host, with a pid no process has now. A killed run
    (SIGKILL, power loss) leaves them behind; a run still writing keeps its own, so runs sharing a folder never
    take each other's. Older names without a pid are left alone. Returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:   # no folder yet, or not readable: nothing to clean, and the run's own checks speak
        return removed
    for entry in entries:
        found = TEMP_NAME.fullmatch(entry.name)
        if not found or found["host"] != host_tag() or pid_alive(int(found["pid"])):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
        except OSError:   # removed by another run cleaning at the same moment, or not ours to remove
            continue
        removed.append(Path(entry.path))
    return removed
