"""Forest plot of the effect sizes behind a patient's calls (hazard ratios and response rates with CIs)."""

from __future__ import annotations

import io
from typing import Any

CALL_COLOURS = {
    "likely benefit": "#1b7f3b", "possible benefit": "#7aa83a", "unlikely benefit": "#c77c0e",
    "resistance": "#b3261e", "insufficient data": "#6b6b6b", "not applicable": "#9e9e9e",
}


LABEL_WIDTH = 46  # characters per label line: labels wrap instead of squeezing the plot


def _short(name: str) -> str:
    """A regimen name without its parenthesised population, for figure labels."""
    return name.split(" (")[0]


def effect_rows(regimens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per matched trial result with a CI, labelled by regimen, trial and subgroup."""
    rows = []
    for reg in regimens:
        for ev in reg["evidence"]:
            r = ev.get("result")
            if not r or r.get("ci_low") is None or r.get("measure") not in ("hazard_ratio", "proportion"):
                continue
            pair = f"{r['arm']} vs {r['comparator']}" if r.get("arm") and r.get("comparator") else ""
            what = r.get("subgroup") or pair or r["endpoint"]
            if r.get("subgroup") == "both arms pooled" and pair:  # a prognostic comparison across both arms
                what = f"{pair} (both arms pooled)"
            rows.append({
                "regimen": reg["name"], "call": reg["call"], "evidence": ev["id"], "direction": ev["direction"],
                "measure": r["measure"], "endpoint": r["endpoint"], "value": r["value"],
                "low": r["ci_low"], "high": r["ci_high"],
                "label": f"{_short(reg['name'])} · {r.get('trial', '')} {r['endpoint']}: {what}",
            })
    return rows


def forest_svg(regimens: list[dict[str, Any]]) -> str | None:
    """An SVG string, or None when no matched result has a CI. Labels wrap at ``LABEL_WIDTH`` characters
    and the figure grows with the lines, so every label fits at the report's width."""
    rows = effect_rows(regimens)
    if not rows:
        return None
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for r in rows:
        r["wrapped"] = "\n".join(textwrap.wrap(r["label"], LABEL_WIDTH))
    panels = [m for m in ("hazard_ratio", "proportion") if any(r["measure"] == m for r in rows)]
    lines = [sum(r["wrapped"].count("\n") + 1 for r in rows if r["measure"] == m) for m in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9.0, 0.27 * sum(lines) + 0.35 * len(rows) + 1.1 * len(panels)),
                             gridspec_kw={"height_ratios": lines}, squeeze=False)
    for ax, measure in zip(axes[:, 0], panels, strict=True):
        sub = [r for r in rows if r["measure"] == measure]
        ys = list(range(len(sub)))[::-1]
        for y, r in zip(ys, sub, strict=True):
            colour = CALL_COLOURS.get(r["call"], "#333333")
            ax.plot([r["low"], r["high"]], [y, y], color=colour, lw=2)
            ax.plot(r["value"], y, "s", color=colour, ms=7)
            ax.text(1.02, y, f"{r['value']:.2f} ({r['low']:.2f}–{r['high']:.2f})", transform=ax.get_yaxis_transform(),
                    va="center", fontsize=8.5)
        ax.set_yticks(ys, [r["wrapped"] for r in sub], fontsize=8.5)
        ax.set_ylim(-0.6, len(sub) - 0.4)
        if measure == "hazard_ratio":
            ax.set_xscale("log")
            from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

            ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5)
                     if min(r["low"] for r in sub) / 1.3 <= t <= max(r["high"] for r in sub) * 1.3]
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.axvline(1.0, color="#444444", lw=0.8, ls="--")
            ax.set_xlabel("hazard ratio (95% CI; < 1 favours the first-named arm)", fontsize=9)
        else:
            ax.set_xlim(0, 1)
            ax.set_xlabel("response / benefit rate (CI as published)", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    fig.subplots_adjust(left=0.42, right=0.84, hspace=0.5)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]
