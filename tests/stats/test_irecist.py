"""iRECIST rules, one table row (or more) per rule in ``irecist.RULES``, with a completeness check.

Expected values are worked by hand from Seymour et al., Lancet Oncol 2017;18:e143–e152 (Table 2
time-point responses, Table 3 iBOR) and the EORTC iRECIST FAQ (recist.eortc.org/irecist): confirmation
4–8 weeks after iUPD; ≥ 5 mm further increase in the target or new-lesion target sum, any further
increase in non-target or new non-target lesions, or another new lesion; 4 mm + 2 mm ⇒ iCPD.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nerasense.cli import main
from nerasense.stats.irecist import RULES
from nerasense.stats.recist import assess

from .test_recist import T1, L

NT = "non-target"
BASE_NT = [L(0, "N1", NT, organ="bone", status="present"), L(56, "N1", NT, organ="bone", status="present")]
# iSD at day 56 (nadir 40), iUPD at day 112 (sum 50: +25 %, +10 mm over the nadir)
UPD = [(0, 50), (56, 40), (112, 50)]
# target stable (iSD 45 mm) at days 56, 112, 154: progression only from other categories
STABLE = T1((0, 50), (56, 45), (112, 45), (154, 45))

# (case id, rule that must fire, rows, expected: "i" = i-time-point responses, other keys = IRecistResponse fields)
CASES: list[tuple[str, str, list[dict], dict[str, Any]]] = [
    ("RECIST PD becomes iUPD", "IR-IUPD", T1(*UPD), {"i": ["iSD", "iUPD"], "best_response": "iSD"}),
    (
        "target sum +5 mm over the iUPD sum 6 weeks later is iCPD",
        "IR-CPD-TARGET",
        T1(*UPD, (154, 55)),
        {"i": ["iSD", "iUPD", "iCPD"], "best_response": "iSD", "icpd_date": "2024-06-03"},
    ),
    ("+2 mm only: remains iUPD", "IR-IUPD-PERSISTS", T1(*UPD, (154, 52)), {"i": ["iSD", "iUPD", "iUPD"], "icpd_date": None}),
    (
        "4 mm then 2 mm is iCPD (additive)",
        "IR-ADDITIVE",
        T1(*UPD, (140, 54), (168, 56)),
        {"i": ["iSD", "iUPD", "iUPD", "iCPD"]},
    ),
    (
        "iSD after iUPD resets the bar; the new iUPD is the reference (+3 mm over it is not iCPD)",
        "IR-RESET",
        T1(*UPD, (154, 42), (210, 52), (252, 55)),
        {"i": ["iSD", "iUPD", "iSD", "iUPD", "iUPD"], "iupd_dates": ["2024-04-22", "2024-07-29"]},
    ),
    (
        "pseudo-progression: iUPD then confirmed iPR; iBOR iPR",
        "IR-RESET",
        T1((0, 50), (56, 60), (112, 30), (168, 30)),
        {"i": ["iUPD", "iPR", "iPR"], "best_response": "iPR", "confirmed": True, "recist_bor": "PD"},
    ),
    (
        "non-target iUPD confirmed by any further increase",
        "IR-CPD-NONTARGET",
        [
            *STABLE,
            *BASE_NT,
            L(112, "N1", NT, organ="bone", status="progression"),
            L(154, "N1", NT, organ="bone", status="increase"),
        ],
        {"i": ["iSD", "iUPD", "iCPD"]},
    ),
    (
        "non-target still progressed without further increase: remains iUPD (Table 2)",
        "IR-IUPD-PERSISTS",
        [
            *STABLE,
            *BASE_NT,
            L(112, "N1", NT, organ="bone", status="progression"),
            L(154, "N1", NT, organ="bone", status="progression"),
        ],
        {"i": ["iSD", "iUPD", "iUPD"]},
    ),
    (
        "measurable new lesion is a new target; its sum +5 mm is iCPD; small new lesion not in the sum",
        "IR-CPD-NEW-SUM",
        [
            *STABLE,
            L(112, "X1", "new", diameter=12, organ="lung"),
            L(112, "X2", "new", diameter=6, organ="lung"),
            L(154, "X1", "new", diameter=17, organ="lung"),
            L(154, "X2", "new", diameter=6, organ="lung"),
        ],
        {"i": ["iSD", "iUPD", "iCPD"], "new_sums": [None, 12.0, 17.0]},
    ),
    (
        "new targets: at most 2 per organ and 5 in total (largest first)",
        "IR-NEW-TARGET",
        [
            *STABLE,
            # 17, 16, 15 mm in the lung (only two count), 14, 13, 12 elsewhere; 11, 10 left over
            *[L(112, f"X{i}", "new", diameter=10 + i, organ="lung" if i >= 5 else f"o{i}") for i in range(8)],
        ],
        {"i": ["iSD", "iUPD", "iUPD"], "new_sums": [None, 17.0 + 16 + 14 + 13 + 12, None]},
    ),
    (
        "new non-target lesion: any increase is iCPD",
        "IR-CPD-NEW-NT",
        [
            *STABLE,
            L(112, "X1", "new", diameter=8, organ="lung"),
            L(154, "X1", "new", diameter=9, organ="lung", status="increase"),
        ],
        {"i": ["iSD", "iUPD", "iCPD"]},
    ),
    (
        "another new lesion is iCPD",
        "IR-CPD-ANOTHER-NEW",
        [*STABLE, L(112, "X1", "new", organ="lung"), L(154, "X1", "new", organ="lung"), L(154, "X2", "new", organ="brain")],
        {"i": ["iSD", "iUPD", "iCPD"]},
    ),
    (
        "new lesion unchanged: remains iUPD",
        "IR-IUPD-PERSISTS",
        [*STABLE, L(112, "X1", "new", diameter=12, organ="lung"), L(154, "X1", "new", diameter=11, organ="lung")],
        {"i": ["iSD", "iUPD", "iUPD"], "best_response": "iSD"},
    ),
    (
        "iUPD by new lesion, then target meets RECIST PD: iCPD",
        "IR-CPD-OTHER",
        [*T1((0, 50), (56, 45), (112, 45), (154, 60)), L(112, "X1", "new", organ="lung"), L(154, "X1", "new", organ="lung")],
        {"i": ["iSD", "iUPD", "iCPD"]},
    ),
    (
        "scan 2 weeks after iUPD does not confirm a size increase",
        "IR-CONFIRM-EARLY",
        T1(*UPD, (126, 60), (168, 60)),
        {"i": ["iSD", "iUPD", "iUPD", "iCPD"]},
    ),
    (
        "scan 2 weeks after iUPD with another new lesion confirms (EORTC FAQ)",
        "IR-CPD-ANOTHER-NEW",
        [*T1(*UPD, (126, 50)), L(126, "X1", "new", organ="brain")],
        {"i": ["iSD", "iUPD", "iCPD"]},
    ),
    ("confirmation 10 weeks after iUPD is flagged", "IR-CONFIRM-LATE", T1(*UPD, (182, 60)), {"i": ["iSD", "iUPD", "iCPD"]}),
    (
        "assessments after iCPD do not count",
        "IR-AFTER-ICPD",
        T1(*UPD, (154, 55), (210, 20), (266, 20)),
        {"i": ["iSD", "iUPD", "iCPD"], "best_response": "iSD"},
    ),
    (
        "iUPD then iCPD, nothing better: iBOR iCPD",
        "IR-BOR-PROGRESSION",
        T1((0, 50), (28, 65), (84, 75)),
        {"i": ["iUPD", "iCPD"], "best_response": "iCPD"},
    ),
    ("iUPD never confirmed: iBOR iUPD", "IR-BOR-PROGRESSION", T1((0, 50), (28, 65)), {"best_response": "iUPD"}),
    (
        "confirmed iPR holds above -30 % (EORTC FAQ: 100, 70, 70, 80, 80, 80 is iPR throughout)",
        "IR-BOR-RESPONSE",
        T1((0, 100), (56, 70), (112, 70), (168, 80), (224, 80), (280, 80)),
        {"i": ["iPR"] * 5, "best_response": "iPR", "confirmed": True},
    ),
    (
        "iCR confirmed before iUPD and iCPD: iBOR iCR",
        "IR-BOR-RESPONSE",
        [
            *T1((0, 30)),
            L(56, "T1", disappeared=1),
            L(112, "T1", disappeared=1),
            L(168, "T1", diameter=12),
            L(224, "T1", diameter=20),
        ],
        {"i": ["iCR", "iCR", "iUPD", "iCPD"], "best_response": "iCR", "confirmed": True},
    ),
]


@pytest.mark.parametrize("case_id,rule,rows,expected", CASES, ids=[c[0] for c in CASES])
def test_irecist_rule_table(case_id: str, rule: str, rows: list[dict], expected: dict[str, Any]) -> None:
    res = assess(pd.DataFrame(rows), irecist=True)["P1"]
    ir = res.irecist
    assert ir is not None
    assert rule in ir.rules, (rule, ir.rules)
    d = ir.as_dict()
    for key, want in expected.items():
        if key == "i":
            assert [a.response for a in ir.assessments] == want
        elif key == "new_sums":
            assert [a.new_target_sum for a in ir.assessments] == want
        elif key == "recist_bor":
            assert res.best_response == want
        else:
            assert d[key] == want, key


def test_every_irecist_rule_has_a_row() -> None:
    covered = {c[1] for c in CASES}
    assert covered == set(RULES), set(RULES) ^ covered


def test_irecist_is_off_by_default() -> None:
    res = assess(pd.DataFrame(T1(*UPD)))["P1"]
    assert res.irecist is None and "irecist" not in res.as_dict()


def test_cli_recist_irecist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lesions.csv"
    pd.DataFrame(T1((0, 50), (56, 60), (112, 30), (168, 30))).to_csv(path, index=False)
    assert main(["recist", str(path), "--irecist", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    p = out["patients"]["P1"]
    assert out["irecist"] is True
    assert (p["best_response"], p["irecist"]["best_response"], p["irecist"]["confirmed"]) == ("PD", "iPR", True)
    assert out["summary_irecist"]["orr"]["responders"] == 1
