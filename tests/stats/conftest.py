"""Shared helpers for the statistics tests: R golden files and the lifelines-shipped datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).parents[1] / "reference"
SHARED_DATA = Path(__file__).parents[2] / ".." / "shared" / "data"


def golden(name: str) -> Any:
    """Values printed by ``tests/reference/<name>.R`` (committed; R is never needed at test time)."""
    return json.loads((REFERENCE / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def datasets() -> dict[str, Any]:
    import lifelines.datasets as d

    return {"gbsg2": d.load_gbsg2(), "rossi": d.load_rossi(), "lung": d.load_lung()}


def glmm_deviance_by_quadrature(mu: float, tau2: float, events: Any, n: Any) -> float:
    """−2 log-likelihood of the binomial-normal model logit(p_i) = μ + b_i, b_i ~ N(0, τ²), each study's integral
    taken by scipy's adaptive quadrature (QUADPACK) — an outside check on a GLMM optimum that does not use our
    Gauss–Hermite code. Binomial coefficients included."""
    import numpy as np
    from scipy.integrate import quad
    from scipy.special import expit, gammaln
    from scipy.stats import norm

    total = 0.0
    tau = float(np.sqrt(tau2))
    for x, m in zip(np.asarray(events, float), np.asarray(n, float), strict=True):
        log_c = gammaln(m + 1) - gammaln(x + 1) - gammaln(m - x + 1)
        if tau < 1e-8:
            total += log_c + x * np.log(expit(mu)) + (m - x) * np.log(expit(-mu))
            continue

        def f(b: float, x: float = x, m: float = m, log_c: float = log_c) -> float:
            return float(np.exp(log_c + x * np.log(expit(mu + b)) + (m - x) * np.log(expit(-(mu + b))))
                         * norm.pdf(b, 0.0, tau))

        value, _ = quad(f, -12 * tau, 12 * tau, limit=500, points=[0.0], epsabs=0.0, epsrel=1e-12)
        total += float(np.log(value))
    return -2.0 * total
