"""Cohort report: the bundled synthetic example and the real SUMMIT biliary cohort (skipped if absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerasense.cli import main
from nerasense.errors import InputError
from nerasense.report.cohort import build_report

from ..stats.conftest import SHARED_DATA, golden

EXAMPLES = Path(__file__).parents[2] / "examples" / "stats"
SUMMIT = SHARED_DATA / "summit-biliary" / "data_clinical_patient.txt"


def test_demo_cohort_has_every_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.html"
    assert main(["cohort", "report", str(EXAMPLES / "demo_cohort.yaml"), "-o", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload["sections"]) == {"response", "survival", "recist", "adverse_events", "subgroups", "swimmer"}
    assert payload["sections"]["survival"]["analysed"] is True
    assert "logrank_p" in payload["sections"]["survival"]
    page = out.read_text()
    assert "Research use only" in page and page.count("data:image/png;base64") >= 4


def test_unknown_yaml_key_is_an_input_error(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("title: x\ndata: {path: a.csv, patient: id}\nsurvivl: {}\n")
    with pytest.raises(InputError, match="survivl"):
        build_report(spec)


@pytest.mark.shared_data
@pytest.mark.skipif(not SUMMIT.is_file(), reason=f"real SUMMIT biliary data not found at {SUMMIT}")
def test_summit_biliary_worked_example() -> None:
    """4/25 responders in the cBioPortal export; CI = R binom.test(4, 25)$conf.int (response.json).
    OS status is UNKNOWN for 21 of 25 patients (PROVENANCE.md): the report must refuse survival."""
    _, payload = build_report(EXAMPLES / "summit_biliary.yaml", allowed=[SHARED_DATA])
    orr = payload["sections"]["response"]["orr"]
    assert (orr["responders"], orr["evaluable"]) == (4, 25)
    r = next(c for c in golden("response")["intervals"] if c["call"] == "binom.test(4, 25, conf.level=0.95)")
    assert (orr["ci_low"], orr["ci_high"]) == pytest.approx(r["exact"], rel=1e-9)
    surv = payload["sections"]["survival"]
    assert surv["analysed"] is False and surv["status_values"]["UNKNOWN"] == 21
    assert any("not analysed" in m for m in payload["not_supported"])


def _lesions(tmp_path: Path) -> Path:
    """P1: PR at week 8 confirmed at week 16, no PD; P2: PD at week 8 (RECIST 1.1 §4.3.1: +30 %, +15 mm)."""
    rows = ["patient,date,lesion_id,kind,organ,diameter"]
    rows += [f"P1,{d},T1,target,liver,{v}" for d, v in (("2024-01-01", 50), ("2024-02-26", 30), ("2024-04-22", 30))]
    rows += [f"P2,{d},T1,target,liver,{v}" for d, v in (("2024-01-01", 50), ("2024-02-26", 65))]
    path = tmp_path / "lesions.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_swimmer_from_lesion_assessments(tmp_path: Path) -> None:
    _lesions(tmp_path)
    (tmp_path / "c.csv").write_text("patient,bor\nP1,PR\nP2,PD\n")
    spec = tmp_path / "c.yaml"
    spec.write_text("title: t\ndata: {path: c.csv, patient: patient}\nlesions: {path: lesions.csv}\nswimmer: {unit: weeks}\n")
    page, payload = build_report(spec)
    sw = {r["patient"]: r for r in payload["sections"]["swimmer"]}
    assert (sw["P1"]["duration"], sw["P1"]["ongoing"], sw["P1"]["best_response"]) == (16.0, True, "PR")
    assert sw["P1"]["markers"] == [(8.0, "PR")]
    assert (sw["P2"]["duration"], sw["P2"]["ongoing"], sw["P2"]["markers"]) == (8.0, False, [(8.0, "PD")])
    assert "Swimmer plot" in page


def test_swimmer_from_time_on_treatment_column(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("patient,bor,tot,active\nP1,PR,11.5,yes\nP2,PD,2.0,no\nP3,SD,,no\n")
    spec = tmp_path / "c.yaml"
    spec.write_text(
        "title: t\ndata: {path: c.csv, patient: patient}\nresponse: {best_response: bor}\n"
        "swimmer: {duration: tot, ongoing: active, ongoing_values: ['yes']}\n"
    )
    _, payload = build_report(spec)
    rows = payload["sections"]["swimmer"]
    assert [(r["patient"], r["duration"], r["ongoing"], r["best_response"]) for r in rows] == [
        ("P1", 11.5, True, "PR"),
        ("P2", 2.0, False, "PD"),
    ]
    assert any("P3" not in m and "without tot" in m for m in payload["not_supported"])


def test_swimmer_without_durations_is_said(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("patient,bor\nP1,PR\n")
    spec = tmp_path / "c.yaml"
    spec.write_text("title: t\ndata: {path: c.csv, patient: patient}\nswimmer: {}\n")
    _, payload = build_report(spec)
    assert "swimmer" not in payload["sections"]
    assert any("Swimmer plot needs" in m for m in payload["not_supported"])


@pytest.mark.parametrize(
    ("field", "yaml_text"),
    [
        ("data.path", "title: t\ndata: {path: /etc/passwd, patient: id}\n"),
        ("data.path", "title: t\ndata: {path: ../outside.csv, patient: id}\n"),
        ("lesions.path", "title: t\ndata: {path: c.csv, patient: patient}\nlesions: {path: ../outside.csv}\n"),
        ("adverse_events.path",
         "title: t\ndata: {path: c.csv, patient: patient}\nadverse_events: {path: ../outside.csv, n_patients: 2}\n"),
    ],
)
def test_cohort_yaml_cannot_name_a_file_outside_its_folder(tmp_path: Path, field: str, yaml_text: str) -> None:
    """The tables a cohort YAML names resolve in its folder (or an --allow-dir folder), like a patient file's."""
    (tmp_path / "outside.csv").write_text("patient,bor\nP1,PR\n")
    inner = tmp_path / "study"
    inner.mkdir()
    (inner / "c.csv").write_text("patient,bor\nP1,PR\nP2,PD\n")
    (inner / "c.yaml").write_text(yaml_text)
    with pytest.raises(InputError) as err:
        build_report(inner / "c.yaml")
    assert [p.field for p in err.value.problems] == [field]
    assert "was not read" in str(err.value)


def test_allow_dir_admits_a_folder_outside_the_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "c.csv").write_text("patient,bor\nP1,PR\nP2,PD\n")
    inner = tmp_path / "study"
    inner.mkdir()
    (inner / "c.yaml").write_text("title: t\ndata: {path: ../shared/c.csv, patient: patient}\n")
    assert main(["cohort", "report", str(inner / "c.yaml"), "--json"]) == 2
    assert "data.path" in capsys.readouterr().err
    assert main(["cohort", "report", str(inner / "c.yaml"), "--allow-dir", str(shared), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_patients"] == 2
