"""The TCGA study -> OncoTree map (tcga_oncotree.yaml) and `nerasense screen --tumour-vocabulary tcga`.

The map and oncotree.tsv are read here with yaml and csv, not through nerasense. Expected codes and main types
come from the OncoTree release itself (oncotree.mskcc.org, 2025-10-03) and the GDC's TCGA study names."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from nerasense.errors import KnowledgeError
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.loader import default_data_dir, load_knowledge, write_manifest
from nerasense.screen.engines import run_local
from nerasense.screen.inputs import plan
from nerasense.screen.partition import Options
from nerasense.screen.summary import ALL_SAMPLES, combine
from tests.screen.conftest import HEADER, MC3, REPO, ROWS, maf_text, need

DATA = REPO / "src" / "nerasense" / "knowledge" / "data"

# the 33 cancer studies of the GDC's TCGA study-abbreviation table (controls, FFPE pilot, CML and MISC left out)
GDC_STUDIES = {"ACC", "BLCA", "BRCA", "CESC", "CHOL", "COAD", "DLBC", "ESCA", "GBM", "HNSC", "KICH", "KIRC", "KIRP",
               "LAML", "LGG", "LIHC", "LUAD", "LUSC", "MESO", "OV", "PAAD", "PCPG", "PRAD", "READ", "SARC", "SKCM",
               "STAD", "TGCT", "THCA", "THYM", "UCEC", "UCS", "UVM"}

# (study, OncoTree code, OncoTree main type) — one OncoTree type of the same name as the GDC study, or the tissue
# above the types a study spans (CESC: squamous + endocervical adenocarcinoma; ESCA: adeno + squamous; TGCT:
# seminoma + non-seminoma; OncoTree's own TGCT is tenosynovial giant cell tumour, its CESC and ESCA are one type)
EXPECTED = [
    ("BRCA", "BRCA", "Breast Cancer"),
    ("LUAD", "LUAD", "Non-Small Cell Lung Cancer"),
    ("LUSC", "LUSC", "Non-Small Cell Lung Cancer"),
    ("COAD", "COAD", "Colorectal Cancer"),
    ("READ", "READ", "Colorectal Cancer"),
    ("STAD", "STAD", "Esophagogastric Cancer"),
    ("BLCA", "BLCA", "Bladder Cancer"),
    ("KIRC", "CCRCC", "Renal Cell Carcinoma"),
    ("KICH", "CHRCC", "Renal Cell Carcinoma"),
    ("LAML", "AML", "Leukemia"),
    ("UVM", "UM", "Melanoma"),
    ("UCEC", "UCEC", "Endometrial Cancer"),
    ("CHOL", "CHOL", "Hepatobiliary Cancer"),
    ("CESC", "CERVIX", "Cervical Cancer"),
    ("ESCA", "STOMACH", "Esophageal/Stomach Cancer"),
    ("TGCT", "TESTIS", "Testicular Cancer"),
]
# the OncoTree types a study spans: its code must be their lowest common node ("none": no node below the root)
SPANS = {
    "CESC": ("CERVIX", ["CESC", "ECAD"]),
    "ESCA": ("STOMACH", ["ESCA", "ESCC"]),
    "TGCT": ("TESTIS", ["SEM", "NSGCT"]),
    "GBM": ("ADIFG", ["GB", "ASTR"]),
    "THYM": ("TET", ["THYM", "THYC"]),
    "LGG": ("ADIFG", ["ASTR", "ODG", "GB"]),
    "PCPG": (None, ["PHC", "PGNG"]),
    "SARC": (None, ["LMS", "ULMS", "MPNST"]),
}


def _oncotree() -> dict[str, dict[str, str]]:
    with (DATA / "oncotree.tsv").open(encoding="utf-8") as fh:
        return {r["code"]: r for r in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")}


def _map() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((DATA / "tcga_oncotree.yaml").read_text(encoding="utf-8"))
    return {e["study"]: e for e in doc["entries"]}


def _lineage(code: str, tree: dict[str, dict[str, str]]) -> list[str]:
    chain = [code]
    while chain[-1] in tree:
        chain.append(tree[chain[-1]]["parent"])
    return chain  # ends with TISSUE


def _main_type_of(study: str) -> str:
    """What the screen should call a TCGA study: the main type of its code, or the label with the suffix."""
    row, tree = _map()[study], _oncotree()
    return tree[row["oncotree"]]["main_type"] if row.get("oncotree") else f"{study} (TCGA study without an OncoTree code)"


@pytest.mark.parametrize(("study", "code", "main_type"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_map_row(study: str, code: str, main_type: str) -> None:
    row, tree = _map()[study], _oncotree()
    assert row["oncotree"] == code and tree[code]["main_type"] == main_type
    assert row["source"] == "gdc-tcga-study-abbreviations" and row.get("verification", "V") == "V"


def test_every_code_is_an_oncotree_code_and_every_study_is_there() -> None:
    rows, tree = _map(), _oncotree()
    assert set(rows) == GDC_STUDIES  # complete, and nothing else
    for study, row in rows.items():
        assert row["source"], study
        if row["match"] == "none":
            assert row.get("oncotree") is None and row["note"], study
        else:
            assert row["oncotree"] in tree, study
        if row["match"] != "same":
            assert row["note"].strip(), study


@pytest.mark.parametrize("study", sorted(SPANS))
def test_spanning_studies_map_to_the_lowest_common_node(study: str) -> None:
    code, types = SPANS[study]
    tree = _oncotree()
    chains = [_lineage(t, tree) for t in types]
    common = [n for n in chains[0] if all(n in ch for ch in chains[1:])]
    lowest = None if common[0] == "TISSUE" else common[0]
    assert lowest == code
    row = _map()[study]
    assert row.get("oncotree") == code and row["match"] == ("none" if code is None else "common")


def test_mc3_cohorts_are_all_in_the_map() -> None:
    cohorts = set(pl.read_parquet(need(MC3), columns=["Cohort"])["Cohort"].unique())
    assert len(cohorts) == 27 and cohorts <= set(_map())  # README: 27 cohorts


def _edit_map(kb_copy: Path, edit: Any) -> None:
    path = kb_copy / "tcga_oncotree.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc["entries"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    write_manifest(kb_copy)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda es: es[0].update(oncotree="NOSUCH"), r"study='ACC'.*'NOSUCH' is not a code of oncotree\.tsv"),
    (lambda es: es.append(dict(es[1])), r"study='BLCA'.*duplicate study"),
    (lambda es: next(e for e in es if e["study"] == "CESC").update(note=""), r"needs a note"),
    (lambda es: next(e for e in es if e["study"] == "SARC").update(oncotree="SOFT_TISSUE"), r"empty exactly when"),
    (lambda es: es[0].update(source="nobody2099"), r"nobody2099.*not in sources\.yaml"),
], ids=["unknown-code", "duplicate", "common-without-note", "none-with-code", "unknown-source"])
def test_a_broken_map_stops_the_load(tmp_path: Path, edit: Any, message: str) -> None:
    copy = tmp_path / "data"
    shutil.copytree(default_data_dir(), copy)
    _edit_map(copy, edit)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(copy)


def test_mc3_screen_with_tcga_vocabulary_matches_polars(gk: GenomicsKnowledge) -> None:
    mc3 = need(MC3)
    parts = run_local(plan([str(mc3)], chunk_rows=250_000).parts, gk, Options(tumour_column="Cohort"))
    screen = combine(parts, gk, vocabulary="tcga")
    # the same rows grouped by hand: Cohort -> the map's code -> OncoTree main type (csv + yaml, not nerasense)
    raw = pl.read_parquet(mc3, columns=["Hugo_Symbol", "Tumor_Sample_Barcode", "Cohort"])
    main = pl.DataFrame({"Cohort": sorted(_map())}).with_columns(
        pl.col("Cohort").map_elements(_main_type_of, return_dtype=pl.String).alias("tumour_type"))
    independent = raw.join(main, on="Cohort", how="left").group_by("tumour_type").agg(
        pl.col("Tumor_Sample_Barcode").n_unique().alias("screened"),
        pl.col("Tumor_Sample_Barcode").filter(pl.col("Hugo_Symbol") == "ERBB2").n_unique().alias("erbb2_any"))
    for measure in ("screened", "erbb2_any"):
        expected = dict(independent.select("tumour_type", measure).iter_rows())
        rows = screen.tumour_types.filter(pl.col("measure") == measure)
        got = dict(rows.select("tumour_type", "count").iter_rows())
        assert got.pop(ALL_SAMPLES) == (7_357 if measure == "screened" else 152)  # MC3 README
        assert got == expected, measure
    # COAD and READ are one main type; LUAD/LUSC/STAD are not in this MC3 copy
    assert "Colorectal Cancer" in got and "READ" not in got
    # tumour-type criteria are decided where the map is verified: breast samples are read for breast regimens
    breast = screen.samples.filter(pl.col("tumour_code") == "BRCA")
    assert breast.height == 1_026
    # tumour-type criteria are decided: a breast-only regimen is "not met" for every bladder sample
    assert set(screen.samples.filter(pl.col("tumour_code") == "BLCA")["regimen:extended-adjuvant"]) == {"not met"}
    assert screen.vocabulary["name"] == "tcga" and "tcga_oncotree.yaml sha256:" in screen.vocabulary["map"]
    assert {s["study"] for s in screen.vocabulary["studies"]} == set(raw["Cohort"].unique())
    assert {s["study"]: s["verification"] for s in screen.vocabulary["studies"] if s["verification"] != "V"} == {
        "LGG": "P", "MESO": "P", "THYM": "P"}


def _tcga_maf(tmp_path: Path, cohorts: list[str]) -> Path:
    rows = [(*r[:7], f"T{i}", *r[8:]) for i, r in enumerate(ROWS[:len(cohorts)])]  # one sample per cohort
    lines = maf_text(rows).splitlines()
    text = "\n".join([lines[0] + "\tCohort", *(ln + "\t" + c for ln, c in zip(lines[1:], cohorts, strict=True))])
    (tmp_path / "t.maf").write_text(text + "\n")
    return tmp_path / "t.maf"


def test_an_unverified_row_groups_but_decides_no_tumour_criterion(tmp_path: Path, gk: GenomicsKnowledge) -> None:
    """A row tagged U names the main type but sets no tumour fact, and the output lists it as unverified."""
    maf = _tcga_maf(tmp_path, ["BRCA", "BLCA"])
    copy = tmp_path / "data"
    shutil.copytree(default_data_dir(), copy)
    _edit_map(copy, lambda es: next(e for e in es if e["study"] == "BRCA").update(verification="U"))
    gk_u = GenomicsKnowledge(load_knowledge(copy))
    parts = plan([str(maf)]).parts
    verified = combine(run_local(parts, gk, Options(tumour_column="Cohort")), gk, vocabulary="tcga")
    unverified = combine(run_local(parts, gk_u, Options(tumour_column="Cohort")), gk_u, vocabulary="tcga")
    # neratinib + fulvestrant: breast cancer with an activating ERBB2 mutation (regimens.yaml); T0 (BRCA) has S310F
    col = "regimen:neratinib-fulvestrant"
    v, u = (dict(x.samples.select("tumour_code", col).iter_rows()) for x in (verified, unverified))
    assert v["BRCA"] == "met" and u["BRCA"] == "unknown"  # the breast fact is unknown, not true, under U
    assert v["BLCA"] == u["BLCA"] == "not met"
    assert set(unverified.samples["tumour_type"]) == set(verified.samples["tumour_type"]) == {"Breast Cancer",
                                                                                             "Bladder Cancer"}
    assert any(n.startswith("unverified mapping (U): TCGA BRCA -> OncoTree BRCA") for n in unverified.notes)
    assert not any("unverified" in n for n in verified.notes)
    from nerasense.report.screen_report import render_screen
    assert "U (unverified)" in render_screen(unverified, gk_u.kb.kb_version)


def test_cli_tcga_vocabulary_says_which_map_was_used(tmp_path: Path) -> None:
    # verified, partly verified, no OncoTree code, not a TCGA study
    maf = _tcga_maf(tmp_path, ["BRCA", "MESO", "SARC", "XYZ"])
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "nerasense", "screen", str(maf), "--tumour-column",
                          "Cohort", "--tumour-vocabulary", "tcga", "-o", str(out), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    payload = json.loads(run.stdout)
    vocab = payload["tumour_vocabulary"]
    assert vocab["name"] == "tcga" and vocab["map"].startswith("tcga_oncotree.yaml sha256:")
    assert payload["kb_version"] in vocab["map"]
    seen = {s["study"]: s for s in vocab["studies"]}
    assert set(seen) == {"BRCA", "MESO", "SARC"} and seen["MESO"]["verification"] == "P"
    assert seen["SARC"]["oncotree"] is None and seen["SARC"]["match"] == "none"
    types = {r["tumour_type"] for r in payload["tumour_types"]}
    assert types == {ALL_SAMPLES, "Breast Cancer", "Mesothelioma", "SARC (TCGA study without an OncoTree code)",
                     "XYZ (not a TCGA study)"}
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "Tumour vocabulary" in page and vocab["map"] in page
    assert any(n.startswith("TCGA SARC has no OncoTree code") for n in payload["notes"])
    assert any("XYZ" in n and "not TCGA studies" in n for n in payload["notes"])
    assert HEADER[0] not in payload["notes"]
