"""RECIST 1.1 rules, one table row (or more) per rule in ``RULES``, with a completeness check.

Expected values are worked by hand from Eisenhauer et al. 2009 (Tables 1–3) and the EORTC FAQ.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nerasense.cli import main
from nerasense.errors import InputError
from nerasense.stats.recist import RULES, assess

D0 = date(2024, 1, 1)


def L(
    day: int,
    lid: str,
    kind: str = "target",
    diameter: float | None = None,
    organ: str = "liver",
    nodal: int = 0,
    too_small: int = 0,
    disappeared: int = 0,
    status: str | None = None,
    patient: str = "P1",
) -> dict:
    return {
        "patient": patient,
        "date": (D0 + timedelta(days=day)).isoformat(),
        "lesion_id": lid,
        "kind": kind,
        "organ": organ,
        "nodal": nodal,
        "diameter": diameter,
        "too_small": too_small,
        "disappeared": disappeared,
        "status": status,
    }


def T1(*series: tuple[int, float]) -> list[dict]:
    """One non-nodal liver target with (day, diameter) measurements."""
    return [L(day, "T1", diameter=d) for day, d in series]


NT_BASE = [L(0, "N1", "non-target", organ="bone", status="present")]

# (case id, rule that must fire, rows, confirm, expected: dict of patient fields / "tp" target list / "overall")
CASES: list[tuple[str, str, list[dict], bool, dict[str, Any]]] = [
    (
        "PR confirmed 56 d later",
        "BOR-CONFIRMED-PR",
        T1((0, 50), (56, 34), (112, 30)),
        True,
        {"best_response": "PR", "confirmed": True, "best_pct_change": -40.0, "overall": ["PR", "PR"]},
    ),
    ("30% shrinkage is PR", "T-PR", T1((0, 50), (56, 35), (112, 35)), True, {"overall": ["PR", "PR"]}),
    (
        "PR then CR is a confirmed PR (Table 3)",
        "OV-PR",
        [*T1((0, 50), (56, 30)), L(112, "T1", disappeared=1)],
        True,
        {"best_response": "PR", "confirmed": True},
    ),
    ("10% shrinkage is SD", "T-SD", T1((0, 50), (56, 45)), True, {"best_response": "SD", "overall": ["SD"]}),
    ("SD after 56 d meets the 42 d minimum", "BOR-SD-MIN", T1((0, 50), (56, 45)), True, {"best_response": "SD"}),
    ("target SD overall", "OV-SD", T1((0, 50), (56, 45)), True, {"overall": ["SD"]}),
    (
        "+20% and +8 mm vs nadir is PD",
        "T-PD",
        T1((0, 50), (56, 40), (112, 48)),
        True,
        {"overall": ["SD", "PD"], "best_response": "SD"},
    ),
    ("+25% but only +2.5 mm is not PD", "T-SD", T1((0, 12), (56, 10), (112, 12.5)), True, {"overall": ["SD", "SD"]}),
    (
        "PD is judged against the nadir, PR against baseline",
        "T-PD",
        T1((0, 100), (56, 60), (112, 72)),
        True,
        {"overall": ["PR", "PD"], "best_response": "SD"},
    ),
    (
        "assessments after PD are ignored",
        "BOR-AFTER-PD",
        T1((0, 50), (28, 65), (84, 20), (140, 20)),
        True,
        {"best_response": "PD", "best_pct_change": 30.0},
    ),
    ("any PD makes the time point PD", "OV-PD", T1((0, 50), (56, 65)), True, {"overall": ["PD"]}),
    (
        "non-nodal gone and node < 10 mm is CR (sum 8 mm)",
        "T-CR",
        [
            L(0, "T1", diameter=30),
            L(0, "LN1", diameter=20, organ="node", nodal=1),
            L(56, "T1", disappeared=1),
            L(56, "LN1", diameter=8, organ="node", nodal=1),
            L(112, "T1", disappeared=1),
            L(112, "LN1", diameter=9, organ="node", nodal=1),
        ],
        True,
        {"best_response": "CR", "confirmed": True, "overall": ["CR", "CR"]},
    ),
    (
        "disappeared counts 0 mm",
        "M-DISAPPEARED",
        [*T1((0, 30)), L(56, "T1", disappeared=1), L(112, "T1", disappeared=1)],
        True,
        {"best_pct_change": -100.0},
    ),
    (
        "CR confirmed",
        "BOR-CONFIRMED-CR",
        [*T1((0, 30)), L(56, "T1", disappeared=1), L(112, "T1", disappeared=1)],
        True,
        {"best_response": "CR", "confirmed": True},
    ),
    ("CR + no non-target + no new = CR", "OV-CR", [*T1((0, 30)), L(56, "T1", disappeared=1)], True, {"overall": ["CR"]}),
    (
        "reappearance after CR is PD; CR->PD with SD met = SD",
        "T-REAPPEAR",
        [*T1((0, 30)), L(56, "T1", disappeared=1), L(112, "T1", diameter=3)],
        True,
        {"overall": ["CR", "PD"], "best_response": "SD", "confirmed": False},
    ),
    (
        "unconfirmed CR meeting SD duration = SD",
        "BOR-UNCONFIRMED-SD",
        [*T1((0, 30)), L(56, "T1", disappeared=1)],
        True,
        {"best_response": "SD", "best_response_unconfirmed": "CR"},
    ),
    (
        "too small counts 5 mm",
        "M-TOO-SMALL",
        [
            L(0, "T1", diameter=20),
            L(0, "T2", diameter=20, organ="lung"),
            L(56, "T1", too_small=1),
            L(56, "T2", diameter=8, organ="lung"),
        ],
        True,
        {"overall": ["PR"], "best_pct_change": -67.5},
    ),
    (
        "a missing target makes the time point NE",
        "T-NE",
        [L(0, "T1", diameter=20), L(0, "T2", diameter=20, organ="lung"), L(56, "T1", diameter=10)],
        True,
        {"overall": ["NE"], "best_response": "NE"},
    ),
    (
        "target NE overall",
        "OV-NE",
        [
            L(0, "T1", diameter=20),
            L(0, "T2", diameter=20, organ="lung"),
            L(56, "T2", diameter=20, organ="lung", status="ne"),
            L(56, "T1", diameter=20),
        ],
        True,
        {"overall": ["NE"]},
    ),
    (
        "the measured targets already show PD despite a missing one",
        "T-PD",
        [L(0, "T1", diameter=20), L(0, "T2", diameter=20, organ="lung"), L(56, "T1", diameter=50)],
        True,
        {"overall": ["PD"]},
    ),
    (
        "unequivocal non-target progression",
        "NT-PD",
        [*T1((0, 50), (56, 45)), *NT_BASE, L(56, "N1", "non-target", organ="bone", status="progression")],
        True,
        {"overall": ["PD"], "best_response": "PD"},
    ),
    (
        "target CR + non-target CR = CR",
        "NT-CR",
        [*T1((0, 30)), L(56, "T1", disappeared=1), *NT_BASE, L(56, "N1", "non-target", organ="bone", status="absent")],
        True,
        {"overall": ["CR"]},
    ),
    (
        "target CR + non-target present = PR",
        "OV-PR-CR-NONCR",
        [*T1((0, 30)), L(56, "T1", disappeared=1), *NT_BASE, L(56, "N1", "non-target", organ="bone", status="present")],
        True,
        {"overall": ["PR"]},
    ),
    (
        "non-target persistence",
        "NT-NONCR",
        [*T1((0, 30)), L(56, "T1", disappeared=1), *NT_BASE, L(56, "N1", "non-target", organ="bone", status="present")],
        True,
        {"overall": ["PR"]},
    ),
    (
        "target CR + non-target not evaluated = PR",
        "OV-PR-CR-NE",
        [*T1((0, 30)), L(56, "T1", disappeared=1), *NT_BASE, L(56, "N1", "non-target", organ="bone", status="ne")],
        True,
        {"overall": ["PR"]},
    ),
    ("non-target not assessed", "NT-NE", [*T1((0, 50), (56, 45)), *NT_BASE], True, {"overall": ["SD"]}),
    (
        "unequivocal new lesion is PD",
        "NEW-PD",
        [*T1((0, 50), (56, 45)), L(56, "X1", "new", organ="brain")],
        True,
        {"overall": ["PD"], "best_response": "PD"},
    ),
    (
        "equivocal new lesion confirmed later: PD from first sight",
        "NEW-EQUIVOCAL",
        [
            *T1((0, 50), (56, 45), (112, 45)),
            L(56, "X1", "new", organ="brain", status="equivocal"),
            L(112, "X1", "new", organ="brain", status="unequivocal"),
        ],
        True,
        {"overall": ["PD", "PD"], "best_response": "PD"},
    ),
    (
        "equivocal new lesion never confirmed is not PD",
        "NEW-EQUIVOCAL",
        [*T1((0, 50), (56, 45)), L(56, "X1", "new", organ="brain", status="equivocal")],
        True,
        {"overall": ["SD"]},
    ),
    (
        "non-target disease only (Table 2)",
        "OV-NT-ONLY",
        [*NT_BASE, L(56, "N1", "non-target", organ="bone", status="present")],
        True,
        {"overall": ["NON-CR/NON-PD"], "best_response": "NON-CR/NON-PD", "best_pct_change": None},
    ),
    (
        "PR repeated 14 d later is not confirmed",
        "BOR-CONFIRM-INTERVAL",
        T1((0, 50), (56, 30), (70, 30)),
        True,
        {"best_response": "SD", "best_response_unconfirmed": "PR", "confirmed": False},
    ),
    (
        "SD at 28 d then PD: minimum not met -> PD",
        "BOR-SD-NOT-MET",
        T1((0, 50), (28, 45), (56, 65)),
        True,
        {"best_response": "PD"},
    ),
    ("SD at 28 d only: minimum not met -> NE", "BOR-SD-NOT-MET", T1((0, 50), (28, 45)), True, {"best_response": "NE"}),
    (
        "PR at 28 d then NE: SD not met -> NE (Table 3 PR/NE)",
        "BOR-SD-NOT-MET",
        [
            L(0, "T1", diameter=50),
            L(0, "T2", diameter=20, organ="lung"),
            L(28, "T1", diameter=20),
            L(28, "T2", diameter=10, organ="lung"),
            L(56, "T1", diameter=20),
        ],
        True,
        {"best_response": "NE"},
    ),
    (
        "confirmed PR stays PR when the sum drifts back above -30 % (EORTC FAQ: 100, 70, 70, 80, 80, 80)",
        "T-PR-HOLD",
        T1((0, 100), (56, 70), (112, 70), (168, 80), (224, 80), (280, 80)),
        True,
        {"overall": ["PR"] * 5, "best_response": "PR", "confirmed": True},
    ),
    (
        "unconfirmed PR does not hold: 100, 70, 80 is PR then SD",
        "T-SD",
        T1((0, 100), (56, 70), (112, 80)),
        True,
        {"overall": ["PR", "SD"], "best_response": "SD", "confirmed": False},
    ),
    (
        "PD still ends a held PR (+21 % and +15 mm over the nadir 70)",
        "T-PR-HOLD",
        T1((0, 100), (56, 70), (112, 70), (168, 80), (224, 85)),
        True,
        {"overall": ["PR", "PR", "PR", "PD"], "best_response": "PR"},
    ),
    (
        "SD documented at 24 weeks is clinical benefit",
        "BOR-CBR",
        T1((0, 50), (56, 45), (112, 45), (168, 45)),
        True,
        {"best_response": "SD", "sd_weeks": 24.0, "clinical_benefit": True},
    ),
    (
        "SD to 16 weeks then PD is no clinical benefit",
        "BOR-CBR",
        T1((0, 50), (56, 45), (112, 45), (168, 60)),
        True,
        {"best_response": "SD", "sd_weeks": 16.0, "clinical_benefit": False},
    ),
    (
        "without confirmation the best time point counts",
        "BOR-UNCONFIRMED",
        T1((0, 50), (56, 30)),
        False,
        {"best_response": "PR", "confirmed": False},
    ),
]


@pytest.mark.parametrize("case_id,rule,rows,confirm,expected", CASES, ids=[c[0] for c in CASES])
def test_rule_table(case_id: str, rule: str, rows: list[dict], confirm: bool, expected: dict) -> None:
    res = assess(pd.DataFrame(rows), confirm=confirm)["P1"]
    assert rule in res.rules, (rule, res.rules)
    for key, want in expected.items():
        if key == "overall":
            assert [a.overall for a in res.assessments] == want
        elif key == "best_pct_change" and want is not None:
            assert res.best_pct_change == pytest.approx(want)
        else:
            assert getattr(res, key) == want, key


BASELINE_CASES = [
    ("BASE-MAX5", [L(0, f"T{i}", diameter=20, organ=f"o{i}") for i in range(6)]),
    ("BASE-MAX2-ORGAN", [L(0, f"T{i}", diameter=20) for i in range(3)]),
    ("BASE-MAX2-ORGAN", [L(0, f"LN{i}", diameter=20, organ=f"site{i}", nodal=1) for i in range(3)]),
    ("BASE-MEASURABLE", [L(0, "LN1", diameter=12, organ="neck", nodal=1)]),
    ("BASE-MEASURABLE", [L(0, "T1", diameter=8)]),
    ("BASE-NO-NEW", [L(0, "T1", diameter=20), L(0, "X1", "new")]),
]


@pytest.mark.parametrize("rule,rows", BASELINE_CASES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(BASELINE_CASES)])
def test_baseline_rules(rule: str, rows: list[dict]) -> None:
    with pytest.raises(InputError, match=rule if rule != "BASE-NO-NEW" else "target or non-target at baseline"):
        assess(pd.DataFrame(rows))


def test_every_rule_has_a_row() -> None:
    covered = {c[1] for c in CASES} | {r for r, _ in BASELINE_CASES}
    assert covered == set(RULES), set(RULES) ^ covered


def test_bad_table_lists_every_problem() -> None:
    rows = [
        L(0, "T1", diameter=20),
        L(1, "T1", kind="tumour"),
        L(2, "N1", "non-target", status="gone"),
        {**L(3, "T1", diameter=5), "date": "2024-13-01"},
    ]
    with pytest.raises(InputError) as err:
        assess(pd.DataFrame(rows))
    assert {p.field for p in err.value.problems} == {"kind", "status", "date"}
    assert "row 2" in str(err.value) and "row 3" in str(err.value) and "row 4" in str(err.value)


def test_patients_are_independent_and_order_free() -> None:
    rows = T1((0, 50), (56, 30), (112, 30)) + [dict(r, patient="P2") for r in T1((0, 40), (56, 60))]
    a = assess(pd.DataFrame(rows))
    b = assess(pd.DataFrame(rows[::-1]))
    assert {k: v.best_response for k, v in a.items()} == {k: v.best_response for k, v in b.items()} == {"P1": "PR", "P2": "PD"}


def test_cli_recist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lesions.csv"
    pd.DataFrame(T1((0, 50), (56, 34), (112, 30))).to_csv(path, index=False)
    assert main(["recist", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    p = out["patients"]["P1"]
    assert (p["best_response"], p["confirmed"], p["best_pct_change"]) == ("PR", True, -40.0)
    assert out["summary"]["orr"]["responders"] == 1


def test_cbr_duration_is_a_parameter_and_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = T1((0, 50), (56, 45), (112, 45), (168, 60))
    assert assess(pd.DataFrame(rows), cbr_weeks=16)["P1"].clinical_benefit is True
    with pytest.raises(InputError, match="cbr_weeks"):
        assess(pd.DataFrame(rows), cbr_weeks=0)
    path = tmp_path / "lesions.csv"
    pd.DataFrame(rows + [dict(r, patient="P2") for r in T1((0, 50), (56, 45), (112, 45), (168, 45))]).to_csv(path, index=False)
    assert main(["recist", str(path), "--cbr-weeks", "24", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cbr_weeks"] == 24 and out["summary"]["cbr_weeks"] == 24
    assert (out["summary"]["cbr"]["responders"], out["summary"]["cbr"]["evaluable"]) == (1, 2)
    assert (out["patients"]["P1"]["clinical_benefit"], out["patients"]["P2"]["clinical_benefit"]) == (False, True)
