"""Subgroup hazard ratios (for forest plots) and the treatment-by-subgroup interaction test.

Per level of each subgroup variable: a Cox model (Efron ties, our R-equivalent fit) of the treatment (or binary
biomarker) column alone, as R ``coxph(Surv(t, e) ~ treat, subset = level)``. Interaction: likelihood-ratio
test of ``treat * subgroup`` against ``treat + subgroup`` (R ``anova(fit0, fit1)``; df = levels − 1),
the test a forest plot's "p for interaction" column should carry (Wang et al., NEJM 2007;357:2189–2194,
on reporting subgroup analyses). Per-subgroup p-values are shown for description only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nerasense.errors import AnalysisError, InputError, NerasenseWarning, Problem


@dataclass(frozen=True)
class SubgroupRow:
    variable: str
    level: str
    n: int
    events: int
    hr: float | None
    hr_ci_low: float | None
    hr_ci_high: float | None
    p: float | None
    note: str = ""


@dataclass(frozen=True)
class InteractionTest:
    variable: str
    chi2: float
    df: int
    p: float


def _fit(data: Any, cols: list[str]) -> Any:
    """Our Efron fit (R ``coxph``'s iteration); a fit that ran out of iterations counts as not converged."""
    from nerasense.stats.cox import cox_fit

    fit = cox_fit(data[cols].to_numpy(float), data["time"].to_numpy(float), data["event"].to_numpy(float), names=cols)
    if any(m.startswith("Ran out of iterations") for m in fit.warnings):
        raise AnalysisError("Cox model did not converge")
    return fit


def _dummies(values: np.ndarray, prefix: str) -> tuple[Any, list[str]]:
    import pandas as pd

    levels = sorted(set(values.tolist()), key=str)
    frame = pd.DataFrame({f"{prefix}[{lv}]": (values == lv).astype(float) for lv in levels[1:]})
    return frame, list(frame.columns)


def subgroup_analysis(
    df: Any, treatment: str, subgroups: Sequence[str], level: float = 0.95
) -> tuple[list[SubgroupRow], list[InteractionTest]]:
    """HR of ``treatment`` (numeric 0/1 column) within each level of each subgroup column, and interaction tests.

    ``df`` has ``time`` and ``event`` (as from :func:`nerasense.stats.tables.survival_columns`).
    """
    import pandas as pd
    from scipy.stats import chi2, norm

    missing = [c for c in (treatment, *subgroups) if c not in df.columns]
    if missing:
        raise InputError([Problem("column", c, f"a column of the table ({', '.join(map(str, df.columns))})") for c in missing])
    z = norm.ppf(1 - (1 - level) / 2)
    rows: list[SubgroupRow] = []
    tests: list[InteractionTest] = []
    base = pd.DataFrame(
        {
            "time": df["time"].to_numpy(float),
            "event": df["event"].to_numpy(float),
            "treat": pd.to_numeric(df[treatment]).to_numpy(float),
        }
    )
    for var in subgroups:
        vals = df[var].astype(str).to_numpy()
        for lv in sorted(set(vals.tolist()), key=str):
            sub = base[vals == lv]
            n, ev = len(sub), int(sub["event"].sum())
            if ev == 0 or sub["treat"].nunique() < 2:
                rows.append(SubgroupRow(var, lv, n, ev, None, None, None, None, "not estimable (no events or one arm only)"))
                continue
            try:
                fit = _fit(sub, ["treat"])
            except AnalysisError:
                rows.append(SubgroupRow(var, lv, n, ev, None, None, None, None, "Cox model did not converge"))
                continue
            b, se = float(fit.coef[0]), float(fit.se[0])
            rows.append(
                SubgroupRow(
                    var,
                    lv,
                    n,
                    ev,
                    float(np.exp(b)),
                    float(np.exp(b - z * se)),
                    float(np.exp(b + z * se)),
                    float(2 * norm.sf(abs(b / se))),
                )
            )
        dummies, dcols = _dummies(vals, var)
        if not dcols:
            continue
        inter = pd.DataFrame({f"treat:{c}": base["treat"].to_numpy() * dummies[c].to_numpy() for c in dcols})
        full = pd.concat([base.reset_index(drop=True), dummies, inter], axis=1)
        try:
            ll0 = _fit(full, ["treat", *dcols]).loglik
            ll1 = _fit(full, ["treat", *dcols, *inter.columns]).loglik
        except AnalysisError as exc:
            warnings.warn(
                f"interaction test for {var} not computed: the Cox model did not converge", NerasenseWarning, stacklevel=2
            )
            if len(subgroups) == 1:
                raise AnalysisError(f"interaction model for {var} did not converge") from exc
            continue
        stat = float(2 * (ll1 - ll0))
        tests.append(InteractionTest(var, stat, len(dcols), float(chi2.sf(stat, len(dcols)))))
    return rows, tests


def as_dicts(rows: list[SubgroupRow], tests: list[InteractionTest]) -> dict[str, Any]:
    return {"subgroups": [asdict(r) for r in rows], "interactions": [asdict(t) for t in tests]}


__all__ = ["InteractionTest", "SubgroupRow", "as_dicts", "subgroup_analysis"]
