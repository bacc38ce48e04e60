"""The genomic knowledge files: provenance, counts, consistency of the rules with the reference tags."""

from __future__ import annotations

import csv
import itertools
from collections import Counter

import pytest

from nerasense.domain.alterations import Effect
from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.knowledge.genomics import GenomicsKnowledge, read_hotspot_tsv
from nerasense.knowledge.genomics_schema import Verification

from .conftest import HOTSPOTS37, need_shared


def test_every_rule_change_and_alias_is_normalised(gk: GenomicsKnowledge) -> None:
    for rules in gk.rules.values():
        for rule in rules:
            for change in rule.match.protein_changes or []:
                assert parse_protein_change(change).text == change, rule.id
    for alias in gk.variant_aliases.values():
        assert parse_protein_change(alias.hgvs).text == alias.hgvs
        assert parse_protein_change(alias.legacy).text == alias.legacy


def test_erbb2_topology_tiles_the_precursor(gk: GenomicsKnowledge) -> None:
    regions = gk.regions["ERBB2"]
    tiles = sorted((r for r in regions if r.level in {"topology", "domain"} and r.name in {
        "signal peptide", "extracellular", "transmembrane helix", "cytoplasmic"}), key=lambda r: r.start)
    assert [r.start for r in tiles] == [1, 23, 653, 676]
    assert all(a.end + 1 == b.start for a, b in itertools.pairwise(tiles))
    assert tiles[-1].end == 1255
    exon20 = next(r for r in regions if r.level == "exon")
    assert (exon20.start, exon20.end, exon20.exon) == (770, 831, 20)
    tags = {r.id: r.verification for r in regions}
    assert tags["erbb2-transmembrane"] is Verification.V and tags["erbb2-kinase"] is Verification.U


def test_unverified_rules_never_set_an_effect(gk: GenomicsKnowledge) -> None:
    from nerasense.domain.alterations import AlterationKind
    from nerasense.interpret.variants import interpret_parts

    for rules in gk.rules.values():
        for rule in rules:
            if rule.unverified and rule.match.protein_changes:
                for change in rule.match.protein_changes:
                    vi = interpret_parts(rule.gene, AlterationKind.SNV, parse_protein_change(change), gk)
                    callers = [r for r in gk.rules[rule.gene]
                               if r.id in vi.rules and not r.unverified and gk.effect_of(r) is not None]
                    if not callers:
                        assert vi.effect is Effect.UNKNOWN, change
                    if not any(r.oncogenicity for r in gk.rules[rule.gene] if r.id in vi.rules and not r.unverified):
                        assert vi.oncogenicity.value == "unknown", change
                    assert any(rule.id in u for u in vi.unverified)


def test_hotspot_subset_matches_its_provenance(gk: GenomicsKnowledge) -> None:
    (table,) = gk.hotspot_tables
    rows = read_hotspot_tsv(gk.kb.data_dir / table.file)
    assert len(rows) == table.rows == 322
    assert dict(Counter(r.gene for r in rows)) == table.counts
    assert {"chang2018", "mayakonda2018"} <= set(table.sources)


@pytest.mark.shared_data
def test_hotspot_subset_agrees_with_the_shared_table() -> None:
    """Oracle: the derived rows are exactly the shared file's rows for the six genes (counted with awk in the report)."""
    need_shared(HOTSPOTS37)
    lines = HOTSPOTS37.read_text().splitlines()
    wanted = {"ERBB2", "ERBB3", "PIK3CA", "AKT1", "KRAS", "BRAF"}
    src = Counter(f[4] for f in csv.reader(lines, delimiter="\t") if f[4] in wanted)
    assert src == Counter({"PIK3CA": 140, "BRAF": 53, "KRAS": 44, "ERBB2": 40, "ERBB3": 35, "AKT1": 10})


def test_gene_aliases(gk: GenomicsKnowledge) -> None:
    assert gk.symbol("her2") == "ERBB2" and gk.symbol("HER3") == "ERBB3" and gk.symbol("tp53") == "TP53"


def test_symbols_keep_hgnc_case(gk: GenomicsKnowledge) -> None:
    """Regression: C1orf112 must not become C1ORF112 (HGNC orf symbols keep lower case)."""
    assert gk.symbol("C1orf112") == "C1orf112" and gk.symbol(" erbb2 ") == "ERBB2" and gk.symbol("Her2") == "ERBB2"


def _answers_for_every_knowledge_case(gk: GenomicsKnowledge) -> list:
    """interpret_parts on every rule's changes and codons, every region's ends and both sides of each, every
    kind, plus the uncurated answers (with and without a pathway entry, synonymous, hotspot)."""
    from nerasense.domain.alterations import AlterationKind
    from nerasense.interpret.variants import _templated_genes, _uncurated_answer, interpret_parts

    cases: list = []
    for gene, rules in gk.rules.items():
        for rule in rules:
            for change in rule.match.protein_changes or []:
                cases.append((gene, AlterationKind.SNV, parse_protein_change(change)))
            if rule.match.codon is not None:
                cases.append((gene, AlterationKind.SNV, parse_protein_change(f"p.A{rule.match.codon}V")))
    for gene, regions in gk.regions.items():
        for region in regions:
            for position in (region.start - 1, region.start, region.end, region.end + 1):
                if position >= 1:
                    cases.append((gene, AlterationKind.SNV, parse_protein_change(f"p.A{position}V")))
                    cases.append((gene, AlterationKind.INDEL, parse_protein_change(f"p.A{position}del")))
    for gene in sorted(set(gk.rules) | set(gk.regions) | set(gk.pathway_genes) | {"NOTAGENE"}):
        for kind in AlterationKind:
            cases.append((gene, kind, None))
    answers = [interpret_parts(g, k, c, gk) for g, k, c in cases]
    for gene in [None, *_templated_genes(gk)]:
        for synonymous, known, hotspot in itertools.product((False, True), repeat=3):
            answers.append(_uncurated_answer(gk, synonymous, known, hotspot, gene))
    return answers


def test_interpretations_built_without_validation_equal_validated_ones(gk: GenomicsKnowledge) -> None:
    """interpret_parts sets its model's fields directly (skipping pydantic's validation pass): each answer
    must be the model pydantic would build from the same values, field for field and in JSON."""
    from nerasense.domain.alterations import VariantInterpretation

    answers = _answers_for_every_knowledge_case(gk)
    assert len(answers) > 200
    for built in answers:
        validated = VariantInterpretation.model_validate(built.model_dump())
        assert built == validated and built.model_dump_json() == validated.model_dump_json()
        assert built.model_fields_set == validated.model_fields_set == set(VariantInterpretation.model_fields)
        assert list(built.__dict__) == list(VariantInterpretation.model_fields)
