"""Every name a stats/report module exports exists, and importing them does no work (no pyplot, no R)."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "nerasense.stats.response",
    "nerasense.stats.designs",
    "nerasense.stats.survival",
    "nerasense.stats.cutpoint",
    "nerasense.stats.recist",
    "nerasense.stats.irecist",
    "nerasense.stats.subgroups",
    "nerasense.stats.adverse",
    "nerasense.stats.tables",
    "nerasense.report.figures",
    "nerasense.report.cohort",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    mod = importlib.import_module(name)
    assert mod.__all__, name
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, missing


def test_stats_layer_imports_only_allowed_nerasense_modules() -> None:
    """design.md: stats/ may import only nerasense.domain and nerasense.errors (and nerasense.safe_io, the
    checked-input module below every layer)."""
    import ast
    from pathlib import Path

    root = Path(importlib.import_module("nerasense.stats").__file__).parent  # type: ignore[arg-type]
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nerasense"):
                allowed = ("nerasense.errors", "nerasense.domain", "nerasense.stats", "nerasense.safe_io")
                assert node.module.startswith(allowed), f"{path.name} imports {node.module}"
