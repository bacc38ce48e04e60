"""Maximally selected log-rank statistic for an "optimal" biomarker cut-point, with honest p-values.

Re-implemented from the description of R ``maxstat`` (Hothorn & Lausen, R News 2002;2(1):3–5;
``maxstat.test(Surv(t, e) ~ x, smethod="LogRank")``) because no Python package offers it
(statistics.md §1.2, §5). Steps:

1. Log-rank (Savage) scores with time ranks taken as the *max* rank within ties
   (``exactRankTests::cscores.Surv``): ``a_i = δ_i − Σ_{j: rank_j ≤ rank_i} δ_j / (N − rank_j + 1)``.
2. Candidate cut-points are the distinct marker values x whose group size m = #{x_i ≤ x} satisfies
   ``max(1, ⌊N·minprop⌋) ≤ m ≤ ⌊N·maxprop⌋``.
3. Standardised statistic ``|S_m − m/N·Σa| / √V_m`` with the permutation variance
   ``V_m = m(N−m)/(N²(N−1))·(NΣa² − (Σa)²)``; M is the maximum, the cut-point the smallest x attaining it.
   Patients with x ≤ cut-point form the "low" group (as ``survminer::surv_cutpoint``).

p-values:

* ``p_lau92`` — Lausen & Schumacher, Biometrics 1992;48:73–85, limiting Brownian-bridge
  approximation: ``4φ(b)/b + φ(b)(b − 1/b)·ln[maxprop(1−minprop)/((1−maxprop)minprop)]``.
* ``p_lau94`` — improved Bonferroni inequality (Worsley 1982; Lausen, Sauerbrei & Schumacher 1994):
  ``2(1−Φ(b)) + Σ_i (1/π)e^{−b²/2}(t_i − (b²/4 − 1)t_i³/6)``,
  ``t_i = √(1 − m_i(N − m_{i+1}) / ((N − m_i)m_{i+1}))``. An upper bound; it can exceed 1.
* ``p_perm`` — optional conditional Monte-Carlo (permutation of the scores; seeded), reported as
  (1 + #{M* ≥ M})/(B + 1) (Phipson & Smyth 2010); R's ``pmethod="condMC"`` reports #{M* ≥ M}/B.
* ``p_naive`` — the two-sided normal p of M as if the cut had been fixed in advance. **Not valid** after
  selecting the cut (Altman et al., JNCI 1994;86:829–835); returned for comparison with papers and
  always accompanied by a :class:`~nerasense.errors.NerasenseWarning`.

Lau92 and Lau94 p-values are returned as computed (not truncated at 1), as ``maxstat`` does.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nerasense.errors import AnalysisError, InputError, NerasenseWarning, Problem


def _r_cumsum(values: np.ndarray) -> np.ndarray:
    """Running sums as R's ``cumsum`` makes them: added in order in a long double, each rounded to a double.
    The same arithmetic as R, so that statistics R sees as tied or ordered by one unit in the last place come
    out tied or ordered the same way here (``argmax_as_r``)."""
    return np.cumsum(np.asarray(values, dtype=float).astype(np.longdouble)).astype(float)


def _r_sum(values: np.ndarray) -> float:
    """R's ``sum`` of doubles: a long double accumulator, in order."""
    return float(_r_cumsum(values)[-1]) if len(values) else 0.0


def logrank_scores(time: Any, event: Any) -> np.ndarray:
    """Savage / log-rank scores with max-rank ties (``exactRankTests::cscores.Surv``), computed in its order:
    ``fact = δ/(N − r + 1)`` per patient (r the max rank of its time), ``a = δ − cumsum(fact[order(time)])[r]``."""
    t = np.asarray(time, dtype=float)
    d = np.asarray(event, dtype=float)
    n = len(t)
    order = np.argsort(t, kind="stable")  # R's order(): stable
    max_rank = np.searchsorted(t[order], t, side="right")  # exactRankTests::irank: ties get the max rank
    fact = d / (n - max_rank + 1.0)
    return d - _r_cumsum(fact[order])[max_rank - 1]


@dataclass(frozen=True)
class CutpointResult:
    cutpoint: float
    statistic: float
    p_naive: float
    p_lau92: float
    p_lau94: float
    p_perm: float | None
    n_perm: int | None
    minprop: float
    maxprop: float
    n: int
    n_low: int
    n_high: int
    n_splits: int
    candidates: list[float]
    statistics: list[float]

    def as_dict(self, with_profile: bool = False) -> dict[str, Any]:
        d = asdict(self)
        if not with_profile:
            d.pop("candidates")
            d.pop("statistics")
        return d


def _split_stats(x_sorted_scores: np.ndarray, m: np.ndarray, n: int) -> np.ndarray:
    """``maxstat:::cmaxstat``'s statistics, term by term in its order: ``ss = sum(y)``, ``E = m/N·ss``,
    ``V = m(N − m)/(N²(N − 1))·(N·sum(y²) − ss²)``, ``|cumsum(y)[m] − E| / √V``."""
    a = x_sorted_scores
    s_all = _r_sum(a)
    v_all = n * _r_sum(a * a) - s_all**2
    s_m = _r_cumsum(a)[m - 1]
    e_m = m / n * s_all
    v_m = m * (n - m) / (n * n * (n - 1.0)) * v_all
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(s_m - e_m) / np.sqrt(v_m)


