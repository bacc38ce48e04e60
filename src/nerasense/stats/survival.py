"""Kaplan–Meier, log-rank, Cox and RMST that print what R ``survival`` prints.

Conventions (and the alternatives offered):

* KM pointwise CI: ``ci="log"`` is R ``survfit``'s default ``conf.type="log"``; ``"log-log"`` is SAS's and
  lifelines'/scikit-survival's; ``"plain"`` is the linear Greenwood band. All use Greenwood's variance
  of log S (Greenwood 1926; Kalbfleisch & Prentice 2002, eq. 1.12) and follow R
  ``survival:::survfit_confint`` (upper limits capped at 1 for log and plain).
* Median and its CI: Brookmeyer & Crowley (Biometrics 1982;38:29–41) as R does it — the median is the
  first time the curve is ≤ 0.5 (the midpoint of a flat stretch exactly at 0.5), and the CI limits are
  where the lower and upper pointwise bands cross 0.5 (Therneau, R survival issue #175). Written here
  because lifelines offers only log-log and statsmodels inverts a test instead (statistics.md §1.1).
* Numbers at risk: R convention, at risk *just before* t (time ≥ t). Returned as data.
* Log-rank: R ``survdiff(rho=0)``, with ``strata`` for the stratified test that lifelines lacks (ours;
  statsmodels' ``survdiff`` agrees but fails where a group has no expected deaths).
* Cox: our numpy fit (:mod:`nerasense.stats.cox`), R ``coxph``'s Efron likelihood and Newton iteration,
  strata and robust/cluster sandwich SEs; Wald CIs and p-values. Breslow is not offered (R's and
  lifelines' default is Efron).
* RMST: area under the KM curve to τ with R's standard error (``print(survfit, rmean=τ)``; Klein &
  Moeschberger 2003, eq. 4.5.1–4.5.2), not lifelines' Var[min(T, τ)] (lifelines issue #1682).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nerasense.errors import AnalysisError, InputError, Problem

CI_TYPES = ("log", "log-log", "plain")
_TOL = float(np.sqrt(np.finfo(float).eps))  # R quantile.survfit's tolerance for "exactly 0.5"


def _check_ci(ci: str, level: float) -> None:
    problems = []
    if ci not in CI_TYPES:
        problems.append(Problem("ci", ci, ", ".join(CI_TYPES)))
    if not 0.0 < level < 1.0:
        problems.append(Problem("level", level, "a confidence level strictly between 0 and 1"))
    if problems:
        raise InputError(problems)


def _as_arrays(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    if t.ndim != 1 or t.shape != e.shape or len(t) == 0:
        raise InputError(Problem("time/event", f"{t.shape}/{e.shape}", "two 1-D arrays of the same non-zero length"))
    problems = []
    if np.isnan(t).any() or (t < 0).any():
        problems.append(Problem("time", "negative or missing", "numbers ≥ 0"))
    if not np.isin(e, (0.0, 1.0)).all():
        problems.append(Problem("event", "values other than 0/1", "0 (censored) or 1 (event)"))
    if problems:
        raise InputError(problems)
    return t, e


@dataclass(frozen=True)
class KaplanMeier:
    """A KM curve on every distinct time (event or censoring), as R ``survfit`` stores it."""

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err_log: np.ndarray  # Greenwood SE of log S (R's fit$std.err)
    lower: np.ndarray
    upper: np.ndarray
    ci: str
    level: float
    n: int
    events: int
    median: float | None = None
    median_ci_low: float | None = None
    median_ci_high: float | None = None
    _all_times: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "events": self.events,
            "median": self.median,
            "median_ci_low": self.median_ci_low,
            "median_ci_high": self.median_ci_high,
            "ci": self.ci,
            "level": self.level,
        }

    def at(self, times: Sequence[float]) -> dict[str, list[Any]]:
        """Landmark survival: S, CI and numbers at risk at each time (R ``summary(fit, times=, extend=TRUE)``)."""
        ts = np.asarray(times, dtype=float)
        idx = np.searchsorted(self.time, ts, side="right") - 1
        pick = lambda arr, start: [float(start) if i < 0 else float(arr[i]) for i in idx]  # noqa: E731
        return {
            "time": [float(x) for x in ts],
            "n_risk": numbers_at_risk(self._all_times, ts),
            "surv": pick(self.surv, 1.0),
            "lower": pick(self.lower, 1.0),
            "upper": pick(self.upper, 1.0),
            "std_err": [0.0 if i < 0 else float(self.surv[i] * self.std_err_log[i]) for i in idx],
        }


def numbers_at_risk(time: Any, at: Any) -> list[int]:
    """Number at risk just before each time in ``at`` (count of time ≥ t), R's convention."""
    t = np.sort(np.asarray(time, dtype=float))
    return [int(len(t) - np.searchsorted(t, x, side="left")) for x in np.asarray(at, dtype=float)]


