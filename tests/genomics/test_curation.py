"""Completeness of the ERBB2/ERBB3 curation (issue 16): every cancerhotspots allele and every allele the functional
and clinical studies name has a curated entry with a source, in the oncogenicity / mutation-effect vocabulary."""

from __future__ import annotations

import csv

import pytest

from nerasense.domain.alterations import AlterationKind, ClassificationLevel, Oncogenicity
from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.interpret.variants import interpret_parts
from nerasense.knowledge.genomics import GenomicsKnowledge, read_hotspot_tsv

from .conftest import DATA, HOTSPOTS37, need_shared

CURATED_GENES = ("ERBB2", "ERBB3")
STUDY_ALLELES = list(csv.DictReader((ln for ln in (DATA / "study_alleles.tsv").read_text().splitlines()
                                     if not ln.startswith("#")), delimiter="\t"))


def _bundled_alleles(gk: GenomicsKnowledge) -> list[tuple[str, str]]:
    rows = []
    for table in gk.hotspot_tables:
        rows += read_hotspot_tsv(gk.kb.data_dir / table.file)
    return sorted({(r.gene, r.protein_change) for r in rows if r.gene in CURATED_GENES})


def test_every_bundled_hotspot_allele_of_erbb2_and_erbb3_is_classified(gk: GenomicsKnowledge) -> None:
    alleles = _bundled_alleles(gk)
    assert len(alleles) == 37 + 33  # distinct alleles of 40 and 35 rows (Y772_A775dup, G778_P780dup, V104L, F219L repeat)
    missing = []
    for gene, change in alleles:
        vi = interpret_parts(gene, AlterationKind.SNV, parse_protein_change(change), gk)
        if vi.oncogenicity is Oncogenicity.UNKNOWN or vi.classification_level is None or not vi.classification_evidence:
            missing.append(f"{gene} {change}")
    assert not missing, f"cancerhotspots alleles without a curated classification: {missing}"


@pytest.mark.shared_data
def test_every_erbb2_erbb3_allele_of_the_full_cancerhotspots_table_is_classified(gk: GenomicsKnowledge) -> None:
    """The same over the shared GRCh37 table itself (column 5 gene, column 7 protein change, as maftools ships it)."""
    need_shared(HOTSPOTS37)
    seen = set()
    for line in HOTSPOTS37.read_text().splitlines():
        f = line.split("\t")
        if f[4] in CURATED_GENES:
            seen.add((f[4], parse_protein_change(f[6]).text))
    assert len(seen) == 70
    unclassified = [f"{g} {c}" for g, c in sorted(seen)
                    if interpret_parts(g, AlterationKind.SNV, parse_protein_change(c), gk).oncogenicity
                    is Oncogenicity.UNKNOWN]
    assert not unclassified


@pytest.mark.parametrize("row", STUDY_ALLELES, ids=[f"{r['gene']}-{r['change']}-{r['source']}" for r in STUDY_ALLELES])
def test_every_allele_named_in_the_studies_has_an_entry_citing_the_study(gk: GenomicsKnowledge,
                                                                          row: dict[str, str]) -> None:
    change = parse_protein_change(row["change"])
    vi = interpret_parts(row["gene"], AlterationKind.SNV, change, gk)
    entries = [r for r in gk.rules[row["gene"]] if r.id in vi.rules]
    citing = [(r, e) for r in entries for e in r.evidence if e.source == row["source"]]
    assert citing, f"no entry matching {row['change']} cites {row['source']}"
    tags = {e.verification.value for _, e in citing} | {r.verification.value for r, _ in citing}
    if row["tag"] == "U":
        assert "U" in tags  # what was not verified is tagged so, and stays out of the call on its own
    else:
        assert tags - {"U"}, "a verified statement of the study backs the entry"
        assert vi.oncogenicity is not Oncogenicity.UNKNOWN


def test_class_rules_are_marked_class_level_and_allele_rules_allele_level(gk: GenomicsKnowledge) -> None:
    for rules in gk.rules.values():
        for r in rules:
            expected = (ClassificationLevel.CLASS if r.match.codon is not None or r.match.start is not None
                        else ClassificationLevel.ALLELE)
            assert r.level is expected, r.id
    vi = interpret_parts("ERBB2", AlterationKind.SNV, parse_protein_change("p.L755W"), gk)
    assert vi.classification_level is ClassificationLevel.CLASS and vi.lower_benefit
    vi = interpret_parts("ERBB2", AlterationKind.SNV, parse_protein_change("p.L755S"), gk)
    assert vi.classification_level is ClassificationLevel.ALLELE


def test_every_classification_used_by_a_rule_maps_to_a_call(gk: GenomicsKnowledge) -> None:
    """A rule without an explicit effect must have its (oncogenicity, mutation effect) in oncogenicity_effects.yaml."""
    for rules in gk.rules.values():
        for r in rules:
            if r.oncogenicity is not None and r.effect is None:
                assert (r.oncogenicity, r.mutation_effect) in gk.classification_effects, r.id


def test_a_frameshift_at_a_hotspot_codon_is_not_classified_by_the_codon_class(gk: GenomicsKnowledge) -> None:
    """Codon classes hold substitutions only: L755fs keeps the MutHER lower-benefit flag but gets no call."""
    vi = interpret_parts("ERBB2", AlterationKind.INDEL, parse_protein_change("p.L755fs"), gk)
    assert vi.oncogenicity is Oncogenicity.UNKNOWN and vi.effect.value == "unknown" and vi.lower_benefit
