"""Kaplan–Meier, log-rank, Cox and RMST against R ``survival`` (tests/reference/survival.R → survival.json).

Datasets are the CSVs lifelines ships (gbsg2 = TH.data::GBSG2; rossi; lung with status 0/1); the R
script reads the same files, so both sides see identical data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerasense.cli import main
from nerasense.errors import InputError
from nerasense.stats.survival import (
    _concordance,
    cox,
    kaplan_meier,
    km_by_group,
    logrank,
    numbers_at_risk,
    rmst,
    rmst_difference,
)
from nerasense.stats.tables import survival_columns

from .conftest import golden

R = golden("survival")
TINY = pd.DataFrame({"time": [1, 2, 3, 4, 5, 6], "event": [1] * 6})
TINY3 = pd.DataFrame({"time": [1, 2, 3, 4], "event": [1, 1, 0, 0]})
TINY2 = pd.DataFrame({"time": [1, 2, 2, 3, 4, 4, 5, 7, 8, 9], "event": [1, 0, 1, 1, 0, 1, 1, 0, 1, 0]})
# name in survival.json → (dataset, time, event, group)
KM_CASES = {
    "gbsg2_horTh": ("gbsg2", "time", "cens", "horTh"),
    "gbsg2_all": ("gbsg2", "time", "cens", None),
    "rossi_fin": ("rossi", "week", "arrest", "fin"),
    "lung_sex": ("lung", "time", "status", "sex"),
    "tiny": ("tiny", "time", "event", None),
    "tiny2": ("tiny2", "time", "event", None),
    "tiny3": ("tiny3", "time", "event", None),
}


def _data(datasets: dict, name: str) -> pd.DataFrame:
    return {"tiny": TINY, "tiny2": TINY2, "tiny3": TINY3}.get(name, datasets.get(name))


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a == pytest.approx(b, rel=1e-10))


@pytest.mark.parametrize("ci", ["log", "log-log", "plain"])
@pytest.mark.parametrize("case", list(KM_CASES))
def test_km_median_and_ci_match_r(datasets: dict, case: str, ci: str) -> None:
    """R: summary(survfit(Surv(time, event) ~ group, conf.type=ci))$table[, c("records","events","median",
    "0.95LCL","0.95UCL")]; tiny has S = 0.5 exactly on [3, 4) so the median is the midpoint 3.5; tiny3 stays
    at 0.5 to the end, where R gives the first time (2)."""
    ds, t, e, g = KM_CASES[case]
    df = survival_columns(_data(datasets, ds), t, e, group=g)
    fits = km_by_group(df, "group" if g else None, ci)
    expected = R["km"][ci][case]
    assert set(fits) == set(expected)
    for name, km in fits.items():
        got, want = km.summary(), expected[name]
        assert (got["n"], got["events"]) == (want["n"], want["events"])
        for key in ("median", "median_ci_low", "median_ci_high"):
            assert _close(got[key], want[key]), (name, key, got[key], want[key])


@pytest.mark.parametrize("ci", ["log", "log-log", "plain"])
def test_landmark_survival_matches_r(datasets: dict, ci: str) -> None:
    """R: summary(survfit(Surv(time, cens) ~ horTh, GBSG2, conf.type=ci), times=c(365, 730, 1825), extend=TRUE)."""
    want = R["landmark"][ci]
    df = survival_columns(datasets["gbsg2"], "time", "cens", group="horTh")
    fits = km_by_group(df, "group", ci)
    got: dict[str, list] = {k: [] for k in ("n_risk", "surv", "lower", "upper", "std_err")}
    for name in ("no", "yes"):
        at = fits[name].at([365, 730, 1825])
        for k in got:
            got[k] += at[k]
    assert got["n_risk"] == [int(x) for x in want["n_risk"]]
    for k in ("surv", "lower", "upper", "std_err"):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10)


@pytest.mark.parametrize(
    "case,ds,t,e,g", [("gbsg2", "gbsg2", "time", "cens", "horTh"), ("lung", "lung", "time", "status", "sex")]
)
def test_numbers_at_risk_match_r(datasets: dict, case: str, ds: str, t: str, e: str, g: str) -> None:
    """R: summary(survfit(...), times=..., extend=TRUE)$n.risk — at risk just before t."""
    want = R["risk_table"][case]
    data = datasets[ds]
    got = []
    for level in sorted(data[g].unique(), key=str):
        got += numbers_at_risk(data.loc[data[g] == level, t], sorted(set(want["time"])))
    assert got == [int(x) for x in want["n_risk"]]


@pytest.mark.parametrize(
    "case,ds,t,e,g",
    [
        ("gbsg2_1825", "gbsg2", "time", "cens", "horTh"),
        ("lung_365", "lung", "time", "status", "sex"),
        ("rossi_52", "rossi", "week", "arrest", "fin"),
    ],
)
def test_rmst_and_r_se(datasets: dict, case: str, ds: str, t: str, e: str, g: str) -> None:
    """R: summary(survfit(Surv(t, e) ~ g), rmean=tau)$table[, c("rmean", "se(rmean)")] (rossi uses tau=40)."""
    want = R["rmst"][case]
    tau = {"gbsg2_1825": 1825, "lung_365": 365, "rossi_52": 40}[case]
    df = survival_columns(datasets[ds], t, e, group=g)
    fits = km_by_group(df, "group")
    got = [rmst(fits[name], tau) for name in sorted(fits)]
    np.testing.assert_allclose([x["rmst"] for x in got], want["rmean"], rtol=1e-10)
    np.testing.assert_allclose([x["se"] for x in got], want["se"], rtol=1e-9)
    diff = rmst_difference(got[1], got[0])
    assert diff["difference"] == pytest.approx(want["rmean"][1] - want["rmean"][0], rel=1e-9)
    assert diff["se"] == pytest.approx(float(np.hypot(*want["se"])), rel=1e-9)


LOGRANK = {
    "gbsg2_horTh": ("gbsg2", "time", "cens", "horTh", None),
    "gbsg2_tgrade": ("gbsg2", "time", "cens", "tgrade", None),
    "rossi_fin": ("rossi", "week", "arrest", "fin", None),
    "lung_sex": ("lung", "time", "status", "sex", None),
    "gbsg2_horTh_strata_menostat": ("gbsg2", "time", "cens", "horTh", "menostat"),
    "gbsg2_horTh_strata_tgrade": ("gbsg2", "time", "cens", "horTh", "tgrade"),
}


@pytest.mark.parametrize("case", list(LOGRANK))
def test_logrank_matches_r_survdiff(datasets: dict, case: str) -> None:
    """R: survdiff(Surv(t, e) ~ g [+ strata(s)]); chisq and pchisq(chisq, k-1, lower.tail=FALSE)."""
    ds, t, e, g, s = LOGRANK[case]
    d = datasets[ds]
    lr = logrank(d[t], d[e], d[g], None if s is None else d[s], s)
    assert lr.chi2 == pytest.approx(R["logrank"][case]["chisq"], rel=1e-9)
    assert lr.p == pytest.approx(R["logrank"][case]["p"], rel=1e-8)
    assert lr.df == R["logrank"][case]["df"]


COX = {
    "rossi": ("rossi", "week", "arrest", ["fin", "age", "race", "wexp", "mar", "paro", "prio"], None),
    "gbsg2": ("gbsg2", "time", "cens", ["horTh_yes", "age", "tsize", "pnodes", "progrec", "estrec"], None),
    "gbsg2_strata": ("gbsg2", "time", "cens", ["horTh_yes", "age", "pnodes"], "menostat"),
    "lung": ("lung", "time", "status", ["age", "sex"], None),
    "rossi_robust": ("rossi", "week", "arrest", ["fin", "age", "prio"], None),
    "gbsg2_strata_robust": ("gbsg2", "time", "cens", ["horTh_yes", "age", "pnodes"], "menostat"),
    "gbsg2_cluster": ("gbsg2", "time", "cens", ["horTh_yes", "age", "pnodes"], None),
}


def test_cox_cases_cover_the_golden_file() -> None:
    assert set(COX) == set(R["cox"])


def _cox_frame(datasets: dict, case: str) -> tuple[pd.DataFrame, list[str], str | None]:
    ds, t, e, covs, s = COX[case]
    data = datasets[ds].copy()
    if ds == "gbsg2":
        data["horTh_yes"] = (data["horTh"] == "yes").astype(int)
        data["cl"] = np.arange(len(data)) // 3  # R: cluster = (seq_len(nrow(gbsg2)) - 1) %/% 3
    cluster = "cl" if case.endswith("_cluster") else None
    return survival_columns(data, t, e, covariates=covs, strata=s, cluster=cluster), covs, ("strata" if s else None)


@pytest.mark.parametrize("case", list(COX))
def test_cox_matches_r_coxph_efron(datasets: dict, case: str) -> None:
    """R: summary(coxph(Surv(t, e) ~ covariates [+ strata(s)], ties="efron" [, robust=TRUE | cluster=cl]))
    — coef, exp(coef), se(coef), robust se, CI, p; fit$loglik, fit$iter, score and likelihood-ratio tests."""
    df, covs, s = _cox_frame(datasets, case)
    robust = case.endswith("_robust")
    res = cox(df, covs, s, robust=robust, cluster="cluster" if case.endswith("_cluster") else None)
    want = R["cox"][case]
    assert res.ties == "efron"
    assert res.loglik == pytest.approx(want["loglik"], rel=1e-10)
    assert res.tests["loglik_null"] == pytest.approx(want["loglik_null"], rel=1e-10)
    assert res.tests["iterations"] == want["iterations"]
    assert res.tests["score_chi2"] == pytest.approx(want["score_chi2"], rel=1e-9)
    assert res.tests["lr_chi2"] == pytest.approx(want["lr_chi2"], rel=1e-8)
    for name, w in want["coefficients"].items():
        got = res.coefficients[name]
        keys = ["coef", "hr", "se", "hr_ci_low", "hr_ci_high", "p"] + (["robust_se"] if "robust_se" in w else [])
        assert ("robust_se" in got) == ("robust_se" in w)
        for key in keys:
            assert got[key] == pytest.approx(w[key], rel=1e-9, abs=1e-14), (name, key)


def test_score_residuals_sum_to_the_score_and_match_a_loop() -> None:
    """Oracle: a plain loop over deaths written from Therneau & Grambsch (2000) §3.3 / R coxscore2 (Efron),
    on data with tied deaths, tied censorings and two strata; the residuals must also sum to U(β)."""
    from nerasense.stats.cox import score_residuals

    rng = np.random.default_rng(3)
    n = 40
    t = rng.integers(1, 8, n).astype(float)
    e = rng.integers(0, 2, n).astype(float)
    x = rng.normal(size=(n, 2))
    s = rng.integers(0, 2, n)
    beta = np.array([0.4, -0.3])
    want = np.zeros((n, 2))
    for stratum in (0, 1):
        idx = np.flatnonzero(s == stratum)
        w = np.exp(x[idx] @ beta)
        for tt in np.unique(t[idx][e[idx] == 1]):
            risk = t[idx] >= tt
            dead = risk & (t[idx] == tt) & (e[idx] == 1)
            d = int(dead.sum())
            means = []
            for ll in range(d):
                wt = w * np.where(dead, 1 - ll / d, 1.0) * risk
                m = (wt[:, None] * x[idx]).sum(0) / wt.sum()
                means.append(m)
                want[idx] -= (wt / wt.sum())[:, None] * (x[idx] - m)
            want[idx[dead]] += x[idx[dead]] - np.mean(means, axis=0)
    got = score_residuals(x, t, e, beta, s)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["rossi", "gbsg2_strata"])
def test_cox_concordance_is_lifelines(datasets: dict, case: str) -> None:
    """Reference: lifelines ``CoxPHFitter().concordance_index_`` (Harrell's C, within strata)."""
    from lifelines import CoxPHFitter

    df, covs, s = _cox_frame(datasets, case)
    cph = CoxPHFitter().fit(df[["time", "event", *covs] + ([s] if s else [])], "time", "event", strata=[s] if s else None)
    assert cox(df, covs, s).concordance == pytest.approx(cph.concordance_index_, rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 8), st.integers(0, 1), st.integers(-3, 3)),
        min_size=2,
        max_size=40,
    )
)
def test_concordance_counts_equal_lifelines(rows: list[tuple[int, int, int]]) -> None:
    """Oracle: lifelines ``_concordance_summary_statistics`` (tied times, tied predictions, censoring)."""
    from lifelines.utils.concordance import _concordance_summary_statistics

    t = np.array([r[0] for r in rows], float)
    e = np.array([r[1] for r in rows], float)
    risk = np.array([r[2] for r in rows], float)
    want = _concordance_summary_statistics(t, -risk, e)
    assert _concordance(t, e, risk) == tuple(int(v) for v in want)