def _bands(surv: np.ndarray, se: np.ndarray, ci: str, level: float) -> tuple[np.ndarray, np.ndarray]:
    """R ``survival:::survfit_confint`` with logse=TRUE; NaN where R gives NA."""
    from scipy.stats import norm

    z = norm.ppf(1.0 - (1.0 - level) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ci == "plain":
            se2 = se * surv * z
            lower = np.maximum(surv - se2, 0.0)
            upper = np.minimum(surv + se2, 1.0)
            bad = np.isnan(se2)
            lower[bad] = np.nan
            upper[bad] = np.nan
        elif ci == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.exp(np.log(xx) - z * se)
            upper = np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        else:  # log-log
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            se2 = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
    return lower, upper


def _quantile(x: np.ndarray, y: np.ndarray, p: float) -> float | None:
    """First x where the step curve y is ≤ p; midpoint of a flat stretch exactly at p (R quantile.survfit)."""
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if len(y) == 0:
        return None
    below = np.nonzero(y <= p + _TOL)[0]
    if len(below) == 0:
        return None
    i = int(below[0])
    if abs(y[i] - p) < _TOL:
        later = np.nonzero(y < p - _TOL)[0]
        if len(later) == 0:
            return float(x[i])
        return float((x[i] + x[int(later[0])]) / 2.0)
    return float(x[i])


def kaplan_meier(time: Any, event: Any, ci: str = "log", level: float = 0.95) -> KaplanMeier:
    """KM estimate with Greenwood pointwise bands (``ci``) and the Brookmeyer–Crowley median CI."""
    _check_ci(ci, level)
    t, e = _as_arrays(time, event)
    ut, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=len(ut))
    tot = np.bincount(inv, minlength=len(ut)).astype(float)
    n_risk = len(t) - np.concatenate(([0.0], np.cumsum(tot)[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n_risk)
        # Greenwood: Σ d/(n(n−d)); infinite once everyone at risk has died (R gives Inf there too)
        term = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
    se = np.sqrt(np.cumsum(term))
    lower, upper = _bands(surv, se, ci, level)
    median = _quantile(ut, surv, 0.5)
    lo = _quantile(ut, lower, 0.5)
    hi = _quantile(ut, upper, 0.5)
    return KaplanMeier(
        ut,
        n_risk.astype(np.int64),
        d.astype(np.int64),
        (tot - d).astype(np.int64),
        surv,
        se,
        lower,
        upper,
        ci,
        level,
        len(t),
        int(e.sum()),
        median,
        lo,
        hi,
        t,
    )


def rmst(km: KaplanMeier, tau: float) -> dict[str, float]:
    """Restricted mean survival time to ``tau`` and R's standard error.

    RMST = ∫_0^τ S(u) du for the step function. SE as R ``survival:::survmean`` (printed by
    ``print(fit, rmean=τ)``): Var = Σ_{event times t_i ≤ τ} A_i² d_i / (n_i (n_i − d_i)) with
    A_i = ∫_{t_i}^τ S(u) du (Klein & Moeschberger 2003, eq. 4.5.2; terms with n_i = d_i are 0).
    """
    if not tau > 0:
        raise InputError(Problem("tau", tau, "a positive time"))
    keep = km.time <= tau
    t = np.concatenate(([0.0], km.time[keep], [tau]))
    s = np.concatenate(([1.0], km.surv[keep]))
    widths = np.diff(t)
    pieces = widths * s  # area of each step from t_j to t_{j+1}
    total = float(pieces.sum())
    # area from each time t_j (j ≥ 1) to tau
    after = np.cumsum(pieces[::-1])[::-1][1:]
    d = km.n_event[keep].astype(float)
    n = km.n_risk[keep].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where((n - d) == 0, 0.0, d / (n * (n - d)))
    var = float(np.sum(after**2 * hh))
    return {"tau": float(tau), "rmst": total, "se": float(np.sqrt(var))}


def rmst_difference(a: dict[str, float], b: dict[str, float], level: float = 0.95) -> dict[str, float]:
    """Difference of two independent RMSTs (``a − b``) with a Wald CI and p from R's per-group SEs
    (Royston & Parmar, BMC Med Res Methodol 2013;13:152, §2.2; as ``survRM2::rmst2`` unadjusted)."""
    from scipy.stats import norm

    if a["tau"] != b["tau"]:
        raise InputError(Problem("tau", f"{a['tau']} vs {b['tau']}", "the same restriction time in both groups"))
    diff = a["rmst"] - b["rmst"]
    se = float(np.hypot(a["se"], b["se"]))
    z = norm.ppf(1 - (1 - level) / 2)
    return {
        "tau": a["tau"],
        "difference": diff,
        "se": se,
        "ci_low": diff - z * se,
        "ci_high": diff + z * se,
        "p": float(2 * norm.sf(abs(diff / se))) if se > 0 else float("nan"),
    }


@dataclass(frozen=True)
class LogRank:
    chi2: float
    df: int
    p: float
    stratified_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"logrank_chi2": self.chi2, "logrank_df": self.df, "logrank_p": self.p, "stratified_by": self.stratified_by}


def _logrank_parts(t: np.ndarray, e: np.ndarray, g: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed, expected and hypergeometric covariance of deaths per group in one stratum (R ``survdiff``,
    rho = 0; Mantel 1966): at each death time j, E_g += d_j n_gj / n_j and
    V_gh += d_j (n_j − d_j)/(n_j − 1) · n_gj/n_j · (δ_gh − n_hj/n_j). Vectorised over the distinct times."""
    ut, inv = np.unique(t, return_inverse=True)
    m = len(ut)
    idx = inv.ravel() * k + g
    at_block = np.bincount(idx, minlength=m * k).reshape(m, k).astype(float)
    dead_block = np.bincount(idx, weights=e, minlength=m * k).reshape(m, k)
    n_g = np.cumsum(at_block[::-1], axis=0)[::-1]  # at risk just before each time, per group
    n = n_g.sum(axis=1)
    d = dead_block.sum(axis=1)
    keep = d > 0
    n_g, n, d = n_g[keep], n[keep], d[keep]
    frac = n_g / n[:, None]
    observed = dead_block.sum(axis=0)
    expected = (d[:, None] * frac).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    var = np.diag((c[:, None] * frac).sum(axis=0)) - (c[:, None] * frac).T @ frac
    return observed, expected, var


def _labels(values: Any) -> np.ndarray:
    """Group labels as an array np.unique can sort: numbers as they are, anything else as text."""
    arr = np.asarray(values)
    return arr if arr.dtype.kind in "biuf" else arr.astype(str)


def logrank(time: Any, event: Any, group: Any, strata: Any = None, strata_name: str | None = None) -> LogRank:
    """k-group log-rank test, R ``survdiff(Surv(t, e) ~ g [+ strata(s)])`` (rho = 0).

    Observed, expected and variance are summed over strata; as R, groups with no expected deaths are
    dropped, the statistic is (O − E)' V⁻ (O − E) over the remaining groups but the first, with df = their
    number − 1 (0 with fewer than two groups). Written here because statsmodels' ``survdiff`` fails on a
    singular variance where R drops the empty group.
    """
    from scipy.stats import chi2

    t, e = _as_arrays(time, event)
    labels, g = np.unique(_labels(group), return_inverse=True)
    k = len(labels)
    if k < 2:
        raise AnalysisError(f"log-rank needs at least two groups; group has {k} level(s)")
    s = np.zeros(len(t), np.int64) if strata is None else np.unique(_labels(strata), return_inverse=True)[1]
    observed, expected, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for level in np.unique(s):
        sel = s == level
        o, ex, v = _logrank_parts(t[sel], e[sel], g[sel], k)
        observed, expected, var = observed + o, expected + ex, var + v
    used = expected > 0
    df = int(used.sum()) - 1
    if df < 1:
        return LogRank(0.0, max(df, 0), 1.0, strata_name if strata is not None else None)
    diff = (observed - expected)[used][1:]
    vv = var[np.ix_(used, used)][1:, 1:]
    try:
        stat = float(diff @ np.linalg.solve(vv, diff))
    except np.linalg.LinAlgError as exc:
        raise AnalysisError("log-rank: the variance matrix is singular (every subject at risk died at once?)") from exc
    return LogRank(stat, df, float(chi2.sf(stat, df)), strata_name if strata is not None else None)


def km_by_group(df: Any, group: str | None = None, ci: str = "log", level: float = 0.95) -> dict[str, KaplanMeier]:
    """KM per group level (sorted as strings) from a frame with ``time`` and ``event`` columns."""
    if group is None:
        return {"all": kaplan_meier(df["time"], df["event"], ci, level)}
    out = {}
    for level_name in sorted(df[group].unique(), key=str):
        sub = df[df[group] == level_name]
        out[str(level_name)] = kaplan_meier(sub["time"], sub["event"], ci, level)
    return out


@dataclass(frozen=True)
class CoxResult:
    coefficients: dict[str, dict[str, float]]
    ties: str
    strata: str | None
    n: int
    events: int
    loglik: float
    concordance: float
    warnings: list[str] = field(default_factory=list)
    robust: bool = False
    cluster: str | None = None
    tests: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "coefficients": self.coefficients,
            "ties": self.ties,
            "strata": self.strata,
            "robust": self.robust,
            "cluster": self.cluster,
            "n": self.n,
            "events": self.events,
            "loglik": self.loglik,
            "concordance": self.concordance,
            **self.tests,
            "warnings": self.warnings,
        }


def _concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> tuple[int, int, int]:
    """Harrell's C counts (concordant, tied in prediction, comparable pairs), exactly as lifelines'
    ``_concordance_summary_statistics`` counts them (Harrell, Lee & Mark, Stat Med 1996;15:361–387):
    a subject who died at t is compared with every death strictly before t, a censored subject at t
    with every death at or before t; concordant if the earlier death has the higher ``risk``.

    Vectorised offline dominance count: "death rank < bound" is split into dyadic blocks of the
    time-rank bits, and within each block deaths are counted by prediction with ``searchsorted``.
    """
    dead = event.astype(bool)
    if not dead.any():
        return 0, 0, 0
    pred = -risk
    utimes = np.unique(time[dead])
    r = np.searchsorted(utimes, time[dead], side="left")  # death time rank
    q = np.where(dead, np.searchsorted(utimes, time, side="left"), np.searchsorted(utimes, time, side="right"))
    upred = np.unique(pred[dead])
    u = np.searchsorted(upred, pred[dead], side="left")  # death prediction rank
    below = np.searchsorted(upred, pred, side="left")  # number of distinct death preds < pred_i
    equal = (below < len(upred)) & (upred[np.minimum(below, len(upred) - 1)] == pred)
    m = len(upred) + 1
    # only sums of counts are needed, so the needles are sorted too (searchsorted is then cache-friendly)
    pairs = int(np.searchsorted(np.sort(r), np.sort(q), side="left").sum())
    correct = tied = 0
    for bit in range(len(utimes).bit_length()):
        on = ((q >> bit) & 1) == 1
        if not on.any():
            continue
        keep = ((r >> bit) & 1) == 0
        keys = np.sort((r[keep] >> (bit + 1)) * m + u[keep])
        block = q[on] >> (bit + 1)
        needles = block * m + below[on]
        starts = np.searchsorted(keys, np.arange(int(block.max()) + 1) * m, side="left")
        correct += int(np.searchsorted(keys, np.sort(needles), side="left").sum()) - int(starts[block].sum())
        eq = np.sort(needles[equal[on]])
        tied += int((np.searchsorted(keys, eq, side="right") - np.searchsorted(keys, eq, side="left")).sum())
    return correct, tied, pairs


def cox(
    df: Any,
    covariates: Sequence[str],
    strata: str | None = None,
    level: float = 0.95,
    robust: bool = False,
    cluster: str | None = None,
) -> CoxResult:
    """Cox proportional hazards (Efron ties); frame with ``time``, ``event`` and covariates.

    R ``coxph(Surv(time, event) ~ a + b [+ strata(s)], ties="efron" [, robust=TRUE] [, cluster=c])``,
    fitted by :func:`nerasense.stats.cox.cox_fit` (R's Newton iteration, so R's numbers).
    As R ``summary.coxph``: ``se`` is se(coef) from the information; with ``robust`` or ``cluster`` also
    ``robust_se`` (sandwich), and then z, p and the CI use the robust SE. Wald CI
    ``exp(coef ± z_{1−α/2}·se)``, p = 2(1 − Φ(|z|)); likelihood-ratio and score tests as R prints them.
    Concordance as lifelines' (Harrell's C, within strata).
    """
    import warnings

    from scipy.stats import chi2, norm

    from nerasense.errors import NerasenseWarning
    from nerasense.stats.cox import cox_fit

    if not covariates:
        raise InputError(Problem("covariates", "", "at least one covariate column"))
    covs = list(covariates)
    x = df[covs].to_numpy(dtype=float)
    t = df["time"].to_numpy(dtype=float)
    e = df["event"].to_numpy(dtype=float)
    groups = np.zeros(len(t), np.int64) if strata is None else np.unique(df[strata].to_numpy(), return_inverse=True)[1]
    fit = cox_fit(x, t, e, groups if strata else None, robust, None if cluster is None else df[cluster].to_numpy(), covs)
    for msg in fit.warnings:
        warnings.warn(f"Cox model: {msg}", NerasenseWarning, stacklevel=2)
    naive_se = np.sqrt(np.diag(fit.naive_var))
    se = fit.se
    zc = norm.ppf(1.0 - (1.0 - level) / 2.0)
    z = fit.coef / se
    coefs: dict[str, dict[str, float]] = {}
    for i, name in enumerate(covs):
        b, s = float(fit.coef[i]), float(se[i])
        coefs[name] = {
            "coef": b,
            "se": float(naive_se[i]),
            "hr": float(np.exp(b)),
            "hr_ci_low": float(np.exp(b - zc * s)),
            "hr_ci_high": float(np.exp(b + zc * s)),
            "z": float(z[i]),
            "p": float(2.0 * norm.sf(abs(z[i]))),
        }
        if fit.robust:
            coefs[name]["robust_se"] = s
    counts = np.zeros(3, np.int64)
    risk = fit.linear_predictor
    if strata is None:
        counts += _concordance(t, e, risk)
    else:
        for g in np.unique(groups):
            sel = groups == g
            counts += _concordance(t[sel], e[sel], risk[sel])
    correct, tied, pairs = (int(c) for c in counts)
    concordance = (correct + tied / 2) / pairs if pairs else float("nan")
    lr = 2.0 * (fit.loglik - fit.loglik_null)
    p = len(covs)
    tests = {
        "loglik_null": fit.loglik_null,
        "lr_chi2": lr,
        "lr_df": p,
        "lr_p": float(chi2.sf(lr, p)),
        "score_chi2": fit.score_test,
        "score_p": float(chi2.sf(fit.score_test, p)),
        "iterations": fit.iterations,
    }
    return CoxResult(
        coefs, "efron", strata, len(t), fit.events, fit.loglik, float(concordance), list(fit.warnings),
        fit.robust, cluster, tests,
    )


__all__ = [
    "CI_TYPES",
    "CoxResult",
    "KaplanMeier",
    "LogRank",
    "cox",
    "kaplan_meier",
    "km_by_group",
    "logrank",
    "numbers_at_risk",
    "rmst",
    "rmst_difference",
]
