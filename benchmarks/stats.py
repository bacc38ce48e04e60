"""Timings of the statistics layer beside R 4.2 on the same CSV files, in the same run (never asserted in tests).

Each task is timed in Python (``time.perf_counter``) and in one Rscript process (``system.time(...)["elapsed"]``),
best of ``REPEAT``; reading the CSV is outside the clock on both sides. Tasks: KM (+ median CI) and log-rank on
1,000,000 rows; Cox with 3 covariates (Efron) on 1,000,000 rows; one two-arm Cox fit on each of the 304
reconstructed trials of ``../shared/data/kmdata`` (about 860 rows each; skipped without that folder); the
maxstat cut-point search on 100,000 rows; reconstruction of a 3,000-patient curve and a random-effects
meta-analysis of 300 studies (when those modules exist). R is skipped with a note when Rscript is absent.
Run: .venv/bin/python benchmarks/stats.py   (or `make bench`)

Cox on both sides includes what a user gets: ours is :func:`nerasense.stats.survival.cox` on the frame
(fit, SEs, tests, C-index); R's is ``coxph`` (which also computes the concordance) plus ``summary``.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPEAT = 3
KMDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kmdata" / "ipd.parquet"

R_CODE = r"""
suppressMessages({library(survival); library(maxstat)})
args <- commandArgs(trailingOnly = TRUE)
d <- args[1]; rep <- as.integer(args[2])
best <- function(f) min(replicate(rep, system.time(f())[["elapsed"]]))
out <- function(task, s) cat(sprintf("%s\t%.4f\n", task, s))
big <- read.csv(file.path(d, "big.csv"))
out("km", best(function() summary(survfit(Surv(time, event) ~ 1, data = big))$table))
out("logrank", best(function() survdiff(Surv(time, event) ~ group, data = big)))
out("cox_1m", best(function() summary(coxph(Surv(time, event) ~ x1 + x2 + x3, data = big))))
mid <- read.csv(file.path(d, "mid.csv"))
out("maxstat", best(function() maxstat.test(Surv(time, event) ~ x1, data = mid, smethod = "LogRank", pmethod = "Lau94")))
if (file.exists(file.path(d, "kmdata.csv"))) {
  km <- read.csv(file.path(d, "kmdata.csv"))
  parts <- split(km, km$dataset)
  out("cox_304", best(function() for (p in parts) summary(coxph(Surv(time, event) ~ arm, data = p))))
}
if (file.exists(file.path(d, "meta.csv")) && requireNamespace("metafor", quietly = TRUE)) {
  m <- read.csv(file.path(d, "meta.csv"))
  out("meta", best(function() metafor::rma(yi, sei = sei, data = m, method = "REML", test = "knha")))
}
"""


def best_of(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=n), rng.integers(0, 2, n), rng.normal(size=n)
    t = rng.exponential(1 / (0.1 * np.exp(0.3 * x1 - 0.5 * x2 + 0.1 * x3)))
    c = rng.uniform(0, 20, n)
    # rounded to days so that ties occur as in real data; x1 to 2 decimals for the cut-point search
    return pd.DataFrame({"time": np.round(np.minimum(t, c) * 30) / 30, "event": (t <= c).astype(int),
                         "x1": np.round(x1, 2), "x2": x2, "x3": x3, "group": x2})


def r_timings(folder: Path) -> dict[str, float]:
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("R: Rscript not found; R columns left empty")
        return {}
    script = folder / "bench.R"
    script.write_text(R_CODE)
    ver = subprocess.run([rscript, "-e", 'cat(R.version.string, "; survival", format(packageVersion("survival")))'],
                         capture_output=True, text=True, check=False).stdout
    print(f"R: {ver}")
    res = subprocess.run([rscript, str(script), str(folder), str(REPEAT)], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(f"R failed: {res.stderr.strip().splitlines()[-1:]}")
    return {k: float(v) for k, v in (line.split("\t") for line in res.stdout.splitlines() if "\t" in line)}


def row(task: str, n: str, ours: float, theirs: float | None) -> None:
    t = "n/a" if theirs is None else f"{theirs:8.3f}"
    ratio = "" if theirs is None else f"{ours / theirs:6.2f}x"
    print(f"{task:<40} {n:>16} {ours:9.3f} {t:>9}  {ratio}")


def main() -> None:
    from _machine import cpu_name

    from nerasense.stats.cutpoint import maxstat_logrank
    from nerasense.stats.survival import cox, kaplan_meier, logrank

    print(f"machine: {platform.machine()}, {os.cpu_count()} logical cores, {cpu_name()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big, mid = data(1_000_000), data(100_000, seed=2)
        big.to_csv(folder / "big.csv", index=False)
        mid.to_csv(folder / "mid.csv", index=False)
        big, mid = pd.read_csv(folder / "big.csv"), pd.read_csv(folder / "mid.csv")  # both sides read the same CSV
        kmd = pd.read_parquet(KMDATA) if KMDATA.is_file() else None
        if kmd is not None:
            kmd.to_csv(folder / "kmdata.csv", index=False)
            kmd = pd.read_csv(folder / "kmdata.csv")
        meta = _meta_data(300)
        meta.to_csv(folder / "meta.csv", index=False)
        r = r_timings(folder)

    print(f"{'task':<40} {'rows':>16} {'ours (s)':>9} {'R (s)':>9}  ours/R")
    t, e, g = big["time"].to_numpy(), big["event"].to_numpy(), big["group"].to_numpy()
    row("KM + median CI (log)", f"{len(big):,}", best_of(lambda: kaplan_meier(t, e, "log")), r.get("km"))
    row("log-rank, 2 groups", f"{len(big):,}", best_of(lambda: logrank(t, e, g)), r.get("logrank"))
    covs = ["x1", "x2", "x3"]
    row("Cox PH, 3 covariates (Efron)", f"{len(big):,}", best_of(lambda: cox(big, covs)), r.get("cox_1m"))
    if kmd is not None:
        kmd["arm01"] = 0.0
        parts = []
        for _, part in kmd.groupby("dataset", sort=True):
            part = part.copy()
            part["arm01"] = (part["arm"] == sorted(part["arm"].unique())[1]).astype(float)  # R: factor levels sorted
            parts.append(part)
        row(f"Cox, one two-arm fit x {len(parts)} trials", f"{len(kmd):,} in all",
            best_of(lambda: [cox(p, ["arm01"]) for p in parts]), r.get("cox_304"))
    else:
        print(f"Cox x 304 kmdata trials: skipped ({KMDATA} absent)")
    row("cut-point (maxstat, Lau94), all splits", f"{len(mid):,}",
        best_of(lambda: maxstat_logrank(mid["time"], mid["event"], mid["x1"])), r.get("maxstat"))
    meta_fn = _meta_fn(meta)
    if meta_fn is not None:
        row("meta-analysis, REML + HKSJ", f"{len(meta)} studies", best_of(meta_fn), r.get("meta"))


def _meta_data(k: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    sei = rng.uniform(0.1, 0.5, k)
    yi = rng.normal(-0.3, 0.2, k) + rng.normal(0, sei)
    return pd.DataFrame({"yi": yi, "sei": sei})


def _meta_fn(meta: pd.DataFrame) -> Callable[[], Any] | None:
    try:
        from nerasense.stats.meta import random_effects  # type: ignore[attr-defined]
    except ImportError:
        return None
    y, se = meta["yi"].to_numpy(), meta["sei"].to_numpy()
    return lambda: random_effects(y, se, method="REML", hksj=True)


if __name__ == "__main__":
    main()
