"""Random-effects meta-analysis of proportions and hazard ratios, with the conventions of R ``metafor``.

Effect sizes (``metafor::escalc``):

* ``PLO`` logit proportion, y = log(x/(n−x)), v = 1/x + 1/(n−x); 0.5 added to both cells of a study with
  0 or n events (escalc's ``add=1/2, to="only0"``). Back-transformed with the inverse logit.
* ``PFT`` Freeman–Tukey double arcsine (Freeman & Tukey 1950), y = ½[asin√(x/(n+1)) + asin√((x+1)/(n+1))],
  v = 1/(4n+2); back-transformed with Miller's inversion (Am Stat 1978;32:138) at the harmonic mean n
  (``transf.ipft.hm``).
* ``GLMM`` binomial-normal model (logit link, normal random intercepts), fitted by maximum likelihood with
  7-point adaptive Gauss–Hermite quadrature, as ``rma.glmm(measure="PLO")`` fits it through
  ``lme4::glmer(nAGQ=7)`` (Stijnen, Hamza & Özdemir, Stat Med 2010;29:3046–3067).
* ``HR`` log hazard ratio with SE = [log(upper) − log(lower)] / (2·z_{(1+level)/2}) from a published CI
  (Parmar, Torri & Stewart, Stat Med 1998;17:2815–2834; Tierney et al., Trials 2007;8:16).

Heterogeneity τ² (Veroniki et al., Res Synth Methods 2016;7:55–79, for the estimators):
DerSimonian–Laird (1986), REML (the root of the restricted-likelihood score, truncated at 0), Paule–Mandel
(1982; generalised Q = k − 1). Inference on μ: Wald z, or Hartung–Knapp–Sidik–Jonkman (t with k − 1 df
and the weighted residual variance, untruncated, as ``test="knha"``). Q, I² and H² as metafor computes them
for a random-effects fit (I² = τ²/(τ² + s²), s² the "typical" within-study variance, Higgins & Thompson,
Stat Med 2002;21:1539–1558); prediction interval μ̂ ± c·√(SE² + τ²) with c = z, or t_{k−1} under HKSJ
(metafor's ``predict``). Subgroups: separate random-effects fits and a Q test between their estimates;
leave-one-out (``leave1out``); Egger's regression test (``regtest(model="lm")``, Egger et al., BMJ
1997;315:629–634).

statsmodels' ``combine_effects`` offers DL and PM only; REML, HKSJ, the GLMM, subgroup, leave-one-out
and Egger are written here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nerasense.errors import AnalysisError, InputError, NerasenseWarning, Problem

METHODS = ("DL", "REML", "PM")
MEASURES = ("PLO", "PFT", "GLMM", "HR", "GEN")


@dataclass(frozen=True)
class Effects:
    """Study effects on the analysis scale with their sampling variances."""

    y: np.ndarray
    v: np.ndarray
    measure: str
    n: np.ndarray | None = None  # sample sizes (proportions), for the PFT back-transform
    events: np.ndarray | None = None


def proportion_effects(events: Any, n: Any, measure: str = "PLO") -> Effects:
    """Per-study effects for proportions (metafor ``escalc(measure="PLO" | "PFT")``)."""
    x = np.asarray(events, dtype=float)
    m = np.asarray(n, dtype=float)
    problems = []
    if x.shape != m.shape or x.ndim != 1 or len(x) == 0:
        problems.append(Problem("events/n", f"{x.shape}/{m.shape}", "two lists of the same non-zero length"))
    elif (m <= 0).any() or (x < 0).any() or (x > m).any() or (x != np.round(x)).any() or (m != np.round(m)).any():
        problems.append(Problem("events/n", "non-integer or out of range", "integers with 0 ≤ events ≤ n, n ≥ 1"))
    if measure not in ("PLO", "PFT", "GLMM"):
        problems.append(Problem("measure", measure, "PLO, PFT or GLMM for proportions"))
    if problems:
        raise InputError(problems)
    if measure == "PFT":
        y = 0.5 * (np.arcsin(np.sqrt(x / (m + 1))) + np.arcsin(np.sqrt((x + 1) / (m + 1))))
        return Effects(y, 1.0 / (4 * m + 2), "PFT", m, x)
    zero = (x == 0) | (x == m)
    xa, ma = np.where(zero, x + 0.5, x), np.where(zero, m + 1.0, m)
    return Effects(np.log(xa / (ma - xa)), 1 / xa + 1 / (ma - xa), measure, m, x)


def hr_effects(hr: Any, lower: Any, upper: Any, level: float = 0.95) -> Effects:
    """Log hazard ratios with SEs recovered from published CIs (symmetric on the log scale)."""
    from scipy.stats import norm

    h, lo, hi = (np.asarray(a, dtype=float) for a in (hr, lower, upper))
    if not (h.shape == lo.shape == hi.shape) or h.ndim != 1 or len(h) == 0:
        raise InputError(Problem("hr/lower/upper", f"{h.shape}/{lo.shape}/{hi.shape}", "three lists of the same length"))
    bad = ~((lo > 0) & (lo < h) & (h < hi))
    if bad.any():
        raise InputError(Problem("hr/lower/upper", f"rows {', '.join(str(i + 1) for i in np.flatnonzero(bad))}",
                                 "0 < lower < hr < upper"))
    se = (np.log(hi) - np.log(lo)) / (2 * norm.ppf(0.5 + level / 2))
    return Effects(np.log(h), se**2, "HR")


# ---- τ² estimators ---------------------------------------------------------------------------------


def _fe(y: np.ndarray, v: np.ndarray, tau2: float = 0.0) -> tuple[float, float, np.ndarray]:
    w = 1.0 / (v + tau2)
    mu = float(w @ y / w.sum())
    return mu, float(1.0 / w.sum()), w


def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian & Laird (Control Clin Trials 1986;7:177–188), truncated at 0."""
    mu, _, w = _fe(y, v)
    q = float(w @ (y - mu) ** 2)
    c = w.sum() - (w @ w) / w.sum()
    return max(0.0, (q - (len(y) - 1)) / c) if c > 0 else 0.0


