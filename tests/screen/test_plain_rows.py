"""The plain-row reader (``read_maf_text_plain``, the screen's fast path) against the annotate reader
(``read_maf_text``) on hostile and edge rows, the fixture cohort and TCGA MC3: the same accepted rows (every
ALTERATION_SCHEMA column), the same refused lines and reasons, the same notes. Each case also says where its
row must go (accepted as a plain row, finished by the annotate reader's last step, or the whole text read by
the annotate reader), so a rule that silently sends everything one way fails here."""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest

from nerasense.ingest.maf import PlainRead, read_maf_text, read_maf_text_plain
from nerasense.ingest.table import ALTERATION_SCHEMA, AlterationTable
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.screen.engines import run_local
from nerasense.screen.inputs import plan
from nerasense.screen.partition import Options
from tests.screen.conftest import MC3, ROWS, maf_text, need

COLUMNS = ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Reference_Allele", "Tumor_Seq_Allele1",
           "Tumor_Seq_Allele2", "Variant_Classification", "Variant_Type", "Tumor_Sample_Barcode", "HGVSp_Short",
           "t_depth", "t_ref_count", "t_alt_count", "NCBI_Build", "Cohort"]
GOOD = {"Hugo_Symbol": "ERBB2", "Chromosome": "17", "Start_Position": "37880220", "End_Position": "37880220",
        "Reference_Allele": "T", "Tumor_Seq_Allele1": "T", "Tumor_Seq_Allele2": "C",
        "Variant_Classification": "Missense_Mutation", "Variant_Type": "SNP", "Tumor_Sample_Barcode": "S1",
        "HGVSp_Short": "p.L755S", "t_depth": "100", "t_ref_count": "80", "t_alt_count": "20", "NCBI_Build": "GRCh37",
        "Cohort": "BRCA"}
KRAS_G12D = {"Hugo_Symbol": "KRAS", "Chromosome": "12", "Start_Position": "25398284", "End_Position": "25398284",
             "Reference_Allele": "C", "Tumor_Seq_Allele1": "C", "Tumor_Seq_Allele2": "T", "HGVSp_Short": "p.G12D"}

PLAIN, REST, TEXT = "plain", "rest", "text"  # where the case's row goes
# (case, changes to the good row or a raw line, where it goes)
CASES: list[tuple[str, dict[str, str] | str, str]] = [
    ("good row", {}, PLAIN),
    ("second gene, other sample", {"Hugo_Symbol": "TP53", "HGVSp_Short": "p.R175H", "Tumor_Sample_Barcode": "S2"},
     PLAIN),
    ("chr prefix", {"Chromosome": "chr17"}, PLAIN),
    ("allele 2 equals the reference: allele 1 is the tumour allele", {"Tumor_Seq_Allele1": "C",
                                                                      "Tumor_Seq_Allele2": "T"}, PLAIN),
    ("deletion with '-'", {"Reference_Allele": "T", "Tumor_Seq_Allele2": "-", "Variant_Type": "DEL",
                           "HGVSp_Short": "p.L755fs"}, PLAIN),
    ("no depth", {"t_depth": "", "t_ref_count": "", "t_alt_count": ""}, PLAIN),
    ("empty symbol", {"Hugo_Symbol": ""}, REST),
    ("symbol 'Unknown'", {"Hugo_Symbol": "Unknown"}, REST),
    ("symbol in lower case (renamed)", {"Hugo_Symbol": "erbb2"}, REST),
    ("symbol with orf (not plain upper case)", {"Hugo_Symbol": "C10orf90", "HGVSp_Short": "p.R10C"}, REST),
    ("alias symbol", {"Hugo_Symbol": "HER2"}, REST),
    ("symbol with a space", {"Hugo_Symbol": "ERB B2"}, REST),
    ("symbol with a leading space", {"Hugo_Symbol": " ERBB2"}, REST),
    ("empty sample", {"Tumor_Sample_Barcode": ""}, REST),
    ("reference allele not DNA", {"Reference_Allele": "X"}, REST),
    ("reference allele in lower case", {"Reference_Allele": "t", "Tumor_Seq_Allele1": "t"}, REST),
    ("tumour allele not DNA", {"Tumor_Seq_Allele2": "Missense"}, REST),
    ("long deletion (allele checked by regex)", {"Reference_Allele": "TTGACCC", "End_Position": "37880226",
                                                 "Tumor_Seq_Allele2": "-", "Variant_Type": "DEL",
                                                 "HGVSp_Short": "p.L755_T757del"}, REST),
    ("span does not match the reference", {"End_Position": "37880225"}, REST),
    ("no protein change, no locus", {"HGVSp_Short": "", "Reference_Allele": ""}, REST),
    ("change '.' at a hotspot locus (filled from the locus)", {**KRAS_G12D, "HGVSp_Short": "."}, REST),
    ("change 'Promoter'", {"HGVSp_Short": "Promoter"}, REST),
    ("change without p.", {"HGVSp_Short": "L755S"}, REST),
    ("change in three-letter form", {"HGVSp_Short": "p.Leu755Ser"}, REST),
    ("change that does not parse", {"HGVSp_Short": "p.XYZ"}, REST),
    ("change 'NA'", {"HGVSp_Short": "NA"}, REST),
    ("change with a trailing space", {"HGVSp_Short": "p.L755S "}, REST),
    ("synonymous change", {"HGVSp_Short": "p.L755="}, REST),
    ("in-frame insertion range", {"HGVSp_Short": "p.A775_G776insYVMA", "Variant_Type": "INS",
                                  "Reference_Allele": "-", "Tumor_Seq_Allele2": "TATGTAATGGCA"}, REST),
    ("alt count over depth", {"t_alt_count": "200"}, REST),
    ("Variant_Type Consolidated (kind from the alleles)", {"Variant_Type": "Consolidated"}, REST),
    ("Variant_Type empty (kind from the alleles)", {"Variant_Type": ""}, REST),
    ("start not an integer", {"Start_Position": "37880220a"}, TEXT),
    ("depth 'NA'", {"t_depth": "NA"}, TEXT),
    ("depth '.'", {"t_depth": "."}, TEXT),
    ("Variant_Type not a Variant_Type (shifted columns?)", {"Variant_Type": "C"}, TEXT),
    ("empty last field (each line's tabs counted)", {"Cohort": ""}, PLAIN),
    ("truncated line", "ERBB2\t17\t37880220", TEXT),
    ("truncated line that keeps all but its last field", "TRUNCATED", TEXT),
    ("line with an extra field", "EXTRA", TEXT),
    ("blank line", "", TEXT),
    ("non-ASCII value", {"Cohort": "Sjögren"}, TEXT),
    ("carriage return", "CR", TEXT),
]
# a wide MAF (GENIE's have dozens of columns the checks never read): the reader parses only the columns it
# needs and finds a line with too many fields by counting tabs
WIDE = [*COLUMNS[:-1], *(f"Extra_{i}" for i in range(20)), COLUMNS[-1]]
WIDTHS = {"narrow": COLUMNS, "wide": WIDE}


