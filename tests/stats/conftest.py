"""Shared helpers for the statistics tests: R golden files and the lifelines-shipped datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).parents[1] / "reference"
SHARED_DATA = Path(__file__).parents[2] / ".." / "shared" / "data"


def golden(name: str) -> Any:
    """Values printed by ``tests/reference/<name>.R`` (committed; R is never needed at test time)."""
    return json.loads((REFERENCE / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def datasets() -> dict[str, Any]:
    import lifelines.datasets as d

    return {"gbsg2": d.load_gbsg2(), "rossi": d.load_rossi(), "lung": d.load_lung()}