def _bracket_root(f: Any, lo: float = 0.0) -> float:
    """Root of a function positive at ``lo`` and negative far right (brentq after doubling the bracket)."""
    from scipy.optimize import brentq

    hi = 1.0
    while f(hi) > 0:
        hi *= 2.0
        if hi > 1e12:
            raise AnalysisError("meta-analysis: τ² does not converge (effects with no within-study variance?)")
    return float(brentq(f, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500))


def tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    """Paule & Mandel (J Res Natl Bur Stand 1982;87:377–385): generalised Q(τ²) = k − 1; 0 if Q(0) < k − 1."""
    k = len(y)

    def f(t2: float) -> float:
        mu, _, w = _fe(y, v, t2)
        return float(w @ (y - mu) ** 2) - (k - 1)

    return 0.0 if f(0.0) <= 0 else _bracket_root(f)


def tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """REML: the root of the restricted log-likelihood's derivative in τ² (Viechtbauer, J Educ Behav Stat
    2005;30:261–293, eq. 11), truncated at 0 (metafor iterates Fisher scoring to the same root)."""

    def score(t2: float) -> float:
        mu, _, w = _fe(y, v, t2)
        return float(-w.sum() + (w * w) @ (y - mu) ** 2 + (w @ w) / w.sum())

    return 0.0 if score(0.0) <= 0 else _bracket_root(score)


TAU2 = {"DL": tau2_dl, "REML": tau2_reml, "PM": tau2_pm}


