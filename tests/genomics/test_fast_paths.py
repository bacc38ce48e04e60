"""The columnar fast paths give exactly what the slow, reference paths give."""

from __future__ import annotations

import csv

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from nerasense.domain.alterations import AlterationKind
from nerasense.errors import InputError
from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.ingest.maf import _rows
from nerasense.ingest.table import ALTERATION_SCHEMA, attach_changes, conform
from nerasense.interpret.variants import ANNOTATION_COLUMNS, annotate_frame, interpret_parts
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge

from .conftest import DATA

FORMS = [r["input"] for r in csv.DictReader(
    (ln for ln in (DATA / "hgvs_protein_forms.tsv").read_text().splitlines() if not ln.startswith("#")), delimiter="\t")]


def _reference(text: str) -> str | None:
    try:
        return parse_protein_change(text).text
    except InputError:
        return None


def _check(gk: GenomicsKnowledge, texts: list[str]) -> None:
    frame = pl.DataFrame({"gene": ["TP53"] * len(texts), "raw_change": texts})
    got = attach_changes(frame, gk)
    assert got.height == len(texts)
    for text, change, error in got.select("raw_change", "protein_change", "change_error").iter_rows():
        ref = _reference(text) if text else None
        assert change == ref, text
        assert (error is not None) == (ref is None and bool(text)), text


def test_attach_changes_matches_parser_on_every_form(gk: GenomicsKnowledge) -> None:
    _check(gk, FORMS)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.from_regex(r"p\.[ACDEFGHIKLMNPQRSTVWY*X][0-9]{1,4}(_[A-Z][0-9]{1,4})?(del|dup|fs\*[0-9]|[A-Z*=]|_splice)?",
                              fullmatch=True), min_size=1, max_size=20))
def test_attach_changes_matches_parser_on_generated_strings(texts: list[str]) -> None:
    _check(GenomicsKnowledge(default_knowledge()), texts)


def test_uncurated_genes_by_expression_equal_interpret_parts(gk: GenomicsKnowledge) -> None:
    cases = [("FOO1", "snv", "p.A12V"), ("TNFRSF14", "snv", "p.C111Y"), ("BRCA2", "snv", "p.V2466="),
             ("FOO1", "amplification", None), ("FOO1", "indel", "p.E5_K7del")]
    extra = frozenset({("TNFRSF14", "p.C111Y")})
    gk2 = GenomicsKnowledge(gk.kb, extra_hotspots=extra)
    frame = conform(pl.DataFrame(cases, schema=["gene", "kind", "protein_change"], orient="row"), ALTERATION_SCHEMA)
    got = annotate_frame(frame, gk2, parse_protein_change)
    for row in got.iter_rows(named=True):
        change = parse_protein_change(row["protein_change"]) if row["protein_change"] else None
        vi = interpret_parts(row["gene"], AlterationKind(row["kind"]), change, gk2).model_dump(mode="json")
        assert {c: row[c] for c in ANNOTATION_COLUMNS} == {c: vi[c] for c in ANNOTATION_COLUMNS}, row["gene"]


def test_strict_polars_read_equals_line_split() -> None:
    header = ["Hugo_Symbol", "Tumor_Sample_Barcode", "HGVSp_Short", "t_alt_count"]
    body = b"ERBB2\tS1\tp.L755S\t5\nKRAS\tS2\t\t7\n\nTP53\tS3\tp.R175H\t\n"
    data = b"\t".join(h.encode() for h in header) + b"\n" + body
    offset = data.index(b"\n") + 1
    fast, slow = _rows(data, offset, header, 0), _rows(data, offset, header, 0, fast=False)
    assert fast.select(slow.columns).equals(slow)
    assert fast["line_no"].to_list() == [2, 3, 4, 5]
