"""The columnar fast paths give exactly what the slow, reference paths give; MAF rows read or refused as the format says."""

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
from nerasense.ingest.maf import INTEGER_COLUMNS, _rows
from nerasense.ingest.normal_form import already_normalised, fast_change
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
@given(st.lists(st.from_regex(r"p\.[ACDEFGHIKLMNPQRSTVWY*X][0-9]{1,4}(_[A-Z][0-9]{1,4})?"
                              r"(del|dup|fs\*[0-9?]|[A-Z*=]|_splice|ins[A-Z]{1,3}|delins[A-Z]{1,3}|[A-Z]ext\*[0-9?])?",
                              fullmatch=True), min_size=1, max_size=20))
def test_attach_changes_matches_parser_on_generated_strings(texts: list[str]) -> None:
    _check(GenomicsKnowledge(default_knowledge()), texts)


def test_fast_path_takes_only_strings_the_parser_leaves_unchanged() -> None:
    """Every 1-letter substitution (all 20 x 21 residue pairs, synonymous included) and the other fast forms:
    the fast regex takes a string only when the parser would write it back unchanged."""
    residues = "ACDEFGHIKLMNPQRSTVWY"
    texts = [f"p.{a}12{b}" for a in residues for b in residues + "*"]
    texts += ["p.L755fs", "p.L755Sfs*4", "p.X2151_splice", "p.*12_splice", "p.E746del", "p.A775dup", "p.E746_A750del",
              "p.G776delinsVC", "L755S", "p.Leu755Ser", "p.L755X", "p.L755=", "p.L0S", "p.L755S "]
    frame = pl.DataFrame({"raw_change": texts})
    taken = frame.select(fast_change()).to_series().to_list()
    for text, fast in zip(texts, taken, strict=True):
        if fast:
            assert _reference(text) == text, text
    assert sum(taken) == 20 * 20 + 6  # the 20 synonymous pairs and every non-normalised form go to the parser


_TIER2 = [  # (text, already normalised?) from the HGVS rules the parser applies
    ("p.E79_L81dup", True), ("p.E79_L81del", True), ("p.L81_E79del", False), ("p.E79_L79del", False),
    ("p.A12_G13insYV", True), ("p.A12_G14insYV", False), ("p.R138_D139delinsS", True), ("p.C26delinsGARGG", True),
    ("p.*706Yext*84", True), ("p.*432Sext*?", True), ("p.W339Gfs*?", True), ("p.E79_L81delLRE", False),
    ("p.E079_L81del", False), ("p.A775_G776insYVMA", True), ("p.*12Aext*0", False), ("p.Glu79_Leu81del", False),
]


@pytest.mark.parametrize(("text", "normalised"), _TIER2, ids=[t for t, _ in _TIER2])
def test_second_tier_takes_ranges_the_parser_leaves_unchanged(text: str, normalised: bool) -> None:
    assert already_normalised(pl.Series([text])).item() is normalised
    if normalised:
        assert _reference(text) == text


def test_second_tier_on_every_form() -> None:
    taken = already_normalised(pl.Series(FORMS, dtype=pl.String)).to_list()
    for text, ok in zip(FORMS, taken, strict=True):
        if ok:
            assert _reference(text) == text, text


