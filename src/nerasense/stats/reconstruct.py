"""Individual patient data rebuilt from a published Kaplan–Meier curve (Guyot et al. 2012).

Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data: reconstructing the
data from published Kaplan-Meier survival curves. BMC Med Res Methodol 2012;12:9. Written from the paper's
description of the algorithm (its "Algorithm" section and Figure 1):

1. The digitised points (T_k, S_k) are cleaned into a step function (``clean_curve``): sorted by time, the
   survival scale detected (0–1 or percent), a point (0, 1) added, points that rise made equal to the lowest
   point before them (a KM curve never rises), one point kept per time (the lowest), and a point added at
   every time of the at-risk table, carrying the curve's value there, so that every interval of the table
   starts on a point.
2. For each interval i of the at-risk table [t_i, t_{i+1}) with n_i at risk at its start: guess the number
   censored in it, c_i = round(n_i · S(t_{i+1})/S(t_i) − n_{i+1}); spread the c_i censorings evenly over the
   interval; walk its points k, taking d_k = round(n̂_k · (1 − S_k / Ŝ_last)) events (Ŝ_last the rebuilt KM
   at the last point with an event) and n̂_{k+1} = n̂_k − d_k − cen_k; then correct c_i by the difference
   between n̂ at the next interval's start and the published n_{i+1}, and repeat until they agree (or no
   censoring is left to remove).
3. In the last interval, which has no next count, the censoring rate is the average of the earlier intervals
   per unit time; with a reported total number of events, c is adjusted until the events add up to it
   (the "total events" variant, also used when only N is known and no table is printed).
4. Events sit at the digitised times; censorings at the midpoint of the two points that bracket them; those
   still at risk after the last point are censored there.

The fit report compares the rebuilt KM with the digitised points (RMSE, maximum absolute error) and with the
published numbers at risk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nerasense.errors import InputError, Problem

MAX_ITER = 1000  # the censoring adjustment converges in a few steps; a bound against cycling


@dataclass(frozen=True)
class Curve:
    time: np.ndarray
    surv: np.ndarray
    notes: list[str] = field(default_factory=list)


def _step_value(time: np.ndarray, surv: np.ndarray, at: float) -> float:
    i = int(np.searchsorted(time, at, side="right")) - 1
    return 1.0 if i < 0 else float(surv[i])


def clean_curve(time: Any, surv: Any, risk_times: Any = ()) -> Curve:
    """Digitised points → a non-increasing step function with a point at 0 and at every at-risk time."""
    t = np.asarray(time, dtype=float)
    s = np.asarray(surv, dtype=float)
    problems = []
    if t.shape != s.shape or t.ndim != 1 or len(t) < 2:
        problems.append(Problem("curve", f"{len(t)} points", "at least two digitised (time, survival) points"))
    elif not (np.isfinite(t).all() and np.isfinite(s).all()):
        problems.append(Problem("curve", "missing or non-numeric values", "numbers in both columns"))
    if problems:
        raise InputError(problems)
    notes: list[str] = []
    if s.max() > 1.5:
        s = s / 100.0
        notes.append("survival read as percent and divided by 100")
    order = np.argsort(t, kind="stable")
    t, s = t[order], s[order]
    if (t < 0).any():
        notes.append(f"{int((t < 0).sum())} point(s) before time 0 moved to 0")
        t = np.maximum(t, 0.0)
    out_of_range = (s > 1) | (s < 0)
    if out_of_range.any():
        notes.append(f"{int(out_of_range.sum())} point(s) outside [0, 1] clipped")
        s = np.clip(s, 0.0, 1.0)
    if t[0] > 0 or s[0] < 1:
        t, s = np.r_[0.0, t], np.r_[1.0, s]
    mono = np.minimum.accumulate(s)
    rises = int((mono < s - 1e-12).sum())
    if rises:
        notes.append(f"{rises} point(s) above an earlier point lowered to it (a KM curve never rises)")
    s = mono
    # one point per time: the lowest (the foot of a vertical drop); time 0 keeps S = 1
    last = np.r_[t[1:] != t[:-1], True]
    t, s = t[last], s[last]
    if t[0] != 0.0:
        t, s = np.r_[0.0, t], np.r_[1.0, s]
    s[0] = 1.0
    for rt in np.asarray(risk_times, dtype=float):
        if rt <= t[-1] and not np.isclose(t, rt, rtol=0, atol=1e-12).any():
            pos = int(np.searchsorted(t, rt))
            t = np.insert(t, pos, rt)
            s = np.insert(s, pos, s[pos - 1])
    return Curve(t, s, notes)


@dataclass(frozen=True)
class Reconstruction:
    """Rebuilt patients (``time``, ``event``) and how well they reproduce the inputs."""

    time: np.ndarray
    event: np.ndarray
    curve: Curve
    risk_times: np.ndarray
    n_risk_published: np.ndarray
    n_risk_rebuilt: np.ndarray
    rmse: float
    max_abs_error: float
    events: int
    total_events_given: int | None
    notes: list[str]

    def report(self) -> dict[str, Any]:
        return {
            "n": len(self.time),
            "events": self.events,
            "censored": int(len(self.time) - self.events),
            "total_events_given": self.total_events_given,
            "rmse": self.rmse,
            "max_abs_error": self.max_abs_error,
            "points": len(self.curve.time),
            "at_risk": [
                {"time": float(t), "published": int(a), "rebuilt": int(b)}
                for t, a, b in zip(self.risk_times, self.n_risk_published, self.n_risk_rebuilt, strict=True)
            ],
            "notes": self.notes,
        }


def _spread(n_cens: int, t_from: float, t_to: float, breaks: np.ndarray) -> np.ndarray:
    """Counts of ``n_cens`` censorings placed evenly inside (t_from, t_to), per interval (b_m, b_m+1] of
    ``breaks`` (right-closed, the lowest included, as R ``hist``)."""
    counts = np.zeros(len(breaks) - 1, dtype=np.int64)
    if n_cens <= 0 or len(breaks) < 2:
        return counts
    ct = t_from + np.arange(1, n_cens + 1) * (t_to - t_from) / (n_cens + 1)
    idx = np.searchsorted(breaks, ct, side="left") - 1
    idx = np.clip(idx, 0, len(counts) - 1)
    np.add.at(counts, idx, 1)
    return counts


def guyot(
    time: Any, surv: Any, risk_times: Any = None, n_risk: Any = None, total_events: int | None = None,
    n: int | None = None,
) -> Reconstruction:
    """Rebuild patients from digitised points and the at-risk table (or N alone, with ``total_events``)."""
    problems = []
    if risk_times is None or n_risk is None:
        if n is None:
            problems.append(Problem("at-risk", None, "an at-risk table, or the number of patients N"))
        rt, nr = np.array([0.0]), np.array([n if n is not None else 0], dtype=float)
    else:
        rt, nr = np.asarray(risk_times, dtype=float), np.asarray(n_risk, dtype=float)
        if rt.shape != nr.shape or len(rt) == 0:
            problems.append(Problem("at-risk", f"{rt.shape}/{nr.shape}", "times and counts of the same length"))
        elif not (np.all(np.diff(rt) > 0) and np.all(np.diff(nr) <= 0) and (nr >= 0).all() and np.all(nr == np.round(nr))):
            problems.append(Problem("at-risk", "times or counts out of order",
                                    "increasing times and non-increasing whole numbers at risk"))
        elif rt[0] != 0:
            problems.append(Problem("at-risk", f"first time {rt[0]:g}", "a table starting at time 0"))
    if total_events is not None and total_events < 0:
        problems.append(Problem("total-events", total_events, "a whole number ≥ 0"))
    if problems:
        raise InputError(problems)
    if nr[0] < 1:
        raise InputError(Problem("at-risk", f"{nr[0]:g} at time 0", "at least one patient at time 0"))
    curve = clean_curve(time, surv, rt)
    ts, ss = curve.time, curve.surv
    notes = list(curve.notes)
    keep = rt <= ts[-1]
    if not keep.all():
        notes.append(f"{int((~keep).sum())} at-risk time(s) after the last digitised point not used")
    rt, nr = rt[keep], nr[keep].astype(np.int64)
    published = nr.copy()
    n_int = len(rt)
    lower = np.searchsorted(ts, rt, side="left")
    upper = np.r_[lower[1:] - 1, len(ts) - 1]
    n_t = len(ts)
    n_hat = np.zeros(n_t + 1, dtype=np.int64)
    n_hat[:] = nr[0] + 1
    cen = np.zeros(n_t, dtype=np.int64)
    d = np.zeros(n_t, dtype=np.int64)
    km = np.ones(n_t)
    last_i = np.zeros(n_int, dtype=np.int64)
    n_censor = np.zeros(n_int, dtype=np.int64)

    def walk(i: int, lo: int, hi: int, last: int, first_interval: bool) -> int:
        """Events and numbers at risk over points lo..hi that reproduce the digitised drops."""
        for k in range(lo, hi + 1):
            if first_interval and k == lo:
                d[k], km[k] = 0, 1.0
            else:
                d[k] = round(n_hat[k] * (1 - ss[k] / km[last])) if km[last] > 0 and n_hat[k] > 0 else 0
                d[k] = min(max(d[k], 0), n_hat[k])
                km[k] = km[last] * (1 - d[k] / n_hat[k]) if n_hat[k] > 0 else km[last]
            n_hat[k + 1] = n_hat[k] - d[k] - cen[k]
            if n_hat[k + 1] < 0:  # never fewer than nobody at risk
                cen[k] = n_hat[k] - d[k]
                n_hat[k + 1] = 0
            if d[k] != 0:
                last = k
        return last

    last = 0
    for i in range(n_int - 1):
        lo, hi, nxt = lower[i], upper[i], lower[i + 1]
        s_lo = ss[lo] if ss[lo] > 0 else 1e-12
        n_censor[i] = round(nr[i] * ss[nxt] / s_lo - nr[i + 1])
        for _ in range(MAX_ITER):
            if n_censor[i] <= 0:
                n_censor[i] = 0
                cen[lo : hi + 1] = 0
            else:
                cen[lo : hi + 1] = _spread(int(n_censor[i]), ts[lo], ts[nxt], ts[lo : nxt + 1])
            n_hat[lo] = nr[i]
            last = walk(i, lo, hi, int(last_i[i]), i == 0)
            gap = int(n_hat[nxt] - nr[i + 1])
            if gap > 0 or (gap < 0 and n_censor[i] > 0):
                n_censor[i] += gap
                continue
            break
        if n_hat[nxt] < nr[i + 1]:
            nr[i + 1] = n_hat[nxt]
        last_i[i + 1] = last

    # last interval: censoring rate of the earlier intervals per unit time
    i = n_int - 1
    lo, hi = lower[i], upper[i]
    if n_int > 1 and ts[upper[i - 1]] > ts[lower[0]]:
        rate_c = n_censor[:i].sum() * (ts[hi] - ts[lo]) / (ts[upper[i - 1]] - ts[lower[0]])
        n_censor[i] = min(round(rate_c), nr[i])
    else:
        n_censor[i] = 0

    def last_interval() -> None:
        cen[lo:hi] = 0
        if n_censor[i] > 0 and hi > lo:
            cen[lo:hi] = _spread(int(n_censor[i]), ts[lo], ts[hi], ts[lo : hi + 1])
        n_hat[lo] = nr[i]
        walk(i, lo, hi, int(last_i[i]), n_int == 1)

    last_interval()
    if total_events is not None:
        before = int(d[: upper[i - 1] + 1].sum()) if n_int > 1 else 0
        if n_int > 1 and before >= total_events:
            d[lo : hi + 1] = 0
            cen[lo:hi] = 0
            n_hat[lo + 1 : hi + 2] = nr[i]
            notes.append("the events of the earlier intervals already reach the total: none placed in the last")
        else:
            for _ in range(MAX_ITER):
                sumd = int(d[: hi + 1].sum())
                if sumd > total_events or (sumd < total_events and n_censor[i] > 0):
                    n_censor[i] = max(0, n_censor[i] + (sumd - total_events))
                    last_interval()
                    if n_censor[i] == 0 and int(d[: hi + 1].sum()) > total_events:
                        break
                    continue
                break
    # patients: events at their times, censorings at the midpoint of the bracketing points, the rest at the end
    n0 = int(published[0])
    times = np.full(n0, ts[-1])
    events = np.zeros(n0, dtype=np.int64)
    ev_t = np.repeat(ts, d)
    ce_t = np.repeat((ts[:-1] + ts[1:]) / 2, cen[:-1])
    m = min(len(ev_t), n0)
    times[:m], events[:m] = ev_t[:m], 1
    c = min(len(ce_t), n0 - m)
    times[m : m + c] = ce_t[:c]
    if len(ev_t) + len(ce_t) > n0:
        notes.append(f"{len(ev_t) + len(ce_t) - n0} placed patient(s) beyond N dropped")
    return _report(times, events, curve, rt, published, total_events, notes)


def _report(times: np.ndarray, events: np.ndarray, curve: Curve, rt: np.ndarray, published: np.ndarray,
            total_events: int | None, notes: list[str]) -> Reconstruction:
    from nerasense.stats.survival import kaplan_meier, numbers_at_risk

    km = kaplan_meier(times, events)
    # the rebuilt curve at each digitised time (after any drop there), as the digitiser read it
    fitted = np.array([_step_value(km.time, km.surv, t) for t in curve.time])
    err = fitted - curve.surv
    rebuilt = np.array(numbers_at_risk(times, rt), dtype=np.int64)
    return Reconstruction(times, events, curve, rt, published, rebuilt, float(math.sqrt(np.mean(err**2))),
                          float(np.max(np.abs(err))), int(events.sum()), total_events, notes)


def read_curve(df: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The two columns of a digitiser export, in either order: time is the column that, sorted, the other
    column falls along; survival lies within [0, 1] (or [0, 100])."""
    import pandas as pd

    num = df.apply(pd.to_numeric, errors="coerce")
    cols = [c for c in num.columns if num[c].notna().mean() > 0.9]
    if len(cols) < 2:
        raise InputError(Problem("curve", f"columns {list(df.columns)}", "two numeric columns: time and survival"))
    a, b = cols[:2]
    names = {str(c).strip().lower(): c for c in cols}
    for tname in ("time", "t", "x", "months", "years", "days", "weeks"):
        for sname in ("surv", "survival", "s", "y", "prob", "probability"):
            if tname in names and sname in names:
                a, b = names[tname], names[sname]
                return num[a].to_numpy(float), num[b].to_numpy(float), [f"columns {a!r} (time) and {b!r} (survival)"]
    xa, xb = num[a].to_numpy(float), num[b].to_numpy(float)

    def falls(x: np.ndarray, y: np.ndarray) -> float:  # fraction of non-increasing steps of y along sorted x
        yy = y[np.argsort(x, kind="stable")]
        return float(np.mean(np.diff(yy) <= 1e-9)) if len(yy) > 1 else 0.0

    in_range = lambda y: float(np.nanmax(y)) <= 105 and float(np.nanmin(y)) >= -5  # noqa: E731
    unit = lambda y: float(np.nanmax(y)) <= 1.0 + 1e-9  # noqa: E731  (a 0–1 survival scale)
    score_ab = falls(xa, xb) + (1 if in_range(xb) else 0) + (0.5 if unit(xb) else 0)
    score_ba = falls(xb, xa) + (1 if in_range(xa) else 0) + (0.5 if unit(xa) else 0)
    if score_ba > score_ab:
        a, b, xa, xb = b, a, xb, xa
    return xa, xb, [f"columns {a!r} (time) and {b!r} (survival), told apart by their shape"]


def read_at_risk(df: Any) -> tuple[np.ndarray, np.ndarray]:
    """At-risk table: Guyot's layout (``trisk``, ``nrisk``) or (``time``, ``n_risk`` / ``at_risk`` / ``n``)."""
    import pandas as pd

    names = {str(c).strip().lower(): c for c in df.columns}
    t_col = next((names[k] for k in ("trisk", "time", "t", "times") if k in names), None)
    n_col = next((names[k] for k in ("nrisk", "n_risk", "at_risk", "n", "number_at_risk") if k in names), None)
    if t_col is None or n_col is None:
        raise InputError(Problem("at-risk columns", ", ".join(map(str, df.columns)),
                                 "a time column (trisk or time) and a count column (nrisk, n_risk, at_risk or n)"))
    t = pd.to_numeric(df[t_col], errors="coerce").to_numpy(float)
    n = pd.to_numeric(df[n_col], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~(np.isfinite(t) & np.isfinite(n)))
    if len(bad):
        raise InputError(Problem("at-risk", f"rows {', '.join(str(i + 1) for i in bad)}", "numbers in both columns"))
    return t, n


__all__ = ["Curve", "Reconstruction", "clean_curve", "guyot", "read_at_risk", "read_curve"]
