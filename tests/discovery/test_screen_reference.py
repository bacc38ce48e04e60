"""The univariate screen against outside references: R's printed results (calls kept) and statsmodels/scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from nerasense.discovery.data import prepare
from nerasense.discovery.screen import bh_qvalues, univariate_screen, welch_interval

# R's `sleep` data set (Student 1908): extra hours of sleep, ten patients on each of two drugs
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def _sleep_table() -> pd.DataFrame:
    return pd.DataFrame({"extra": SLEEP_1 + SLEEP_2, "drug2": [0] * 10 + [1] * 10})


def test_welch_matches_r_t_test_on_sleep() -> None:
    """R 4.2: ``t.test(extra ~ group, data = sleep)`` → t = -1.8608, df = 17.776, p-value = 0.07939,
    95 percent CI -3.3654832 0.2054832 (group 1 − group 2)."""
    diff, lo, hi, p = welch_interval(np.array(SLEEP_1), np.array(SLEEP_2))
    assert diff == pytest.approx(0.75 - 2.33)
    assert lo == pytest.approx(-3.3654832, abs=1e-6)
    assert hi == pytest.approx(0.2054832, abs=1e-6)
    assert p == pytest.approx(0.07939, abs=5e-6)


def test_welch_matches_statsmodels() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(1, 2, 23), rng.normal(0, 1, 41)
    _, lo, hi, p = welch_interval(a, b, level=0.9)
    cm = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    slo, shi = cm.tconfint_diff(alpha=0.1, usevar="unequal")
    _, sp, _ = cm.ttest_ind(usevar="unequal")
    assert (lo, hi, p) == pytest.approx((slo, shi, sp), rel=1e-10)


def test_mann_whitney_matches_r_wilcox_test_on_sleep() -> None:
    """R 4.2: ``wilcox.test(extra ~ group, data = sleep, exact = FALSE)`` → W = 25.5, p-value = 0.06933
    (normal approximation with continuity correction; ties present)."""
    data = prepare(_sleep_table(), "extra", features=["drug2"], min_count=1)
    row = univariate_screen(data)[0]
    assert row.test == "Mann–Whitney U"
    assert row.p == pytest.approx(0.06933, abs=5e-6)
    # carriers are drug 2, so U = 100 − W
    assert row.superiority == pytest.approx((100 - 25.5) / 100)
    assert (row.mean_carriers, row.mean_others) == pytest.approx((2.33, 0.75))


def test_welch_option_reports_the_welch_p() -> None:
    data = prepare(_sleep_table(), "extra", features=["drug2"], min_count=1)
    row = univariate_screen(data, test="t")[0]
    assert row.p == pytest.approx(0.07939, abs=5e-6)
    assert (row.ci_low, row.ci_high) == pytest.approx((-0.2054832, 3.3654832), abs=1e-6)


def test_fisher_matches_r_fisher_test_tea_tasting() -> None:
    """R 4.2, ``?fisher.test``: ``TeaTasting <- matrix(c(3, 1, 1, 3), nrow = 2)``;
    ``fisher.test(TeaTasting)`` → p-value = 0.4857, 95 percent CI 0.2117329 621.9337505, odds ratio 6.408309;
    ``fisher.test(TeaTasting, alternative = "greater")`` → p-value = 0.2429, CI 0.3135693 Inf (= the lower end
    of the two-sided 90 % interval). R finds the conditional MLE and the interval ends with ``uniroot`` at its
    default tolerance: about 1e-5 relative, but 1 % at the upper end, where the likelihood is nearly flat."""
    # 4 cups with milk first (feature 1), guessed milk-first (response 1): 3 right, 1 wrong each way
    df = pd.DataFrame({"milk_first": [1, 1, 1, 1, 0, 0, 0, 0], "guess": [1, 1, 1, 0, 1, 0, 0, 0]})
    data = prepare(df, "guess", "binary", features=["milk_first"], min_count=1)
    row = univariate_screen(data)[0]
    assert row.test == "Fisher exact"
    assert row.p == pytest.approx(0.4857, abs=5e-5)
    assert row.effect == pytest.approx(6.408309, rel=1e-5)
    assert row.ci_low == pytest.approx(0.2117329, rel=2e-5)
    assert row.ci_high == pytest.approx(621.9337505, rel=1e-2)
    row90 = univariate_screen(data, level=0.90)[0]
    assert row90.ci_low == pytest.approx(0.3135693, rel=2e-5)


def test_bh_matches_r_p_adjust_and_statsmodels() -> None:
    """R: ``p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH")`` → 0.02 0.04 0.04 0.02."""
    assert bh_qvalues([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, 20), [1.0, 1.0, 0.0]])
    assert bh_qvalues(p) == pytest.approx(multipletests(p, method="fdr_bh")[1], rel=1e-12)


