"""The weights id '<name>@<digest>': what made a row, in the results store, run.json and the model cards.

A trained network's id is its weights name and the sha256 of its file (`red30-denoise-s30@<64 hex>`); a
classical method's is '<name>-params@<16 hex>', a digest of its parameters. Every place that builds, splits
or shortens such an id goes through here, so the format lives in one place.
"""
from __future__ import annotations

SEPARATOR = "@"
PARAMS_SUFFIX = "-params"   # a classical method's name part: its parameters, nothing trained
SHORT_DIGITS = 12   # enough to tell two networks apart in a caption


def format_weights_id(name: str, digest: str) -> str:
    """'name@digest'."""
    return f"{name}{SEPARATOR}{digest}"


def parse_weights_id(text) -> tuple[str, str]:
    """(name, digest) of 'name@digest'; text without '@' (an id not recorded as one) is (text, '')."""
    name, separator, digest = str(text).rpartition(SEPARATOR)
    return (name, digest) if separator else (str(text), "")


def weights_name(text) -> str:
    """The name part of a weights id: the model card it names, for a network."""
    return parse_weights_id(text)[0]


def short_weights_id(text) -> str:
    """'name@' and the first SHORT_DIGITS hex digits of the digest; anything else unchanged."""
    name, digest = parse_weights_id(text)
    return format_weights_id(name, digest[:SHORT_DIGITS]) if digest else str(text)


def is_parameter_digest(text) -> bool:
    """Whether a weights id is a classical method's parameter digest ('<name>-params@...'), not a network's."""
    return weights_name(text).endswith(PARAMS_SUFFIX)
