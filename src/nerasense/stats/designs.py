"""Sample sizes for single-arm phase II trials with a binary endpoint (response).

* :func:`single_arm_normal` — the normal-approximation formula used by most protocols
  (Fleiss, Levin & Paik, *Statistical Methods for Rates and Proportions*, 3rd ed. 2003, eq. 2.5;
  A'Hern, Stat Med 2001;20:859–866, eq. 1):
  ``n = [z(1−α/s)·√(p0(1−p0)) + z(1−β)·√(p1(1−p1))]² / (p1−p0)²`` with s = number of sides, then
  ``n/(1−dropout)``, each rounded up. Seed 001 (p0 0.21, p1 0.43, power 0.80, two-sided α 0.05):
  31 evaluable, 35 enrolled.
* :func:`single_arm_exact` — the exact binomial single-stage design (A'Hern 2001; R
  ``clinfun::ph2single``): the smallest n with a boundary r such that P(X ≥ r | p0) ≤ α and
  P(X ≥ r | p1) ≥ power. Reports actual α and power (the "sawtooth" makes them differ from nominal).
* :func:`simon_two_stage` — Simon's optimal and minimax two-stage designs (Simon, Control Clin Trials
  1989;10:1–10): stop for futility if ≤ r1 responses among n1; the drug is promising if > r responses
  among n. Optimal minimises EN(p0); minimax minimises n, then EN(p0) (as ``clinfun::ph2simon``).
  Written here because no maintained Python package offers it (statistics.md §5); vectorised
  exhaustive search over (n, n1, r1, r).

α is one-sided for the exact and Simon designs (the convention of A'Hern and Simon); the normal
formula takes ``sides`` (1 or 2) because protocols state either.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nerasense.errors import AnalysisError, ProblemCollector


def _check(p0: float, p1: float, alpha: float, power: float, dropout: float = 0.0, sides: int = 1) -> None:
    bad = ProblemCollector()
    for name, v in (("p0", p0), ("p1", p1)):
        if not 0.0 < v < 1.0:
            bad.add(name, v, "a response probability strictly between 0 and 1")
    if 0.0 < p0 < 1.0 and 0.0 < p1 < 1.0 and p1 <= p0:
        bad.add("p1", p1, f"a response rate above p0 ({p0})", "p1 is the rate worth pursuing, p0 the uninteresting one")
    if not 0.0 < alpha < 0.5:
        bad.add("alpha", alpha, "a type I error strictly between 0 and 0.5, e.g. 0.05")
    if not 0.5 < power < 1.0:
        bad.add("power", power, "a power strictly between 0.5 and 1, e.g. 0.8")
    if not 0.0 <= dropout < 1.0:
        bad.add("dropout", dropout, "a fraction in [0, 1), e.g. 0.1 for 10%")
    if sides not in (1, 2):
        bad.add("sides", sides, "1 or 2")
    bad.raise_if_any()


@dataclass(frozen=True)
class SingleArmDesign:
    """A single-stage design. ``min_responses``: declare the drug promising if responses ≥ this."""

    method: str
    p0: float
    p1: float
    alpha: float
    power: float
    sides: int
    n_evaluable: int
    n_enrolled: int
    dropout: float
    min_responses: int | None
    actual_alpha: float | None
    actual_power: float | None
    n_unrounded: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _enrolled(n: int, dropout: float) -> int:
    # round up, guarding against 31/0.9 style float noise (e.g. 30/0.75 = 40.000000000000004)
    return math.ceil(round(n / (1.0 - dropout), 9))


def _exact_oc(n: int, p0: float, p1: float, alpha: float) -> tuple[int, float, float]:
    """Smallest r with P(X ≥ r | n, p0) ≤ alpha, and the actual α and power of "reject if X ≥ r"."""
    from scipy.stats import binom

    r = np.arange(0, n + 2)
    size = binom.sf(r - 1, n, p0)
    ok = np.nonzero(size <= alpha)[0]
    rr = int(r[ok[0]])
    return rr, float(binom.sf(rr - 1, n, p0)), float(binom.sf(rr - 1, n, p1))


def single_arm_normal(
    p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, sides: int = 2, dropout: float = 0.0
) -> SingleArmDesign:
    """Normal-approximation single-arm sample size (Fleiss et al. 2003 eq. 2.5; A'Hern 2001 eq. 1).

    ``sides=2`` uses z(1−α/2) (seed 001's convention); ``sides=1`` uses z(1−α). The returned
    ``min_responses``, ``actual_alpha`` and ``actual_power`` are the *exact binomial* operating
    characteristics of that n with the boundary chosen at level α/sides, so the reader sees what the
    approximation really delivers.
    """
    _check(p0, p1, alpha, power, dropout, sides)
    from scipy.stats import norm

    za, zb = norm.ppf(1.0 - alpha / sides), norm.ppf(power)
    raw = float((za * math.sqrt(p0 * (1 - p0)) + zb * math.sqrt(p1 * (1 - p1))) ** 2 / (p1 - p0) ** 2)
    n = math.ceil(round(raw, 9))
    r, a, pw = _exact_oc(n, p0, p1, alpha / sides)
    return SingleArmDesign("normal", p0, p1, alpha, power, sides, n, _enrolled(n, dropout), dropout, r, a, pw, raw)


def single_arm_exact(
    p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, sides: int = 1, dropout: float = 0.0, nmax: int = 1000
) -> SingleArmDesign:
    """Exact binomial single-stage design (A'Hern 2001; as ``clinfun::ph2single``, first solution).

    Smallest n for which some r gives P(X ≥ r | p0) ≤ α/sides and P(X ≥ r | p1) ≥ power; r is the
    smallest such boundary. Note the sawtooth: a larger n is not always feasible when a smaller one is.
    """
    _check(p0, p1, alpha, power, dropout, sides)
    for n in range(1, nmax + 1):
        r, a, pw = _exact_oc(n, p0, p1, alpha / sides)
        if r <= n and pw >= power:
            return SingleArmDesign("exact", p0, p1, alpha, power, sides, n, _enrolled(n, dropout), dropout, r, a, pw)
    raise AnalysisError(f"no exact single-stage design with n ≤ nmax={nmax}; raise nmax or relax alpha/power")


@dataclass(frozen=True)
class SimonDesign:
    """Stop after stage 1 if responses ≤ r1 of n1; promising if responses > r of n."""

    r1: int
    n1: int
    r: int
    n: int
    en0: float
    pet0: float
    actual_alpha: float
    actual_power: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SimonResult:
    p0: float
    p1: float
    alpha: float
    power: float
    optimal: SimonDesign
    minimax: SimonDesign

    def as_dict(self) -> dict[str, Any]:
        return {
            "p0": self.p0,
            "p1": self.p1,
            "alpha": self.alpha,
            "power": self.power,
            "optimal": self.optimal.as_dict(),
            "minimax": self.minimax.as_dict(),
        }


class _BinomTables:
    """pmf and upper tails of Bin(m, p) for every m ≤ nmax, computed once per search."""

    def __init__(self, nmax: int, p: float) -> None:
        from scipy.stats import binom

        self.pmf: list[np.ndarray] = []
        self.sf_ext: list[np.ndarray] = []  # sf_ext[m][k + 1] = P(X > k), k = −1 … m
        for m in range(nmax + 1):
            x = np.arange(m + 1)
            self.pmf.append(binom.pmf(x, m, p))
            self.sf_ext.append(np.concatenate(([1.0], binom.sf(x, m, p))))

    def reject(self, n1: int, n: int) -> np.ndarray:
        """R[r1, r] = P(X1 > r1 and X1 + X2 > r), X1 ~ Bin(n1, p), X2 ~ Bin(n − n1, p)."""
        n2 = n - n1
        x1 = np.arange(n1 + 1)
        r = np.arange(n + 1)
        idx = np.clip(r[None, :] - x1[:, None] + 1, 0, n2 + 1)
        joint = self.pmf[n1][:, None] * self.sf_ext[n2][idx]  # [x1, r]
        rev = np.cumsum(joint[::-1], axis=0)[::-1]  # rev[k] = Σ_{x1 ≥ k}
        return rev[1:, :]  # rows r1 = 0 … n1 − 1


def simon_two_stage(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, nmax: int = 100) -> SimonResult:
    """Simon (1989) optimal and minimax two-stage designs by exhaustive search up to ``nmax``.

    Constraints: P(declare promising | p0) ≤ α (one-sided) and P(declare promising | p1) ≥ power.
    EN0 = n1 + (1 − PET0)(n − n1), PET0 = P(X1 ≤ r1 | p0) (Simon 1989, §2). Search: every n ≤ nmax,
    1 ≤ n1 < n, 0 ≤ r1 < n1, r1 ≤ r < n. Ties in EN0 keep the design found first (smaller n, then
    smaller n1).
    """
    _check(p0, p1, alpha, power)
    bad = ProblemCollector()
    if isinstance(nmax, bool) or not isinstance(nmax, int) or not 2 <= nmax <= 500:
        bad.add("nmax", nmax, "an integer between 2 and 500")
    bad.raise_if_any()
    t0, t1 = _BinomTables(nmax, p0), _BinomTables(nmax, p1)
    best_opt: SimonDesign | None = None
    best_mm: SimonDesign | None = None
    for n in range(2, nmax + 1):
        for n1 in range(1, n):
            a = t0.reject(n1, n)
            b = t1.reject(n1, n)
            ok = (a <= alpha) & (b >= power)
            ok[:, n] = False
            r1_idx, r_idx = np.nonzero(ok)
            keep = r_idx >= r1_idx
            if not keep.any():
                continue
            r1_idx, r_idx = r1_idx[keep], r_idx[keep]
            pet = np.cumsum(t0.pmf[n1])[r1_idx]
            en = n1 + (1.0 - pet) * (n - n1)
            i = int(np.argmin(en))  # the smallest EN0 among feasible (r1, r) for this (n, n1)
            d = SimonDesign(
                int(r1_idx[i]),
                n1,
                int(r_idx[i]),
                n,
                float(en[i]),
                float(pet[i]),
                float(a[r1_idx[i], r_idx[i]]),
                float(b[r1_idx[i], r_idx[i]]),
            )
            if best_opt is None or d.en0 < best_opt.en0 - 1e-12:
                best_opt = d
            if best_mm is None or n < best_mm.n or (n == best_mm.n and d.en0 < best_mm.en0 - 1e-12):
                best_mm = d
    if best_opt is None or best_mm is None:
        raise AnalysisError(f"no Simon two-stage design with n ≤ nmax={nmax}; raise nmax or relax alpha/power")
    return SimonResult(p0, p1, alpha, power, best_opt, best_mm)


__all__ = [
    "SimonDesign",
    "SimonResult",
    "SingleArmDesign",
    "simon_two_stage",
    "single_arm_exact",
    "single_arm_normal",
]