def test_spearman_with_fisher_z_interval() -> None:
    from scipy.stats import norm, spearmanr

    rng = np.random.default_rng(2)
    x = rng.normal(size=60)
    df = pd.DataFrame({"x": x, "y": x + rng.normal(size=60)})
    row = univariate_screen(prepare(df, "y", features=["x"]))[0]
    rho, p = spearmanr(df["x"], df["y"])
    z, se = math.atanh(rho), 1 / math.sqrt(60 - 3)
    assert (row.effect, row.p) == pytest.approx((rho, p))
    assert (row.ci_low, row.ci_high) == pytest.approx((math.tanh(z - norm.ppf(0.975) * se), math.tanh(z + norm.ppf(0.975) * se)))


def test_cox_screen_matches_lifelines() -> None:
    from lifelines import CoxPHFitter

    from tests.discovery.conftest import planted

    df = planted(kind="survival", n=120, p=3)
    row = next(r for r in univariate_screen(prepare(df, "time", "survival", ["f0"], event="event")) if r.feature == "f0")
    ref = CoxPHFitter().fit(df[["time", "event", "f0"]], "time", "event")
    assert row.effect == pytest.approx(math.exp(ref.params_["f0"]), rel=1e-4)
    assert row.p == pytest.approx(ref.summary.loc["f0", "p"], rel=1e-3)


def test_every_feature_type_gets_its_test() -> None:
    """Completeness: each (response kind, feature type) pair names the test the module docstring promises."""
    from tests.discovery.conftest import planted

    expected = {
        ("continuous", "binary"): "Mann–Whitney U", ("continuous", "continuous"): "Spearman",
        ("binary", "binary"): "Fisher exact", ("binary", "continuous"): "Mann–Whitney U",
        ("survival", "binary"): "Cox (Efron)", ("survival", "continuous"): "Cox (Efron)",
    }
    seen = {}
    for kind in ("continuous", "binary", "survival"):
        df = planted(kind=kind, n=80, p=2)
        df["c"] = np.random.default_rng(0).normal(size=len(df))
        resp, ev = ("time", "event") if kind == "survival" else ("y", None)
        for r in univariate_screen(prepare(df, resp, kind, ["f0", "c"], event=ev)):
            seen[(kind, r.type)] = r.test
    assert seen == expected


def test_adjusted_screen_matches_statsmodels_formulas() -> None:
    """``adjust``: the feature's coefficient in ``y ~ x + C(tissue)`` (statsmodels formula, as R ``lm``) and the
    logistic analogue; a tissue-confounded feature loses its effect once the tissue is held."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(8)
    n = 240
    tissue = rng.choice(["breast", "lung", "blood"], n)
    x = (rng.random(n) < np.where(tissue == "breast", 0.6, 0.1)).astype(float)  # carriers mostly breast
    y = np.where(tissue == "breast", 8.0, 11.0) + rng.normal(0, 1, n)  # response set by tissue alone
    yb = (rng.random(n) < np.where(tissue == "breast", 0.6, 0.2)).astype(float)
    df = pd.DataFrame({"x": x, "y": y, "yb": yb, "tissue": tissue})
    row = univariate_screen(prepare(df, "y", features=["x"], adjust="tissue"))[0]
    ref = smf.ols("y ~ x + C(tissue)", df).fit()
    assert row.effect == pytest.approx(ref.params["x"])
    assert row.p == pytest.approx(ref.pvalues["x"])
    assert (row.ci_low, row.ci_high) == pytest.approx(tuple(ref.conf_int().loc["x"]))
    assert univariate_screen(prepare(df, "y", features=["x"]))[0].p < 1e-6  # unadjusted: confounded
    rowb = univariate_screen(prepare(df, "yb", "binary", features=["x"], adjust="tissue"))[0]
    refb = smf.logit("yb ~ x + C(tissue)", df).fit(disp=0)
    assert rowb.effect == pytest.approx(np.exp(refb.params["x"]), rel=1e-6)
    assert rowb.p == pytest.approx(refb.pvalues["x"], rel=1e-5)


def test_adjust_column_missing_values_are_listed() -> None:
    df = pd.DataFrame({"x": [0, 1, 0, 1, 0, 1], "y": [1.0, 2, 3, 4, 5, 6], "t": ["a", "a", None, "b", "b", "b"]})
    data = prepare(df, "y", features=["x"], adjust="t", min_count=1)
    assert len(data.frame) == 5
    assert data.excluded_rows == [{"row": 3, "reason": "no value of t", "id": "3"}]
