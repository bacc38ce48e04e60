"""Opening input files: the checks every genomic reader makes first, and gzip. Imports only our errors and
:mod:`nerasense.safe_io`."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from nerasense.errors import InputError, Problem
from nerasense.safe_io import Limits, check_input, limits

_HEAD = 65536


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    require_file(path, "input")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(Problem("file", str(path), "a complete gzip file", f"the gzip stream is damaged ({exc})")) from None
    return data


def read_head(path: Path, size: int = _HEAD) -> bytes:
    """The first ``size`` bytes of the file (gunzipped when it is gzip): format guessing needs no more."""
    require_file(path, "input")
    with path.open("rb") as fh:
        head = fh.read(size)
    if head[:2] != b"\x1f\x8b":
        return head
    try:
        with gzip.open(path, "rb") as gz:
            return gz.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(Problem("file", str(path), "a complete gzip file", f"the gzip stream is damaged ({exc})")) from None


def require_file(path: Path, fmt: str) -> None:
    """Refuse a path that does not exist, is not a regular file (folder, FIFO, device) or is over the size limit."""
    check_input(path, fmt, limit_mb=limits().genomic_mb, limit_var=Limits.ENV["genomic_mb"])


__all__ = ["read_bytes", "read_head", "require_file"]
