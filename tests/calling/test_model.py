"""The caller's statistics against outside references (scipy, R) and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nerasense.calling import model
from nerasense.calling.reference import normalise

BINOMIAL = model.BINOMIAL_CONCENTRATION


@pytest.mark.parametrize(("n", "a", "b"), [(50, 0.5, 200.0), (400, 2.0, 4000.0), (1500, 0.3, 900.0), (30, 1.0, 1.0)])
def test_betabinomial_tail_equals_scipy(n: int, a: float, b: float) -> None:
    ours = model.betabinom_tail(n, a, b)
    ks = np.arange(n + 1)
    ref = stats.betabinom.sf(ks - 1, n, a, b)
    moderate = ref > 1e-6  # scipy's sf is 1 - cdf: it loses relative precision in the far tail
    np.testing.assert_allclose(ours[moderate], ref[moderate], rtol=1e-7, atol=1e-11)
    # the far tail against scipy's own pmf, summed from the end
    far = ~moderate
    if far.any():
        pmf = stats.betabinom.pmf(ks, n, a, b)
        tail = np.cumsum(pmf[::-1])[::-1]
        np.testing.assert_allclose(ours[far], tail[far], rtol=1e-6)


def test_min_alt_reads_and_lod_match_r() -> None:
    """R 4.2:
    n<-1500; e<-1e-4; thr<-0.05/139; k<-qbinom(1-thr, n, e)+1            # 4
    uniroot(function(f) pbinom(k-1, n, f+(1-f)*e, lower.tail=FALSE)-0.95, c(0,1), tol=1e-12)$root   # 0.0050614249
    """
    e = 1e-4
    k = model.min_alt_reads(1500, e * BINOMIAL, (1 - e) * BINOMIAL, 0.05 / 139, 3)
    assert k == 4
    assert model.limit_of_detection(1500, k, e, 0.95) == pytest.approx(0.0050614249, abs=2e-8)


def test_lod_second_case_matches_r() -> None:
    """R: uniroot(function(f) pbinom(4, 400, f+(1-f)*1e-3, lower.tail=FALSE)-0.95, c(0,1), tol=1e-12)$root  # 0.0217584520"""
    assert model.limit_of_detection(400, 5, 1e-3, 0.95) == pytest.approx(0.0217584520, abs=2e-8)


def test_lod_unreachable_and_monotone() -> None:
    assert model.limit_of_detection(2, 3, 1e-4, 0.95) is None
    assert model.limit_of_detection(100, None, 1e-4, 0.95) is None
    lods = [model.limit_of_detection(n, 4, 1e-4, 0.95) for n in (200, 500, 1000, 5000)]
    assert all(x is not None for x in lods)
    assert lods == sorted(lods, reverse=True)  # more depth, lower LOD


def test_exact_interval_matches_r_binom_test() -> None:
    """R: binom.test(71, 1509)$conf.int  # 0.0369271694 0.0589808383"""
    lo, hi = model.exact_interval(71, 1509, 0.95)
    assert lo == pytest.approx(0.0369271694, abs=1e-9)
    assert hi == pytest.approx(0.0589808383, abs=1e-9)
    assert model.exact_interval(0, 10, 0.95)[0] == 0.0
    assert model.exact_interval(5, 0, 0.95) == (None, None)


def test_fit_recovers_simulated_background() -> None:
    rng = np.random.default_rng(7)
    a, b = 2.0, 2.0 / 5e-4  # mean 5e-4, dispersion about 5e-4
    n = rng.integers(500, 3000, size=4000)
    k = rng.binomial(n, rng.beta(a, b, size=n.size))
    fit = model.fit_beta_binomial(k, n, "A>G", floor=1e-5)
    assert fit.mean == pytest.approx(5e-4, rel=0.05)
    assert fit.dispersion == pytest.approx(1 / (a + b + 1), rel=0.5)


def test_fit_without_errors_is_a_binomial_at_the_floor() -> None:
    fit = model.fit_beta_binomial(np.zeros(100, dtype=int), np.full(100, 1000), "C>A", floor=1e-5)
    assert fit.mean == pytest.approx(1e-5)
    assert fit.dispersion < 1e-8


# (sequence, pos, ref, alt) -> left-aligned; each row checked by hand: the inserted/deleted text slides left
# while the base before it equals the last base of the event
NORMALISE_CASES = [
    ("TGCAGCA", 4, "A", "AGCA", (1, "T", "TGCA")),   # GCA repeat: insertion slides to the start
    ("CAGAG", 3, "GAG", "G", (1, "CAG", "C")),      # AG repeat deletion slides to the first copy
    ("ACGT", 2, "C", "CT", (2, "C", "CT")),         # nothing to slide
    ("AAAA", 3, "A", "AA", (1, "A", "AA")),         # homopolymer insertion to the first base
    ("ACGT", 2, "C", "G", (2, "C", "G")),           # SNV untouched
]


@pytest.mark.parametrize(("seq", "pos", "ref", "alt", "expected"), NORMALISE_CASES)
def test_left_alignment(seq: str, pos: int, ref: str, alt: str, expected: tuple[int, str, str]) -> None:
    assert normalise(seq, pos, ref, alt) == expected
    p, r, a = expected
    # the normalised event spells the same haplotype
    def apply(s: str, p: int, r: str, a: str) -> str:
        return s[: p - 1] + a + s[p - 1 + len(r):]
    assert apply(seq, p, r, a) == apply(seq, pos, ref, alt)