def argmax_as_r(stats: np.ndarray) -> int:
    """The first cut-point whose statistic equals the maximum exactly (``min(which(Test == max(Test)))``).
    With the statistics computed in R's arithmetic (``_split_stats``), a tie in exact arithmetic is broken as R
    breaks it; which of two exactly tied cuts is chosen can then depend on the order of the rows, as in R."""
    return int(np.flatnonzero(stats == np.nanmax(stats))[0])


def p_lau92(b: float, minprop: float, maxprop: float) -> float:
    """Lausen & Schumacher (1992) approximation (``maxstat:::pLausen92``: 1 when b < 1, never below 0)."""
    from scipy.stats import norm

    if b < 1:
        return 1.0
    db = norm.pdf(b)
    p = 4 * db / b + db * (b - 1 / b) * math.log((maxprop * (1 - minprop)) / ((1 - maxprop) * minprop))
    return float(max(p, 0.0))


def p_lau94(b: float, n: int, m: np.ndarray) -> float:
    """Improved Bonferroni bound (Worsley 1982; Lausen et al. 1994; ``maxstat:::pLausen94``)."""
    from scipy.stats import norm

    m = np.asarray(m, dtype=float)
    m1, m2 = m[:-1], m[1:]
    t = np.sqrt(1.0 - m1 * (n - m2) / ((n - m1) * m2))
    d = np.sum((1 / math.pi) * math.exp(-(b**2) / 2) * (t - (b**2 / 4 - 1) * t**3 / 6))
    return float(2 * (1 - norm.cdf(b)) + d)


def maxstat_logrank(
    time: Any,
    event: Any,
    marker: Any,
    minprop: float = 0.1,
    maxprop: float | None = None,
    n_perm: int = 0,
    seed: int = 0,
) -> CutpointResult:
    """Maximally selected log-rank statistic (R ``maxstat.test(..., smethod="LogRank")``).

    ``maxprop`` defaults to ``1 − minprop`` (maxstat's defaults are 0.1 / 0.9). ``n_perm > 0`` adds a
    seeded permutation p-value. Emits a :class:`NerasenseWarning` that ``p_naive`` is not valid.
    """
    maxprop = 1.0 - minprop if maxprop is None else maxprop
    problems = []
    if not 0.0 < minprop < 0.5:
        problems.append(Problem("minprop", minprop, "a fraction strictly between 0 and 0.5, e.g. 0.1"))
    if not 0.5 < maxprop < 1.0:
        problems.append(Problem("maxprop", maxprop, "a fraction strictly between 0.5 and 1, e.g. 0.9"))
    if n_perm < 0:
        problems.append(Problem("n_perm", n_perm, "an integer ≥ 0"))
    if problems:
        raise InputError(problems)
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    x = np.asarray(marker, dtype=float)
    n = len(t)
    if n < 3 or e.sum() == 0:
        raise AnalysisError(f"cut-point search needs ≥ 3 patients and ≥ 1 event (have {n}, {int(e.sum())} events)")
    a = logrank_scores(t, e)
    order = np.argsort(x, kind="stable")
    xs, a_sorted = x[order], a[order]
    ux, last = np.unique(xs, return_counts=True)
    m_all = np.cumsum(last)
    lo, hi = max(1, math.floor(n * minprop)), math.floor(n * maxprop)
    ok = (m_all >= lo) & (m_all <= hi)
    if not ok.any():
        raise AnalysisError(
            f"no candidate cut-point: no marker value leaves between {lo} and {hi} of {n} patients at or below it"
        )
    cand, m = ux[ok], m_all[ok]
    stats = _split_stats(a_sorted, m, n)
    if np.all(np.isnan(stats)):
        raise AnalysisError("the log-rank scores have no variance (all times or events identical)")
    best = argmax_as_r(stats)
    big_m = float(stats[best])
    from scipy.stats import norm

    p_naive = float(2 * norm.sf(big_m))
    p_perm = None
    if n_perm:
        rng = np.random.default_rng(seed)
        exceed = 0
        for _ in range(n_perm):
            sp = _split_stats(rng.permutation(a_sorted), m, n)
            exceed += bool(np.nanmax(sp) >= big_m - 1e-12)
        p_perm = (1 + exceed) / (n_perm + 1)
    warnings.warn(
        f"p_naive={p_naive:.3g} treats the selected cut-point as if fixed in advance and is not valid; "
        "use p_lau94, p_lau92 or the permutation p",
        NerasenseWarning,
        stacklevel=2,
    )
    cut = float(cand[best])
    n_low = int(np.sum(x <= cut))
    return CutpointResult(
        cut,
        big_m,
        p_naive,
        p_lau92(big_m, minprop, maxprop),
        p_lau94(big_m, n, m),
        p_perm,
        n_perm or None,
        minprop,
        maxprop,
        n,
        n_low,
        n - n_low,
        len(m),
        [float(c) for c in cand],
        [float(s) for s in stats],
    )


__all__ = ["CutpointResult", "logrank_scores", "maxstat_logrank", "p_lau92", "p_lau94"]
