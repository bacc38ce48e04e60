"""The real SUMMIT biliary files (cBioPortal puma_biliary_tract_summit_trial; Harding et al. 2023).

Golden values come from the raw file read with awk and from domain-facts.md, never from nerasense's own
output (tests/data/genomics/summit_erbb2_rows.tsv and summit_erbb2_alleles.tsv say how each was made).
VAF is t_alt_count / (t_ref_count + t_alt_count) as the header names them; see the report note on the
plausibility of those two columns in this file.
"""

from __future__ import annotations

import csv
import warnings

import polars as pl
import pytest

from nerasense.errors import InputError, NerasenseWarning
from nerasense.ingest.cna import read_cna
from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.ingest.maf import read_maf
from nerasense.interpret.variants import annotate_frame
from nerasense.knowledge.genomics import GenomicsKnowledge

from .conftest import DATA, SUMMIT_CNA, SUMMIT_MAF, need_shared

pytestmark = pytest.mark.shared_data


def _tsv(name: str) -> list[dict[str, str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return list(csv.DictReader((ln for ln in lines if not ln.startswith("#")), delimiter="\t"))


@pytest.fixture(scope="module")
def summit(gk: GenomicsKnowledge) -> tuple[pl.DataFrame, object, list[str]]:
    need_shared(SUMMIT_MAF)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_maf(SUMMIT_MAF, gk)
    annotated = annotate_frame(table.frame, gk, parse_protein_change)
    return annotated, table, [str(w.message) for w in caught if issubclass(w.category, NerasenseWarning)]


def test_column_shift_is_reported_with_file_lines_and_columns(summit: tuple) -> None:
    _, _, messages = summit
    assert len(messages) == 1
    msg = messages[0]
    assert "data_mutations_extended.txt" in msg
    assert "lines 2-191 (190 of 190 data rows)" in msg
    assert "Consequence..dbSNP_RS (columns 9-15)" in msg
    assert "Reference_Allele<-Variant_Type" in msg and "Tumor_Seq_Allele2<-Tumor_Seq_Allele1" in msg


def test_refuse_mode_raises_naming_the_columns(gk: GenomicsKnowledge) -> None:
    need_shared(SUMMIT_MAF)
    with pytest.raises(InputError) as err:
        read_maf(SUMMIT_MAF, gk, on_shift="refuse")
    assert "Consequence..dbSNP_RS" in str(err.value) and "lines 2-191" in str(err.value)


def test_every_row_is_accounted_for(summit: tuple) -> None:
    annotated, table, _ = summit
    assert table.input_records == 190  # `awk 'NR>1' file | wc -l`
    assert table.accounted
    assert annotated.height + table.rejected.height == 190
    assert table.rejected.height == 0  # the TERT "Promoter" row is read as a non-coding alteration


def test_erbb2_rows_match_the_raw_file(summit: tuple) -> None:
    annotated, _, _ = summit
    erbb2 = annotated.filter(pl.col("gene") == "ERBB2")
    golden = _tsv("summit_erbb2_rows.tsv")
    assert erbb2.height == len(golden) == 36
    by_line = {r["line"]: r for r in erbb2.iter_rows(named=True)}
    for g in golden:
        row = by_line[int(g["line"])]
        assert row["sample"] == g["sample"]
        assert row["protein_change"] == f"p.{g['change']}"
        assert (row["chrom"], row["pos"], row["ref"], row["alt"]) == (g["chrom"], int(g["pos"]), g["ref"], g["alt"])
        t_ref, t_alt = int(g["t_ref"]), int(g["t_alt"])
        assert row["alt_count"] == t_alt and row["depth"] == t_ref + t_alt
        assert row["vaf"] == pytest.approx(t_alt / (t_ref + t_alt))


def test_every_erbb2_allele_is_classified_as_curated(summit: tuple) -> None:
    annotated, _, _ = summit
    expected = {r["change"]: r for r in _tsv("summit_erbb2_alleles.tsv")}
    got = annotated.filter(pl.col("gene") == "ERBB2").unique("protein_change")
    assert set(got["protein_change"]) == set(expected)
    for row in got.iter_rows(named=True):
        e = expected[row["protein_change"]]
        assert row["effect"] == e["effect"], row["protein_change"]
        assert row["oncogenicity"] == e["oncogenicity"], row["protein_change"]
        assert row["lower_benefit"] == (e["lower_benefit"] == "true"), row["protein_change"]
        assert e["domain"] in (row["domain"] or ""), row["protein_change"]
        assert row["exon"] == (int(e["exon"]) if e["exon"].strip() else None), row["protein_change"]
        assert row["hotspot"] == (e["hotspot"] == "true"), row["protein_change"]
        assert row["reason"] and (row["evidence"] or row["effect"] == "unknown")


def test_r678q_is_called_from_the_juxtamembrane_study(summit: tuple) -> None:
    """R678Q was an unverified [U] rule kept out of the call; Pahuja 2018 (recurrent JMD alleles raise HER2
    activity, P) now classifies it, allele-level."""
    annotated, _, _ = summit
    row = annotated.filter(pl.col("protein_change") == "p.R678Q").row(0, named=True)
    assert (row["effect"], row["oncogenicity"], row["classification_level"]) == (
        "activating", "likely oncogenic", "allele")
    assert "pahuja2018" in row["evidence"] and not row["unverified"]


def test_bare_and_prefixed_hgvsp_short_agree(summit: tuple) -> None:
    annotated, table, _ = summit
    # the file writes p.S310F in cfDNA rows and S310F in tissue rows; both read as p.S310F
    s310f = annotated.filter(pl.col("protein_change") == "p.S310F")
    assert s310f.height == 13
    # counted straight from the file: HGVSp_Short values without 'p.', less the one 'Promoter' (TERT), which
    # is no protein change (the HGVSp_Short column sits outside the shifted block, so the count is exact)
    with SUMMIT_MAF.open(encoding="utf-8", newline="") as fh:
        values = [r["HGVSp_Short"] for r in csv.DictReader(fh, delimiter="\t")]
    bare = [v for v in values if v and not v.startswith("p.")]
    assert len(bare) == 107 and bare.count("Promoter") == 1
    assert f"{SUMMIT_MAF.name}: 106 HGVSp_Short values lack the 'p.' prefix; read as HGVS p." in table.notes


def test_summit_cna_long_layout(gk: GenomicsKnowledge) -> None:
    need_shared(SUMMIT_CNA)
    table = read_cna(SUMMIT_CNA)
    assert table.input_records == 204 and table.accounted  # 205 lines less the header
    calls = table.frame.group_by("kind").len().sort("kind")
    assert dict(calls.iter_rows()) == {"amplification": 71, "deletion": 133}  # `cut -f4 | sort | uniq -c`
    annotated = annotate_frame(table.frame, gk, parse_protein_change)
    erbb2 = annotated.filter(pl.col("gene") == "ERBB2")
    assert sorted(erbb2["sample"]) == ["P15_A", "P2_A"]  # `grep ERBB2 data_CNA.tsv`
    assert set(erbb2["effect"]) == {"activating"}


def test_allele_counts_against_the_paper(summit: tuple) -> None:
    """Harding et al., Nat Commun 2023;14:630 (PMID 36746967; the abstract, checked via PMC9902444): among 25
    patients the most common HER2 mutations are S310F (n=11) and V777L (n=4). The cBioPortal MAF holds
    ERBB2 calls for 20 of the 25 patients, so it can only hold at most as many; it holds 9 and 3
    (awk: patients P7, P9, P10, P11, P15, P16, P20, P23, P25 and P1, P21, P23)."""
    annotated, _, _ = summit
    erbb2 = annotated.filter(pl.col("gene") == "ERBB2").with_columns(
        pl.col("sample").str.extract(r"^P(\d+)_").alias("patient"))
    per_allele = dict(erbb2.group_by("protein_change").agg(pl.col("patient").n_unique()).iter_rows())
    assert per_allele["p.S310F"] == 9 <= 11
    assert per_allele["p.V777L"] == 3 <= 4
    assert erbb2["patient"].n_unique() == 20 <= 25
    assert max(per_allele, key=lambda k: per_allele[k]) == "p.S310F"  # the paper's most common allele