@dataclass(frozen=True)
class MetaResult:
    """One pooled estimate on the analysis scale (``estimate`` etc.) and back-transformed (``pooled``)."""

    k: int
    method: str
    test: str  # "z" or "knha"
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    stat: float
    p: float
    tau2: float
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    pi_low: float
    pi_high: float
    level: float
    pooled: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def random_effects(y: Any, v: Any, method: str = "REML", hksj: bool = False, level: float = 0.95) -> MetaResult:
    """Random-effects pooling of effects ``y`` with sampling variances ``v`` (metafor ``rma(yi, vi,
    method=method, test="knha" if hksj else "z")`` with ``predict`` for the prediction interval)."""
    from scipy.stats import chi2, norm, t

    ya, va = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    problems = []
    if method not in TAU2:
        problems.append(Problem("method", method, ", ".join(METHODS)))
    if ya.shape != va.shape or ya.ndim != 1 or len(ya) < 2:
        problems.append(Problem("studies", len(ya), "at least two studies with an effect and a variance each"))
    elif not (np.isfinite(ya).all() and np.isfinite(va).all() and (va > 0).all()):
        problems.append(
            Problem("effects/variances", "missing, infinite or non-positive variance", "finite effects, variances > 0")
        )
    if not 0 < level < 1:
        problems.append(Problem("level", level, "a confidence level strictly between 0 and 1"))
    if problems:
        raise InputError(problems)
    k = len(ya)
    tau2 = TAU2[method](ya, va)
    mu, var_mu, w = _fe(ya, va, tau2)
    if hksj:
        var_mu = float(w @ (ya - mu) ** 2) / ((k - 1) * w.sum())
        crit = float(t.ppf(0.5 + level / 2, k - 1))
    else:
        crit = float(norm.ppf(0.5 + level / 2))
    se = math.sqrt(var_mu)
    stat = mu / se if se > 0 else math.inf
    p = float(2 * t.sf(abs(stat), k - 1)) if hksj else float(2 * norm.sf(abs(stat)))
    mu0, _, w0 = _fe(ya, va)
    q = float(w0 @ (ya - mu0) ** 2)
    s2 = (k - 1) / (w0.sum() - (w0 @ w0) / w0.sum())  # metafor's "typical" within-study variance
    pi_half = crit * math.sqrt(var_mu + tau2)
    return MetaResult(
        k, method, "knha" if hksj else "z", mu, se, mu - crit * se, mu + crit * se, stat, p, tau2,
        q, k - 1, float(chi2.sf(q, k - 1)), 100.0 * tau2 / (tau2 + s2), (tau2 + s2) / s2,
        mu - pi_half, mu + pi_half, level,
    )


# ---- back-transforms -----------------------------------------------------------------------------


def expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def ipft_hm(x: float, n: np.ndarray) -> float:
    """Inverse Freeman–Tukey at the harmonic-mean n (Miller 1978; metafor ``transf.ipft.hm``)."""
    nhm = 1.0 / float(np.mean(1.0 / n))

    def pft(p: float) -> float:
        return 0.5 * (math.asin(math.sqrt(p * nhm / (nhm + 1))) + math.asin(math.sqrt((p * nhm + 1) / (nhm + 1))))

    if x > pft(1.0):
        return 1.0
    if x < pft(0.0):
        return 0.0
    s = math.sin(2 * x)
    inner = 1 - (s + (s - 1 / s) / nhm) ** 2
    if inner < 0:
        return float("nan")
    return 0.5 * (1 - math.copysign(1.0, math.cos(2 * x)) * math.sqrt(inner))


def back_transform(measure: str, value: float, n: np.ndarray | None = None) -> float:
    if measure in ("PLO", "GLMM"):
        return expit(value)
    if measure == "PFT":
        assert n is not None
        return ipft_hm(value, n)
    if measure == "HR":
        return math.exp(value)
    return value


def with_pooled(res: MetaResult, eff: Effects) -> MetaResult:
    """Attach the estimate, CI and PI on the natural scale (proportion or hazard ratio)."""
    bt = {k: back_transform(eff.measure, getattr(res, k), eff.n)
          for k in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")}
    from dataclasses import replace

    return replace(res, pooled=bt)


# ---- binomial-normal GLMM ------------------------------------------------------------------------

_GH_X, _GH_W = np.polynomial.hermite.hermgauss(7)


def _glmm_deviance(theta: np.ndarray, x: np.ndarray, n: np.ndarray, nodes: int = 7) -> float:
    """−2 × marginal log-likelihood of logit(p_i) = μ + b_i, b_i ~ N(0, τ²), by adaptive Gauss–Hermite
    quadrature centred at each study's conditional mode with its curvature (Pinheiro & Bates 1995; what
    ``glmer(nAGQ=7)`` computes). ``theta`` = (μ, τ). Binomial coefficients are included, as in lme4."""
    from scipy.special import expit as sigmoid
    from scipy.special import gammaln

    mu, tau = float(theta[0]), abs(float(theta[1]))
    gx, gw = (_GH_X, _GH_W) if nodes == 7 else np.polynomial.hermite.hermgauss(nodes)
    logc = gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1)
    if tau < 1e-10:
        eta = mu
        ll = logc + x * eta - n * np.logaddexp(0.0, eta)
        return float(-2 * ll.sum())
    # conditional modes of u (b = τu, u ~ N(0,1)): the root of the decreasing g(u) = τ(x − n·p) − u, which lies
    # in [−τn, τn]; Newton steps kept inside a shrinking bracket (bisection when a step leaves it), per study
    u = np.zeros_like(x)
    lo, hi = -tau * n - 1.0, tau * n + 1.0
    for _ in range(200):
        p = sigmoid(mu + tau * u)
        g = tau * (x - n * p) - u
        lo = np.where(g > 0, u, lo)
        hi = np.where(g < 0, u, hi)
        h = tau * tau * n * p * (1 - p) + 1.0
        new = u + g / h
        new = np.where((new <= lo) | (new >= hi), 0.5 * (lo + hi), new)
        done = np.max(np.abs(new - u)) < 1e-12
        u = new
        if done:
            break
    p = sigmoid(mu + tau * u)
    sd = 1.0 / np.sqrt(tau * tau * n * p * (1 - p) + 1.0)
    uu = u[:, None] + math.sqrt(2.0) * sd[:, None] * gx[None, :]
    eta = mu + tau * uu
    logf = logc[:, None] + x[:, None] * eta - n[:, None] * np.logaddexp(0.0, eta) - 0.5 * uu**2 - 0.5 * math.log(2 * math.pi)
    top = logf.max(axis=1, keepdims=True)
    weights = gw[None, :] * np.exp(gx[None, :] ** 2 + logf - top)
    logint = np.log(math.sqrt(2.0) * sd) + np.log(weights.sum(axis=1)) + top[:, 0]
    return float(-2 * logint.sum())


