"""The software version, read from the installed package metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def software_version() -> str:
    try:
        return version("nerasense")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