def _line(change: dict[str, str] | str, columns: list[str] = COLUMNS) -> str:
    values = {**GOOD, **dict.fromkeys(WIDE[len(COLUMNS) - 1:-1], "x")}
    whole = "\t".join(values[c] for c in columns)
    if change == "EXTRA":
        return whole + "\textra"
    if change == "CR":
        return whole + "\r"
    if change == "TRUNCATED":
        return whole.rsplit("\t", 1)[0]
    return change if isinstance(change, str) else "\t".join({**values, **change}[c] for c in columns)


def _text(line: str, comments: str = "", columns: list[str] = COLUMNS) -> bytes:
    other = _line({"Hugo_Symbol": "KRAS", **KRAS_G12D, "Tumor_Sample_Barcode": "S9"}, columns)
    return (comments + "\t".join(columns) + "\n" + "\n".join([other, line, other]) + "\n").encode()


def _accepted(read: PlainRead) -> pl.DataFrame:
    """The plain rows as the annotate reader writes accepted rows, with the rest's accepted rows, in line order."""
    plain = read.passed.filter(read.plain).with_columns(pl.col("raw_change").alias("protein_change"),
                                                        pl.lit(None, dtype=pl.String).alias("legacy_name"))
    columns = [pl.col(k).cast(v) for k, v in ALTERATION_SCHEMA.items()]
    return pl.concat([plain.select(columns), read.rest.frame.select(columns)]).sort("line")


def _both(text: bytes, gk: GenomicsKnowledge, **kw: bytes) -> tuple[AlterationTable, PlainRead | None, list[str],
                                                                     list[str]]:
    with warnings.catch_warnings(record=True) as full_warnings:
        warnings.simplefilter("always")
        full = read_maf_text(text, "x.maf", gk)
    with warnings.catch_warnings(record=True) as plain_warnings:
        warnings.simplefilter("always")
        plain = read_maf_text_plain(kw.get("body", text), "x.maf", gk, header=kw.get("header", b""))
    return full, plain, [str(w.message) for w in full_warnings], [str(w.message) for w in plain_warnings]


def assert_same(full: AlterationTable, plain: PlainRead, full_warnings: list[str], plain_warnings: list[str]) -> None:
    assert plain.input_records == full.input_records
    assert _accepted(plain).equals(full.frame.sort("line")), "accepted rows differ"
    assert plain.rest.rejected.equals(full.rejected), "refused rows or reasons differ"
    assert plain.rest.notes == full.notes
    assert plain_warnings == full_warnings


