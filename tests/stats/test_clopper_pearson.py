"""clopper_pearson (many exact intervals at once) against scipy's beta quantiles and response_rate."""

from __future__ import annotations

import pytest
from scipy.stats import beta

from nerasense.errors import InputError
from nerasense.stats.response import clopper_pearson, response_rate

# (count, total): both ends, small and large totals (the screen's per-tumour-type denominators reach 10^5)
CASES = [(0, 1), (1, 1), (0, 57), (1, 57), (19, 57), (56, 57), (57, 57), (152, 7357), (0, 7357), (7357, 7357),
         (3, 123456)]


def test_equals_beta_quantiles_and_response_rate() -> None:
    low, high = clopper_pearson([k for k, _ in CASES], [n for _, n in CASES])
    for (k, n), lo, hi in zip(CASES, low, high, strict=True):
        ref_lo = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
        ref_hi = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
        assert lo == pytest.approx(ref_lo, rel=1e-9, abs=1e-12)
        assert hi == pytest.approx(ref_hi, rel=1e-9, abs=1e-12)
        one = response_rate(k, n)
        assert (lo, hi) == pytest.approx((one.ci_low, one.ci_high), rel=1e-9, abs=1e-12)


def test_refuses_counts_over_totals() -> None:
    with pytest.raises(InputError):
        clopper_pearson([3], [2])
    with pytest.raises(InputError):
        clopper_pearson([0], [0])
