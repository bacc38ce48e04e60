"""Shared pieces of the command modules."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from typing import Any

from nerasense._version import software_version
from nerasense.errors import NerasenseError


class UsageError(NerasenseError):
    """The command line itself is wrong (unknown option, missing argument)."""


@dataclass
class CommandResult:
    """What a command hands back to :func:`nerasense.cli.main` to print."""

    payload: dict[str, Any]
    text: str = ""
    warnings: list[str] = field(default_factory=list)
    exit_code: int = 0


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def stamp(payload: dict[str, Any], kb_version: str | None = None) -> dict[str, Any]:
    """Add the software version (and the knowledge version where knowledge was used)."""
    out = {"software_version": software_version()}
    if kb_version is not None:
        out["kb_version"] = kb_version
    out.update(payload)
    return out


def nonnegative_int(text: str) -> int:
    """An argparse type: an integer >= 0 (a count, a number of days)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; allowed: an integer >= 0")
    return value


def seed(text: str) -> int:
    """An argparse type: a random seed, 0 to 2**32 - 1 (numpy's range)."""
    value = nonnegative_int(text)
    if value > 2**32 - 1:
        raise argparse.ArgumentTypeError(f"{text!r} is too large; allowed: 0 to {2**32 - 1}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: a finite number > 0")
    return value