def glmm_proportions(events: Any, n: Any, level: float = 0.95) -> MetaResult:
    """Binomial-normal random-intercept model for proportions, ML (``rma.glmm(measure="PLO", method="ML")``).

    μ̂ and τ̂ maximise the 7-point adaptive Gauss–Hermite likelihood; the SE of μ̂ is from the numerical
    Hessian of the deviance in (μ, τ) at the optimum (as lme4's ``vcov`` does by default). Wald z CI; Q, I²
    and the prediction interval as metafor reports them for this model (Q and I² from the logit effects).
    """
    from scipy.optimize import minimize
    from scipy.stats import norm

    eff = proportion_effects(events, n, "GLMM")
    x, m = np.asarray(events, float), np.asarray(n, float)
    if len(x) < 2:
        raise InputError(Problem("studies", len(x), "at least two studies"))
    start = np.array([float(np.log((x.sum() + 0.5) / (m.sum() - x.sum() + 0.5))), 0.5])
    fit = minimize(_glmm_deviance, start, args=(x, m), method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000, "maxfev": 40000})
    fit = minimize(_glmm_deviance, fit.x, args=(x, m), method="BFGS", options={"gtol": 1e-9})
    mu, tau = float(fit.x[0]), abs(float(fit.x[1]))
    _warn_second_mode(x, m, mu, tau, float(fit.fun))
    hess = _num_hessian(lambda th: _glmm_deviance(th, x, m), np.array([mu, tau]))
    try:
        cov = np.linalg.inv(hess / 2.0)
    except np.linalg.LinAlgError as exc:
        raise AnalysisError("GLMM: the information matrix is singular") from exc
    if tau < 1e-4:  # on the boundary the Hessian in τ is meaningless: condition on τ = 0
        cov = np.array([[1.0 / (hess[0, 0] / 2.0)]])
    se = math.sqrt(cov[0, 0])
    crit = float(norm.ppf(0.5 + level / 2))
    base = random_effects(eff.y, eff.v, "DL")
    tau2 = tau * tau
    w0 = 1 / eff.v
    s2 = (len(x) - 1) / (w0.sum() - (w0 @ w0) / w0.sum())
    res = MetaResult(
        len(x), "ML", "z", mu, se, mu - crit * se, mu + crit * se, mu / se, float(2 * norm.sf(abs(mu / se))), tau2,
        base.q, base.q_df, base.q_p, 100 * tau2 / (tau2 + s2), (tau2 + s2) / s2,
        mu - crit * math.sqrt(se * se + tau2), mu + crit * math.sqrt(se * se + tau2), level,
    )
    return with_pooled(res, eff)


# the τ grid of the profile likelihood searched for a second mode, and how close (in −2 log L) a mode must come
# to the maximum to be named: a likelihood-ratio of e (1 unit of deviance per 2)
_PROFILE_TAU = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0,
                5.0, 6.0)