def test_uncurated_genes_by_expression_equal_interpret_parts(gk: GenomicsKnowledge) -> None:
    cases = [("FOO1", "snv", "p.A12V"), ("TNFRSF14", "snv", "p.C111Y"), ("BRCA2", "snv", "p.V2466="),
             ("FOO1", "amplification", None), ("FOO1", "indel", "p.E5_K7del"),
             # genes with only a pathway entry get per-gene answers: hotspot, synonymous, other, copy number
             ("KRAS", "snv", "p.G12D"), ("KRAS", "snv", "p.G12="), ("KRAS", "snv", "p.A59T"), ("TP53", "snv", "p.R175H"),
             ("TP53", "indel", "p.E5_K7del"), ("TP53", "snv", "p.P72="), ("EGFR", "amplification", None),
             ("BRAF", "snv", "p.V600E"), ("AKT1", "snv", "p.E17K"),
             # genes with rules or regions still go allele by allele
             ("ERBB2", "snv", "p.L755S"), ("PIK3CA", "snv", "p.H1047R"), ("PTEN", "deletion", None)]
    extra = frozenset({("TNFRSF14", "p.C111Y")})
    gk2 = GenomicsKnowledge(gk.kb, extra_hotspots=extra)
    frame = conform(pl.DataFrame(cases, schema=["gene", "kind", "protein_change"], orient="row"), ALTERATION_SCHEMA)
    got = annotate_frame(frame, gk2, parse_protein_change)
    # the cases reach the hotspot branch (KRAS G12D, BRAF V600E, AKT1 E17K are cancerhotspots v2 alleles)
    assert set(got.filter("hotspot")["gene"]) >= {"KRAS", "BRAF", "AKT1", "TNFRSF14"}
    for row in got.iter_rows(named=True):
        change = parse_protein_change(row["protein_change"]) if row["protein_change"] else None
        vi = interpret_parts(row["gene"], AlterationKind(row["kind"]), change, gk2).model_dump(mode="json")
        assert {c: row[c] for c in ANNOTATION_COLUMNS} == {c: vi[c] for c in ANNOTATION_COLUMNS}, row["gene"]


