"""``nerasense dosing`` and ``nerasense interactions``: --json prints one object; bad input is one line on
stderr naming every field, value and what is allowed."""

from __future__ import annotations

import json

from nerasense.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dosing_json_contract(capsys) -> None:
    code, out, _ = run(capsys, "dosing", "neratinib-capecitabine", "--weight", "70", "--height", "170",
                       "--start", "2026-01-05", "--cycles", "2", "--escalation", "--json")
    assert code == 0
    d = json.loads(out)
    for key in ("software_version", "kb_version", "regimen", "calendar"):
        assert key in d
    assert d["regimen"]["bsa"]["formula"] == "mosteller" and round(d["regimen"]["bsa"]["bsa_m2"], 2) == 1.82
    cal = d["calendar"]
    assert cal["start_option"] == "escalation" and len(cal["days"]) == 42
    day8 = cal["days"][7]
    assert (day8["date"], day8["cycle"], day8["day"]) == ("2026-01-12", 1, 8)
    assert {x["drug"]: x["dose"] for x in day8["doses"]} == {"neratinib": 160, "capecitabine": 750}


def test_dosing_without_start_has_no_calendar(capsys) -> None:
    code, out, _ = run(capsys, "dosing", "neratinib-tdm1", "--weight", "60", "--json")
    d = json.loads(out)
    assert code == 0 and d["calendar"] is None
    tdm1 = next(c for c in d["regimen"]["components"] if c["drug"] == "t-dm1")
    assert tdm1["amount_mg"] == 216.0  # 3.6 mg/kg x 60 kg (kadcyla-uspi)


def test_dosing_text(capsys) -> None:
    code, out, _ = run(capsys, "dosing", "extended-adjuvant", "--start", "2026-01-05", "--loperamide-prophylaxis")
    assert code == 0 and "C1D1" in out and "loperamide 4 mg three times daily" in out


def test_dosing_child_pugh_c_eu(capsys) -> None:
    code, out, _ = run(capsys, "dosing", "extended-adjuvant", "--start", "2026-01-05", "--child-pugh", "C",
                       "--region", "EU", "--json")
    d = json.loads(out)
    assert code == 0 and d["calendar"]["status"] == "contraindicated" and d["calendar"]["days"] == []


def test_dosing_bad_input_is_one_line_with_every_problem(capsys) -> None:
    code, out, err = run(capsys, "dosing", "nope", "--weight", "0", "--height", "20", "--start", "2026-02-30", "--json")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    for part in ("regimen_id='nope'", "weight_kg=0.0", "height_cm=20.0", "start='2026-02-30'", "allowed"):
        assert part in lines[0]


def test_dosing_non_numeric_weight(capsys) -> None:
    code, _, err = run(capsys, "dosing", "extended-adjuvant", "--weight", "heavy", "--cycles", "x")
    assert code == 2 and "weight_kg='heavy'" in err and "cycles='x'" in err


def test_escalation_and_prophylaxis_flags_exclude_each_other(capsys) -> None:
    code, _, err = run(capsys, "dosing", "extended-adjuvant", "--escalation", "--loperamide-prophylaxis")
    assert code == 2 and "not allowed with" in err


def test_interactions_json_contract(capsys) -> None:
    code, out, _ = run(capsys, "interactions", "Prilosec", "ranitidine", "unobtainium", "--json")
    assert code == 0
    d = json.loads(out)
    for key in ("software_version", "kb_version", "medications", "findings", "not_found"):
        assert key in d
    assert d["not_found"] == ["unobtainium"]
    assert {(f["drug"], f["class_id"]) for f in d["findings"]} == {("omeprazole", "ppi"), ("ranitidine", "h2-antagonists")}


def test_interactions_bad_region(capsys) -> None:
    code, _, err = run(capsys, "interactions", "digoxin", "--region", "JP")
    assert code == 2 and "region='JP'" in err


def test_dosing_child_pugh_without_calendar(capsys) -> None:
    code, out, _ = run(capsys, "dosing", "extended-adjuvant", "--child-pugh", "C", "--json")
    d = json.loads(out)
    assert code == 0 and d["hepatic"]["start_dose_mg"] == 80 and d["calendar"] is None
