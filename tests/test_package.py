"""Public surface, layering and import-time behaviour."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nerasense

SRC = Path(nerasense.__file__).parent

# design.md: which of our layers each layer may import.
ALLOWED = {
    "domain": {"domain", "errors"},
    "knowledge": {"knowledge", "domain", "errors"},
    "ingest": {"ingest", "domain", "knowledge", "errors"},
    "interpret": {"interpret", "domain", "knowledge", "errors"},
    "engine": {"engine", "domain", "knowledge", "interpret", "errors"},
    "stats": {"stats", "domain", "errors"},
    "screen": {"screen", "ingest", "interpret", "engine", "stats", "domain", "knowledge", "errors"},
    "discovery": {"discovery", "stats", "knowledge", "interpret", "domain", "errors"},
    "calling": {"calling", "domain", "knowledge", "stats", "errors"},
}
# modules below every layer: the version and small polars helpers (they import nothing of ours), and safe_io
# (checked input and atomic output; it imports only errors)
SHARED = {"_version", "_frames", "safe_io"}
SHARED_MAY_IMPORT = {"safe_io": {"nerasense.errors"}}


def test_exported_members() -> None:
    assert set(nerasense.__all__) == {
        "AnalysisError", "InputError", "KnowledgeError", "NerasenseError", "NerasenseWarning",
        "UnverifiedKnowledgeWarning", "__version__",
    }
    for name in nerasense.__all__:
        assert hasattr(nerasense, name)


def test_one_exception_root() -> None:
    for name in ("AnalysisError", "InputError", "KnowledgeError"):
        assert issubclass(getattr(nerasense, name), nerasense.NerasenseError)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_downward_only(layer: str) -> None:
    folder = SRC / layer
    if not folder.is_dir():
        pytest.skip(f"layer {layer} not built yet")
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nerasense."):
                target = node.module.split(".")[1]
                assert target in ALLOWED[layer] | SHARED, f"{path}: imports {node.module}"


def test_shared_modules_import_nothing_of_ours() -> None:
    for name in SHARED - {"_version"}:
        tree = ast.parse((SRC / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module not in SHARED_MAY_IMPORT.get(name, set()):
                assert not (node.module or "").startswith("nerasense"), f"{name}: imports {node.module}"


def test_import_reads_no_knowledge() -> None:
    code = (
        "import nerasense, nerasense.cli, nerasense.knowledge.loader as l; "
        "assert l.default_knowledge.cache_info().currsize == 0"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _imports(path: Path, top_level_only: bool) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


def test_service_and_cli_keep_apart() -> None:
    """design.md: service/ never imports cli/; cli/ reaches service/ only inside the handlers of the commands
    that run it (serve, users, audit), never at import."""
    for path in (SRC / "service").rglob("*.py"):
        assert not [m for m in _imports(path, False) if m.startswith("nerasense.cli")], path
    for path in (SRC / "cli").rglob("*.py"):
        assert not [m for m in _imports(path, True) if m.startswith("nerasense.service")], path
        if path.stem not in ("serve", "users", "audit"):
            assert not [m for m in _imports(path, False) if m.startswith("nerasense.service")], path


def test_service_import_is_cheap() -> None:
    code = ("import sys, nerasense.service; "
            "assert not [m for m in ('fastapi', 'sqlalchemy', 'nerasense.service.app') if m in sys.modules]")
    subprocess.run([sys.executable, "-c", code], check=True)
