"""Synthetic feature × response tables with a planted signal (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def planted(n: int = 160, p: int = 12, effect: float = 2.0, kind: str = "continuous", seed: int = 1) -> pd.DataFrame:
    """Binary features f0..f{p-1} (carrier rate 0.3); f0 shifts the response by ``effect`` (lower response)."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, p)) < 0.3).astype(int)
    df = pd.DataFrame(x, columns=[f"f{i}" for i in range(p)])
    lp = -effect * x[:, 0]
    if kind == "continuous":
        df["y"] = 10 + lp + rng.normal(0, 1, n)
    elif kind == "binary":
        df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(0.5 - lp)))).astype(int)  # f0 carriers respond more
    else:
        t = rng.exponential(1 / np.exp(-lp))  # f0 carriers: higher hazard ratio exp(effect)
        c = rng.exponential(2.0, n)
        df["time"] = np.minimum(t, c)
        df["event"] = (t <= c).astype(int)
    return df


@pytest.fixture
def continuous_table() -> pd.DataFrame:
    return planted()
