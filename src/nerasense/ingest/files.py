"""Opening input files: the checks every reader makes first, and gzip. Imports nothing but our errors."""

from __future__ import annotations

import gzip
from pathlib import Path

from nerasense.errors import InputError, Problem


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(Problem("file", str(path), "a complete gzip file", f"the gzip stream is damaged ({exc})")) from None
    return data


def require_file(path: Path, fmt: str) -> None:
    """Refuse a path that does not exist or is a folder, naming it."""
    if not path.exists():
        raise InputError(Problem("file", str(path), f"an existing {fmt} file", "check the path"))
    if path.is_dir():
        raise InputError(Problem("file", str(path), f"a {fmt} file, not a folder", "name the file itself"))


__all__ = ["read_bytes", "require_file"]
