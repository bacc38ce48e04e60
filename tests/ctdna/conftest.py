"""Helpers for the ctDNA tests: read a hand-made series and interpret it with warnings recorded."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from nerasense.domain.ctdna import CtdnaSeries
from nerasense.errors import NerasenseWarning

DATA = Path(__file__).resolve().parents[1] / "data" / "ctdna"


def read(name: str, tissue: str | None = None, assessments: str | None = None) -> dict[str, CtdnaSeries]:
    from nerasense.ingest.ctdna import read_ctdna_series

    return read_ctdna_series(
        DATA / name,
        tissue=DATA / tissue if tissue else None,
        assessments=DATA / assessments if assessments else None,
    )


def interpret(series: CtdnaSeries, **kwargs: Any) -> tuple[dict[str, Any], list[str]]:
    """The findings as a dict, and the NerasenseWarnings raised while producing them."""
    from nerasense.interpret.ctdna import interpret_ctdna

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = interpret_ctdna(series, **kwargs).to_dict()
    others = [w for w in caught if not issubclass(w.category, NerasenseWarning)]
    assert not others, [str(w.message) for w in others]
    return d, [str(w.message) for w in caught]


def response(d: dict[str, Any], definition: str) -> dict[str, Any]:
    return next(m for m in d["molecular_response"] if m["definition"] == definition)


def flag_ids(d: dict[str, Any]) -> set[str]:
    return {f["id"] for f in d["flags"]}


@pytest.fixture()
def data_dir() -> Path:
    return DATA
