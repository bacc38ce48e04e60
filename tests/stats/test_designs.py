"""Trial designs against seed 001, Simon (1989) Table 1/2 rows and brute-force R (tests/reference/designs.R)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerasense.cli import main
from nerasense.errors import InputError
from nerasense.stats.designs import simon_two_stage, single_arm_exact, single_arm_normal

from .conftest import golden


def test_seed_001_normal_approximation() -> None:
    """Seed 001: p0 0.21, p1 0.43, power 0.80, two-sided α 0.05 → 31 evaluable, 35 with 10% dropout."""
    d = single_arm_normal(0.21, 0.43, alpha=0.05, power=0.80, sides=2, dropout=0.10)
    assert (d.n_evaluable, d.n_enrolled) == (31, 35)


def test_exact_design_needs_more_patients_than_normal_for_seed_001() -> None:
    """statistics.md: the exact (A'Hern) design for seed 001's inputs needs more patients."""
    d = single_arm_exact(0.21, 0.43, alpha=0.05, power=0.80, sides=2)
    assert d.n_evaluable > 31


@pytest.mark.parametrize("case", golden("designs")["exact"], ids=lambda c: f"p0={c['p0']},p1={c['p1']},a={c['alpha']}")
def test_exact_single_stage_matches_r_bruteforce(case: dict) -> None:
    """R: first n with pbinom(r-1, n, p0, lower.tail=FALSE) <= alpha and power >= target (designs.R)."""
    d = single_arm_exact(case["p0"], case["p1"], case["alpha"], case["power"], sides=1)
    assert (d.n_evaluable, d.min_responses) == (case["n"], case["r"])
    assert d.actual_alpha == pytest.approx(case["actual_alpha"], rel=1e-10)
    assert d.actual_power == pytest.approx(case["actual_power"], rel=1e-10)


# Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials 1989;10:1-10,
# Tables 1 and 2 (alpha 0.05, beta 0.20): (r1, n1, r, n, EN0, PET0) as printed.
SIMON_1989 = [
    ("p0=.05 p1=.25 optimal", 0.05, 0.25, "optimal", (0, 9, 2, 17, 12.0, 0.63)),
    ("p0=.05 p1=.25 minimax", 0.05, 0.25, "minimax", (0, 12, 2, 16, 13.8, 0.54)),
    ("p0=.10 p1=.30 optimal", 0.10, 0.30, "optimal", (1, 10, 5, 29, 15.0, 0.74)),
    ("p0=.10 p1=.30 minimax", 0.10, 0.30, "minimax", (1, 15, 5, 25, 19.5, 0.55)),
    ("p0=.20 p1=.40 optimal", 0.20, 0.40, "optimal", (3, 13, 12, 43, 20.6, 0.75)),
    ("p0=.20 p1=.40 minimax", 0.20, 0.40, "minimax", (4, 18, 10, 33, 22.3, 0.72)),
    ("p0=.30 p1=.50 optimal", 0.30, 0.50, "optimal", (5, 15, 18, 46, 23.6, 0.72)),
    ("p0=.30 p1=.50 minimax", 0.30, 0.50, "minimax", (6, 19, 16, 39, 25.7, 0.67)),
]


@pytest.fixture(scope="module")
def simon_cache() -> dict[tuple[float, float], object]:
    return {}


@pytest.mark.parametrize("case_id,p0,p1,kind,row", SIMON_1989, ids=[r[0] for r in SIMON_1989])
def test_simon_table(case_id: str, p0: float, p1: float, kind: str, row: tuple, simon_cache: dict) -> None:
    if (p0, p1) not in simon_cache:
        simon_cache[(p0, p1)] = simon_two_stage(p0, p1, 0.05, 0.80, nmax=60)
    d = getattr(simon_cache[(p0, p1)], kind)
    r1, n1, r, n, en0, pet0 = row
    assert (d.r1, d.n1, d.r, d.n) == (r1, n1, r, n)
    assert round(d.en0, 1) == en0
    assert round(d.pet0, 2) == pet0
    assert d.actual_alpha <= 0.05 and d.actual_power >= 0.80


@pytest.mark.parametrize(
    "kwargs,fields",
    [
        ({"p0": 0.4, "p1": 0.2}, {"p1"}),
        ({"p0": 0.0, "p1": 1.2, "alpha": 0.7, "power": 0.3}, {"p0", "p1", "alpha", "power"}),
    ],
)
def test_bad_design_input_lists_every_problem(kwargs: dict, fields: set[str]) -> None:
    with pytest.raises(InputError) as err:
        single_arm_normal(**kwargs)
    assert {p.field for p in err.value.problems} == fields


def test_cli_single_arm(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["design", "single-arm", "--p0", "0.21", "--p1", "0.43", "--alpha", "0.05", "--power", "0.8", "--dropout", "0.1"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"n_evaluable", "n_enrolled", "min_responses", "actual_alpha", "actual_power"} <= out.keys()
    assert (out["n_evaluable"], out["n_enrolled"]) == (31, 35)


def test_cli_simon(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["design", "simon", "--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--power", "0.8", "--nmax", "40"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for kind in ("optimal", "minimax"):
        assert {"r1", "n1", "r", "n", "en0", "pet0"} <= out[kind].keys()
    assert (out["optimal"]["n1"], out["optimal"]["n"]) == (10, 29)


@settings(max_examples=15, deadline=None)
@given(st.sampled_from([0.05, 0.1, 0.2, 0.3]), st.sampled_from([0.15, 0.2, 0.25]))
def test_simon_designs_meet_their_constraints(p0: float, delta: float) -> None:
    """Invariants: both designs meet α and power; minimax n ≤ optimal n; optimal EN0 ≤ minimax EN0."""
    res = simon_two_stage(p0, p0 + delta, 0.05, 0.8, nmax=70)
    for d in (res.optimal, res.minimax):
        assert d.actual_alpha <= 0.05 and d.actual_power >= 0.8
        assert 0 <= d.r1 < d.n1 < d.n and d.r1 <= d.r < d.n
    assert res.minimax.n <= res.optimal.n
    assert res.optimal.en0 <= res.minimax.en0 + 1e-12
