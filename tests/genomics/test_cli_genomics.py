"""`nerasense variant` and `nerasense annotate` through the command line, as scripts use them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest

from nerasense.cli import main

from .conftest import DATA, SUMMIT_MAF, need_shared

ALLELES = list(csv.DictReader((ln for ln in (DATA / "erbb2_alleles_domain_facts.tsv").read_text().splitlines()
                               if not ln.startswith("#")), delimiter="\t"))
VARIANT_KEYS = {"gene", "protein_change", "domain", "exon", "hotspot", "effect", "evidence", "reason",
                "lower_benefit", "unverified", "software_version", "kb_version"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


@pytest.mark.parametrize("row", ALLELES, ids=[r["id"] for r in ALLELES])
def test_variant_answers_every_domain_facts_allele(capsys: pytest.CaptureFixture[str], row: dict[str, str]) -> None:
    code, out, _ = run(capsys, "variant", row["gene"], row["change"])
    assert code == 0
    assert set(out) >= VARIANT_KEYS
    assert out["gene"] == "ERBB2"
    assert out["protein_change"] == (row["protein_change"] or None)
    assert out["effect"] == row["effect"]
    assert out["lower_benefit"] == (row["lower_benefit"] == "true")
    assert out["exon"] == (int(row["exon"]) if row["exon"] else None)
    flagged = any(u.startswith("erbb2-") for u in out["unverified"])
    assert flagged == (row["unverified_rule"] == "true")
    assert (out["oncogenicity"], out["mutation_effect"]) == (row["oncogenicity"], row["mutation_effect"])
    assert out["classification_level"] == (row["level"] or None)
    if out["effect"] != "unknown":
        assert out["evidence"], "a call must cite"
        assert all(d["citation"] for d in out["evidence_details"])


def test_variant_errors_are_one_line_naming_field_and_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "variant", "ER BB2", "L755Z")
    assert code == 2 and out == {}
    assert err.count("\n") == 1
    assert "gene='ER BB2'" in err and "protein_change='L755Z'" in err and "allowed" in err


def test_variant_gene_the_knowledge_base_does_not_curate_is_unknown_not_guessed(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "variant", "BRCA1", "A1V")
    assert code == 0 and out["effect"] == "unknown" and "holds nothing on this gene" in out["reason"]
    assert out["oncogenicity"] == "unknown" and out["classification_level"] is None


def test_annotate_summit_reports_shift_and_accounts_for_rows(capsys: pytest.CaptureFixture[str]) -> None:
    need_shared(SUMMIT_MAF)
    code, out, _ = run(capsys, "annotate", str(SUMMIT_MAF))
    assert code == 0
    s = out["summary"]
    assert s["input_records"] == 190 and s["accounted"] and s["alterations"] + s["rejected"] == 190
    assert any("shifted one column to the left" in w for w in out["warnings"])
    erbb2 = [a for a in out["alterations"] if a["gene"] == "ERBB2"]
    assert len(erbb2) == 36 and all(a["effect"] in {"activating", "unknown"} for a in erbb2)
    assert {"gene", "protein_change", "domain", "exon", "hotspot", "effect", "evidence", "vaf"} <= set(erbb2[0])
    assert out["kb_version"] and out["software_version"]


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_annotate_writes_tables(capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"out{suffix}"
    code, out, _ = run(capsys, "annotate", str(DATA / "vep.vcf"), "-o", str(target))
    assert code == 0 and out["output"] == str(target) and "alterations" not in out
    frame = pl.read_parquet(target) if suffix == ".parquet" else pl.read_csv(target, separator="\t")
    assert frame.height == out["summary"]["alterations"] == 6  # 5 annotated + V842I found by its locus
    assert {"effect", "evidence", "hotspot", "vaf", "line"} <= set(frame.columns)
    assert frame["line"].dtype == pl.Int64 and frame["line"].min() > 1  # lines of the VCF's data records


def test_annotate_bad_usage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "annotate", str(tmp_path / "missing.maf"))
    assert code == 2 and "FILE=" in err
    code, _, err = run(capsys, "annotate", str(DATA / "vep.vcf"), "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and ".tsv or .parquet" in err
    code, _, err = run(capsys, "annotate", str(DATA / "multisample.vcf"))
    assert code == 2 and "NORMAL, TUMOR" in err


def test_annotate_origin_from_cbioportal_sample_file(capsys: pytest.CaptureFixture[str]) -> None:
    """SAMPLE_CLASS cfDNA -> plasma, FFPE -> tissue (data_clinical_sample.txt: P7_A cfDNA, P2_A FFPE)."""
    need_shared(SUMMIT_MAF)
    clinical = SUMMIT_MAF.parent / "data_clinical_sample.txt"
    code, out, _ = run(capsys, "annotate", str(SUMMIT_MAF), "--clinical-sample", str(clinical))
    assert code == 0
    origin = {a["sample"]: a["origin"] for a in out["alterations"]}
    assert origin["P7_A"] == "plasma" and origin["P2_A"] == "tissue"


def test_parser_for_one_command_loads_only_that_command() -> None:
    from nerasense.cli import build_parser

    def verbs(argv: list[str] | None) -> set[str]:
        sub = next(a for a in build_parser(argv)._actions if a.dest == "command")
        return set(sub.choices)  # type: ignore[arg-type]

    assert verbs(["annotate", "x.maf", "--json"]) == {"annotate"}
    everything = verbs(None)
    assert {"annotate", "assess", "survival", "kb"} <= everything
    assert verbs(["no-such-verb"]) == everything  # an unknown verb still gets the full list in its error
    assert verbs(["--version"]) == everything


def test_annotate_resolves_gene_aliases_in_every_format(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """HER2 is ERBB2 (gene_aliases.yaml) whichever reader read it: the copy-number reader leaves symbols as
    written and the command resolves them; the MAF reader resolves them itself."""
    cna = tmp_path / "data_CNA.txt"
    cna.write_text("Hugo_Symbol\tS1\nHER2\t2\n")
    maf = tmp_path / "m.maf"
    maf.write_text("Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\nHER2\tS1\tp.S310F\n")
    for path in (cna, maf):
        code, out, _ = run(capsys, "annotate", str(path))
        assert code == 0 and [a["gene"] for a in out["alterations"]] == ["ERBB2"]
    assert out["alterations"][0]["effect"] == "activating"  # S310F, an extracellular activating allele