# ---- invariants ------------------------------------------------------------------------------------

samples = st.lists(
    st.tuples(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=1)), min_size=1, max_size=60
)


@settings(max_examples=80, deadline=None)
@given(samples, st.sampled_from(["log", "log-log", "plain"]))
def test_km_invariants(rows: list[tuple[int, int]], ci: str) -> None:
    t = np.array([r[0] for r in rows], float)
    e = np.array([r[1] for r in rows], float)
    km = kaplan_meier(t, e, ci)
    assert np.all((km.surv >= 0) & (km.surv <= 1))
    assert np.all(np.diff(km.surv) <= 1e-15)
    ok = ~np.isnan(km.lower)
    assert np.all(km.lower[ok] <= km.surv[ok] + 1e-12)
    ok = ~np.isnan(km.upper)
    assert np.all(km.upper[ok] >= km.surv[ok] - 1e-12)
    if km.median is not None and km.median_ci_low is not None:
        assert km.median_ci_low <= km.median
    if km.median is not None and km.median_ci_high is not None:
        assert km.median <= km.median_ci_high
    # row order never matters
    perm = np.random.default_rng(0).permutation(len(t))
    km2 = kaplan_meier(t[perm], e[perm], ci)
    np.testing.assert_array_equal(km.surv, km2.surv)
    assert km.summary() == km2.summary()