def _integers(frame: pl.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    """The line split keeps text; the strict read, when it was used, parsed the integer columns."""
    return frame.with_columns(pl.col(c).cast(like[c].dtype) for c in INTEGER_COLUMNS if c in frame.columns)


def test_strict_polars_read_equals_line_split() -> None:
    header = ["Hugo_Symbol", "Tumor_Sample_Barcode", "HGVSp_Short", "t_alt_count"]
    body = b"ERBB2\tS1\tp.L755S\t5\nKRAS\tS2\t\t7\n\nTP53\tS3\tp.R175H\t\n"
    data = b"\t".join(h.encode() for h in header) + b"\n" + body
    offset = data.index(b"\n") + 1
    fast, slow = _rows(data, offset, header, 0), _rows(data, offset, header, 0, fast=False)
    assert fast.select(slow.columns).equals(_integers(slow, fast))
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
    assert fast.select(slow.columns).equals(_integers(slow, fast))


# --------------------------------------------------------------------------- the one-pass MAF read

_MAF_HEADER = ("Hugo_Symbol\tChromosome\tStart_Position\tEnd_Position\tReference_Allele\tTumor_Seq_Allele1\t"
               "Tumor_Seq_Allele2\tVariant_Classification\tVariant_Type\tTumor_Sample_Barcode\tHGVSp_Short\t"
               "t_depth\tt_alt_count\tNCBI_Build")
_MAF_ROWS = {
    "clean": "ERBB2\t17\t37880220\t37880220\tT\tT\tC\tMissense_Mutation\tSNP\tS1\tp.L755S\t100\t20\tGRCh37",
    "chr prefix": "KRAS\tchr12\t25398284\t25398284\tC\tC\tT\tMissense_Mutation\tSNP\tS2\tp.G12D\t50\t10\tGRCh37",
    "three-letter": "TP53\t17\t7578406\t7578406\tC\tC\tT\tMissense_Mutation\tSNP\tS3\tp.Arg175His\t80\t40\tGRCh37",
    "bare": "PIK3CA\t3\t178952085\t178952085\tA\tA\tG\tMissense_Mutation\tSNP\tS4\tH1047R\t60\t30\tGRCh37",
    "synonymous 1-letter": "EGFR\t7\t55249063\t55249063\tG\tG\tA\tSilent\tSNP\tS5\tp.Q787Q\t70\t7\tGRCh37",
    "legacy insertion": "ERBB2\t17\t37880981\t37880982\t-\t-\tGCATACGTGATG\tIn_Frame_Ins\tINS\tS6\t"
                        "p.A775_G776insYVMA\t90\t9\tGRCh37",
    "gene alias": "HER2\t17\t37881000\t37881000\tG\tG\tA\tMissense_Mutation\tSNP\tS7\tp.V777L\t40\t4\tGRCh37",
    "lower-case symbol": "erbb2\t17\t37881332\t37881332\tG\tG\tA\tMissense_Mutation\tSNP\tS8\tp.D769Y\t40\t4\tGRCh37",
    "unknown gene": "Unknown\t1\t1000\t1000\tA\tA\tG\tIGR\tSNP\tS9\t\t10\t2\tGRCh37",
    "bad symbol": "ERBB2;KRAS\t17\t1000\t1000\tA\tA\tG\tIGR\tSNP\tS10\t\t10\t2\tGRCh37",
    "no sample": "BRAF\t7\t140453136\t140453136\tA\tA\tT\tMissense_Mutation\tSNP\t\tp.V600E\t10\t2\tGRCh37",
    "bad ref": "BRAF\t7\t140453136\t140453136\tQ\tQ\tT\tMissense_Mutation\tSNP\tS12\tp.V600E\t10\t2\tGRCh37",
    "bad alt": "BRAF\t7\t140453136\t140453136\tA\tA\trs123\tMissense_Mutation\tSNP\tS13\tp.V600E\t10\t2\tGRCh37",
    "span": "BRAF\t7\t140453136\t140453139\tA\tA\tT\tMissense_Mutation\tSNP\tS14\tp.V600E\t10\t2\tGRCh37",
    "bad hgvs": "AKT1\t14\t105246551\t105246551\tC\tC\tT\tMissense_Mutation\tSNP\tS15\tp.E17Kx\t10\t2\tGRCh37",
    "bad hgvs and no sample": "AKT1\t14\t105246551\t105246551\tC\tC\tT\tMissense_Mutation\tSNP\t\tp.Q0K\t10\t2\tGRCh37",
    "nothing": "AKT1\t\t\t\t\t\t\tMissense_Mutation\tSNP\tS17\t\t10\t2\tGRCh37",
    "alt over depth": "AKT1\t14\t105246551\t105246551\tC\tC\tT\tMissense_Mutation\tSNP\tS18\tp.E17K\t10\t20\tGRCh37",
    "no type": "PTEN\t10\t89692905\t89692905\tG\tG\tA\tMissense_Mutation\t\tS19\tp.R130Q\t30\t3\tGRCh37",
    "promoter": "TERT\t5\t1295228\t1295228\tG\tG\tA\t5'Flank\tSNP\tS20\tPromoter\t30\t3\tGRCh37",
    "empty last": "ERBB3\t12\t56478854\t56478854\tG\tG\tT\tMissense_Mutation\tSNP\tS21\tp.V104M\t30\t3\t",
    # two checks failing on one row (the symbol and allele checks run after the pass, on flagged rows only)
    "bad symbol and bad ref": "BR@F\t7\t140453136\t140453136\tQ\tQ\tT\tMissense_Mutation\tSNP\tS22\tp.V600E\t10\t2\t"
                              "GRCh37",
    "hyphen-first symbol": "-BRAF\t7\t140453136\t140453136\tA\tA\tT\tMissense_Mutation\tSNP\tS23\tp.V600E\t10\t2\t"
                           "GRCh37",
    "no sample and bad alt": "BRAF\t7\t140453136\t140453136\tA\tA\trs1\tMissense_Mutation\tSNP\t\tp.V600E\t10\t2\t"
                             "GRCh37",
    "bad ref and bad alt": "BRAF\t7\t140453136\t140453136\tQ\tQ\trs1\tMissense_Mutation\tSNP\tS25\tp.V600E\t10\t2\t"
                           "GRCh37",
    "bad alt and span": "BRAF\t7\t140453136\t140453139\tA\tA\trs1\tMissense_Mutation\tSNP\tS26\tp.V600E\t10\t2\t"
                        "GRCh37",
    "bad ref and bad hgvs": "BRAF\t7\t140453136\t140453136\tQ\tQ\tT\tMissense_Mutation\tSNP\tS27\tp.V600Ex\t10\t2\t"
                            "GRCh37",
    "lower-case alleles": "BRAF\t7\t140453136\t140453136\ta\ta\tt\tMissense_Mutation\tSNP\tS28\tp.V600E\t10\t2\t"
                          "GRCh37",
    "upper-case unknown gene": "UNKNOWN\t1\t1000\t1000\tA\tA\tG\tIGR\tSNP\tS30\t\t10\t2\tGRCh37",
    "unknown gene and no sample": "unknown\t1\t1000\t1000\tA\tA\tG\tIGR\tSNP\t\t\t10\t2\tGRCh37",
    # BRAF V600K: c.1798_1799delinsAA, written on the genome's forward strand (the gene is on the reverse)
    "two-base alleles": "BRAF\t7\t140453136\t140453137\tCA\tCA\tTT\tMissense_Mutation\tDNP\tS29\tp.V600K\t10\t2\t"
                        "GRCh37",
}


# what each row must become, from the MAF specification and HGVS (the reference's exon-20 line for the
# legacy insertion name): (accepted?, gene or reason fragment, protein change)
_EXPECTED = {
    "clean": (True, "ERBB2", "p.L755S"),
    "chr prefix": (True, "KRAS", "p.G12D"),
    "three-letter": (True, "TP53", "p.R175H"),
    "bare": (True, "PIK3CA", "p.H1047R"),
    "synonymous 1-letter": (True, "EGFR", "p.Q787="),
    "legacy insertion": (True, "ERBB2", "p.Y772_A775dup"),  # domain-facts.md: = p.A775_G776insYVMA
    "gene alias": (True, "ERBB2", "p.V777L"),
    "lower-case symbol": (True, "ERBB2", "p.D769Y"),
    "unknown gene": (False, "Hugo_Symbol is 'Unknown'", None),
    "bad symbol": (False, "Hugo_Symbol is not a gene symbol", None),
    "no sample": (False, "Tumor_Sample_Barcode is empty", None),
    "bad ref": (False, "Reference_Allele='Q' is not a DNA allele", None),
    "bad alt": (False, "tumour allele='rs123' is not a DNA allele", None),
    "span": (False, "Reference_Allele length does not match", None),
    "bad hgvs": (False, "HGVSp_Short='p.E17Kx' is not HGVS p.", None),
    "bad hgvs and no sample": (False, "Tumor_Sample_Barcode is empty", None),  # the first failing check names it
    "nothing": (False, "neither a protein change nor chromosome", None),
    "alt over depth": (False, "t_alt_count exceeds the depth", None),
    "no type": (True, "PTEN", "p.R130Q"),
    "promoter": (True, "TERT", None),
    "empty last": (True, "ERBB3", "p.V104M"),
    # the first failing check in Reject order names the row, whichever check runs first
    "bad symbol and bad ref": (False, "Hugo_Symbol is not a gene symbol", None),
    "hyphen-first symbol": (False, "Hugo_Symbol is not a gene symbol", None),
    "no sample and bad alt": (False, "Tumor_Sample_Barcode is empty", None),
    "bad ref and bad alt": (False, "Reference_Allele='Q' is not a DNA allele", None),
    "bad alt and span": (False, "tumour allele='rs1' is not a DNA allele", None),
    "bad ref and bad hgvs": (False, "Reference_Allele='Q' is not a DNA allele", None),
    "upper-case unknown gene": (False, "Hugo_Symbol is 'Unknown'", None),
    "unknown gene and no sample": (False, "Hugo_Symbol is 'Unknown'", None),
    "lower-case alleles": (True, "BRAF", "p.V600E"),  # the MAF specification allows either case
    "two-base alleles": (True, "BRAF", "p.V600K"),
}


@pytest.mark.parametrize("case", sorted(_MAF_ROWS))
def test_each_maf_row_is_read_or_refused_with_its_reason(case: str, gk: GenomicsKnowledge, tmp_path: Path) -> None:
    from nerasense.ingest.maf import read_maf

    path = tmp_path / "m.maf"
    path.write_text(f"{_MAF_HEADER}\n{_MAF_ROWS['clean']}\n{_MAF_ROWS[case]}\n")
    table = read_maf(path, gk)
    assert table.accounted and table.input_records == 2
    accepted, what, change = _EXPECTED[case]
    if accepted:
        row = table.frame.row(-1, named=True)
        assert (row["gene"], row["protein_change"], row["line"]) == (what, change, 3)
    else:
        (reason,) = table.rejected["reason"].to_list()
        assert what in reason and table.rejected["record"].to_list() == ["m.maf:3"]


def test_maf_row_details(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    from nerasense.ingest.maf import read_maf

    path = tmp_path / "m.maf"
    path.write_text(f"{_MAF_HEADER}\n" + "\n".join(_MAF_ROWS[k] for k in ("clean", "chr prefix", "no type", "bare")) + "\n")
    table = read_maf(path, gk)
    rows = {r["gene"]: r for r in table.frame.iter_rows(named=True)}
    assert rows["ERBB2"]["vaf"] == pytest.approx(20 / 100) and rows["ERBB2"]["kind"] == "snv"
    assert rows["KRAS"]["chrom"] == "12"  # 'chr' comes off
    assert rows["PTEN"]["kind"] == "snv"  # no Variant_Type: one base for one base
    assert "m.maf: 1 HGVSp_Short values lack the 'p.' prefix; read as HGVS p." in table.notes  # H1047R


@pytest.mark.parametrize("preamble", ["", "#version gdc-1.0.0\n#annotation.spec gdc-1.0.1\n"], ids=["plain", "gdc"])
@pytest.mark.parametrize("packed", [False, True], ids=["text", "gzip"])
def test_every_case_in_one_file(preamble: str, packed: bool, gk: GenomicsKnowledge, tmp_path: Path) -> None:
    import gzip

    from nerasense.ingest.maf import read_maf

    names = sorted(_MAF_ROWS)
    text = preamble + _MAF_HEADER + "\n" + "\n".join(_MAF_ROWS[k] for k in names) + "\n"
    path = tmp_path / ("m.maf.gz" if packed else "m.maf")
    path.write_bytes(gzip.compress(text.encode()) if packed else text.encode())
    table = read_maf(path, gk)
    first = preamble.count("\n") + 2
    refused = {int(r.split(":")[1]) - first for r in table.rejected["record"].to_list()}
    assert table.accounted and table.input_records == len(names)
    assert {names[i] for i in refused} == {k for k, v in _EXPECTED.items() if not v[0]}
    assert table.frame["protein_change"].to_list() == [_EXPECTED[k][2] for k in names if _EXPECTED[k][0]]


@pytest.mark.parametrize(("damage", "reason"), [
    ("ERBB2\t17\t37880220", "line has 3 fields, the header has 14"),
    (_MAF_ROWS["clean"] + "\textra", "line has 15 fields, the header has 14"),
    (_MAF_ROWS["clean"].replace("37880220\t37880220", "37880220\tabc"), "End_Position='abc' is not an integer"),
    (_MAF_ROWS["clean"].replace("\t100\t20\t", "\t100\t2x\t"), "t_alt_count='2x' is not an integer"),
], ids=["short", "long", "end", "count"])
def test_damaged_lines_are_named(damage: str, reason: str, gk: GenomicsKnowledge, tmp_path: Path) -> None:
    from nerasense.ingest.maf import read_maf

    path = tmp_path / "m.maf"
    path.write_text(f"{_MAF_HEADER}\n{_MAF_ROWS['clean']}\n{damage}\n")
    table = read_maf(path, gk)
    assert table.accounted and table.frame.height == 1
    (record, text), = table.rejected.select("record", "reason").rows()
    assert record == "m.maf:3" and text.startswith(reason)


def test_missing_counts_are_read_as_missing(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    """'NA' and '.' where a count would go mean unknown: the row is kept with no depth."""
    from nerasense.ingest.maf import read_maf

    path = tmp_path / "m.maf"
    rows = [_MAF_ROWS["clean"].replace("\t100\t20\t", f"\t{v}\t{v}\t") for v in ("NA", ".")]
    path.write_text(f"{_MAF_HEADER}\n" + "\n".join(rows) + "\n")
    table = read_maf(path, gk)
    assert table.rejected.height == 0 and table.frame["depth"].to_list() == [None, None]


def test_empty_last_fields_are_proven_complete_not_refused(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    """A last column left empty on every line (NCBI_Build here) is not a short line: the tab count proves it."""
    from nerasense.ingest.maf import read_maf

    row = _MAF_ROWS["clean"].rsplit("\t", 1)[0] + "\t"
    path = tmp_path / "m.maf"
    path.write_text(f"{_MAF_HEADER}\n{row}\n{row}\n")
    table = read_maf(path, gk)
    assert table.accounted and table.frame.height == 2 and table.rejected.height == 0
    assert table.frame["genome_build"].to_list() == [None, None]
