"""Univariate screen: one test per feature, chosen by the kinds of response and feature.

=================  ==================  =================================================================
response           feature             test; effect size (two-sided 95 % CI unless ``level`` says otherwise)
=================  ==================  =================================================================
continuous         binary              Mann–Whitney U (``test="mannwhitney"``, default; scipy, asymptotic
                                       with tie and continuity correction as R ``wilcox.test(exact=FALSE)``)
                                       or Welch t (``test="t"``; R ``t.test``); difference in means carriers −
                                       non-carriers with the Welch CI (R ``t.test``), and the
                                       probability-of-superiority U/(n₁n₀)
continuous         continuous          Spearman ρ (``mannwhitney``) or Pearson r (``t``); CI by Fisher's z
                                       with SE 1/√(n−3) (the usual large-sample interval)
binary             binary              Fisher's exact test; conditional maximum-likelihood odds ratio with
                                       its exact CI (R ``fisher.test``)
binary             continuous          Mann–Whitney / Welch t of the feature between outcome groups;
                                       difference in means (events − non-events) with the Welch CI
survival           any                 Cox proportional hazards, Efron ties (R ``coxph``); HR per unit with
                                       the Wald CI and p (:func:`nerasense.stats.survival.cox`)
=================  ==================  =================================================================

With ``adjust`` (a categorical column such as tissue, :func:`~nerasense.discovery.data.prepare`), every
feature is instead tested by its coefficient in a regression that also holds the categories: OLS
(continuous), logistic (binary), Cox stratified by the categories (survival); effect = adjusted mean
difference (or slope), odds ratio or hazard ratio, Wald/t CI and p.

q-values: Benjamini & Hochberg (1995) step-up adjustment over the tested features (R ``p.adjust(p, "BH")``).
Rows with a missing feature value are left out of that feature's test only (available-case).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nerasense.discovery.data import AnalysisData, feature_label
from nerasense.errors import InputError, Problem

TESTS = ("mannwhitney", "t")
Progress = Callable[[str, int, int], None]


@dataclass
class ScreenRow:
    feature: str
    label: str  # the feature present, in words
    type: str
    test: str
    n: int
    n_carriers: int | None
    effect_name: str  # mean difference / spearman rho / pearson r / odds ratio / hazard ratio
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p: float
    q: float = float("nan")
    mean_carriers: float | None = None
    mean_others: float | None = None
    superiority: float | None = None  # P(carrier > non-carrier) + ½P(tie), continuous response only

    @property
    def log_effect(self) -> float | None:
        """The effect on the volcano plot's axis: differences as they are, ratios on log2."""
        if self.effect is None:
            return None
        if self.effect_name in ("odds ratio", "hazard ratio"):
            return math.log2(self.effect) if self.effect > 0 and math.isfinite(self.effect) else None
        return self.effect

    def to_dict(self) -> dict[str, Any]:
        return {k: _finite(v) for k, v in asdict(self).items()}


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def bh_qvalues(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (R ``p.adjust(p, method = "BH")``): q₍ᵢ₎ = min_{j≥i} m·p₍ⱼ₎/j, ≤ 1."""
    pv = np.asarray(p, dtype=float)
    if pv.size == 0:
        return pv
    if np.any(np.isnan(pv)) or np.any((pv < 0) | (pv > 1)):
        raise InputError(Problem("p", "a value outside [0, 1] or NaN", "p-values in [0, 1]"))
    m = pv.size
    order = np.argsort(pv)[::-1]  # largest first
    ranks = np.arange(m, 0, -1)
    q_sorted = np.minimum.accumulate(pv[order] * m / ranks)
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def welch_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean difference a − b, its Welch CI and the two-sided Welch p (R ``t.test(a, b)``)."""
    from scipy import stats

    na, nb = a.size, b.size
    va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
    diff = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff, 1.0 if diff == 0 else 0.0
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    tq = stats.t.ppf(0.5 + level / 2, df)
    p = float(2 * stats.t.sf(abs(diff / se), df))
    return diff, diff - tq * se, diff + tq * se, p


def _fisher_z_ci(r: float, n: int, level: float) -> tuple[float | None, float | None]:
    from scipy.stats import norm

    if n <= 3 or not math.isfinite(r) or abs(r) >= 1:
        return None, None
    z, se = math.atanh(r), 1 / math.sqrt(n - 3)
    zq = norm.ppf(0.5 + level / 2)
    return math.tanh(z - zq * se), math.tanh(z + zq * se)


def _two_groups(y: np.ndarray, g: np.ndarray, test: str, level: float) -> dict[str, Any]:
    from scipy import stats

    a, b = y[g == 1], y[g == 0]
    diff, lo, hi, p_t = welch_interval(a, b, level)
    u = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    p = p_t if test == "t" else float(u.pvalue)
    return {
        "effect_name": "mean difference",
        "effect": diff,
        "ci_low": lo,
        "ci_high": hi,
        "p": p,
        "mean_carriers": float(a.mean()),
        "mean_others": float(b.mean()),
        "superiority": float(u.statistic) / (a.size * b.size),
        "test": "Welch t" if test == "t" else "Mann–Whitney U",
    }


def _adjusted(data: AnalysisData, x: np.ndarray, ok: np.ndarray, level: float) -> dict[str, Any]:
    """The feature's coefficient in a regression on the feature and the ``adjust`` categories (dummy-coded):
    OLS (continuous; R ``lm(y ~ x + factor(a))``), logistic (binary; ``glm(..., binomial)``), Cox stratified by
    the categories (survival; ``coxph(Surv(t, e) ~ x + strata(a))``)."""
    import pandas as pd
    import statsmodels.api as sm

    assert data.adjust is not None
    groups = data.frame[data.adjust].to_numpy()[ok]
    y = data.y[ok]
    name = f"adjusted for {data.adjust}"
    if data.kind == "survival":
        from nerasense.stats.survival import cox

        e = data.event_array
        assert e is not None
        res = cox(pd.DataFrame({"time": y, "event": e[ok], "x": x, "g": groups}), ["x"], strata="g", level=level)
        c = res.coefficients["x"]
        return {"test": f"Cox stratified, {name}", "effect_name": "hazard ratio", "effect": c["hr"],
                "ci_low": c["hr_ci_low"], "ci_high": c["hr_ci_high"], "p": c["p"]}
    dummies = pd.get_dummies(pd.Series(groups), drop_first=True, dtype=float).to_numpy()
    design = sm.add_constant(np.column_stack([x, dummies]), has_constant="add")
    if data.kind == "binary":
        fit = sm.GLM(y, design, family=sm.families.Binomial()).fit()
        lo, hi = fit.conf_int(alpha=1 - level)[1]
        return {"test": f"logistic, {name}", "effect_name": "odds ratio", "effect": float(np.exp(fit.params[1])),
                "ci_low": float(np.exp(lo)), "ci_high": float(np.exp(hi)), "p": float(fit.pvalues[1])}
    fit = sm.OLS(y, design).fit()
    lo, hi = fit.conf_int(alpha=1 - level)[1]
    effect = "mean difference" if np.isin(x, (0.0, 1.0)).all() else "slope"
    return {"test": f"OLS, {name}", "effect_name": effect, "effect": float(fit.params[1]), "ci_low": float(lo),
            "ci_high": float(hi), "p": float(fit.pvalues[1])}


def _test_one(data: AnalysisData, name: str, ftype: str, test: str, level: float) -> dict[str, Any]:
    from scipy import stats

    x_all = data.frame[name].to_numpy(dtype=float)
    ok = ~np.isnan(x_all)
    x, y = x_all[ok], data.y[ok]
    if data.adjust is not None:
        return _adjusted(data, x, ok, level)
    if data.kind == "survival":
        import pandas as pd

        from nerasense.stats.survival import cox

        e = data.event_array
        assert e is not None
        res = cox(pd.DataFrame({"time": y, "event": e[ok], "x": x}), ["x"], level=level)
        c = res.coefficients["x"]
        return {"test": "Cox (Efron)", "effect_name": "hazard ratio", "effect": c["hr"],
                "ci_low": c["hr_ci_low"], "ci_high": c["hr_ci_high"], "p": c["p"]}
    if data.kind == "continuous" and ftype == "binary":
        return _two_groups(y, x, test, level)
    if data.kind == "continuous":
        if test == "t":
            r, p = stats.pearsonr(x, y)
            name_r, label = "pearson r", "Pearson"
        else:
            r, p = stats.spearmanr(x, y)
            name_r, label = "spearman rho", "Spearman"
        lo, hi = _fisher_z_ci(float(r), x.size, level)
        return {"test": label, "effect_name": name_r, "effect": float(r), "ci_low": lo, "ci_high": hi, "p": float(p)}
    if ftype == "binary":
        from scipy.stats.contingency import odds_ratio

        table = np.array(
            [[np.sum((x == 1) & (y == 1)), np.sum((x == 1) & (y == 0))],
             [np.sum((x == 0) & (y == 1)), np.sum((x == 0) & (y == 0))]]
        )
        p = float(stats.fisher_exact(table).pvalue)
        orr = odds_ratio(table, kind="conditional")
        ci = orr.confidence_interval(confidence_level=level)
        return {"test": "Fisher exact", "effect_name": "odds ratio", "effect": float(orr.statistic),
                "ci_low": float(ci.low), "ci_high": float(ci.high), "p": p,
                "mean_carriers": float(y[x == 1].mean()), "mean_others": float(y[x == 0].mean())}
    out = _two_groups(x, y, test, level)  # the feature compared between outcome groups
    out.pop("superiority")
    out["mean_carriers"], out["mean_others"] = None, None
    return out


def univariate_screen(
    data: AnalysisData,
    test: str = "mannwhitney",
    level: float = 0.95,
    progress: Progress | None = None,
) -> list[ScreenRow]:
    """Test every feature of ``data``; rows sorted by p (then feature name), with BH q-values."""
    if test not in TESTS:
        raise InputError(Problem("test", test, " / ".join(TESTS)))
    rows: list[ScreenRow] = []
    total = len(data.features)
    with warnings.catch_warnings():
        # a separated Cox fit (every event among carriers) warns in lifelines; the HR and its CI show it
        warnings.simplefilter("ignore")
        for i, f in enumerate(data.features):
            r = _test_one(data, f.name, f.type, test, level)
            n = int(np.sum(~np.isnan(data.frame[f.name].to_numpy(dtype=float))))
            rows.append(ScreenRow(feature=f.name, label=feature_label(f.name) if f.type == "binary" else f.name,
                                  type=f.type, n=n, n_carriers=f.n_carriers, **r))
            if progress is not None:
                progress("univariate screen", i + 1, total)
    q = bh_qvalues([r.p for r in rows])
    for row, qq in zip(rows, q, strict=True):
        row.q = float(qq)
    rows.sort(key=lambda r: (r.p, r.feature))
    return rows


__all__ = ["TESTS", "ScreenRow", "bh_qvalues", "univariate_screen", "welch_interval"]