def test_every_kind_of_case_is_there() -> None:
    """The table holds rows of each destination, and no case twice."""
    assert {where for _, _, where in CASES} == {PLAIN, REST, TEXT}
    assert len({name for name, _, _ in CASES}) == len(CASES)
    assert len({_line(change) for _, change, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize(("case", "change", "where"), CASES, ids=[c[0] for c in CASES])
def test_plain_reader_equals_annotate_reader(case: str, change: dict[str, str] | str, where: str, width: str,
                                             gk: GenomicsKnowledge) -> None:
    columns = WIDTHS[width]
    text = _text(_line(change, columns), columns=columns)
    full, plain, full_warnings, plain_warnings = _both(text, gk)
    if where == TEXT:
        assert plain is None, f"{case}: the text should go to the annotate reader"
        return
    assert plain is not None, f"{case}: the plain-row reader refused the text"
    assert_same(full, plain, full_warnings, plain_warnings)
    # the case's row is the second data row (line 3); the first and last rows are plain KRAS rows
    plain_lines = plain.passed.filter(plain.plain)["line"].to_list()
    assert (3 in plain_lines) == (where == PLAIN), f"{case}: the row should be {where}"
    assert {2, 4} <= set(plain_lines)
    # the same text cut after its header (a later part of a file) gives the same rows, the same line numbers
    header, _, body = text.partition(b"\n")
    later = read_maf_text_plain(body, "x.maf", gk, header=header + b"\n")
    assert later is not None
    assert _accepted(later).equals(_accepted(plain))
    assert later.rest.rejected.equals(plain.rest.rejected)
    assert (plain.line_ends, later.line_ends) == (text.count(b"\n"), body.count(b"\n"))


def test_comment_lines_above_the_header(gk: GenomicsKnowledge) -> None:
    text = _text(_line({"HGVSp_Short": "p.XYZ"}), comments="#version gdc-1.0.0\n#another\n")
    full, plain, fw, pw = _both(text, gk)
    assert plain is not None
    assert_same(full, plain, fw, pw)
    assert full.rejected["record"].to_list() == ["x.maf:5"]


def test_fixture_rows(gk: GenomicsKnowledge) -> None:
    """The fixture cohort's rows (many times over, with a truncated line: the annotate reader's case)."""
    clean = maf_text(ROWS * 30).encode()
    full, plain, fw, pw = _both(clean, gk)
    assert plain is not None and int(plain.plain.sum()) == len(ROWS) * 30
    assert_same(full, plain, fw, pw)
    assert read_maf_text_plain(maf_text(ROWS * 30, damaged=17).encode(), "x.maf", gk) is None


def test_mc3_as_maf_text(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    """TCGA MC3 (707,427 rows) written as MAF text: the plain-row reader and the annotate reader agree on every
    row, in parts as the screen cuts them, and the screen's engines give the same result whichever reads."""
    frame = pl.read_parquet(need(MC3))
    path = tmp_path / "mc3.maf"
    frame.write_csv(path, separator="\t", quote_style="never")
    parts = plan([str(path)], chunk_bytes=24 << 20).parts
    assert len(parts) >= 3
    plain_rows = rest_rows = 0
    for part in parts:
        with open(part.path, "rb") as fh:
            fh.seek(part.start)
            body = fh.read(part.stop - part.start)
        full, plain, fw, pw = _both(part.header + body, gk, body=body, header=part.header)
        assert plain is not None
        assert_same(full, plain, fw, pw)
        plain_rows += int(plain.plain.sum())
        rest_rows += plain.rest.frame.height + plain.rest.rejected.height
    assert plain_rows + rest_rows == frame.height
    assert plain_rows > 0.9 * frame.height  # the fast path takes nearly every row of a real MAF


def test_screen_with_and_without_the_plain_reader(gk: GenomicsKnowledge, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole screen of a cut MAF with hostile rows: the same part results when every part goes through the
    annotate reader."""
    import nerasense.screen.partition as partition

    lines = [_line(change) for _, change, where in CASES if where != TEXT] * 3
    path = tmp_path / "hostile.maf"
    path.write_text("\t".join(COLUMNS) + "\n" + "\n".join(lines) + "\n")
    parts = plan([str(path)], chunk_bytes=2000).parts
    assert len(parts) > 3
    fast = run_local(parts, gk, Options(tumour_column="Cohort"))
    monkeypatch.setattr(partition, "read_maf_text_plain", lambda *a, **k: None)
    slow = run_local(parts, gk, Options(tumour_column="Cohort"))
    for a, b in zip(fast, slow, strict=True):
        assert (a.input_records, a.accepted, a.newlines, a.notes, a.warnings) == \
            (b.input_records, b.accepted, b.newlines, b.notes, b.warnings)
        assert a.candidates.equals(b.candidates)
        assert a.keys.sort().equals(b.keys.sort())
        assert a.rejected.equals(b.rejected)
        assert a.samples.equals(b.samples)
        assert a.tumours.equals(b.tumours)


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_short_and_long_lines_that_balance_the_tab_count(width: str, gk: GenomicsKnowledge) -> None:
    """A truncated line and a line with an extra field add up to the right number of tabs; with an empty last value
    elsewhere the per-line count must still send the text to the annotate reader."""
    columns = WIDTHS[width]
    lines = [_line({"Cohort": ""}, columns), _line("TRUNCATED", columns), _line("EXTRA", columns)]
    text = ("\t".join(columns) + "\n" + "\n".join(lines) + "\n").encode()
    assert text.count(b"\t") == (len(columns) - 1) * 4
    assert read_maf_text_plain(text, "x.maf", gk) is None
