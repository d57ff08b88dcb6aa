"""Start-up checks of user input shared by evaluation and training.

Each failure is one UserError line naming the problem and the fix, raised before any work
starts (a bad --out used to fail only after the first restoration, with a raw OSError)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from .errors import UserError


def check_out_dir(path: str | Path, flag: str = "--out") -> Path:
    """Create the output folder if needed and prove it writable by writing a file there."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {path} is an existing file, not a folder: choose another {flag} or move the "
                        f"file away.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        # os.access is not enough: root ignores mode bits, and read-only mounts or ACLs deny anyway
        with tempfile.TemporaryFile(dir=path):
            pass
    except FileExistsError:
        raise UserError(f"{flag} {path}: a part of the path is a file, not a folder; choose another {flag}.") from None
    except NotADirectoryError:
        raise UserError(f"{flag} {path}: a part of the path is a file, not a folder; choose another {flag}.") from None
    except OSError as exc:
        raise UserError(f"{flag} {path} is not writable ({exc.strerror or exc}); choose a folder you can write "
                        f"to or fix its permissions.") from None
    return path
