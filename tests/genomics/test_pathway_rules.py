"""Pathway genes the engine reads (issue 16, part 2): classification of PIK3CA, AKT1, TP53, PTEN, CDKN2A and EGFR
alterations, table-driven from tests/data/genomics/pathway_alleles.tsv, and completeness over the hotspot table."""

from __future__ import annotations

import csv

import pytest

from nerasense.domain.alterations import Oncogenicity
from nerasense.ingest.variant_text import alteration_from_text
from nerasense.interpret.variants import interpret
from nerasense.knowledge.genomics import GenomicsKnowledge, read_hotspot_tsv

from .conftest import DATA

ROWS = list(csv.DictReader((ln for ln in (DATA / "pathway_alleles.tsv").read_text().splitlines()
                            if not ln.startswith("#")), delimiter="\t"))


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['gene']}-{r['change']}" for r in ROWS])
def test_pathway_alteration_is_classified_as_its_source_says(gk: GenomicsKnowledge, row: dict[str, str]) -> None:
    alteration, _ = alteration_from_text(row["gene"], row["change"], gk)
    vi = interpret(alteration, gk)
    assert (vi.effect.value, vi.oncogenicity.value, vi.mutation_effect.value) == (
        row["effect"], row["oncogenicity"], row["mutation_effect"])
    assert (vi.classification_level.value if vi.classification_level else "") == row["level"]


def test_every_bundled_pik3ca_and_akt1_hotspot_allele_is_classified(gk: GenomicsKnowledge) -> None:
    missing = []
    for table in gk.hotspot_tables:
        for r in read_hotspot_tsv(gk.kb.data_dir / table.file):
            if r.gene in ("PIK3CA", "AKT1"):
                alteration, _ = alteration_from_text(r.gene, r.protein_change, gk)
                if interpret(alteration, gk).oncogenicity is Oncogenicity.UNKNOWN:
                    missing.append(f"{r.gene} {r.protein_change}")
    assert not missing


def test_the_therascreen_list_is_reported_but_never_sets_a_call(gk: GenomicsKnowledge) -> None:
    """The 11-allele list is unverified (a laboratory counts 10): C420R keeps its hotspot classification."""
    alteration, _ = alteration_from_text("PIK3CA", "C420R", gk)
    vi = interpret(alteration, gk)
    assert any(u.startswith("pik3ca-therascreen") and "[U]" in u for u in vi.unverified)
    assert vi.oncogenicity is Oncogenicity.LIKELY_ONCOGENIC and vi.effect.value == "unknown"
