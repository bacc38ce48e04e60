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
* Log-rank: statsmodels ``survdiff`` (equal to R ``survdiff(rho=0)``), with ``strata`` for the
  stratified test that lifelines lacks.
* Cox: lifelines ``CoxPHFitter`` at its default tolerance (Efron ties, as R ``coxph``), then one or two
  Newton steps on our vectorised Efron score/information to reach R's precision; Wald CIs and p-values.
  Breslow is not offered through this function (R's and lifelines' default is Efron).
* RMST: area under the KM curve to τ with R's standard error (``print(survfit, rmean=τ)``; Klein &
  Moeschberger 2003, eq. 4.5.1–4.5.2), not lifelines' Var[min(T, τ)] (lifelines issue #1682).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
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


def logrank(time: Any, event: Any, group: Any, strata: Any = None, strata_name: str | None = None) -> LogRank:
    """k-group log-rank test (R ``survdiff(Surv(t, e) ~ g [+ strata(s)])``) via statsmodels ``survdiff``."""
    from scipy.stats import chi2
    from statsmodels.duration.survfunc import survdiff

    t, e = _as_arrays(time, event)
    g = np.asarray(group)
    k = len(np.unique(g))
    if k < 2:
        raise AnalysisError(f"log-rank needs at least two groups; group has {k} level(s)")
    kwargs = {} if strata is None else {"strata": np.asarray(strata)}
    stat, _ = survdiff(t, e, g, **kwargs)
    stat = float(stat)
    return LogRank(stat, k - 1, float(chi2.sf(stat, k - 1)), strata_name if strata is not None else None)


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "coefficients": self.coefficients,
            "ties": self.ties,
            "strata": self.strata,
            "n": self.n,
            "events": self.events,
            "loglik": self.loglik,
            "concordance": self.concordance,
        }


