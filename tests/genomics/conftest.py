"""Fixtures for the genomics tests: the knowledge look-ups, the shared real data and small inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
DATA = REPO / "tests" / "data" / "genomics"
SUMMIT_MAF = SHARED / "summit-biliary" / "data_mutations_extended.txt"
SUMMIT_CNA = SHARED / "summit-biliary" / "data_CNA.tsv"
HOTSPOTS37 = SHARED / "cancerhotspots" / "cancerhotspots_v2_GRCh37.tsv"


def need_shared(path: Path) -> Path:
    """Skip (with the reason) when the shared real data are not beside the checkout."""
    if not path.is_file():
        pytest.skip(f"{path} is absent: the shared data folder ../shared/data is not beside this checkout")
    return path


@pytest.fixture(scope="session")
def gk() -> GenomicsKnowledge:
    return GenomicsKnowledge(default_knowledge())
