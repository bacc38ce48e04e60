"""Fixtures for the reads-to-calls tests: the shipped ngs-panel data and one run of `nerasense call` per case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA

PANEL = SHARED_DATA / "ngs-panel"


def _need_tools() -> None:
    missing = [t for t in ("bwa", "samtools") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not on PATH (Debian packages; .ci/run installs them in CI)")


@pytest.fixture(scope="session")
def panel() -> Path:
    if not PANEL.is_dir():
        pytest.skip(f"real data folder {PANEL} is absent (it sits beside the checkout in CI)")
    _need_tools()
    return PANEL


def run_call(args: list[str], out: Path) -> dict[str, Any]:
    from nerasense.cli import main

    code = main(["call", *args, "-o", str(out)])
    assert code == 0
    return json.loads((out / "call.json").read_text())


@pytest.fixture(scope="session")
def seracare(panel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("seracare")
    return run_call([str(panel / "seracare_ctdna_5pct_duplex.bam"), "--reference", str(panel / "grch37_panel_windows.fa"),
                     "--targets", str(panel / "msk_access_v1_probe_a.grch37.bed")], out), out


@pytest.fixture(scope="session")
def giab(panel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("giab")
    return run_call([str(panel / "giab_normal_R1.fastq.gz"), str(panel / "giab_normal_R2.fastq.gz"),
                     "--reference", str(panel / "grch37_panel_windows.fa")], out), out


@pytest.fixture(scope="session")
def tumour_normal(panel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("tumour_normal")  # --realign: the BAM's reads aligned again, to the windows
    return run_call([str(panel / "seracare_ctdna_5pct_duplex.bam"), "--realign",
                     "--reference", str(panel / "grch37_panel_windows.fa"),
                     "--normal", str(panel / "giab_normal_R1.fastq.gz"), str(panel / "giab_normal_R2.fastq.gz")], out), out