def _efron_derivatives(
    x: np.ndarray, time: np.ndarray, event: np.ndarray, beta: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Efron partial log-likelihood, score and information of one stratum at ``beta``.

    Efron (JASA 1977;72:557–565), as R ``survival`` computes it (Therneau & Grambsch 2000, §3.3,
    eq. 3.7 and the derivatives below it; ``coxfit6.c``): at an event time with d tied deaths, the
    l-th death (l = 0..d−1) sees the risk-set sums minus l/d of the deaths' own sums,
    ``S_k − (l/d)·D_k`` for k = 0, 1, 2. ``x`` must be sorted by ascending ``time``. Vectorised over
    the distinct times (reverse cumulative sums), so one evaluation is O(n·p²).
    """
    n, p = x.shape
    eta = x @ beta
    eta -= eta.max()  # a common shift cancels in the partial likelihood
    w = np.exp(eta)
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    deaths = np.add.reduceat(event, starts)
    has = deaths > 0
    if not has.any():
        return 0.0, np.zeros(p), np.zeros((p, p))
    wx = w[:, None] * x
    wxx = (wx[:, :, None] * x[:, None, :]).reshape(n, p * p)
    ew = event * w

    def risk(v: np.ndarray) -> np.ndarray:  # Σ over {T ≥ t_k}, per distinct time
        return np.cumsum(np.add.reduceat(v, starts, axis=0)[::-1], axis=0)[::-1][has]

    def dead(v: np.ndarray) -> np.ndarray:  # Σ over the deaths at t_k
        return np.add.reduceat(v, starts, axis=0)[has]

    s0, s1, s2 = risk(w), risk(wx), risk(wxx)
    d0, d1, d2 = dead(ew), dead(event[:, None] * wx), dead(event[:, None] * wxx)
    d = deaths[has].astype(np.int64)
    k = np.repeat(np.arange(len(d)), d)
    f = (np.arange(len(k)) - np.repeat(np.cumsum(d) - d, d)) / d[k]
    den = s0[k] - f * d0[k]
    a = (s1[k] - f[:, None] * d1[k]) / den[:, None]
    b = (s2[k] - f[:, None] * d2[k]) / den[:, None]
    loglik = float(event @ eta - np.log(den).sum())
    score = event @ x - a.sum(axis=0)
    info = b.sum(axis=0).reshape(p, p) - a.T @ a
    return loglik, score, info


def _cox_polish(
    x: np.ndarray, time: np.ndarray, event: np.ndarray, groups: np.ndarray, beta: np.ndarray, max_steps: int = 4
) -> tuple[np.ndarray, float, np.ndarray]:
    """Newton–Raphson steps on the Efron likelihood from a converged ``beta`` (lifelines' default
    tolerance) until the step is below 1e-10·(1 + |β|); returns β, log-likelihood and information at β.

    The same iteration R ``coxph`` runs (Therneau & Grambsch 2000, §3.2; ``coxph.control(eps=1e-9)``),
    started next to the solution so one or two steps suffice (Newton converges quadratically).
    Strata: the likelihood is the sum over strata (§3.5).
    """
    order = np.lexsort((time, groups))
    x, time, event, groups = x[order], time[order], event[order], groups[order]
    cuts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1], True])
    x = x - x.mean(axis=0)  # centring, as R does, for exp() range; the likelihood is unchanged

    def total(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        ll, u, i = 0.0, np.zeros(len(b)), np.zeros((len(b), len(b)))
        for lo, hi in pairwise(cuts):
            a, g, h = _efron_derivatives(x[lo:hi], time[lo:hi], event[lo:hi], b)
            ll, u, i = ll + a, u + g, i + h
        return ll, u, i

    ll, u, info = total(beta)
    for _ in range(max_steps):
        try:
            step = np.linalg.solve(info, u)
        except np.linalg.LinAlgError as exc:
            raise AnalysisError("Cox model: the information matrix is singular (collinear covariates?)") from exc
        if np.all(np.abs(step) <= 1e-10 * (1.0 + np.abs(beta))):
            # converged: the last step is taken; log-likelihood and information change by O(step²)
            return beta + step, ll, info
        new = beta + step
        ll_new, u_new, info_new = total(new)
        if not ll_new >= ll - 1e-9 * abs(ll):  # never accept a step that lowers the likelihood
            break
        beta, ll, u, info = new, ll_new, u_new, info_new
    return beta, ll, info


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


def cox(df: Any, covariates: Sequence[str], strata: str | None = None, level: float = 0.95) -> CoxResult:
    """Cox proportional hazards (Efron ties); frame with ``time``, ``event`` and covariates.

    Matches R ``coxph(Surv(time, event) ~ a + b [+ strata(s)], ties="efron")`` to 1e-6 and better.
    lifelines ``CoxPHFitter`` fits with its default tolerance (its step-halving, convergence checks and
    warnings); :func:`_cox_polish` then takes Newton steps on the Efron likelihood to R's precision
    (near-zero coefficients need it), at a fraction of the cost of refitting with a tighter tolerance.
    Everything reported is computed at the polished β: SE = √diag(I⁻¹), Wald z, p = 2(1 − Φ(|z|)),
    CI ``exp(coef ± z_{1−α/2}·se)`` (R ``summary.coxph``); concordance as lifelines' (Harrell's C,
    within strata).
    """
    import warnings

    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning
    from scipy.stats import norm

    from nerasense.errors import NerasenseWarning

    if not covariates:
        raise InputError(Problem("covariates", "", "at least one covariate column"))
    covs = list(covariates)
    cols = ["time", "event", *covs] + ([strata] if strata else [])
    data = df[cols]
    cph = CoxPHFitter(alpha=1.0 - level)
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        try:
            cph.fit(data, duration_col="time", event_col="event", strata=[strata] if strata else None)
        except ConvergenceError as exc:
            raise AnalysisError(f"Cox model did not converge: {exc}".splitlines()[0]) from exc
    for w in ws:
        if issubclass(w.category, ConvergenceWarning | RuntimeWarning | UserWarning):
            caught.append(str(w.message).splitlines()[0])
    for msg in caught:
        warnings.warn(f"lifelines: {msg}", NerasenseWarning, stacklevel=2)
    x = data[covs].to_numpy(dtype=float)
    t = data["time"].to_numpy(dtype=float)
    e = data["event"].to_numpy(dtype=float)
    groups = np.zeros(len(t), np.int64) if strata is None else np.unique(data[strata].to_numpy(), return_inverse=True)[1]
    start = cph.params_.reindex(covs).to_numpy(dtype=float)
    beta, loglik, info = _cox_polish(x, t, e, groups, start)
    try:
        se = np.sqrt(np.diag(np.linalg.inv(info)))
    except np.linalg.LinAlgError as exc:
        raise AnalysisError("Cox model: the information matrix is singular (collinear covariates?)") from exc
    zc = norm.ppf(1.0 - (1.0 - level) / 2.0)
    z = beta / se
    coefs = {
        name: {
            "coef": float(b),
            "se": float(s),
            "hr": float(np.exp(b)),
            "hr_ci_low": float(np.exp(b - zc * s)),
            "hr_ci_high": float(np.exp(b + zc * s)),
            "z": float(zz),
            "p": float(2.0 * norm.sf(abs(zz))),
        }
        for name, b, s, zz in zip(covs, beta, se, z, strict=True)
    }
    risk = x @ beta
    counts = np.zeros(3, np.int64)
    for g in np.unique(groups):
        sel = groups == g
        counts += _concordance(t[sel], e[sel], risk[sel])
    correct, tied, pairs = (int(c) for c in counts)
    concordance = (correct + tied / 2) / pairs if pairs else float("nan")
    return CoxResult(coefs, "efron", strata, len(data), int(e.sum()), loglik, float(concordance), caught)


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
