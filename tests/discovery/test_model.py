"""The penalised model and its validation measures: outside references, planted signal, and the null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nerasense.discovery.data import prepare
from nerasense.discovery.model import (
    ModelSettings,
    calibration,
    decision_curve,
    fit_penalised,
    performance,
)
from nerasense.discovery.screen import univariate_screen
from tests.discovery.conftest import planted

FAST = ModelSettings(outer_folds=3, inner_folds=3, n_alphas=8, n_bootstrap=4, n_permutations=4, seed=7)


def test_auc_is_the_mann_whitney_probability() -> None:
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(0)
    y = (rng.random(50) < 0.4).astype(float)
    s = rng.normal(size=50) + y
    u = mannwhitneyu(s[y == 1], s[y == 0]).statistic
    assert performance("binary", y, s) == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()))


def test_harrell_c_matches_lifelines() -> None:
    from lifelines.utils import concordance_index

    rng = np.random.default_rng(1)
    t = rng.exponential(size=80).round(2)
    e = (rng.random(80) < 0.7).astype(float)
    risk = rng.normal(size=80) - t
    # lifelines scores predicted survival times: higher = longer, so pass −risk
    assert performance("survival", t, risk, e) == pytest.approx(concordance_index(t, -risk, e), abs=1e-12)


def test_r2_is_one_minus_sse_over_sst() -> None:
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(2)
    y, pred = rng.normal(size=30), rng.normal(size=30)
    assert performance("continuous", y, pred) == pytest.approx(r2_score(y, pred))


def test_continuous_calibration_is_the_ols_line() -> None:
    rng = np.random.default_rng(3)
    pred = rng.normal(size=40)
    y = 1.5 + 0.5 * pred + rng.normal(0, 0.1, 40)
    slope, intercept = np.polyfit(pred, y, 1)
    cal = calibration("continuous", y, pred)
    assert (cal["slope"], cal["intercept"]) == pytest.approx((slope, intercept))
    assert cal["in_the_large"] == pytest.approx(np.mean(y - pred))


def test_binary_calibration_intercept_solves_the_offset_score_equation() -> None:
    """Calibration-in-the-large: the a with Σ y = Σ expit(a + logit p̂) (the offset model's score equation)."""
    from scipy.optimize import brentq
    from scipy.special import expit, logit

    rng = np.random.default_rng(4)
    p = rng.uniform(0.05, 0.95, 300)
    y = (rng.random(300) < expit(logit(p) * 0.7 + 0.4)).astype(float)
    a = brentq(lambda a: np.sum(y - expit(a + logit(p))), -5, 5)
    cal = calibration("binary", y, p)
    assert cal["intercept"] == pytest.approx(a, abs=1e-6)
    assert 0.4 < cal["slope"] < 1.0  # the data were made with slope 0.7


def test_decision_curve_by_hand() -> None:
    """Vickers & Elkin 2006: net benefit = TP/n − FP/n · pt/(1 − pt); treat-all = prevalence − (1 − prevalence) · pt/(1 − pt)."""
    y = np.array([1, 1, 0, 0, 0, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.55, 0.3, 0.2, 0.15, 0.1, 0.05, 0.05, 0.01])
    row = decision_curve(y, p, np.array([0.25]))[0]
    # at pt = 0.25 the model treats rows 1–4: TP 2, FP 2; weight 1/3
    assert row["model"] == pytest.approx(2 / 10 - 2 / 10 / 3)
    assert row["treat_all"] == pytest.approx(0.3 - 0.7 / 3)
    assert row["treat_none"] == 0


@pytest.mark.parametrize("kind", ["continuous", "binary", "survival"])
def test_planted_signal_is_found(kind: str) -> None:
    df = planted(kind=kind, n=150, p=8, effect=2.0)
    resp, ev = ("time", "event") if kind == "survival" else ("y", None)
    data = prepare(df, resp, kind, event=ev)
    res = fit_penalised(data, FAST)
    chance = {"continuous": 0.0, "binary": 0.5, "survival": 0.5}[kind]
    assert res.cv_mean > chance + 0.1
    assert res.selected()[0]["feature"] == "f0"
    assert res.permutation_p == pytest.approx(1 / (FAST.n_permutations + 1))
    assert res.optimism is not None and res.optimism_corrected is not None
    assert res.optimism_corrected == pytest.approx(res.apparent - res.optimism)
    # the locked model reproduces the fitted one on the features' own scale
    e = data.event_array
    assert performance(kind, data.y, res.locked.predict(data.x()), e) == pytest.approx(res.apparent, abs=1e-9)
    if kind == "binary":
        assert len(res.decision_curve) == 99


def test_same_seed_same_result() -> None:
    data = prepare(planted(n=100, p=6), "y")
    a, b = fit_penalised(data, FAST), fit_penalised(data, FAST)
    assert a.to_dict() == b.to_dict()


def test_shuffled_response_finds_nothing() -> None:
    """The null: with the response shuffled, no feature has q ≤ 0.05 and cross-validated R² sits at chance."""
    df = planted(n=200, p=15, effect=2.0, seed=11)
    df["y"] = np.random.default_rng(12).permutation(df["y"].to_numpy())
    data = prepare(df, "y")
    assert all(r.q > 0.05 for r in univariate_screen(data))
    res = fit_penalised(data, ModelSettings(outer_folds=5, inner_folds=3, n_alphas=8, n_bootstrap=0,
                                            n_permutations=9, seed=3))
    assert res.cv_mean < 0.02  # chance is 0 (or below, out of sample)
    assert res.permutation_p is not None and res.permutation_p > 0.1
    # and the same table unshuffled is found (the test can fail)
    signal = fit_penalised(prepare(planted(n=200, p=15, effect=2.0, seed=11), "y"), FAST)
    assert signal.cv_mean > 0.3


def test_shuffled_binary_response_cv_auc_at_chance() -> None:
    df = planted(kind="binary", n=200, p=10, seed=5)
    df["y"] = np.random.default_rng(6).permutation(df["y"].to_numpy())
    data = prepare(df, "y", "binary")
    assert all(r.q > 0.05 for r in univariate_screen(data))
    res = fit_penalised(data, ModelSettings(outer_folds=5, inner_folds=3, n_alphas=8, n_bootstrap=0, n_permutations=0))
    assert abs(res.cv_mean - 0.5) < 0.1


def test_missing_model_feature_is_an_analysis_error() -> None:
    from nerasense.errors import AnalysisError

    df = planted(n=60, p=3)
    df.loc[3, "f1"] = np.nan
    with pytest.raises(AnalysisError, match="f1"):
        fit_penalised(prepare(df, "y"), FAST)


def test_bad_settings_are_listed_together() -> None:
    from nerasense.errors import InputError

    with pytest.raises(InputError) as err:
        fit_penalised(prepare(planted(n=40, p=3), "y"), ModelSettings(outer_folds=1, inner_folds=1, l1_ratios=(0.0,)))
    assert len(err.value.problems) == 3


def test_polars_frames_are_accepted() -> None:
    import polars as pl

    df = planted(n=60, p=4)
    data = prepare(pl.from_pandas(df), "y")
    assert len(data.frame) == 60 and isinstance(data.frame, pd.DataFrame)
