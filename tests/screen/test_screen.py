"""nerasense screen: accounting, per-tumour-type counts against an independent polars group-by, chunking and
engine invariants, the regimen criteria, and the command line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from scipy.stats import beta

from nerasense.knowledge.conditions import parse_condition
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.screen.engines import run_local
from nerasense.screen.inputs import plan
from nerasense.screen.partition import Options
from nerasense.screen.summary import ALL_SAMPLES, Screen, combine, molecular, read_clinical
from tests.screen.conftest import CLINICAL, HEADER, MC3, REPO, ROWS, SUMMIT, need

# activating ERBB2 alleles of the fixture (Bose 2013, Hyman 2018); T798I is the gatekeeper (Hanker 2017)
ACTIVATING = {"p.S310F", "p.L755S", "p.V842I"}
RESISTANCE = {"p.T798I"}


def _main_types() -> dict[str, str]:
    """OncoTree code -> main type, read straight from the bundled table (not through nerasense)."""
    path = REPO / "src" / "nerasense" / "knowledge" / "data" / "oncotree.tsv"
    with path.open(encoding="utf-8") as fh:
        return {r["code"]: r["main_type"] for r in csv.DictReader((ln for ln in fh if not ln.startswith("#")),
                                                                    delimiter="\t")}


def _screen(inputs: list[str], gk: GenomicsKnowledge, **kw: object) -> Screen:
    chunk = kw.pop("chunk_bytes", 1 << 26)
    p = plan(inputs, chunk_bytes=chunk, chunk_rows=int(kw.pop("chunk_rows", 1_000_000)))  # type: ignore[call-overload]
    clinical = read_clinical(p.clinical) if p.clinical else None
    return combine(run_local(p.parts, gk, Options(**kw)), gk, clinical=clinical, files=p.files)  # type: ignore[arg-type]


def _counts(screen: Screen, measure: str) -> dict[str, int]:
    rows = screen.tumour_types.filter(pl.col("measure") == measure)
    return dict(rows.select("tumour_type", "count").iter_rows())


def test_fixture_counts_match_an_independent_group_by(cohort: Path, gk: GenomicsKnowledge) -> None:
    screen = _screen([str(cohort)], gk)
    # the same rows, counted by hand with polars: samples per main type with an ERBB2 (activating) mutation
    main = _main_types()
    rows = pl.DataFrame([dict(zip(["gene", "sample", "change"], (r[0], r[7], r[8]), strict=True)) for r in ROWS])
    clinical = pl.DataFrame({"sample": list(CLINICAL), "tumour_type": [main[c] for c in CLINICAL.values()]})
    by_type = clinical.join(rows, on="sample", how="left").group_by("tumour_type").agg(
        pl.col("sample").n_unique().alias("screened"),
        pl.col("sample").filter(pl.col("gene") == "ERBB2").n_unique().alias("erbb2_any"),
        pl.col("sample").filter(pl.col("change").is_in(sorted(ACTIVATING))).n_unique().alias("erbb2_activating"),
        pl.col("sample").filter(pl.col("change").is_in(sorted(RESISTANCE))).n_unique().alias("resistance"),
    )
    for measure in ("screened", "erbb2_any", "erbb2_activating", "resistance"):
        expected = dict(by_type.select("tumour_type", measure).iter_rows())
        expected[ALL_SAMPLES] = sum(expected.values()) if measure != "screened" else len(CLINICAL)
        assert _counts(screen, measure) == expected, measure


def test_every_row_is_accounted_for(cohort: Path, gk: GenomicsKnowledge) -> None:
    screen = _screen([str(cohort)], gk)
    a = screen.accounting
    data_lines = 5 + 120 + 2  # a.maf, b.maf (3 rows x 40), c.maf.gz
    assert a["input_records"] == data_lines
    assert a["refused"] == 1 and a["screened_records"] + a["refused"] == data_lines and a["accounted"]
    # b.maf repeats its three rows 40 times (117 repeats, less the truncated one's partner) and c.maf.gz one row
    assert a["duplicate_rows"] == (120 - 1 - 3) + 1
    assert screen.rejected["record"].to_list() == ["b.maf:63"]  # row 61 (0-based) is line 63 (header is line 1)


def test_small_parts_give_the_same_screen(cohort: Path, gk: GenomicsKnowledge) -> None:
    """Cutting the MAFs into many small parts changes nothing, and refused lines keep their file line."""
    whole = _screen([str(cohort)], gk)
    cut = _screen([str(cohort)], gk, chunk_bytes=300)
    assert cut.accounting["parts"] > whole.accounting["parts"] + 5
    for name in ("samples", "tumour_types", "alleles", "rejected", "oncoprint", "lollipop"):
        assert getattr(cut, name).equals(getattr(whole, name)), name
    assert {k: v for k, v in cut.accounting.items() if k != "parts"} == {
        k: v for k, v in whole.accounting.items() if k != "parts"}


def test_globs_and_files_equal_the_folder(cohort: Path, gk: GenomicsKnowledge) -> None:
    folder = _screen([str(cohort)], gk)
    files = plan([str(cohort / "*.maf"), str(cohort / "c.maf.gz")], clinical=[str(cohort / "data_clinical_sample.txt")])
    screen = combine(run_local(files.parts, gk, Options()), gk, clinical=read_clinical(files.clinical))
    assert screen.samples.equals(folder.samples)


def test_intervals_are_clopper_pearson(cohort: Path, gk: GenomicsKnowledge) -> None:
    """Exact interval from the beta quantiles (Clopper & Pearson 1934), computed here with scipy."""
    screen = _screen([str(cohort)], gk)
    for r in screen.tumour_types.filter(pl.col("denominator") > 0).iter_rows(named=True):
        k, n = r["count"], r["denominator"]
        low = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
        high = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
        assert r["ci_low"] == pytest.approx(low, abs=1e-9) and r["ci_high"] == pytest.approx(high, abs=1e-9)


@pytest.mark.parametrize(("condition", "facts", "expected"), [
    ({"all": [{"fact": "tumour.breast", "is": True}, {"fact": "setting", "in": ["early"]}]}, {"tumour.breast": True}, True),
    ({"all": [{"fact": "tumour.breast", "is": True}, {"fact": "setting", "in": ["early"]}]}, {"tumour.breast": False}, False),
    ({"all": [{"fact": "tumour.breast", "is": True}, {"fact": "her2.positive", "is": True}]}, {"tumour.breast": True}, None),
    ({"all": [{"fact": "setting", "in": ["metastatic"]}, {"any": [{"fact": "erbb2.activating_mutation", "is": True},
                                                                   {"fact": "erbb3.activating_mutation", "is": True}]}]},
     {"erbb2.activating_mutation": None, "erbb3.activating_mutation": True}, True),
    ({"any": [{"fact": "erbb2.activating_mutation", "is": True}, {"fact": "hr.positive", "is": True}]},
     {"erbb2.activating_mutation": False}, True),
    ({"not": {"fact": "prior.tdxd", "is": True}}, {}, True),
    ({"not": {"fact": "erbb2.amplified", "is": True}}, {"erbb2.amplified": True}, False),
], ids=["clinical-part-assumed", "tumour-excludes", "her2-protein-unknown", "any-of-two-alleles",
        "clinical-branch-of-any", "clinical-not", "molecular-not"])
def test_molecular_reading_of_conditions(condition: dict, facts: dict, expected: bool | None) -> None:
    assert molecular(parse_condition(condition), facts) is expected


def test_mc3_counts_match_polars_and_its_readme(gk: GenomicsKnowledge) -> None:
    mc3 = need(MC3)
    screen = _screen([str(mc3)], gk, tumour_column="Cohort", chunk_rows=250_000)
    screen_label = combine(run_local(plan([str(mc3)], chunk_rows=250_000).parts, gk, Options(tumour_column="Cohort")),
                           gk, vocabulary="label")
    a = screen.accounting
    assert a["input_records"] == 707_427 and a["accounted"]  # README: 707,427 rows
    assert a["duplicate_rows"] == 23_511  # README caveat 2: rows repeating another's sample and variant
    raw = pl.read_parquet(mc3, columns=["Hugo_Symbol", "Tumor_Sample_Barcode", "Cohort"])
    independent = raw.group_by("Cohort").agg(
        pl.col("Tumor_Sample_Barcode").n_unique().alias("screened"),
        pl.col("Tumor_Sample_Barcode").filter(pl.col("Hugo_Symbol") == "ERBB2").n_unique().alias("erbb2_any"))
    for measure in ("screened", "erbb2_any"):
        expected = dict(independent.select("Cohort", measure).iter_rows())
        got = _counts(screen_label, measure)
        assert {k: got[k] for k in expected} == expected
    # README table: ERBB2-mutant samples per cohort, and 152 over all 27
    readme = {"BLCA": 51, "BRCA": 30, "CESC": 14, "ESCA": 11, "HNSC": 9, "READ": 7, "all": 152}
    got = _counts(screen_label, "erbb2_any")
    assert {k: got[ALL_SAMPLES if k == "all" else k] for k in readme} == readme
    assert _counts(screen_label, "screened")[ALL_SAMPLES] == 7_357


def test_summit_study_folder(gk: GenomicsKnowledge) -> None:
    folder = need(SUMMIT)
    screen = _screen([str(folder)], gk)
    assert screen.accounting["accounted"]
    assert any("shifted one column" in w for w in screen.warnings)  # the known SUMMIT column shift, repaired
    assert "erbb2_amplified" in set(screen.tumour_types["measure"].to_list())  # data_CNA.tsv was read


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nerasense", "screen", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_writes_the_tables_and_the_summary(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = _cli(str(cohort), "-o", str(out), "--json")
    assert run.returncode == 0, run.stderr
    payload = json.loads(run.stdout)
    for key in ("software_version", "kb_version", "accounting", "tumour_types", "criteria", "files_written",
                "research_use_only"):
        assert key in payload
    for name in ("samples.parquet", "samples.tsv", "tumour_types.parquet", "tumour_types.tsv", "alleles.parquet",
                 "alleles.tsv", "refused.tsv", "summary.html"):
        assert (out / name).is_file(), name
    samples = pl.read_parquet(out / "samples.parquet")
    assert set(samples["sample"]) == set(CLINICAL)
    assert "Research use only" in (out / "summary.html").read_text(encoding="utf-8")
    assert HEADER[0] not in payload["notes"]


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    run = _cli(str(tmp_path / "missing.maf"), str(tmp_path / "nothing-*.maf"), "-o", str(tmp_path / "o"), "--workers", "0")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "--workers" in run.stderr
