"""Start-up checks of user input shared by evaluation and training.

Each failure is one UserError line naming the problem and the fix, raised before any work
starts (a bad --out used to fail only after the first restoration, with a raw OSError)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from redbench.core.errors import UserError


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


# SQLite stores integers as signed 64-bit: a larger seed would fail at the first stored row
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


def check_number(flag: str, value, minimum=None, maximum=None, integer: bool = False, fix: str = "",
                 positive: bool = False) -> None:
    """A numeric option: a number (an integer where `integer`), finite, within [minimum, maximum] (and > 0 where
    `positive`); else one line naming the flag, the value and the allowed range. None (not given) passes."""
    import math
    if value is None:
        return
    kind = "an integer" if integer else "a number"
    number = not isinstance(value, bool) and isinstance(value, int if integer else (int, float))
    if not (number and math.isfinite(value) and (minimum is None or value >= minimum)
            and (maximum is None or value <= maximum) and (not positive or value > 0)):
        if positive:
            allowed = f"positive ({kind}{f' <= {maximum}' if maximum is not None else ''})"
        elif minimum is not None and maximum is not None:
            allowed = f"{kind} from {minimum} to {maximum}"
        elif minimum is not None:
            allowed = f"{kind} >= {minimum}"
        else:
            allowed = f"{kind} <= {maximum}" if maximum is not None else f"{kind}, finite"
        raise UserError(f"{flag} must be {allowed}, got {value!r}" + (f"; {fix}" if fix else "") + ".")


def parse_list(flag: str, text: str | None, notes: list[str] | None = None) -> list[str] | None:
    """A comma-separated option: None when not given (the caller's default applies), else its entries with
    duplicates dropped (a note in `notes` says so). Given but empty (`--methods ''`, `--datasets ,`) is an
    error: falling back to the defaults would start a different, possibly hours-long, run."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise UserError(f"{flag} {text!r} names nothing; give a comma-separated list, or leave {flag} out for the "
                        f"default.")
    return dedupe(flag, names, notes)


def dedupe(flag: str, values: list, notes: list[str] | None = None) -> list:
    """`values` without repeats, in order; a note names each repeat (it would compute the same rows twice)."""
    kept = list(dict.fromkeys(values))
    if len(kept) < len(values) and notes is not None:
        repeated = [v for v in kept if values.count(v) > 1]
        notes.append(f"note: {flag} lists {', '.join(f'{v:g}' if isinstance(v, float) else str(v) for v in repeated)} "
                     f"more than once; each is used once.")
    return kept
