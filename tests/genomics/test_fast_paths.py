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
from nerasense.ingest.maf import INTEGER_COLUMNS, _rows
from nerasense.ingest.table import ALTERATION_SCHEMA, attach_changes, conform
from nerasense.interpret.variants import ANNOTATION_COLUMNS, annotate_frame, interpret_parts
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge

from .conftest import DATA, need_shared

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
}


def _both(path: Path, gk: GenomicsKnowledge) -> tuple:
    from nerasense.ingest.maf import read_maf

    return read_maf(path, gk), read_maf(path, gk, quick=False)


def _same(quick: object, careful: object) -> None:
    for attr in ("input_records", "flavour", "notes", "not_alterations"):
        assert getattr(quick, attr) == getattr(careful, attr), attr
    assert quick.frame.equals(careful.frame)  # type: ignore[attr-defined]
    assert quick.rejected.equals(careful.rejected)  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", sorted(_MAF_ROWS))
def test_one_pass_read_equals_careful_read_row_by_row(case: str, gk: GenomicsKnowledge, tmp_path: Path) -> None:
    path = tmp_path / "m.maf"
    path.write_text(f"{_MAF_HEADER}\n{_MAF_ROWS['clean']}\n{_MAF_ROWS[case]}\n")
    _same(*_both(path, gk))


@pytest.mark.parametrize("preamble", ["", "#version gdc-1.0.0\n#annotation.spec gdc-1.0.1\n"], ids=["plain", "gdc"])
@pytest.mark.parametrize("packed", [False, True], ids=["text", "gzip"])
def test_one_pass_read_equals_careful_read_on_every_case(preamble: str, packed: bool, gk: GenomicsKnowledge,
                                                         tmp_path: Path) -> None:
    import gzip

    text = preamble + _MAF_HEADER + "\n" + "\n".join(_MAF_ROWS[k] for k in sorted(_MAF_ROWS)) + "\n"
    path = tmp_path / ("m.maf.gz" if packed else "m.maf")
    path.write_bytes(gzip.compress(text.encode()) if packed else text.encode())
    quick, careful = _both(path, gk)
    _same(quick, careful)
    assert quick.accounted and quick.input_records == len(_MAF_ROWS)
    assert quick.rejected.height == 10  # the ten damaged rows above, each with its own reason


def test_one_pass_read_answers_clean_files_itself(gk: GenomicsKnowledge, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean file never reaches the careful path (its line splitter is made to fail here)."""
    from nerasense.ingest import maf

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the careful path was used")

    monkeypatch.setattr(maf, "_rows", refuse)
    path = tmp_path / "m.maf"
    path.write_text(f"{_MAF_HEADER}\n" + "\n".join(_MAF_ROWS.values()) + "\n")
    table = maf.read_maf(path, gk)
    assert table.accounted and table.input_records == len(_MAF_ROWS)


@pytest.mark.parametrize("damage", [
    "ERBB2\t17\t37880220",  # a short line
    _MAF_ROWS["clean"] + "\textra",  # a long line
    _MAF_ROWS["clean"].replace("37880220\t37880220", "37880220\tabc"),  # End_Position not an integer
])
def test_damaged_files_take_the_careful_path(damage: str, gk: GenomicsKnowledge, tmp_path: Path) -> None:
    path = tmp_path / "m.maf"
    path.write_text(f"{_MAF_HEADER}\n{_MAF_ROWS['clean']}\n{damage}\n")
    quick, careful = _both(path, gk)
    _same(quick, careful)
    assert quick.rejected.height == 1 and quick.accounted


def test_one_pass_read_equals_careful_read_on_mc3(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    """20,000 real TCGA MC3 calls (every ERBB2 call among them) read both ways."""
    from .conftest import SHARED

    mc3 = need_shared(SHARED / "tcga-mc3" / "mc3_nonsilent.parquet")
    calls = pl.read_parquet(mc3)
    sample = pl.concat([calls.filter(pl.col("Hugo_Symbol") == "ERBB2"), calls.sample(20_000, seed=3)])
    sample = sample.with_columns(pl.col("Reference_Allele").alias("Tumor_Seq_Allele1")).drop("Cohort", strict=False)
    path = tmp_path / "mc3.maf"
    sample.write_csv(path, separator="\t", quote_style="never", null_value="")
    quick, careful = _both(path, gk)
    _same(quick, careful)
    assert quick.accounted and quick.frame.filter(pl.col("gene") == "ERBB2").height > 100
