"""Trial figures drawn with matplotlib's object API and the Agg canvas (no pyplot, no global backend).

* :func:`km_figure` — Kaplan–Meier curves with censoring marks, optional CI bands, median guide lines
  (survminer ``surv.median.line="hv"``) and a numbers-at-risk table underneath (R convention: at risk
  just before t, from :func:`nerasense.stats.survival.numbers_at_risk`).
* :func:`waterfall_figure` — best % change of the sum of diameters per patient, with the RECIST 1.1
  −30 % (PR) and +20 % (PD) reference lines.
* :func:`forest_figure` — subgroup hazard ratios on a log axis with the interaction p per variable.
* :func:`swimmer_figure` — time on study per patient, coloured by best response, arrows for ongoing.

Nothing is drawn at import; matplotlib is imported inside each function.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nerasense.safe_io import atomic_output

RESPONSE_COLOURS = {
    "CR": "#1b7837",
    "PR": "#5aae61",
    "SD": "#f1a340",
    "NON-CR/NON-PD": "#fee0b6",
    "PD": "#c51b7d",
    "NE": "#969696",
}
_GROUP_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Any) -> bytes:
    """PNG bytes of a figure (Agg)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def save(fig: Any, path: str | Path) -> Path:
    """Write a figure; the format follows the suffix (.png, .svg, .pdf)."""
    p = Path(path)
    with atomic_output(p) as partial:
        fig.savefig(partial, bbox_inches="tight", format=p.suffix.lstrip(".").lower() or "png")
    return p


def km_figure(
    fits: Mapping[str, Any],
    risk_times: Sequence[float] | None = None,
    title: str = "",
    xlabel: str = "Time",
    annotation: str = "",
    show_ci: bool = True,
    median_lines: bool = True,
) -> Any:
    """KM curves (``fits``: label → :class:`~nerasense.stats.survival.KaplanMeier`) with a risk table."""
    from nerasense.stats.survival import numbers_at_risk

    tmax = max(float(np.max(k.time)) for k in fits.values())
    if risk_times is None:
        risk_times = [float(x) for x in np.linspace(0, tmax, 6)]
    fig = _figure(7.5, 5.5 + 0.25 * len(fits))
    gs = fig.add_gridspec(2, 1, height_ratios=[4, 0.6 + 0.3 * len(fits)], hspace=0.35)
    ax = fig.add_subplot(gs[0])
    for i, (label, km) in enumerate(fits.items()):
        c = _GROUP_COLOURS[i % len(_GROUP_COLOURS)]
        t = np.concatenate(([0.0], km.time))
        s = np.concatenate(([1.0], km.surv))
        med = "NR" if km.median is None else f"{km.median:g}"
        ax.step(t, s, where="post", color=c, lw=1.8, label=f"{label} (n={km.n}, median {med})")
        cens = km.n_censor > 0
        ax.plot(km.time[cens], km.surv[cens], "|", color=c, ms=7, mew=1.2)
        if show_ci:
            lo = np.concatenate(([1.0], np.nan_to_num(km.lower, nan=0.0)))
            hi = np.concatenate(([1.0], np.nan_to_num(km.upper, nan=1.0)))
            ax.fill_between(t, lo, hi, step="post", color=c, alpha=0.12, lw=0)
        if median_lines and km.median is not None:
            ax.plot([0, km.median], [0.5, 0.5], ls="--", color="0.5", lw=0.8)
            ax.plot([km.median, km.median], [0, 0.5], ls="--", color=c, lw=0.8)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, tmax * 1.02)
    ax.set_ylabel("Survival probability")
    ax.set_xlabel(xlabel)
    ax.set_xticks(list(risk_times))
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    if annotation:
        ax.text(0.98, 0.98, annotation, transform=ax.transAxes, ha="right", va="top", fontsize=8)
    rt = fig.add_subplot(gs[1], sharex=ax)
    rt.set_title("Number at risk", fontsize=8, loc="left")
    labels = list(fits)
    for i, label in enumerate(labels):
        counts = numbers_at_risk(fits[label]._all_times, risk_times)
        y = len(labels) - 1 - i
        for x, n in zip(risk_times, counts, strict=True):
            rt.text(x, y, str(n), ha="center", va="center", fontsize=8, gid=f"risk:{label}:{x:g}")
    rt.set_yticks(range(len(labels)))
    rt.set_yticklabels(labels[::-1], fontsize=8)
    rt.set_ylim(-0.5, len(labels) - 0.5)
    rt.tick_params(axis="x", labelbottom=False, length=0)
    rt.tick_params(axis="y", length=0, pad=20)
    for side in ("top", "right", "bottom", "left"):
        rt.spines[side].set_visible(False)
    return fig


