"""The error model and the test behind every call, and the limit of detection.

Background errors are modelled per substitution class (ref base > alt base, 12 classes; insertions and
deletions as two more) as **beta-binomial**: at a site of depth n the error reads of one allele are
Binomial(n, e) with e drawn from Beta(a, b) across sites. a and b are fitted by maximum likelihood over
the target sites of the sample itself, leaving out shallow sites and alleles above ``error-fit-max-vaf``
(true variants). With a normal, a site's own rate is updated with the normal's reads at that site
(Beta(a + k_normal, b + n_normal - k_normal)) wherever that raises it — a per-position error model.

An allele with k reads at depth n is called when the one-sided beta-binomial p = P(X >= k) is below the
family level divided over the alleles tested (Bonferroni) and k is at least ``min-alt-reads``.

The limit of detection at depth n is the smallest allele fraction f for which the call would be made
with probability ``lod-detection-probability``: with k_min the fewest reads that make a call at n, f
solves P(Binomial(n, f + (1 - f) e) >= k_min) = 0.95, e the class's mean error rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class ErrorClass:
    """Fitted background of one class: Beta(a, b) over sites, and what it was fitted on."""

    name: str
    a: float
    b: float
    sites: int
    error_reads: int

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def dispersion(self) -> float:
        """rho = 1 / (a + b + 1): 0 is binomial; larger means sites differ more."""
        return 1.0 / (self.a + self.b + 1.0)

    def as_dict(self) -> dict[str, float | int | str]:
        return {"class": self.name, "mean_rate": self.mean, "dispersion": self.dispersion, "a": self.a, "b": self.b,
                "sites": self.sites, "error_reads": self.error_reads}


BINOMIAL_CONCENTRATION = 1e9  # a + b of a Beta this concentrated makes the beta-binomial a binomial


def fit_beta_binomial(k: np.ndarray, n: np.ndarray, name: str, floor: float, min_error_reads: int = 10) -> ErrorClass:
    """Maximum-likelihood Beta(a, b) of a beta-binomial over sites with counts k of depths n.

    The mean is kept at or above ``floor``; identical (k, n) pairs are pooled with weights. With fewer than
    ``min_error_reads`` error reads in all the sites the dispersion cannot be estimated, and the class is a
    binomial at the pooled rate (never below ``floor``).
    """
    from scipy import optimize, special

    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    keep = n > 0
    k, n = k[keep], n[keep]
    total_k, total_n = int(k.sum()), int(n.sum())
    if total_n == 0:
        return ErrorClass(name, floor * BINOMIAL_CONCENTRATION, (1 - floor) * BINOMIAL_CONCENTRATION, 0, 0)
    if total_k < min_error_reads:  # too few errors to see dispersion: binomial at the pooled rate
        rate = max(total_k / total_n, floor)
        return ErrorClass(name, rate * BINOMIAL_CONCENTRATION, (1 - rate) * BINOMIAL_CONCENTRATION, len(k), total_k)
    pairs, weights = np.unique(np.stack([k, n]), axis=1, return_counts=True)
    kk, nn = pairs[0].astype(float), pairs[1].astype(float)
    pooled = max(total_k / total_n, floor)

    def nll(theta: np.ndarray) -> float:
        mu = special.expit(theta[0])
        s = np.exp(theta[1])
        a, b = mu * s, (1 - mu) * s
        ll = (special.gammaln(kk + a) + special.gammaln(nn - kk + b) - special.gammaln(nn + a + b)
              - special.gammaln(a) - special.gammaln(b) + special.gammaln(a + b))
        return float(-(weights * ll).sum())

    start = np.array([special.logit(pooled), np.log(1e4)])
    res = optimize.minimize(nll, start, method="L-BFGS-B",
                            bounds=[(special.logit(1e-9), special.logit(0.5)), (0.0, np.log(BINOMIAL_CONCENTRATION))])
    mu = float(special.expit(res.x[0]))
    s = float(min(np.exp(res.x[1]), BINOMIAL_CONCENTRATION))
    if mu < floor:  # too few error reads to estimate below the floor: keep the floor, same concentration
        mu = floor
    return ErrorClass(name, mu * s, (1 - mu) * s, len(k), total_k)


def betabinom_tail(n: int, a: float, b: float) -> np.ndarray:
    """P(X >= k) for k = 0..n, X ~ BetaBinomial(n, a, b); summed from the far tail up, so small p stay exact.

    scipy's ``betabinom.sf`` gives the same numbers (the tests hold them equal) but sums the pmf term by
    term in Python for every call, 100x slower at the depths of a panel.
    """
    from scipy import special

    k = np.arange(n + 1, dtype=float)
    log_pmf = (special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
               + special.betaln(k + a, n - k + b) - special.betaln(a, b))
    tail = np.cumsum(np.exp(log_pmf)[::-1])[::-1]
    return np.minimum(tail, 1.0)


def p_value(k: int, n: int, a: float, b: float) -> float:
    """One-sided P(X >= k) for X ~ BetaBinomial(n, a, b)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return float(betabinom_tail(n, a, b)[k])


@lru_cache(maxsize=65536)
def min_alt_reads(n: int, a: float, b: float, threshold: float, floor: int) -> int | None:
    """Fewest alt reads at depth n that give p < threshold (and at least ``floor``); None if n cannot."""
    if n < floor:
        return None
    tail = betabinom_tail(n, a, b)
    hit = np.nonzero(tail[floor:] < threshold)[0]
    return int(floor + hit[0]) if hit.size else None


def detection_probability(f: float, n: int, k_min: int, error: float) -> float:
    """P(Binomial(n, f + (1 - f) * error) >= k_min): the chance of a call at true fraction f."""
    from scipy import stats

    return float(stats.binom.sf(k_min - 1, n, f + (1 - f) * error))


def limit_of_detection(n: int, k_min: int | None, error: float, probability: float) -> float | None:
    """Smallest f with ``detection_probability(f) >= probability``; None when even f = 1 falls short."""
    from scipy import optimize

    if k_min is None or n <= 0 or detection_probability(1.0, n, k_min, error) < probability:
        return None
    if detection_probability(0.0, n, k_min, error) >= probability:
        return 0.0
    return float(optimize.brentq(lambda f: detection_probability(f, n, k_min, error) - probability, 0.0, 1.0,
                                 xtol=1e-10, rtol=1e-10))


def exact_interval(k: int, n: int, level: float) -> tuple[float | None, float | None]:
    """Clopper-Pearson two-sided interval for k of n (as R ``binom.test``)."""
    from scipy import stats

    if n <= 0:
        return None, None
    alpha = 1 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def fisher_strand(alt_f: int, alt_r: int, other_f: int, other_r: int) -> float:
    """Two-sided Fisher exact p of alt vs other reads by strand."""
    from scipy import stats

    return float(stats.fisher_exact([[alt_f, alt_r], [other_f, other_r]]).pvalue)


def binomial_excess(k: int, n: int, p: float) -> float:
    """One-sided P(X >= k), X ~ Binomial(n, p)."""
    from scipy import stats

    if k <= 0:
        return 1.0
    return float(stats.binom.sf(k - 1, n, p))


__all__ = [
    "ErrorClass",
    "betabinom_tail",
    "binomial_excess",
    "detection_probability",
    "exact_interval",
    "fisher_strand",
    "fit_beta_binomial",
    "limit_of_detection",
    "min_alt_reads",
    "p_value",
]
