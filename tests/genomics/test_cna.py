"""Copy-number tables: matrix (cBioPortal discrete / GISTIC) and long layouts, with damaged cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerasense.errors import InputError
from nerasense.ingest.cna import read_cna


def test_cbioportal_matrix(tmp_path: Path) -> None:
    path = tmp_path / "data_CNA.txt"
    path.write_text("Hugo_Symbol\tEntrez_Gene_Id\tS1\tS2\tS3\n"
                    "ERBB2\t2064\t2\t0\tNA\n"
                    "PTEN\t5728\t-2\t-1\t1\n"
                    "EGFR\t1956\t7\t0\t0\n"
                    "KRAS\t3845\t0\n")
    table = read_cna(path)
    assert table.flavour == "matrix" and table.input_records == 12 and table.accounted
    got = {(r["gene"], r["sample"]): r["kind"] for r in table.frame.iter_rows(named=True)}
    assert got == {("ERBB2", "S1"): "amplification", ("PTEN", "S1"): "deletion", ("PTEN", "S2"): "loss",
                   ("PTEN", "S3"): "gain"}
    reasons = dict(table.rejected.select("record", "reason").iter_rows())
    assert "CNA='7' is not a call" in reasons["data_CNA.txt:4:S1"]
    assert "line has 3 fields, the header has 5" in reasons["data_CNA.txt:5"]
    assert table.not_alterations == 4  # ERBB2 S2, S3 (0, NA) and EGFR S2, S3
    # a cell is its line and its sample; shown as the rejected cells are named
    lines = {(r["gene"], r["sample"]): r["line"] for r in table.frame.iter_rows(named=True)}
    assert lines == {("ERBB2", "S1"): 2, ("PTEN", "S1"): 3, ("PTEN", "S2"): 3, ("PTEN", "S3"): 3}
    assert {a.record for a in table.alterations()} == {"data_CNA.txt:2:S1", "data_CNA.txt:3:S1", "data_CNA.txt:3:S2",
                                                       "data_CNA.txt:3:S3"}


def test_gistic_thresholded(tmp_path: Path) -> None:
    path = tmp_path / "all_thresholded.by_genes.txt"
    path.write_text("Gene Symbol\tLocus ID\tCytoband\tTCGA-1\tTCGA-2\nERBB2\t2064\t17q12\t2\t-1\n")
    table = read_cna(path)
    assert sorted(table.frame["kind"]) == ["amplification", "loss"]


def test_long_layout_with_copy_number(tmp_path: Path) -> None:
    path = tmp_path / "calls.tsv"
    path.write_text("Sample\tGene\tCNA\tcopy_number\nS1\tERBB2\tAMP\t14.2\nS1\tPTEN\tHOMDEL\t0\nS2\tERBB2\tBIG\t\n")
    table = read_cna(path, origin="plasma")
    rows = table.frame.to_dicts()
    assert rows[0]["copy_number"] == pytest.approx(14.2) and rows[0]["origin"] == "plasma"
    assert "CNA='BIG'" in table.rejected["reason"][0]


def test_not_a_cna_table(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="gene column"):
        read_cna(path)
