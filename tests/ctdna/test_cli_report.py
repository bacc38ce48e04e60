"""`nerasense ctdna` end to end: the JSON contract, exit codes, the figure and the report section."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from nerasense.cli import main
from nerasense.interpret.ctdna import interpret_ctdna
from nerasense.report.ctdna_figure import plot_ctdna_timeline
from nerasense.report.ctdna_section import ctdna_report_section

from .conftest import DATA, read

KEYS = {"patient_id", "baseline", "on_treatment", "molecular_response", "emergent", "flags", "missing_tests",
        "warnings", "software_version", "kb_version"}


def test_json_contract_for_one_patient(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "t.png"
    code = main(["ctdna", str(DATA / "basic.csv"), "--patient", "P1", "--json", "-o", str(png)])
    out = capsys.readouterr().out
    assert code == 0
    d = json.loads(out)
    assert set(d) >= KEYS
    assert any("in-sample" in w for w in d["warnings"])  # the cut-off was used, so its caveat is printed
    assert any("failed QC" in w for w in d["warnings"])
    assert png.is_file() and png.stat().st_size > 1000 and d["figure"] == str(png)


def test_several_patients_and_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ctdna", str(DATA / "kcsg.csv"), "--tissue", str(DATA / "kcsg_tissue.csv"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [p["patient_id"] for p in d["patients"]] == ["K1", "K2", "K3", "K4"]
    assert all(set(p) >= KEYS for p in d["patients"])
    assert main(["ctdna", str(DATA / "kcsg.csv")]) == 0
    captured = capsys.readouterr()
    assert "caveat: The 11.5% tumour-fraction cut-off was chosen in-sample" in captured.out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["bad_values.csv"], "vaf='1.5'"),
        (["missing_columns.csv"], "a column named 'date'"),
        (["basic.csv", "--patient", "nobody"], "--patient='nobody'"),
        (["basic.csv", "--definition", "vibes"], "definition='vibes'"),
        (["no_such_file.csv"], "No such file or directory"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    assert main(["ctdna", str(DATA / argv[0]), *argv[1:], "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and needle in captured.err


def test_report_section_carries_flags_caveats_and_sources(tmp_path: Path) -> None:
    s = read("gatekeeper.csv", assessments="gatekeeper_assessments.csv")["G1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = interpret_ctdna(s)
    png = plot_ctdna_timeline(f, tmp_path / "g1.png")
    section = ctdna_report_section(f, figure=str(png))
    assert section["id"] == "ctdna" and section["research_use_only"]
    assert any(x["id"] == "emergent-erbb2-t798i" for x in section["resistance_flags"])
    assert any("in-sample" in c for c in section["caveats"])
    assert {"seed-002", "hanker2017"} <= set(section["sources"])
    assert any(line.startswith("New on treatment: ERBB2 p.T798I") for line in section["summary"])
    assert png.is_file()
