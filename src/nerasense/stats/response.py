"""Response rates (ORR, DCR, CBR) with binomial confidence intervals, and the exact one-sample test.

Convention: trial papers call the Clopper–Pearson interval "exact"; it is the default here
(``method="exact"``, statsmodels ``proportion_confint(method="beta")``, identical to R
``binom.test(x, n)$conf.int``; Clopper & Pearson, Biometrika 1934;26:404–413). Also offered by name:
``wilson`` (Wilson 1927; R ``prop.test(x, n, correct=FALSE)``), ``jeffreys`` (equal-tailed
Beta(x+½, n−x+½) interval; Brown, Cai & DasGupta, Stat Sci 2001;16:101–133, §4.1.2) and
``agresti-coull`` (Agresti & Coull, Am Stat 1998;52:119–126).

Published intervals are sometimes not reproducible by any standard method (KCSG 10/39 printed as
12.9–41.2 %, Clopper–Pearson 13.0–42.1 %): we report the method used and never adjust to a paper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from nerasense.errors import ProblemCollector

#: our method names → statsmodels ``proportion_confint`` names
CI_METHODS: Mapping[str, str] = {
    "exact": "beta",
    "wilson": "wilson",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
}

#: best-overall-response categories accepted by :func:`summarise_best_responses`
BEST_RESPONSES = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")


@dataclass(frozen=True)
class RateEstimate:
    """A proportion with its confidence interval and the method that produced it."""

    responders: int
    evaluable: int
    rate: float
    ci_low: float
    ci_high: float
    method: str
    level: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_counts(responders: int, evaluable: int, level: float, method: str) -> None:
    bad = ProblemCollector()
    if isinstance(evaluable, bool) or not isinstance(evaluable, int) or evaluable < 1:
        bad.add("evaluable", evaluable, "an integer ≥ 1")
    if isinstance(responders, bool) or not isinstance(responders, int) or responders < 0:
        bad.add("responders", responders, "an integer ≥ 0")
    elif isinstance(evaluable, int) and evaluable >= 1 and responders > evaluable:
        bad.add("responders", responders, f"an integer between 0 and evaluable ({evaluable})")
    if not 0.0 < level < 1.0:
        bad.add("level", level, "a confidence level strictly between 0 and 1, e.g. 0.95")
    if method not in CI_METHODS:
        bad.add("method", method, ", ".join(CI_METHODS))
    bad.raise_if_any()


def response_rate(responders: int, evaluable: int, level: float = 0.95, method: str = "exact") -> RateEstimate:
    """Proportion ``responders / evaluable`` with a two-sided ``level`` confidence interval.

    ``method`` is one of :data:`CI_METHODS` (default ``exact`` = Clopper–Pearson, as R
    ``binom.test``). The interval is equal-tailed, (1−level)/2 in each tail.
    """
    _check_counts(responders, evaluable, level, method)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(responders, evaluable, alpha=1.0 - level, method=CI_METHODS[method])
    low, high = float(low), float(high)
    # Exact bounds at x=0 and x=n are 0 and 1 by definition; for Jeffreys, Brown, Cai & DasGupta
    # (2001, §4.1.2) set them the same way (statsmodels does not).
    if method in ("exact", "jeffreys"):
        low = 0.0 if responders == 0 else low
        high = 1.0 if responders == evaluable else high
    return RateEstimate(responders, evaluable, responders / evaluable, max(0.0, low), min(1.0, high), method, level)


def binomial_test(responders: int, evaluable: int, p0: float, alternative: str = "greater") -> float:
    """Exact binomial test of H0: p = p0 (R ``binom.test(x, n, p0, alternative=)``).

    Default one-sided ``greater`` (the single-arm phase II question "is the rate above p0?").
    ``two-sided`` uses R's rule: sum the probabilities of outcomes no more likely than the observed one
    (relative tolerance 1e-7), as scipy ``binomtest`` does.
    """
    _check_counts(responders, evaluable, 0.95, "exact")
    bad = ProblemCollector()
    if not 0.0 < p0 < 1.0:
        bad.add("p0", p0, "a proportion strictly between 0 and 1")
    allowed = {"greater": "greater", "less": "less", "two-sided": "two-sided"}
    if alternative not in allowed:
        bad.add("alternative", alternative, ", ".join(allowed))
    bad.raise_if_any()
    from scipy.stats import binomtest

    return float(binomtest(responders, evaluable, p0, alternative=alternative).pvalue)


@dataclass(frozen=True)
class ResponseSummary:
    """ORR (CR+PR), DCR (CR+PR+SD, and non-CR/non-PD) and CBR (CR+PR+SD lasting ≥ ``cbr_weeks``)."""

    evaluable: int
    counts: dict[str, int]
    orr: RateEstimate
    dcr: RateEstimate
    cbr: RateEstimate | None
    cbr_weeks: float | None = None  # the SD duration CBR asks for; None when CBR was not computed

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluable": self.evaluable,
            "counts": dict(self.counts),
            "orr": self.orr.as_dict(),
            "dcr": self.dcr.as_dict(),
            "cbr": None if self.cbr is None else self.cbr.as_dict(),
            "cbr_weeks": self.cbr_weeks,
        }


def summarise_best_responses(
    best_responses: Sequence[str],
    sd_weeks: Sequence[float | None] | None = None,
    cbr_weeks: float = 24.0,
    level: float = 0.95,
    method: str = "exact",
) -> ResponseSummary:
    """ORR, DCR and (when SD durations are given) CBR over response-evaluable patients.

    Every patient in ``best_responses`` is in the denominator, NE included (the usual
    "evaluable population"; exclude patients before calling if the protocol says otherwise).
    CBR counts CR, PR and SD (or non-CR/non-PD) lasting at least ``cbr_weeks`` (24 weeks in SUMMIT,
    Hyman et al. Nature 2018;554:189–194, Methods).
    """
    bad = ProblemCollector()
    norm = [str(r).strip().upper() for r in best_responses]
    for i, r in enumerate(norm, start=1):
        if r not in BEST_RESPONSES:
            bad.add("best_response", best_responses[i - 1], ", ".join(BEST_RESPONSES), where=f"patient {i}")
    if not norm:
        bad.add("best_responses", [], "at least one patient")
    if sd_weeks is not None and len(sd_weeks) != len(norm):
        bad.add("sd_weeks", f"{len(sd_weeks)} values", f"one value per patient ({len(norm)})")
    bad.raise_if_any()
    counts = {k: sum(1 for r in norm if r == k) for k in BEST_RESPONSES}
    n = len(norm)
    orr = response_rate(counts["CR"] + counts["PR"], n, level, method)
    dcr = response_rate(counts["CR"] + counts["PR"] + counts["SD"] + counts["NON-CR/NON-PD"], n, level, method)
    cbr = None
    if sd_weeks is not None:
        benefit = sum(
            1
            for r, w in zip(norm, sd_weeks, strict=True)
            if r in ("CR", "PR") or (r in ("SD", "NON-CR/NON-PD") and w is not None and w >= cbr_weeks)
        )
        cbr = response_rate(benefit, n, level, method)
    return ResponseSummary(n, counts, orr, dcr, cbr, None if cbr is None else float(cbr_weeks))


def clopper_pearson(counts: Sequence[int], totals: Sequence[int], level: float = 0.95
                    ) -> tuple[list[float], list[float]]:
    """Exact (Clopper–Pearson) intervals of many proportions ``counts[i] / totals[i]`` at once: the bounds
    :func:`response_rate` gives one by one with ``method="exact"`` (0 at a count of 0, 1 at the total), from
    the beta quantiles B(α/2; k, n−k+1) and B(1−α/2; k+1, n−k) through ``scipy.special.betaincinv``. For
    callers with hundreds of proportions (``nerasense screen``): one vectorised call, and neither statsmodels
    nor scipy.stats is imported. Every total must be positive."""
    import numpy as np
    from scipy.special import betaincinv

    _check_counts(0, 1, level, "exact")
    k, n = np.asarray(counts, dtype=float), np.asarray(totals, dtype=float)
    bad = ProblemCollector()
    if k.shape != n.shape or (n <= 0).any() or (k < 0).any() or (k > n).any():
        bad.add("counts", f"{len(k)} counts over {len(n)} totals", "0 <= count <= total, total > 0, as many of each")
    bad.raise_if_any()
    alpha = 1.0 - level
    low = np.where(k > 0, betaincinv(np.maximum(k, 1), n - k + 1, alpha / 2), 0.0)
    high = np.where(k < n, betaincinv(k + 1, np.maximum(n - k, 1), 1 - alpha / 2), 1.0)
    return [float(x) for x in low], [float(x) for x in high]


__all__ = [
    "BEST_RESPONSES",
    "CI_METHODS",
    "RateEstimate",
    "ResponseSummary",
    "binomial_test",
    "clopper_pearson",
    "response_rate",
    "summarise_best_responses",
]
