"""The discovery library's public names exist, and importing the package does no work."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MODULES = [
    "nerasense.discovery.data", "nerasense.discovery.screen", "nerasense.discovery.model", "nerasense.discovery.rules",
    "nerasense.discovery.validate", "nerasense.discovery.workflow", "nerasense.discovery.celllines",
    "nerasense.report.discovery", "nerasense.report.discovery_figures",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    mod = importlib.import_module(name)
    assert mod.__all__ and not [n for n in mod.__all__ if not hasattr(mod, n)]


def test_package_names_resolve() -> None:
    import nerasense.discovery as d

    for name in d.__all__:
        assert getattr(d, name) is not None, name


def test_import_loads_no_scikit_learn() -> None:
    code = "import sys, nerasense.discovery, nerasense.cli; assert 'sklearn' not in sys.modules and 'sksurv' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
