"""Power by sample size for a trial planned against a published (reconstructed) control arm, by simulation.

The control arm is a set of patients — typically rebuilt from a paper's Kaplan–Meier curve with
:func:`nerasense.stats.reconstruct.guyot`. Each simulated trial:

* control patients (two-arm design) are drawn with replacement from the rebuilt patients, so their event
  and censoring pattern is the paper's (bootstrap);
* experimental patients get event times from the control KM curve under proportional hazards with the
  alternative hazard ratio, S_E(t) = S_C(t)^HR (inverse-transform sampling; no event beyond the curve's last
  time), and censoring times from the rebuilt arm's censoring distribution (the reverse KM: censored as the
  paper's follow-up censored them, with the end of its follow-up as the administrative end);
* the test is the two-sided (or one-sided) log-rank test for the two-arm design, and for the single-arm
  design the one-sample log-rank test against the control arm's Nelson–Aalen cumulative hazard, taken as
  known (Breslow 1975; Finkelstein, Muzikansky & Schoenfeld, Stat Med 2003;22:3183–3189): Z = (O − E)/√E
  with E = Σ Λ_C(observed time). A single-arm comparison ignores the sampling error of the historical arm
  and any difference between the populations: it is optimistic by construction.

Power = share of simulated trials significant in the direction of benefit (HR < 1), with its Monte Carlo SE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nerasense.errors import InputError, Problem

DESIGNS = ("two-arm", "single-arm")


@dataclass(frozen=True)
class PowerRow:
    n: int  # patients per arm (two-arm) or in the single arm
    power: float
    mc_se: float
    mean_events: float


def _step_inverse(times: np.ndarray, surv: np.ndarray, u: np.ndarray) -> np.ndarray:
    """First time at which the step curve is ≤ u (inf where it never gets there)."""
    # surv is non-increasing: search on its negation
    idx = np.searchsorted(-surv, -u.ravel(), side="left").reshape(u.shape)
    out = np.full(u.shape, np.inf)
    ok = idx < len(times)
    out[ok] = times[idx[ok]]
    return out


def _km_steps(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ut, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event, minlength=len(ut))
    tot = np.bincount(inv, minlength=len(ut)).astype(float)
    at_risk = len(time) - np.concatenate(([0.0], np.cumsum(tot)[:-1]))
    return ut, np.cumprod(1.0 - d / at_risk)


def _nelson_aalen(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ut, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event, minlength=len(ut))
    tot = np.bincount(inv, minlength=len(ut)).astype(float)
    at_risk = len(time) - np.concatenate(([0.0], np.cumsum(tot)[:-1]))
    return ut, np.cumsum(d / at_risk)


def simulate_power(
    time: Any,
    event: Any,
    hr: float,
    sizes: Sequence[int],
    design: str = "two-arm",
    alpha: float = 0.05,
    sides: int = 2,
    n_sim: int = 1000,
    seed: int = 1,
) -> list[PowerRow]:
    """Simulated power at each sample size (per arm for two-arm) against the control arm ``time``/``event``."""
    from scipy.stats import norm

    from nerasense.stats.survival import _logrank_parts

    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    problems = []
    if design not in DESIGNS:
        problems.append(Problem("design", design, ", ".join(DESIGNS)))
    if not hr > 0:
        problems.append(Problem("hr", hr, "a hazard ratio > 0"))
    if not 0 < alpha < 1 or sides not in (1, 2):
        problems.append(Problem("alpha/sides", f"{alpha}/{sides}", "0 < alpha < 1 and sides 1 or 2"))
    if not sizes or any(int(n) < 2 for n in sizes):
        problems.append(Problem("n", list(sizes), "sample sizes of at least 2"))
    if n_sim < 10:
        problems.append(Problem("simulations", n_sim, "at least 10"))
    if t.shape != e.shape or len(t) < 5 or e.sum() < 1:
        problems.append(Problem("control arm", f"{len(t)} patients, {int(e.sum())} events", "≥ 5 patients with ≥ 1 event"))
    if problems:
        raise InputError(problems)
    rng = np.random.default_rng(seed)
    s_t, s_s = _km_steps(t, e)
    c_t, c_s = _km_steps(t, 1.0 - e)  # reverse KM: the censoring distribution
    end = float(t.max())
    na_t, na_h = _nelson_aalen(t, e)
    z = float(norm.ppf(1 - alpha / sides))
    rows = []
    for n in (int(v) for v in sizes):
        u = rng.uniform(size=(n_sim, n))
        ev_time = _step_inverse(s_t, s_s, u ** (1.0 / hr))
        cens = _step_inverse(c_t, c_s, rng.uniform(size=(n_sim, n)))
        stop = np.minimum(np.minimum(cens, end), ev_time)
        exp_event = (ev_time <= np.minimum(cens, end)).astype(float)
        hits = 0
        events = 0.0
        if design == "single-arm":
            idx = np.searchsorted(na_t, stop, side="right") - 1
            cum = np.where(idx < 0, 0.0, na_h[np.maximum(idx, 0)])
            observed = exp_event.sum(axis=1)
            expected = cum.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                zs = (observed - expected) / np.sqrt(expected)
            hits = int(np.sum(zs < -z))
            events = float(observed.mean())
        else:
            pick = rng.integers(0, len(t), size=(n_sim, n))
            ct, ce = t[pick], e[pick]
            group = np.r_[np.zeros(n, np.int64), np.ones(n, np.int64)]
            for i in range(n_sim):
                tt = np.r_[ct[i], stop[i]]
                ee = np.r_[ce[i], exp_event[i]]
                o, ex, v = _logrank_parts(tt, ee, group, 2)
                if v[1, 1] > 0:
                    zz = (o[1] - ex[1]) / math.sqrt(v[1, 1])
                    hits += int(zz < -z)
                events += float(ee.sum())
            events /= n_sim
        p = hits / n_sim
        rows.append(PowerRow(n, p, math.sqrt(p * (1 - p) / n_sim), events))
    return rows


def as_dicts(rows: Sequence[PowerRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


__all__ = ["DESIGNS", "PowerRow", "as_dicts", "simulate_power"]
