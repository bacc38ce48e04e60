"""Kaplan–Meier, log-rank, Cox, RMST, maxstat and meta-analysis against R run live on generated data.

Hypothesis draws batches of small cohorts with the awkward cases the frozen JSON files cannot cover: tied
times, several strata, a group with no events, single rows, heavy censoring, no events at all. Each batch
is written to one CSV and analysed by one Rscript process (``tests/stats/live_r.R``, kept beside this file);
every field is compared with ours. R and its packages come from Debian (``.ci/debian-packages.txt``);
without ``Rscript`` these tests skip and the frozen tests (``tests/reference/*.json``) still run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from nerasense.errors import AnalysisError, InputError, NerasenseWarning
from nerasense.stats.cox import cox_fit
from nerasense.stats.cutpoint import maxstat_logrank
from nerasense.stats.meta import egger_test, glmm_proportions, proportion_effects, random_effects
from nerasense.stats.survival import kaplan_meier, logrank, rmst

from .conftest import glmm_deviance_by_quadrature

RSCRIPT = shutil.which("Rscript")
SCRIPT = Path(__file__).with_name("live_r.R")
pytestmark = pytest.mark.skipif(RSCRIPT is None, reason="Rscript not on PATH: install r-base-core, r-cran-survival, "
                                "r-cran-maxstat, r-cran-metafor (Debian) to run the live-R oracle tests")
# a few batches of a dozen cohorts each: one R process per batch keeps the whole file at seconds
# (NERASENSE_LIVE_R_BATCHES=30 for a longer hunt)
BATCH = settings(
    max_examples=int(os.environ.get("NERASENSE_LIVE_R_BATCHES", "3")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def cohorts(draw: Any, min_size: int = 1) -> pd.DataFrame:
    """One cohort: integer times (ties) or 3-decimal times; censoring none / half / heavy; 1–3 strata;
    a 0/1 group that may have no events; an integer covariate (ties) and an integer marker."""
    n = draw(st.integers(min_size, 40))
    tied = draw(st.booleans())
    time_st = st.integers(1, 12).map(float) if tied else st.floats(0.05, 100, allow_nan=False).map(lambda v: round(v, 3))
    times = draw(st.lists(time_st, min_size=n, max_size=n))
    censoring = draw(st.sampled_from([0, 1, 4]))  # P(event) 1, 1/2, 1/5
    event = [int(v == 0) for v in draw(st.lists(st.integers(0, censoring), min_size=n, max_size=n))]
    group = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    if draw(st.booleans()):  # no events in group 1
        event = [0 if g == 1 else ev for g, ev in zip(group, event, strict=True)]
    k = draw(st.integers(1, 3))
    strata = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    x1 = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    marker = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    tau = float(np.quantile(times, 0.7))
    return pd.DataFrame({"time": times, "event": event, "group": group, "strata": strata, "x1": x1,
                         "marker": marker, "tau": tau})


batches = st.lists(cohorts(), min_size=12, max_size=12)


def run_r(what: str, batch: list[pd.DataFrame]) -> list[Any]:
    """One Rscript call for the whole batch; R's answer per cohort, in order."""
    assert RSCRIPT is not None
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.csv", Path(tmp) / "out.json"
        pd.concat([c.assign(id=i) for i, c in enumerate(batch)]).to_csv(src, index=False)
        res = subprocess.run([RSCRIPT, str(SCRIPT), what, str(src), str(out)], capture_output=True, text=True,
                             check=False, timeout=300)
        assert res.returncode == 0, res.stderr
        got = json.loads(out.read_text())
    return [got[str(i)] for i in range(len(batch))]


def arr(v: Any) -> np.ndarray:
    """R values as float arrays (JSON null = NA/Inf → NaN; a length-1 R vector arrives as a scalar)."""
    return np.array([np.nan if x is None else x for x in np.atleast_1d(np.asarray(v, dtype=object))], dtype=float)