_SECOND_MODE_GAP = 2.0


def glmm_profile(x: np.ndarray, m: np.ndarray) -> list[tuple[float, float, float]]:
    """(τ, best μ at that τ, −2 log L) over ``_PROFILE_TAU``: the profile likelihood of the binomial-normal model."""
    from scipy.optimize import minimize_scalar

    out = []
    start = float(np.log((x.sum() + 0.5) / (m.sum() - x.sum() + 0.5)))
    for tau in _PROFILE_TAU:
        r = minimize_scalar(lambda mu, tau=tau: _glmm_deviance(np.array([mu, tau]), x, m),
                            bracket=(start - 1.0, start + 1.0))
        out.append((float(tau), float(r.x), float(r.fun)))
    return out


def _warn_second_mode(x: np.ndarray, m: np.ndarray, mu: float, tau: float, deviance: float) -> None:
    """Warn when the likelihood has another local maximum close to the one found (``glmm_second_mode``): with
    two modes (typically τ = 0 and a large τ, when a study sits at 0 % or 100 %) a program that starts its search
    elsewhere — R's metafor through lme4 starts at τ > 0 — can stop at the other one and print other numbers."""
    profile = glmm_profile(x, m)
    dev = [p[2] for p in profile]
    for i, (t, mu_t, d) in enumerate(profile):
        left = dev[i - 1] if i > 0 else math.inf
        right = dev[i + 1] if i + 1 < len(dev) else math.inf
        if d <= left and d <= right and abs(t - tau) > 0.25 * max(tau, t, 0.2) and d - deviance < _SECOND_MODE_GAP:
            warnings.warn(
                f"GLMM: the likelihood has a second local maximum near τ² = {t * t:.3g} (μ = {mu_t:.3g}, −2 log L "
                f"{d - deviance:.3g} above the maximum found at τ² = {tau * tau:.3g}, μ = {mu:.3g}); a program that "
                "starts its search at τ > 0, such as R's metafor::rma.glmm through lme4, can report that one",
                NerasenseWarning, stacklevel=3)
            return


