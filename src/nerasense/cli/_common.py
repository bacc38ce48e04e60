"""Shared pieces of the command modules."""

from __future__ import annotations

import argparse
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
