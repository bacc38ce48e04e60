"""Figures of a discovery run: volcano, calibration, permutation null, decision curve (matplotlib, Agg).

Nothing is drawn at import; each function returns a Figure (see :mod:`nerasense.report.figures`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nerasense.report.figures import _figure

_SIG, _NS = "#c51b7d", "#7f7f7f"


def volcano_figure(rows: Sequence[Mapping[str, Any]], x_label: str, fdr: float = 0.05, label_top: int = 8) -> Any:
    """Effect (x) against −log10 p (y); features with q < ``fdr`` in colour, the ``label_top`` smallest p named."""
    fig = _figure(7.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    pts: list[tuple[Mapping[str, Any], float]] = []
    for r in rows:
        x = _x(r)
        if x is not None and r["p"] is not None and r["p"] > 0:
            pts.append((r, x))
    for sig, colour, name in ((False, _NS, f"q ≥ {fdr:g}"), (True, _SIG, f"q < {fdr:g} (Benjamini–Hochberg)")):
        sel = [(r, x) for r, x in pts if (r["q"] is not None and r["q"] < fdr) == sig]
        if sel:
            ax.scatter([x for _, x in sel], [-math.log10(r["p"]) for r, _ in sel], s=14, color=colour,
                       alpha=0.75 if sig else 0.45, lw=0, label=name)
    for i, (r, x) in enumerate(sorted(pts, key=lambda t: t[0]["p"])[:label_top]):
        right = x >= 0
        ax.annotate(_short(r["label"]), (x, -math.log10(r["p"])), fontsize=7, ha="left" if right else "right",
                    xytext=(5 if right else -5, 6 - 4 * (i % 3)), textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5})
    ax.axvline(0, color="0.7", lw=0.8)
    ax.set_xlabel(x_label)
    ax.set_ylabel("−log10 p")
    ax.margins(x=0.25, y=0.08)
    fig.legend(frameon=False, fontsize=8, loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.04))
    return fig


def _x(r: Mapping[str, Any]) -> float | None:
    e = r.get("effect")
    if e is None:
        return None
    if r["effect_name"] in ("odds ratio", "hazard ratio"):
        return math.log2(e) if e > 0 and math.isfinite(e) else None
    return float(e)


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def calibration_figure(kind: str, y: np.ndarray, pred: np.ndarray, curve: Sequence[Mapping[str, float]],
                       cal: Mapping[str, Any], response: str) -> Any:
    """Out-of-fold predictions against outcomes: deciles of prediction (dots), identity line, the fitted
    calibration line; for a continuous response the individual rows in grey behind."""
    fig = _figure(5.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    if kind == "continuous":
        ax.scatter(pred, y, s=6, color="0.75", lw=0, label="rows (out-of-fold)")
    xs = np.array([c["predicted"] for c in curve])
    ys = np.array([c["observed"] for c in curve])
    ax.plot(xs, ys, "o-", color="#1f77b4", ms=5, label="tenths of the prediction")
    lo = float(min(np.min(pred), np.min(xs), np.min(ys) if kind == "binary" else np.min(y)))
    hi = float(max(np.max(pred), np.max(xs), np.max(ys) if kind == "binary" else np.max(y)))
    if kind == "binary":
        lo, hi = 0.0, 1.0
    ax.plot([lo, hi], [lo, hi], ls="--", color="0.4", lw=1, label="ideal")
    slope, intercept = cal.get("slope"), cal.get("intercept")
    if kind == "continuous" and slope is not None and intercept is not None:
        grid = np.linspace(float(np.min(pred)), float(np.max(pred)), 20)
        ax.plot(grid, intercept + slope * grid, color="#d62728", lw=1.2, label=f"fit: slope {slope:.2f}")
    ax.set_xlabel(f"predicted {response}" if kind == "continuous" else "predicted probability")
    ax.set_ylabel(f"observed {response}" if kind == "continuous" else "observed proportion")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return fig


def permutation_figure(null: Sequence[float], observed: float, metric: str, chance: float) -> Any:
    """The null distribution of the cross-validated metric with the observed value."""
    fig = _figure(5.5, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    vals = [v for v in null if v is not None and math.isfinite(v)]
    if vals:
        ax.hist(vals, bins=min(20, max(5, len(vals) // 3)), color="0.7", label=f"shuffled responses (n={len(vals)})")
    ax.axvline(observed, color="#c51b7d", lw=2, label=f"observed {observed:.3f}")
    ax.axvline(chance, color="0.3", lw=1, ls=":", label=f"chance {chance:g}")
    ax.set_xlabel(f"cross-validated {metric}")
    ax.set_ylabel("permutations")
    ax.legend(frameon=False, fontsize=8)
    return fig


def decision_curve_figure(curve: Sequence[Mapping[str, float]], max_threshold: float = 0.6) -> Any:
    """Net benefit of the model, treat-all and treat-none across threshold probabilities."""
    fig = _figure(6.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    pts = [c for c in curve if c["threshold"] <= max_threshold]
    t = [c["threshold"] for c in pts]
    ax.plot(t, [c["model"] for c in pts], color="#1f77b4", lw=1.8, label="model")
    ax.plot(t, [c["treat_all"] for c in pts], color="0.5", lw=1, label="treat all")
    ax.plot(t, [0.0] * len(t), color="0.2", lw=1, ls="--", label="treat none")
    top = max([c["model"] for c in pts] + [c["treat_all"] for c in pts] + [0.0])
    ax.set_ylim(-0.05 * max(top, 0.01), top * 1.1 + 0.01)
    ax.set_xlabel("threshold probability")
    ax.set_ylabel("net benefit")
    ax.legend(frameon=False, fontsize=8)
    return fig


def group_figure(y: np.ndarray, groups: np.ndarray, labels: tuple[str, str], response: str, title: str = "") -> Any:
    """Response of rule-positive and rule-negative rows (strip + box), for a rule on a continuous response."""
    fig = _figure(4.5, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    data = [y[groups == 0], y[groups == 1]]
    ax.boxplot(data, showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    for i, d in enumerate(data):
        ax.scatter(i + 1 + rng.uniform(-0.15, 0.15, d.size), d, s=6, color="#1f77b4" if i else "0.6", lw=0, alpha=0.7)
    ax.set_xticks([1, 2], [f"{labels[0]}\n(n={data[0].size})", f"{labels[1]}\n(n={data[1].size})"], fontsize=8)
    ax.set_ylabel(response)
    if title:
        import textwrap

        ax.set_title(textwrap.fill(title, 45), fontsize=9)
    return fig


__all__ = ["calibration_figure", "decision_curve_figure", "group_figure", "permutation_figure", "volcano_figure"]
