"""Forest and funnel plots of a meta-analysis (matplotlib object API, Agg canvas; nothing drawn at import).

* :func:`meta_forest_figure` — one row per study (square sized by its random-effects weight, CI line), the
  pooled diamond per subgroup and overall, the prediction interval as a line under the overall diamond,
  and a text column with estimate (CI) and weight; heterogeneity (τ², I², Q) under each pooled row.
* :func:`funnel_figure` — effects against their standard errors (inverted axis) with the pseudo 95 %
  limits around the pooled estimate (Sterne & Egger, J Clin Epidemiol 2001;54:1046–1055); Egger's p in the
  title when given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nerasense.report.figures import _figure

_SCALE = {"HR": ("Hazard ratio", True), "PLO": ("Proportion", False), "PFT": ("Proportion", False),
          "GLMM": ("Proportion", False), "GEN": ("Effect", False)}


def _fmt(measure: str, x: float) -> str:
    if measure in ("PLO", "PFT", "GLMM"):
        return f"{100 * x:.1f}%"
    return f"{x:.2f}"


def meta_forest_figure(result: Mapping[str, Any], title: str = "") -> Any:
    """``result``: the dict of :func:`nerasense.stats.meta.meta_analysis`."""
    measure = result["measure"]
    xlabel, log = _SCALE[measure]
    studies = list(result["studies"])
    subs = result.get("subgroups")
    lines: list[tuple[str, Any]] = []  # (kind, payload) top to bottom
    if subs:
        for name in sorted(subs):
            lines.append(("header", name))
            lines += [("study", s) for s in studies if s.get("subgroup") == name]
            if subs[name] is not None:
                lines.append(("pooled", (f"Subgroup {name}", subs[name])))
            lines.append(("gap", None))
    else:
        lines += [("study", s) for s in studies]
    lines.append(("pooled", ("Overall (random effects)", result["overall"])))
    lines.append(("pi", result["overall"]))
    n = len(lines)
    fig = _figure(9.0, 1.3 + 0.3 * n)
    ax = fig.add_subplot(1, 1, 1)
    if log:
        ax.set_xscale("log")
    wmax = max(s["weight_pct"] for s in studies)
    labels = []
    for i, (kind, obj) in enumerate(lines):
        y = n - 1 - i
        right = ""
        if kind == "header":
            labels.append(str(obj))
        elif kind == "study":
            labels.append(f"  {obj['study']}" + (f" ({obj['events']}/{obj['n']})" if "events" in obj else ""))
            ax.plot([obj["ci_low"], obj["ci_high"]], [y, y], color="black", lw=1)
            size = 3 + 9 * np.sqrt(obj["weight_pct"] / wmax)
            ax.plot([obj["estimate"]], [y], "s", color="#1f4e79", ms=size)
            right = (f"{_fmt(measure, obj['estimate'])} ({_fmt(measure, obj['ci_low'])}–{_fmt(measure, obj['ci_high'])})"
                     f"  {obj['weight_pct']:.1f}%")
        elif kind == "pooled":
            label, res = obj
            p = res["pooled"]
            labels.append(label)
            est, lo, hi = p["estimate"], p["ci_low"], p["ci_high"]
            ax.fill([lo, est, hi, est], [y, y + 0.3, y, y - 0.3], color="#b22222" if label.startswith("Overall") else "#555")
            right = f"{_fmt(measure, est)} ({_fmt(measure, lo)}–{_fmt(measure, hi)})"
            labels[-1] += f"\n  τ²={res['tau2']:.3g}, I²={res['i2']:.0f}%, Q={res['q']:.2f} (p={res['q_p']:.2g})"
        elif kind == "pi":
            p = obj["pooled"]
            labels.append("  prediction interval")
            ax.plot([p["pi_low"], p["pi_high"]], [y, y], color="#b22222", lw=2, alpha=0.6)
            right = f"{_fmt(measure, p['pi_low'])}–{_fmt(measure, p['pi_high'])}"
        else:
            labels.append("")
        if right:
            ax.text(1.02, y, right, transform=ax.get_yaxis_transform(), va="center", fontsize=7.5)
    if measure == "HR":
        ax.axvline(1.0, color="0.4", lw=0.8, ls="--")
    ax.axvline(result["overall"]["pooled"]["estimate"], color="#b22222", lw=0.6, ls=":")
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels[::-1], fontsize=7.5)
    for tick, (kind, _) in zip(ax.get_yticklabels(), lines[::-1], strict=True):
        if kind in ("header", "pooled"):
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_xlabel(xlabel)
    test = "HKSJ t" if result["overall"]["test"] == "knha" else "z"
    head = title or f"Random-effects meta-analysis ({result['method']}, {test})"
    ax.set_title(head, fontsize=10)
    if result.get("subgroup_test"):
        st = result["subgroup_test"]
        fig.text(0.01, 0.005, f"Test for subgroup differences: Q = {st['q_between']:.2f}, df = {st['df']}, p = {st['p']:.3g}",
                 fontsize=7.5)
    return fig


def funnel_figure(
    y: Sequence[float] | np.ndarray, se: Sequence[float] | np.ndarray, estimate: float, measure: str = "GEN",
    egger_p: float | None = None, labels: Sequence[str] | None = None, title: str = "",
) -> Any:
    """Funnel plot on the analysis scale (log HR, logit or double-arcsine proportion)."""
    ya, sa = np.asarray(y, float), np.asarray(se, float)
    fig = _figure(5.5, 4.5)
    ax = fig.add_subplot(1, 1, 1)
    top = float(sa.max()) * 1.1
    s = np.linspace(0, top, 50)
    ax.fill_betweenx(s, estimate - 1.96 * s, estimate + 1.96 * s, color="0.92")
    ax.plot(estimate - 1.96 * s, s, color="0.5", lw=0.8, ls="--")
    ax.plot(estimate + 1.96 * s, s, color="0.5", lw=0.8, ls="--")
    ax.axvline(estimate, color="#b22222", lw=1)
    ax.scatter(ya, sa, color="#1f4e79", zorder=3, s=22)
    if labels is not None:
        for xi, si, lab in zip(ya, sa, labels, strict=True):
            ax.annotate(str(lab), (xi, si), fontsize=6, xytext=(3, 2), textcoords="offset points")
    ax.set_ylim(top, 0)
    scale = {"HR": "log hazard ratio", "PLO": "logit proportion", "GLMM": "logit proportion",
             "PFT": "double-arcsine proportion"}.get(measure, "effect")
    ax.set_xlabel(scale)
    ax.set_ylabel("standard error")
    head = title or "Funnel plot"
    if egger_p is not None:
        head += f" (Egger's test p = {egger_p:.3g})"
    ax.set_title(head, fontsize=10)
    return fig


__all__ = ["funnel_figure", "meta_forest_figure"]
