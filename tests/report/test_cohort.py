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
    assert set(payload["sections"]) == {"response", "survival", "recist", "adverse_events", "subgroups"}
    assert payload["sections"]["survival"]["analysed"] is True
    assert "logrank_p" in payload["sections"]["survival"]
    page = out.read_text()
    assert "Research use only" in page and page.count("data:image/png;base64") >= 3


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
    _, payload = build_report(EXAMPLES / "summit_biliary.yaml")
    orr = payload["sections"]["response"]["orr"]
    assert (orr["responders"], orr["evaluable"]) == (4, 25)
    r = next(c for c in golden("response")["intervals"] if c["call"] == "binom.test(4, 25, conf.level=0.95)")
    assert (orr["ci_low"], orr["ci_high"]) == pytest.approx(r["exact"], rel=1e-9)
    surv = payload["sections"]["survival"]
    assert surv["analysed"] is False and surv["status_values"]["UNKNOWN"] == 21
    assert any("not analysed" in m for m in payload["not_supported"])