def _num_hessian(f: Any, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    p = len(x)
    out = np.zeros((p, p))
    for i in range(p):
        for j in range(i, p):
            ei, ej = np.eye(p)[i] * h, np.eye(p)[j] * h
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
            out[i, j] = out[j, i] = val
    return out


# ---- subgroups, leave-one-out, Egger -------------------------------------------------------------


@dataclass(frozen=True)
class SubgroupTest:
    q_between: float
    df: int
    p: float


def subgroup_analysis(
    eff: Effects, groups: Sequence[str], method: str = "REML", hksj: bool = False, level: float = 0.95
) -> tuple[dict[str, MetaResult], SubgroupTest | None]:
    """A random-effects fit per subgroup (own τ² each) and the test for subgroup differences: Cochran's Q
    of the subgroup estimates with weights 1/SE² (Borenstein et al. 2009, ch. 19, "separate τ²"; metafor:
    ``rma(estimates, sei=ses, method="FE")$QE``). Subgroups of one study report that study alone."""
    from scipy.stats import chi2

    g = np.asarray([str(s) for s in groups])
    out: dict[str, MetaResult] = {}
    for level_name in sorted(set(g.tolist())):
        sel = g == level_name
        if sel.sum() >= 2:
            out[level_name] = with_pooled(random_effects(eff.y[sel], eff.v[sel], method, hksj, level),
                                          _subset(eff, sel))
    if len(out) < 2:
        return out, None
    est = np.array([r.estimate for r in out.values()])
    se = np.array([r.se for r in out.values()])
    mu, _, w = _fe(est, se**2)
    q = float(w @ (est - mu) ** 2)
    return out, SubgroupTest(q, len(out) - 1, float(chi2.sf(q, len(out) - 1)))


def _subset(eff: Effects, sel: np.ndarray) -> Effects:
    return Effects(eff.y[sel], eff.v[sel], eff.measure, None if eff.n is None else eff.n[sel],
                   None if eff.events is None else eff.events[sel])


def leave_one_out(eff: Effects, method: str = "REML", hksj: bool = False, level: float = 0.95) -> list[MetaResult]:
    """The pooled result without each study in turn (metafor ``leave1out``)."""
    k = len(eff.y)
    if k < 3:
        raise AnalysisError("leave-one-out needs at least three studies")
    return [with_pooled(random_effects(np.delete(eff.y, i), np.delete(eff.v, i), method, hksj, level),
                        _subset(eff, np.arange(k) != i)) for i in range(k)]


@dataclass(frozen=True)
class EggerTest:
    """Egger's test: weighted regression of y on its SE; ``slope`` tests small-study asymmetry."""

    slope: float
    slope_se: float
    t: float
    df: int
    p: float
    limit_estimate: float  # the intercept: the effect as SE → 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def egger_test(eff: Effects) -> EggerTest:
    """Egger et al. (BMJ 1997): y_i = b0 + b1·SE_i, weights 1/v_i, residual variance estimated; t test of b1
    on k − 2 df (metafor ``regtest(x, model="lm", predictor="sei")``; equivalently the intercept of the
    standardised-effect-on-precision regression)."""
    from scipy.stats import t as tdist

    k = len(eff.y)
    if k < 3:
        raise AnalysisError("Egger's test needs at least three studies")
    sei = np.sqrt(eff.v)
    x = np.column_stack([np.ones(k), sei])
    w = 1.0 / eff.v
    xtw = x.T * w
    xtwx = xtw @ x
    beta = np.linalg.solve(xtwx, xtw @ eff.y)
    resid = eff.y - x @ beta
    sigma2 = float(w @ resid**2) / (k - 2)
    cov = sigma2 * np.linalg.inv(xtwx)
    se = math.sqrt(cov[1, 1])
    tval = float(beta[1] / se) if se > 0 else math.inf
    return EggerTest(float(beta[1]), se, tval, k - 2, float(2 * tdist.sf(abs(tval), k - 2)), float(beta[0]))


__all__ = [
    "MEASURES",
    "METHODS",
    "Effects",
    "EggerTest",
    "MetaResult",
    "SubgroupTest",
    "back_transform",
    "egger_test",
    "glmm_proportions",
    "hr_effects",
    "leave_one_out",
    "proportion_effects",
    "random_effects",
    "subgroup_analysis",
    "tau2_dl",
    "tau2_pm",
    "tau2_reml",
    "with_pooled",
]


# ---- a whole analysis from a table ---------------------------------------------------------------


def effects_from_table(
    df: Any,
    measure: str,
    events: str = "events",
    n: str = "n",
    hr: str = "hr",
    lower: str = "lower",
    upper: str = "upper",
    yi: str = "yi",
    sei: str = "sei",
    level: float = 0.95,
) -> Effects:
    """Effects from a table read by column name; every problem (missing column, non-number, impossible
    value) is reported at once with its row."""
    import pandas as pd

    from nerasense.errors import ProblemCollector

    bad = ProblemCollector()
    if measure not in MEASURES:
        raise InputError(Problem("--measure", measure, ", ".join(MEASURES)))
    cols = {"PLO": [events, n], "PFT": [events, n], "GLMM": [events, n], "HR": [hr, lower, upper], "GEN": [yi, sei]}[measure]
    have = ", ".join(map(str, df.columns))
    for c in cols:
        if c not in df.columns:
            bad.add("column", c, f"a column of the table ({have})")
    bad.raise_if_any()
    vals = {}
    for c in cols:
        num = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        wrong = np.flatnonzero(~np.isfinite(num))
        if len(wrong):
            bad.add(f"column {c!r}", df[c].iloc[wrong[0]], "a number", where=f"row {', '.join(str(i + 1) for i in wrong)}")
        vals[c] = num
    bad.raise_if_any()
    if measure in ("PLO", "PFT", "GLMM"):
        x, m = vals[events], vals[n]
        wrong = np.flatnonzero((m < 1) | (x < 0) | (x > m) | (x != np.round(x)) | (m != np.round(m)))
        for i in wrong:
            bad.add(f"{events}/{n}", f"{x[i]:g}/{m[i]:g}", "whole numbers with 0 ≤ events ≤ n and n ≥ 1", where=f"row {i + 1}")
        bad.raise_if_any()
        return proportion_effects(x, m, measure)
    if measure == "HR":
        h, lo, hi = vals[hr], vals[lower], vals[upper]
        for i in np.flatnonzero(~((lo > 0) & (lo < h) & (h < hi))):
            bad.add(f"{hr}/{lower}/{upper}", f"{h[i]:g} ({lo[i]:g}–{hi[i]:g})", "0 < lower < hr < upper", where=f"row {i + 1}")
        bad.raise_if_any()
        return hr_effects(h, lo, hi, level)
    s = vals[sei]
    for i in np.flatnonzero(s <= 0):
        bad.add(f"column {sei!r}", s[i], "a standard error > 0", where=f"row {i + 1}")
    bad.raise_if_any()
    return Effects(vals[yi], s**2, "GEN")


def _pool(eff: Effects, method: str, hksj: bool, level: float) -> MetaResult:
    if eff.measure == "GLMM":
        assert eff.events is not None and eff.n is not None
        return glmm_proportions(eff.events, eff.n, level)
    return with_pooled(random_effects(eff.y, eff.v, method, hksj, level), eff)


def study_rows(eff: Effects, labels: Sequence[str], pooled: MetaResult, level: float = 0.95) -> list[dict[str, Any]]:
    """Per-study effect, CI and random-effects weight (%), on both scales."""
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    w = 1.0 / (eff.v + pooled.tau2)
    rows = []
    for i, lab in enumerate(labels):
        se = math.sqrt(eff.v[i])
        lo, hi = eff.y[i] - z * se, eff.y[i] + z * se
        n_i = None if eff.n is None else eff.n[i : i + 1]
        row: dict[str, Any] = {"study": lab, "yi": float(eff.y[i]), "vi": float(eff.v[i]),
                               "weight_pct": float(100 * w[i] / w.sum())}
        row.update({
            "estimate": back_transform(eff.measure, float(eff.y[i]), n_i),
            "ci_low": back_transform(eff.measure, lo, n_i),
            "ci_high": back_transform(eff.measure, hi, n_i),
        })
        if eff.events is not None and eff.n is not None:
            row.update({"events": int(eff.events[i]), "n": int(eff.n[i])})
        rows.append(row)
    return rows


def meta_analysis(
    eff: Effects,
    labels: Sequence[str],
    method: str = "REML",
    hksj: bool = False,
    level: float = 0.95,
    subgroups: Sequence[str] | None = None,
    loo: bool = False,
    egger: bool = False,
) -> dict[str, Any]:
    """The whole analysis as one JSON-ready dict: studies, overall, subgroups, leave-one-out, Egger."""
    if len(eff.y) < 2:
        raise InputError(Problem("studies", len(eff.y), "at least two studies"))
    overall = _pool(eff, method, hksj, level)
    out: dict[str, Any] = {
        "measure": eff.measure,
        "method": overall.method,
        "test": overall.test,
        "level": level,
        "k": len(eff.y),
        "studies": study_rows(eff, labels, overall, level),
        "overall": overall.as_dict(),
    }
    if subgroups is not None:
        for row, label in zip(out["studies"], subgroups, strict=True):
            row["subgroup"] = str(label)
        g = np.asarray([str(s) for s in subgroups])
        fits: dict[str, Any] = {}
        for name in sorted(set(g.tolist())):
            sel = g == name
            fits[name] = _pool(_subset(eff, sel), method, hksj, level).as_dict() if sel.sum() >= 2 else None
        out["subgroups"] = fits
        done = {k: v for k, v in fits.items() if v is not None}
        if len(done) >= 2:
            from scipy.stats import chi2

            est = np.array([v["estimate"] for v in done.values()])
            se = np.array([v["se"] for v in done.values()])
            mu, _, w = _fe(est, se**2)
            q = float(w @ (est - mu) ** 2)
            out["subgroup_test"] = {"q_between": q, "df": len(done) - 1, "p": float(chi2.sf(q, len(done) - 1)),
                                    "note": "Cochran's Q of the subgroup estimates (separate τ² per subgroup); "
                                            "subgroups of one study are shown, not tested"}
        else:
            out["subgroup_test"] = None
    if loo:
        k = len(eff.y)
        if k < 3:
            raise AnalysisError("leave-one-out needs at least three studies")
        out["leave_one_out"] = [
            {"omitted": labels[i], **_pool(_subset(eff, np.arange(k) != i), method, hksj, level).as_dict()}
            for i in range(k)
        ]
    if egger:
        base = eff if eff.measure != "GLMM" else Effects(eff.y, eff.v, "PLO", eff.n, eff.events)
        out["egger"] = egger_test(base).as_dict()
    return out


__all__ += ["effects_from_table", "meta_analysis", "study_rows"]
