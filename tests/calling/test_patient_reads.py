"""Reads named in a patient file flow through `nerasense call`, `annotate` and into the report with the LOD."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nerasense.cli import main


def test_calls_flow_through_annotate(seracare: tuple[dict[str, Any], Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out = seracare
    assert main(["annotate", str(out / "calls.grch37.vcf"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    found = {(a["gene"], a["protein_change"]): a for a in d["alterations"]}
    assert found[("ERBB2", "p.Y772_A775dup")]["effect"] == "activating"
    assert found[("PIK3CA", "p.H1047R")]["effect"] == "activating"
    assert found[("PIK3CA", "p.H1047R")]["alt_count"] > 50
    assert d["summary"]["accounted"]
    # calls outside the hotspot table carry no consequence and are refused with that reason, not dropped
    assert all("annotation" in r["reason"] for r in d["rejected"])


def test_patient_file_naming_reads_gets_lod_per_hotspot(panel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NERASENSE_CACHE_DIR", str(tmp_path / "cache"))
    patient = tmp_path / "p.yaml"
    patient.write_text(f"""patient_id: READS-01
tumour_type: IDC
setting: metastatic
er: positive
her2: {{ihc: 1+}}
sequencing:
  - path: {panel / 'seracare_ctdna_5pct_duplex.bam'}
    format: reads
    reference: {panel / 'grch37_panel_windows.fa'}
    origin: plasma
""")
    report = tmp_path / "r.html"
    assert main(["assess", str(patient), "--allow-dir", str(panel), "--json", "-o", str(report)]) == 0
    d = json.loads(capsys.readouterr().out)
    plasma = {(a["gene"], a["protein_change"]) for a in d["alterations"] if a["origin"] == "plasma"}
    assert {("ERBB2", "p.Y772_A775dup"), ("PIK3CA", "p.H1047R")} <= plasma
    lines = {(h["gene"], h["protein_change"]): h for rc in d["read_calls"] for h in rc["hotspots"]}
    assert lines[("PIK3CA", "p.H1047R")]["text"].startswith("detected, VAF 4.")
    g776 = lines[("ERBB2", "p.G776V")]
    assert g776["status"] == "not detected" and g776["text"] == f"not detected (LOD {100 * g776['lod']:.2g} %)"
    page = report.read_text()
    assert "Hotspots tested in the reads" in page and g776["text"] in page
    # a second assessment reads the cached calls instead of aligning again
    cached = list((tmp_path / "cache" / "calls").iterdir())
    assert len(cached) == 1
    stamp = (cached[0] / "call.json").stat().st_mtime_ns
    assert main(["assess", str(patient), "--allow-dir", str(panel), "--json"]) == 0
    capsys.readouterr()
    assert (cached[0] / "call.json").stat().st_mtime_ns == stamp


def test_reads_entry_needs_a_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reads = tmp_path / "r.fastq"
    reads.write_text("@r\nACGT\n+\nIIII\n")
    patient = tmp_path / "p.yaml"
    patient.write_text("patient_id: READS-02\nsequencing:\n  - {path: r.fastq, format: reads}\n")
    assert main(["assess", str(patient), "--json"]) == 2
    assert "reference" in capsys.readouterr().err


def test_ctdna_series_names_reads_as_variants_file(panel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NERASENSE_CACHE_DIR", str(tmp_path / "cache"))
    series = tmp_path / "series.csv"
    series.write_text("patient_id,sample_id,date,qc,treatment_start,variants_file,gene,alteration,vaf\n"
                      f"P1,S1,2026-01-05,pass,2026-01-06,{panel / 'seracare_ctdna_5pct_duplex.bam'},,,\n")
    args = ["ctdna", str(series), "--allow-dir", str(panel), "--json"]
    assert main(args) == 2  # reads without a reference: refused, and the message says what to give
    assert "--reference" in capsys.readouterr().err
    assert main([*args, "--reference", str(panel / "grch37_panel_windows.fa")]) == 0
    d = json.loads(capsys.readouterr().out)
    found = {(a["gene"], a["alteration"]): a for a in d["baseline"]["alterations"]}
    assert found[("ERBB2", "p.Y772_A775dup")]["level"]["value"] == pytest.approx(0.0281, abs=0.004)
    assert ("PIK3CA", "p.H1047R") in found
