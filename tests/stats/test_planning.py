"""Simulated power against a control arm: checked against Schoenfeld's formula and the nominal α."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from nerasense.cli import main
from nerasense.errors import InputError
from nerasense.stats.planning import simulate_power


def _exponential_arm(n: int = 3000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t, c = rng.exponential(12.0, n), rng.uniform(6, 36, n)
    return np.minimum(t, c), (t <= c).astype(float)


def test_two_arm_power_is_schoenfelds() -> None:
    """Schoenfeld (Biometrika 1981;68:316–319): with D events in a 1:1 trial the log-rank test has power
    Φ(√(D/4)·|log HR| − z_{1−α/2}); evaluated at the simulated mean number of events, within 3 MC SEs."""
    t, e = _exponential_arm()
    for row in simulate_power(t, e, 0.7, [80, 160], n_sim=600, seed=3):
        want = norm.cdf(math.sqrt(row.mean_events / 4) * abs(math.log(0.7)) - norm.ppf(0.975))
        assert abs(row.power - want) < 3 * row.mc_se + 0.01, (row, want)


@pytest.mark.parametrize("design", ["two-arm", "single-arm"])
def test_no_effect_rejects_at_about_alpha(design: str) -> None:
    """Under HR = 1 the benefit-side rejection rate is α/2 for a two-sided test (within 3 MC SEs + 0.01)."""
    t, e = _exponential_arm()
    row = simulate_power(t, e, 1.0, [60], design, n_sim=600, seed=5)[0]
    assert abs(row.power - 0.025) < 3 * math.sqrt(0.025 * 0.975 / 600) + 0.01


def test_power_grows_with_n_and_effect() -> None:
    t, e = _exponential_arm()
    small, big = simulate_power(t, e, 0.6, [20, 80], "single-arm", n_sim=300, seed=1)
    assert small.power < big.power
    weaker = simulate_power(t, e, 0.8, [80], "single-arm", n_sim=300, seed=1)[0]
    assert weaker.power < big.power


def test_bad_input_lists_every_problem() -> None:
    with pytest.raises(InputError) as exc:
        simulate_power([1, 2], [1, 0], -1, [1], "three-arm")
    assert len(exc.value.problems) >= 4


def test_cli_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t, e = _exponential_arm(400)
    path = tmp_path / "arm.csv"
    pd.DataFrame({"arm": "control", "time": t, "event": e.astype(int)}).to_csv(path, index=False)
    argv = ["plan", str(path), "--where", "arm=control", "--hr", "0.6", "--n", "30,60", "--design", "single-arm",
            "--simulations", "200", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["n"] for r in out["power"]] == [30, 60] and out["control"]["n"] == 400
    assert main(["plan", str(path), "--where", "nope=1", "--hr", "0.6", "--n", "30"]) == 2
