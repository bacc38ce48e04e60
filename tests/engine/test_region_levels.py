"""Region (US label / EU SmPC) on assess and batch, and evidence levels that never collide with OncoKB's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerasense.domain.patient import Patient
from nerasense.engine.assess import assess_patient
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.schema import LevelDefinition

KB = default_knowledge()
ONCOKB_THERAPEUTIC = {"LEVEL_1", "LEVEL_2", "LEVEL_3A", "LEVEL_3B", "LEVEL_4", "LEVEL_R1", "LEVEL_R2"}
PATIENT = {"patient_id": "eu", "tumour_type": "IDC", "setting": "early", "er": "positive", "pr": "positive",
           "her2": {"ihc": "3+"}, "assessed_on": "2026-11-20", "medications": ["carbamazepine"],
           "liver": {"child_pugh": "C"},
           "prior_therapies": [{"agents": ["trastuzumab"], "setting": "adjuvant", "ended": "2026-07-20"}]}


@pytest.mark.parametrize(("region", "severity", "start_mg"), [
    ("EU", "contraindicated", None),  # NERLYNX SmPC: strong CYP3A4/P-gp inducers contraindicated; Child-Pugh C too
    ("US", "avoid", 80),  # NERLYNX USPI: avoid strong/moderate CYP3A4 inducers; Child-Pugh C starts at 80 mg
])
def test_region_decides_contraindications_and_hepatic_rule(region: str, severity: str, start_mg: int | None) -> None:
    a = assess_patient(Patient.model_validate(PATIENT), KB, region=region)
    assert a.region == region
    carb = [f for f in a.interactions["findings"] if f["drug"] == "carbamazepine"]
    assert [f["severity"] for f in carb] == [severity]
    assert a.hepatic is not None and a.hepatic["start_dose_mg"] == start_mg


def test_patient_field_region_and_cli_override() -> None:
    p = Patient.model_validate({**PATIENT, "region": "EU"})
    assert assess_patient(p, KB).region == "EU"
    assert assess_patient(p, KB, region="US").region == "US"
    assert assess_patient(Patient.model_validate(PATIENT), KB).region == "US"  # default


def test_label_population_follows_the_region() -> None:
    """US: HER2+ early breast after adjuvant trastuzumab; EU: HR+ and trastuzumab finished < 1 year; the
    capecitabine combination is on the US label only."""
    eu = {r.regimen_id: r for r in assess_patient(Patient.model_validate(PATIENT), KB, region="EU").regimens}
    us = {r.regimen_id: r for r in assess_patient(Patient.model_validate(PATIENT), KB, region="US").regimens}
    assert "less than one year" in (eu["extended-adjuvant"].label or "")
    assert "hormone receptor-positive" in (eu["extended-adjuvant"].label or "")
    assert "HER2-positive" in (us["extended-adjuvant"].label or "")
    assert us["neratinib-capecitabine"].label and eu["neratinib-capecitabine"].label is None


def test_region_eu_report_shows_carbamazepine_contraindicated(tmp_path: Path, capsys) -> None:
    from nerasense.cli import main

    f = tmp_path / "p.json"
    f.write_text(json.dumps(PATIENT), encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["assess", str(f), "--region", "EU", "-o", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["region"] == "EU"
    html = out.read_text(encoding="utf-8")
    assert "contraindicated" in html and "carbamazepine" in html and "EU" in html


def test_batch_takes_the_region(tmp_path: Path, capsys) -> None:
    from nerasense.cli import main

    f = tmp_path / "p.json"
    f.write_text(json.dumps(PATIENT), encoding="utf-8")
    assert main(["batch", str(f), "-o", str(tmp_path / "out"), "--region", "EU", "--json"]) == 0
    a = json.loads((tmp_path / "out" / "eu.json").read_text(encoding="utf-8"))
    assert a["region"] == "EU"


def test_bad_region_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="region"):
        Patient.model_validate({**PATIENT, "region": "UK"})


def test_levels_never_collide_with_oncokb_or_amp() -> None:
    levels = KB.of("evidence_levels", LevelDefinition)
    ours = {lv.id for lv in levels}
    assert not ours & ONCOKB_THERAPEUTIC
    assert not ours & {"1", "2", "3A", "3B", "4", "R1", "R2", "A", "B", "C", "D"}
    assert {lv.oncokb for lv in levels if lv.oncokb} <= ONCOKB_THERAPEUTIC
    resistance = {lv.id: lv for lv in levels if lv.kind == "resistance"}
    # OncoKB R2 = compelling clinical evidence of resistance; our clinical resistance level maps there
    assert resistance["NR1"].oncokb == "LEVEL_R2"


def test_a_call_reports_oncokb_as_oncokb_writes_it() -> None:
    a = assess_patient(Patient.model_validate(PATIENT), KB, region="US")
    ext = {r.regimen_id: r for r in a.regimens}["extended-adjuvant"]
    assert ext.level == "N1" and ext.level_equivalents is not None
    assert ext.level_equivalents["oncokb"] == "LEVEL_1"
    assert all(ev.oncokb_level in ONCOKB_THERAPEUTIC | {None} for ev in ext.evidence)