def same(ours: Any, r: Any, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    a = np.atleast_1d(np.asarray(ours, dtype=float)).copy()
    a[~np.isfinite(a)] = np.nan
    np.testing.assert_allclose(a, arr(r), rtol=rtol, atol=atol, equal_nan=True)


def nan_if_none(v: float | None) -> float:
    return np.nan if v is None else v


@BATCH
@given(batches)
def test_km_matches_r(batch: list[pd.DataFrame]) -> None:
    """R: survfit(Surv(time, event) ~ 1, conf.type = log | log-log | plain) — every step of the log curve
    (time, n.risk, n.event, surv, std.err, lower, upper) and the median with its CI for all three bands."""
    for cohort, r in zip(batch, run_r("km", batch), strict=True):
        for ci in ("log", "log-log", "plain"):
            km = kaplan_meier(cohort["time"], cohort["event"], ci)
            want = r[ci]
            same([nan_if_none(km.median), nan_if_none(km.median_ci_low), nan_if_none(km.median_ci_high)],
                 [want["median"], want["lcl"], want["ucl"]])
            if ci == "log":
                same(km.time, want["time"])
                same(km.n_risk, want["n_risk"])
                same(km.n_event, want["n_event"])
                same(km.surv, want["surv"])
                same(km.std_err_log, want["std_err"])
                same(km.lower, want["lower"])
                same(km.upper, want["upper"])


@BATCH
@given(batches)
def test_logrank_matches_r(batch: list[pd.DataFrame]) -> None:
    """R: survdiff(Surv(time, event) ~ group) and survdiff(... ~ group + strata(strata)); chisq (0 when
    fewer than two groups have expected deaths; an R error, a singular variance, is AnalysisError here)."""
    for cohort, r in zip(batch, run_r("logrank", batch), strict=True):
        t, e, g = cohort["time"], cohort["event"], cohort["group"]
        if cohort["group"].nunique() < 2:
            assert r["chisq"] is None
            with pytest.raises(AnalysisError):
                logrank(t, e, g)
            continue
        if "error" in r:
            with pytest.raises(AnalysisError):
                logrank(t, e, g)
                logrank(t, e, g, cohort["strata"], "strata")
            continue
        same(logrank(t, e, g).chi2, r["chisq"], rtol=1e-8, atol=1e-10)
        if cohort["strata"].nunique() > 1:
            same(logrank(t, e, g, cohort["strata"], "strata").chi2, r["chisq_strata"], rtol=1e-8, atol=1e-10)


def _cox_ours(cohort: pd.DataFrame, strata: bool) -> Any:
    x = cohort[["x1", "group"]].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        return cox_fit(x, cohort["time"], cohort["event"], cohort["strata"] if strata else None, robust=True)


@BATCH
@given(batches)
def test_cox_matches_r(batch: list[pd.DataFrame]) -> None:
    """R: coxph(Surv(time, event) ~ x1 + group [+ strata(strata)], ties = "efron", robust = TRUE) — coef,
    se(coef) (naive.var), robust se, loglik at β̂ and at 0, iterations. Where R cannot fit (no events,
    a constant covariate: coefficient NA) ours raises AnalysisError. Where the likelihood is monotone (a
    group without events) R warns that a coefficient may be infinite: the log-likelihoods must still agree,
    and ours warns too."""
    checked = 0
    for cohort, r in zip(batch, run_r("cox", batch), strict=True):
        for kind in ("plain", "strata"):
            want = r[kind]
            failed = (
                "error" in want or want.get("singular") or cohort["event"].sum() == 0 or not np.any(arr(want["se"]))
            )
            if failed:
                with pytest.raises((AnalysisError, InputError)):
                    _cox_ours(cohort, kind == "strata")
                continue
            fit = _cox_ours(cohort, kind == "strata")
            same(fit.loglik, want["loglik"], rtol=1e-7, atol=1e-9)
            same(fit.loglik_null, want["loglik_null"], rtol=1e-10, atol=1e-12)
            r_warned = any("infinite" in w or "did not converge" in w for w in want["warnings"])
            assert bool(fit.warnings) == r_warned, (fit.warnings, want["warnings"])
            if r_warned:
                continue
            checked += 1
            assert fit.iterations == want["iter"]
            same(fit.coef, want["coef"], rtol=1e-6, atol=1e-9)
            same(np.sqrt(np.diag(fit.naive_var)), want["se"], rtol=1e-6, atol=1e-9)
            same(fit.se, want["robust_se"], rtol=1e-6, atol=1e-9)


@BATCH
@given(batches)
def test_rmst_matches_r(batch: list[pd.DataFrame]) -> None:
    """R: summary(survfit(Surv(time, event) ~ 1), rmean = tau)$table[c("rmean", "se(rmean)")]."""
    for cohort, r in zip(batch, run_r("rmst", batch), strict=True):
        got = rmst(kaplan_meier(cohort["time"], cohort["event"]), float(cohort["tau"].iloc[0]))
        same([got["rmst"], got["se"]], [r["rmean"], r["se"]], rtol=1e-9, atol=1e-12)


@BATCH
@given(st.lists(cohorts(min_size=8), min_size=12, max_size=12))
def test_maxstat_matches_r(batch: list[pd.DataFrame]) -> None:
    """R: maxstat.test(Surv(time, event) ~ marker, smethod = "LogRank", pmethod = "Lau94" | "Lau92",
    minprop = 0.1, maxprop = 0.9) — statistic, estimate (cut-point) and p. Where R stops (no candidate
    split, no variance) ours raises AnalysisError."""
    for cohort, r in zip(batch, run_r("maxstat", batch), strict=True):
        want94, want92 = r["lau94"], r["lau92"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NerasenseWarning)
            try:
                got = maxstat_logrank(cohort["time"], cohort["event"], cohort["marker"], minprop=0.1)
            except AnalysisError:
                assert "error" in want94 or not np.isfinite(arr(want94["statistic"])).all()
                continue
        assert "error" not in want94, want94
        same(got.statistic, want94["statistic"], rtol=1e-9)
        same(got.cutpoint, want94["estimate"])
        same(got.p_lau94, want94["p"], rtol=1e-8)
        same(got.p_lau92, want92["p"], rtol=1e-8)


@st.composite
def meta_tables(draw: Any) -> pd.DataFrame:
    """Studies of one meta-analysis: 2–12 studies, 1–200 patients, any number of responders (0 and n included)."""
    k = draw(st.integers(2, 12))
    n = draw(st.lists(st.integers(1, 200), min_size=k, max_size=k))
    events = [draw(st.integers(0, m)) for m in n]
    return pd.DataFrame({"events": events, "n": n})


@BATCH
@given(st.lists(meta_tables(), min_size=10, max_size=10))
def test_meta_matches_metafor(batch: list[pd.DataFrame]) -> None:
    """R: rma(escalc(measure = PLO | PFT), method = DL | REML | PM, test = z | knha, control = tight) with
    predict(); rma.glmm(measure = "PLO", method = "ML") where lme4 converges without warnings (to 1e-4:
    lme4 stops its optimiser earlier than ours); regtest(model = "lm") with three or more studies."""
    for table, r in zip(batch, run_r("meta", batch), strict=True):
        for measure in ("PLO", "PFT"):
            eff = proportion_effects(table["events"], table["n"], measure)
            for method in ("DL", "REML", "PM"):
                for test in ("z", "knha"):
                    want = r[f"{measure}_{method}_{test}"]
                    assert "error" not in want, want
                    got = random_effects(eff.y, eff.v, method, hksj=test == "knha")
                    for key in ("estimate", "se", "p", "tau2", "q", "i2", "h2", "ci_low", "ci_high", "pi_low", "pi_high"):
                        same(getattr(got, key), want[key], rtol=1e-4, atol=1e-6)
        glmm = r["GLMM"]
        if "error" not in glmm and not glmm["warnings"] and arr(glmm["tau2"])[0] > 1e-3:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NerasenseWarning)  # a second mode is named (test_meta checks it)
                got = glmm_proportions(table["events"], table["n"])
            want = [arr(glmm["estimate"])[0], arr(glmm["tau2"])[0]]
            if not np.allclose([got.estimate, got.tau2], want, rtol=1e-3, atol=1e-4):
                # lme4 can stop early on a flat likelihood (a study at 0 % or 100 %) or climb to a local optimum
                # (two modes: τ = 0 and τ > 0); then ours must be at least as good an optimum of the likelihood,
                # integrated here without our code (glmm_deviance_by_quadrature), to 1e-4 in −2 log L: both maximise
                # a 7-point Gauss–Hermite approximation, which is off by ~0.01 at τ² near 10
                ours = glmm_deviance_by_quadrature(got.estimate, got.tau2, table["events"], table["n"])
                theirs = glmm_deviance_by_quadrature(want[0], want[1], table["events"], table["n"])
                assert ours <= theirs + 1e-4, (ours, theirs)
            else:
                # the SE comes from lme4's finite-difference Hessian at its own (earlier) stopping point; with a
                # large tau² (extreme proportions) the two differ by up to a few tenths of a percent
                same(got.se, glmm["se"], rtol=1e-2, atol=1e-4)
        if len(table) >= 3 and "error" not in r["egger"]:
            eg = egger_test(proportion_effects(table["events"], table["n"], "PLO"))
            same([eg.t, eg.p], [r["egger"]["t"], r["egger"]["p"]], rtol=1e-6, atol=1e-9)