def test_km_agrees_with_lifelines_log_log(datasets: dict) -> None:
    """Oracle: lifelines KaplanMeierFitter (log-log band) gives the same curve and median CI."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    d = datasets["lung"]
    km = kaplan_meier(d["time"], d["status"], "log-log")
    kmf = KaplanMeierFitter().fit(d["time"], d["status"])
    s = kmf.survival_function_.iloc[1:, 0].to_numpy()
    np.testing.assert_allclose(km.surv, s, rtol=1e-12)
    ci = median_survival_times(kmf.confidence_interval_)
    assert (km.median_ci_low, km.median_ci_high) == tuple(float(x) for x in ci.iloc[0])


# ---- input problems and CLI ------------------------------------------------------------------------


def test_every_input_problem_is_listed_with_rows() -> None:
    bad = pd.DataFrame({"t": [1, "x", -2, 4, None], "e": [1, 0, 2, 1, 1], "age": [50, 60, 70, "old", 40]})
    with pytest.raises(InputError) as err:
        survival_columns(bad, "t", "e", covariates=["age"])
    text = str(err.value)
    assert "row 2" in text and "row 3" in text and "row 5" in text and "row 4" in text
    assert len(err.value.problems) == 5  # missing, non-numeric, negative time; bad event; bad covariate


def test_missing_columns_are_all_named() -> None:
    with pytest.raises(InputError) as err:
        survival_columns(pd.DataFrame({"a": [1]}), "t", "e", group="g")
    assert {p.value for p in err.value.problems} == {"t", "e", "g"}


@pytest.fixture
def gbsg2_csv(tmp_path: Path, datasets: dict) -> Path:
    path = tmp_path / "gbsg2.csv"
    datasets["gbsg2"].to_csv(path, index=False)
    return path


def test_cli_km(gbsg2_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "km", str(gbsg2_csv), "--time", "time", "--event", "cens", "--group", "horTh", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["groups"]["no"]["median_ci_high"] == R["km"]["log"]["gbsg2_horTh"]["no"]["median_ci_high"]
    assert out["logrank_chi2"] == pytest.approx(R["logrank"]["gbsg2_horTh"]["chisq"], rel=1e-9)
    assert {"n", "events", "median", "median_ci_low", "median_ci_high"} <= out["groups"]["yes"].keys()


def test_cli_km_parquet_and_tsv(tmp_path: Path, datasets: dict, capsys: pytest.CaptureFixture[str]) -> None:
    for path in (tmp_path / "lung.parquet", tmp_path / "lung.tsv"):
        if path.suffix == ".parquet":
            datasets["lung"].to_parquet(path)
        else:
            datasets["lung"].to_csv(path, sep="\t", index=False)
        assert main(["survival", "km", str(path), "--time", "time", "--event", "status", "--group", "sex", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["groups"]["1"]["median"] == R["km"]["log"]["lung_sex"]["1"]["median"]


def test_cli_cox_strata(gbsg2_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "survival",
        "cox",
        str(gbsg2_csv),
        "--time",
        "time",
        "--event",
        "cens",
        "--covariates",
        "age,pnodes",
        "--strata",
        "menostat",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ties"] == "efron" and out["strata"] == "menostat"
    assert {"coef", "hr", "hr_ci_low", "hr_ci_high", "p"} <= out["coefficients"]["age"].keys()


def test_cli_bad_columns(gbsg2_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "km", str(gbsg2_csv), "--time", "tme", "--event", "horTh", "--json"]) == 2
    err = capsys.readouterr().err
    assert "tme" in err and "horTh" in err


def test_cli_strata_needs_group(gbsg2_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["survival", "km", str(gbsg2_csv), "--time", "time", "--event", "cens", "--strata", "menostat", "--json"]) == 2
    assert "--group" in capsys.readouterr().err
