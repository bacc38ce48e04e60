"""Write a digitiser-style export of a real KM curve for `nerasense reconstruct` to rebuild.

The curve is the hormone-therapy arm of GBSG2 (German Breast Cancer Study Group 2; the copy lifelines ships,
identical to R TH.data::GBSG2), drawn as a Kaplan–Meier curve and read the way a digitiser reads a figure:
one point at the foot of every step plus a point every 25 days, each read with a small error (±2 days,
±0.002 in survival), written as "time,survival" with no header, in the order clicked (not sorted). The
at-risk table is the one a paper would print under the plot (every 365 days).
Run: .venv/bin/python examples/reconstruct/make_gbsg2_curve.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nerasense.stats.survival import kaplan_meier, numbers_at_risk

HERE = Path(__file__).resolve().parent


def main() -> None:
    import lifelines.datasets

    g = lifelines.datasets.load_gbsg2()
    arm = g[g["horTh"] == "yes"]
    t, e = arm["time"].to_numpy(float), arm["cens"].to_numpy(int)
    km = kaplan_meier(t, e)
    steps = km.n_event > 0
    grid = np.arange(0, km.time[-1], 25.0)
    idx = np.searchsorted(km.time, grid, side="right") - 1
    pts_t = np.r_[km.time[steps], grid]
    pts_s = np.r_[km.surv[steps], np.where(idx < 0, 1.0, km.surv[np.maximum(idx, 0)])]
    rng = np.random.default_rng(2012)
    order = rng.permutation(len(pts_t))
    read_t = np.clip(pts_t[order] + rng.uniform(-2, 2, len(order)), 0, None).round(1)
    read_s = np.clip(pts_s[order] + rng.uniform(-0.002, 0.002, len(order)), 0, 1).round(4)
    pd.DataFrame({"t": read_t, "s": read_s}).to_csv(HERE / "gbsg2_hormone_curve.csv", header=False, index=False)
    risk_t = np.arange(0, 2556, 365)
    pd.DataFrame({"time": risk_t, "n_risk": numbers_at_risk(t, risk_t)}).to_csv(HERE / "gbsg2_hormone_at_risk.csv",
                                                                               index=False)
    print(f"wrote {len(read_t)} points and {len(risk_t)} at-risk counts; original: {len(t)} patients, {int(e.sum())} events")


if __name__ == "__main__":
    main()
