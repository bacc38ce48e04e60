"""No silent loss (issue 16): a MAF without a protein-change column, or a row without one, still gets its
cancerhotspots alleles from its genomic coordinates, on either build; the summary counts and names the rest.

Loci are the cancerhotspots v2 tables' own (maftools' copies in ../shared/data/cancerhotspots): L755S is
17:37880220 T>C on GRCh37; V777L is 17:39724747 G>T on GRCh38; G776V 17:37880998 G>T and the Y772_A775dup
insertion '-'>GCATACGTGATG at 37880981 on GRCh37; 17:37880221 T>C is no hotspot."""

from __future__ import annotations

import json

import pytest

from nerasense.cli import main
from nerasense.errors import NerasenseWarning
from nerasense.ingest.maf import read_maf
from nerasense.knowledge.genomics import GenomicsKnowledge

from .conftest import DATA, HOTSPOTS37, need_shared

NO_COLUMN = DATA / "no_protein_column.maf"
EXPECTED = {"S1": "p.L755S", "S2": "p.V777L", "S3": "p.G776V", "S4": None, "S6": "p.Y772_A775dup"}


def test_maf_without_hgvsp_short_finds_hotspots_by_coordinates_and_warns(gk: GenomicsKnowledge) -> None:
    with pytest.warns(NerasenseWarning, match=r"no_protein_column.maf: no protein-change column \(HGVSp_Short"):
        table = read_maf(NO_COLUMN, gk)
    got = dict(table.frame.select("sample", "protein_change").iter_rows())
    assert {s: got[s] for s in EXPECTED} == EXPECTED
    assert got["S5"] is None  # TP53 R175H is not in the bundled six-gene subset (see the full-table test)
    assert table.accounted and table.rejected.height == 0


def test_rows_without_a_change_in_an_annotated_maf_are_filled_and_noted(gk: GenomicsKnowledge, tmp_path) -> None:
    lines = NO_COLUMN.read_text().splitlines()
    header = lines[0] + "\tHGVSp_Short"
    body = [lines[1] + "\t", lines[4] + "\tp.R678Q"]  # L755S row with an empty change; a row with its own change
    path = tmp_path / "partly.maf"
    path.write_text("\n".join([header, *body]) + "\n")
    table = read_maf(path, gk)
    assert table.frame["protein_change"].to_list() == ["p.L755S", "p.R678Q"]
    assert any("1 rows at a cancerhotspots allele's locus" in n for n in table.notes)


def test_without_ncbi_build_grch37_is_tried_first_then_grch38(gk: GenomicsKnowledge, tmp_path) -> None:
    rows = [ln.split("\t") for ln in NO_COLUMN.read_text().splitlines()]
    path = tmp_path / "nobuild.maf"
    path.write_text("\n".join("\t".join(r[:1] + r[2:]) for r in rows) + "\n")
    with pytest.warns(NerasenseWarning, match="GRCh37, then GRCh38"):
        table = read_maf(path, gk)
    got = dict(table.frame.select("sample", "protein_change").iter_rows())
    assert got["S1"] == "p.L755S" and got["S2"] == "p.V777L"


def test_cli_summary_counts_and_names_what_stays_unclassified(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["annotate", str(NO_COLUMN), "--hotspots", str(DATA / "no_such_dir" / "x.tsv"), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and "--hotspots=" in err and err.count("\n") == 1  # a missing table is refused in one line
    code = main(["annotate", str(NO_COLUMN), "--json"])
    out, _ = capsys.readouterr()
    d = json.loads(out)
    assert code == 0 and any("HGVSp_Short" in w for w in d["warnings"])
    u = d["summary"]["unclassified"]
    assert {"gene": "ERBB2", "change": "17:37880221 T>C", "rows": 1} in u["erbb2_erbb3_alleles"]
    assert u["erbb2_erbb3_rows"] == 1


@pytest.mark.shared_data
def test_the_full_table_adds_every_gene_and_both_builds(capsys: pytest.CaptureFixture[str]) -> None:
    """With the full cancerhotspots table (and its GRCh38 sibling) TP53 R175H at 17:7578406 C>T is found too."""
    need_shared(HOTSPOTS37)
    code = main(["annotate", str(NO_COLUMN), "--hotspots", str(HOTSPOTS37), "--json"])
    d = json.loads(capsys.readouterr()[0])
    got = {a["sample"]: a["protein_change"] for a in d["alterations"]}
    assert code == 0 and got["S5"] == "p.R175H" and got["S2"] == "p.V777L"
    assert d["summary"]["unclassified"]["no_protein_change_rows"] == 1
