"""Subgroup HRs and interaction LRT against R survival (tests/reference/subgroups.R)."""

from __future__ import annotations

import pytest

from nerasense.stats.subgroups import subgroup_analysis
from nerasense.stats.tables import survival_columns

from .conftest import golden

R = golden("subgroups")


@pytest.mark.parametrize("var", ["menostat", "tgrade"])
def test_subgroups_match_r(datasets: dict, var: str) -> None:
    """R: coxph(Surv(time, cens) ~ treat, subset) per level; anova(coxph(~ treat + sub), coxph(~ treat * sub))."""
    data = datasets["gbsg2"].copy()
    data["treat"] = (data["horTh"] == "yes").astype(int)
    df = survival_columns(data, "time", "cens", covariates=["treat"])
    df[var] = data[var].to_numpy()
    rows, tests = subgroup_analysis(df, "treat", [var])
    want = R[var]
    assert [r.level for r in rows] == list(want["levels"])
    for r in rows:
        w = want["levels"][r.level]
        assert (r.n, r.events) == (w["n"], w["events"])
        for key in ("hr", "hr_ci_low", "hr_ci_high"):
            assert getattr(r, key) == pytest.approx(w[key], rel=1e-6), (r.level, key)
        # a Wald p magnifies the ~1e-7 difference in se between lifelines' and R's final Newton step
        assert r.p == pytest.approx(w["p"], rel=1e-5)
    (t,) = tests
    assert t.df == want["interaction_df"]
    assert t.chi2 == pytest.approx(want["interaction_chi2"], rel=1e-6)
    assert t.p == pytest.approx(want["interaction_p"], rel=1e-6)
