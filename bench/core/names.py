"""Names that come from the file system or the command line, made safe to record and to use in file names.

A POSIX file name is bytes. Python carries bytes that are not UTF-8 as lone surrogates (PEP 383), which
SQLite, JSON-as-UTF-8 and every text file refuse; printable_name records them as explicit \\xNN escapes.
file_label makes a dataset name part of a file name: unique (a short digest of the exact name where the
name is folded) and far below the 255-byte limit of one file name, however long the folder path.
"""
from __future__ import annotations

import hashlib
import re

LABEL_CHARS = 56       # a folded name longer than this keeps its first 8 and its last characters (the folder's name)
DIGEST_CHARS = 10      # hex digits of sha256 that tell folded names apart


def printable_name(text: str) -> str:
    """`text` with the bytes that are not UTF-8 (surrogate-escaped by os.fsdecode and sys.argv) written as \\xNN;
    valid UTF-8 text is returned as it is."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:   # a surrogate that is not an escaped byte (from JSON, say): written as \\udXXX
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def is_printable(text: str) -> bool:
    """Whether `text` is recorded as it is (it has no bytes that are not UTF-8)."""
    return printable_name(text) == text


def is_network_name(name: str) -> bool:
    """Whether `name` can name a network: it becomes <name>.safetensors, .json, .csv and a folder, so plain
    characters and far below the 255-byte limit of a file name (train --name, a plan's network names)."""
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,119}", name) is not None


NETWORK_NAME_RULE = "letters, digits and ._+- (at most 120, not starting with . + or -)"


def file_label(name: str) -> str:
    """`name` as part of a file name: a plain name ('set12', 'bsd200-half') as it is; anything else folded to
    [A-Za-z0-9._-], shortened to LABEL_CHARS and followed by a digest of the exact name, so two names that fold
    alike ('dir:/x/col a', 'dir:/x/col_a') or a long path give distinct labels of at most 67 characters."""
    if re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", name):
        return name
    folded = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")
    if len(folded) > LABEL_CHARS:
        folded = f"{folded[:8]}_{folded[-(LABEL_CHARS - 9):]}"
    return f"{folded}_{hashlib.sha256(printable_name(name).encode()).hexdigest()[:DIGEST_CHARS]}"