def waterfall_figure(
    best_pct_change: Mapping[str, float], best_response: Mapping[str, str] | None = None, title: str = ""
) -> Any:
    """Bars of best % change (largest first); −30 % and +20 % RECIST lines; bars capped visually at +100 %."""
    items = sorted(((p, v) for p, v in best_pct_change.items() if v is not None), key=lambda kv: -kv[1])
    fig = _figure(max(5.0, 0.25 * len(items) + 2), 4.0)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(items))
    vals = np.array([min(v, 100.0) for _, v in items])
    colours = [RESPONSE_COLOURS.get((best_response or {}).get(p, ""), "#4d4d4d") for p, _ in items]
    ax.bar(x, vals, color=colours, width=0.8)
    ax.axhline(-30, ls="--", color="0.3", lw=0.8, gid="line:-30")
    ax.axhline(20, ls="--", color="0.3", lw=0.8, gid="line:+20")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x)
    ax.set_xticklabels([p for p, _ in items], rotation=90, fontsize=7)
    ax.set_ylabel("Best change in sum of diameters (%)")
    ax.set_ylim(-105, 105)
    if best_response:
        from matplotlib.patches import Patch

        seen = [r for r in RESPONSE_COLOURS if r in set(best_response.values())]
        ax.legend(handles=[Patch(color=RESPONSE_COLOURS[r], label=r) for r in seen], fontsize=7, frameon=False)
    if title:
        ax.set_title(title)
    return fig


def forest_figure(
    rows: Sequence[Mapping[str, Any]],
    interactions: Mapping[str, float] | None = None,
    title: str = "",
    xlabel: str = "Hazard ratio",
) -> Any:
    """``rows``: dicts with ``variable``, ``level``, ``n``, ``hr``, ``hr_ci_low``, ``hr_ci_high`` (None = not estimable)."""
    fig = _figure(7.5, 1.2 + 0.32 * len(rows))
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xscale("log")
    labels = []
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        labels.append(f"{r['variable']}: {r['level']} (n={r['n']})")
        if r.get("hr") is not None:
            ax.plot([r["hr_ci_low"], r["hr_ci_high"]], [y, y], color="black", lw=1)
            ax.plot([r["hr"]], [y], "s", color="black", ms=5)
            ax.text(
                1.02,
                y,
                f"{r['hr']:.2f} ({r['hr_ci_low']:.2f}–{r['hr_ci_high']:.2f})",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=7,
            )
        else:
            ax.text(1.02, y, "not estimable", transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.axvline(1.0, color="0.4", lw=0.8, ls="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels[::-1], fontsize=8)
    ax.set_xlabel(xlabel)
    if interactions:
        ax.set_title(
            (title + "\n" if title else "") + "; ".join(f"p interaction {k} = {v:.3g}" for k, v in interactions.items()),
            fontsize=9,
        )
    elif title:
        ax.set_title(title)
    return fig


def swimmer_figure(rows: Sequence[Mapping[str, Any]], xlabel: str = "Months on study", title: str = "") -> Any:
    """``rows``: dicts with ``patient``, ``duration``, optional ``best_response``, ``ongoing`` (bool), ``markers``
    (list of (time, label))."""
    rows = sorted(rows, key=lambda r: r["duration"])
    fig = _figure(7.0, 1.0 + 0.28 * len(rows))
    ax = fig.add_subplot(1, 1, 1)
    for y, r in enumerate(rows):
        ax.barh(y, r["duration"], color=RESPONSE_COLOURS.get(r.get("best_response", ""), "#4d4d4d"), height=0.7)
        if r.get("ongoing"):
            ax.annotate(
                "", xy=(r["duration"] * 1.06 + 0.1, y), xytext=(r["duration"], y), arrowprops={"arrowstyle": "->", "lw": 1}
            )
        for t, label in r.get("markers", []):
            ax.plot([t], [y], "v", color="black", ms=4)
            ax.text(t, y + 0.35, label, fontsize=6, ha="center")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([str(r["patient"]) for r in rows], fontsize=7)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    present = [k for k in RESPONSE_COLOURS if any(r.get("best_response") == k for r in rows)]
    if present:
        from matplotlib.patches import Patch

        ax.legend(
            handles=[Patch(color=RESPONSE_COLOURS[k], label=k) for k in present], fontsize=7, frameon=False, loc="lower right"
        )
    return fig


__all__ = ["RESPONSE_COLOURS", "forest_figure", "km_figure", "save", "swimmer_figure", "to_png", "waterfall_figure"]
