"""The columnar fast paths give exactly what the slow, reference paths give."""

from __future__ import annotations

import csv
import mmap
from pathlib import Path

import polars as pl
import pytest
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


@pytest.mark.parametrize("body", [
    b"ERBB2\tS1\tp.L755S\t5\nKRAS\tS2\t\t7\n",  # every last field filled: proven without counting tabs
    b"ERBB2\tS1\tp.L755S\t5\nKRAS\tS2\t\t\n",  # an empty last field: the tab count decides
    b"ERBB2\tS1\tp.L755S\t5\nKRAS\tS2\t7\n",  # a short line: its last field is null, the tab count refuses
    b"ERBB2\tS1\tp.L755S\t5\nKRAS\tS2\tp.G12D\t7\t9\nTP53\tS3\tp.R175H\n",  # one long and one short line
], ids=["filled", "empty-last", "short", "long-and-short"])
@pytest.mark.parametrize("preamble", [b"", b"#version gdc-1.0.0\n"], ids=["plain", "comment"])
def test_mapped_file_read_equals_line_split(tmp_path: Path, body: bytes, preamble: bytes) -> None:
    header = ["Hugo_Symbol", "Tumor_Sample_Barcode", "HGVSp_Short", "t_alt_count"]
    path = tmp_path / "m.maf"
    path.write_bytes(preamble + b"\t".join(h.encode() for h in header) + b"\n" + body)
    data = path.read_bytes()
    comments = preamble.count(b"\n")
    offset = data.index(b"\n", len(preamble)) + 1
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        fast = _rows(mapped, offset, header, comments, path=path)
    slow = _rows(data, offset, header, comments, fast=False)
    assert fast.select(slow.columns).equals(slow)
