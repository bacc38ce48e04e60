"""Round trips of the Guyot reconstruction on real patient-level data (issue 20, validation (b) and (c)).

For each of the 304 two-arm datasets in ../shared/data/kmdata (and GBSG2 from lifelines): draw each arm's KM
curve, sample it as a digitiser would (every step's foot, plus a point every 1/100 of follow-up, both read
with a small error: time ±0.2 % of follow-up, survival ±0.002), keep the numbers at risk at the kind of interval
a paper prints (a round step giving 6–10 intervals), rebuild each arm, and compare the Cox hazard ratio, the
medians and the survival at three landmarks with those of the original patients. Prints the distribution
of the errors (like Guyot 2012, Table 2) and the ExteNET figure 2A check against the published HR.
Not run in CI (about a minute). Run: .venv/bin/python tools/reconstruct_roundtrip.py [--limit N]
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from nerasense.stats.cox import cox_fit
from nerasense.stats.reconstruct import guyot
from nerasense.stats.survival import kaplan_meier, numbers_at_risk

KMDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kmdata"
NICE = np.array([1, 2, 2.5, 3, 5, 6, 10, 12])


def nice_step(span: float) -> float:
    raw = span / 8
    mag = 10 ** math.floor(math.log10(raw))
    cand = NICE * mag
    return float(cand[np.argmin(np.abs(cand - raw))])


def digitise(time: np.ndarray, event: np.ndarray, rng: np.random.Generator, end: float) -> tuple[np.ndarray, np.ndarray]:
    km = kaplan_meier(time, event)
    drops = km.n_event > 0
    t_pts, s_pts = km.time[drops], km.surv[drops]
    grid = np.linspace(0, end, 101)
    idx = np.searchsorted(km.time, grid, side="right") - 1
    s_grid = np.where(idx < 0, 1.0, km.surv[np.maximum(idx, 0)])
    t = np.r_[t_pts, grid]
    s = np.r_[s_pts, s_grid]
    t = np.clip(t + rng.uniform(-0.002, 0.002, len(t)) * end, 0, None)
    s = np.clip(s + rng.uniform(-0.002, 0.002, len(s)), 0, 1)
    return t, s


def landmark(time: np.ndarray, event: np.ndarray, at: float) -> float:
    km = kaplan_meier(time, event)
    i = int(np.searchsorted(km.time, at, side="right")) - 1
    return 1.0 if i < 0 else float(km.surv[i])


def hr(arms: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    x = np.r_[np.zeros(len(arms[0][0])), np.ones(len(arms[1][0]))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = cox_fit(x, np.r_[arms[0][0], arms[1][0]], np.r_[arms[0][1], arms[1][1]])
    return float(np.exp(f.coef[0])), float(f.se[0])


def one_trial(name: str, df: pd.DataFrame, rng: np.random.Generator) -> dict[str, float] | None:
    levels = sorted(df["arm"].unique())
    end = float(df["time"].max())
    step = nice_step(end)
    risk_t = np.arange(0, end + 1e-9, step)
    orig, rebuilt = [], []
    out: dict[str, float] = {"dataset": name}  # type: ignore[dict-item]
    for j, lv in enumerate(levels):
        sub = df[df["arm"] == lv]
        t, e = sub["time"].to_numpy(float), sub["event"].to_numpy(int)
        dt, ds = digitise(t, e, rng, end)
        nr = numbers_at_risk(t, risk_t)
        rec = guyot(dt, ds, risk_t, nr)
        orig.append((t, e))
        rebuilt.append((rec.time, rec.event.astype(float)))
        out[f"rmse_{j}"] = rec.rmse
        m0, m1 = kaplan_meier(t, e).median, kaplan_meier(rec.time, rec.event).median
        out[f"median_rel_{j}"] = abs(m1 / m0 - 1) if (m0 and m1) else float("nan")
        for q in (0.25, 0.5, 0.75):
            out[f"s_{q}_{j}"] = abs(landmark(rec.time, rec.event, q * end) - landmark(t, e, q * end))
    h0, se0 = hr(orig)
    h1, se1 = hr(rebuilt)
    out["hr_orig"], out["hr_rebuilt"], out["hr_abs"] = h0, h1, abs(h1 - h0)
    out["se_orig"], out["se_rebuilt"] = se0, se1
    out["loghr_abs"] = abs(math.log(h1) - math.log(h0))
    out["loghr_in_se"] = abs(math.log(h1) - math.log(h0)) / se0
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    if not (KMDATA / "ipd.parquet").is_file():
        print(f"{KMDATA} absent: nothing to do")
        return 0
    ipd = pd.read_parquet(KMDATA / "ipd.parquet")
    key = pd.read_csv(KMDATA / "key.tsv", sep="\t")
    rng = np.random.default_rng(20)
    rows = []
    names = sorted(ipd["dataset"].unique())[: args.limit]
    for name in names:
        rows.append(one_trial(name, ipd[ipd["dataset"] == name], rng))
    import lifelines.datasets

    g = lifelines.datasets.load_gbsg2()
    rows.append(one_trial("GBSG2", pd.DataFrame({"time": g["time"], "event": g["cens"], "arm": g["horTh"]}), rng))
    res = pd.DataFrame([r for r in rows if r is not None])
    s_err = pd.concat([res[c] for c in res.columns if c.startswith("s_")]).dropna()
    med = pd.concat([res[c] for c in res.columns if c.startswith("median_rel")]).dropna()
    rmse = pd.concat([res[c] for c in res.columns if c.startswith("rmse")]).dropna()
    table = {
        "survival at 25/50/75 % of follow-up, absolute difference": s_err,
        "median, absolute relative difference": med,
        "hazard ratio, absolute difference": res["hr_abs"],
        "log hazard ratio, absolute difference / its SE": res["loghr_in_se"],
        "rebuilt vs digitised curve, RMSE": rmse,
    }
    print(f"{len(res)} trials ({len(names)} kmdata + GBSG2), {len(s_err)} landmark comparisons, {len(med)} medians")
    print("| quantity | n | median | 90th percentile | max |\n|---|---|---|---|---|")
    for label, v in table.items():
        print(f"| {label} | {len(v)} | {v.median():.4f} | {v.quantile(0.9):.4f} | {v.max():.4f} |")
    ext = ipd[ipd["dataset"] == "ExteNET_2A"]
    if len(ext):
        r = one_trial("ExteNET_2A", ext, np.random.default_rng(67))
        assert r is not None
        # neratinib vs placebo: arms sorted (neratinib, placebo) → HR of placebo vs neratinib; invert
        lv = sorted(ext["arm"].unique())
        def ci(h: float, se: float) -> str:
            return f"{1 / h:.3f} ({math.exp(-math.log(h) - 1.96 * se):.3f}–{math.exp(-math.log(h) + 1.96 * se):.3f})"

        print(f"ExteNET figure 2A ({lv[0]} vs {lv[1]}): kmdata patients HR {ci(r['hr_orig'], r['se_orig'])}, "
              f"rebuilt HR {ci(r['hr_rebuilt'], r['se_rebuilt'])}; published 0.67 (0.50–0.91)")
        pub = key.loc[key["name"] == "ExteNET_2A", "HazardRatio"]
        print(f"  key.tsv published HR: {pub.iloc[0] if len(pub) else 'n/a'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
