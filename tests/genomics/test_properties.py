"""Invariants of annotation: row order never matters, and each row's answer depends on that row alone."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.ingest.table import ALTERATION_SCHEMA, conform
from nerasense.interpret.variants import annotate_frame
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge

ALLELES = [("ERBB2", "snv", "p.L755S"), ("ERBB2", "snv", "p.S310F"), ("ERBB2", "indel", "p.Y772_A775dup"),
           ("ERBB2", "snv", "p.T798I"), ("ERBB2", "snv", "p.T862A"), ("ERBB2", "amplification", None),
           ("PIK3CA", "snv", "p.H1047R"), ("KRAS", "snv", "p.G12D"), ("TP53", "snv", "p.R175H"),
           ("FOO1", "snv", "p.A1V"), ("ERBB2", "snv", "p.L755P"), ("PTEN", "deletion", None)]


def _frame(picks: list[int]) -> pl.DataFrame:
    rows = [{"gene": ALLELES[i][0], "kind": ALLELES[i][1], "protein_change": ALLELES[i][2], "line": n}
            for n, i in enumerate(picks)]
    return conform(pl.DataFrame(rows, schema={"gene": pl.String, "kind": pl.String, "protein_change": pl.String,
                                              "line": pl.Int64}), ALTERATION_SCHEMA)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, len(ALLELES) - 1), min_size=1, max_size=30), st.integers(0, 10**6))
def test_annotation_is_order_independent(picks: list[int], seed: int) -> None:
    gk = GenomicsKnowledge(default_knowledge())  # not a fixture: hypothesis would print the whole knowledge base
    frame = _frame(picks)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    a = annotate_frame(frame, gk, parse_protein_change).sort("line")
    b = annotate_frame(shuffled, gk, parse_protein_change).sort("line")
    assert a.equals(b)
    assert a.height == frame.height  # the join never duplicates or drops rows
    singles = [annotate_frame(frame.slice(i, 1), gk, parse_protein_change) for i in range(frame.height)]
    assert pl.concat(singles).sort("line").equals(a)
