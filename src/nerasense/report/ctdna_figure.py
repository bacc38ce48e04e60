"""Per-patient ctDNA timeline: VAF of each tracked mutation and plasma tumour fraction over time, with
limits of detection, treatment start, failed-QC draws and response assessments.

Below-LOD values are drawn as open triangles pointing down at the LOD (the value lies below), never as
zeros. The Agg backend is chosen inside the function, so importing this module draws nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nerasense.interpret.ctdna import CtdnaFindings
from nerasense.safe_io import atomic_output, output_error

_RESPONSE_COLOURS = {"CR": "#1a9850", "PR": "#91cf60", "SD": "#fee08b", "PD": "#d73027", "NE": "#999999"}


def plot_ctdna_timeline(findings: CtdnaFindings, path: Path, dpi: int = 120) -> Path:
    """Write the timeline figure of one patient to ``path`` (PNG, or any format matplotlib knows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = findings.timeline
    samples: list[dict[str, Any]] = t.get("samples", [])
    use_day = all(s["day"] is not None for s in samples)
    xkey = "day" if use_day else "index"

    def x_of(s: dict[str, Any], i: int) -> float:
        return float(s["day"]) if use_day else float(i)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    series: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    for i, s in enumerate(samples):
        if not s["qc_pass"]:
            ax.axvline(x_of(s, i), color="#bbbbbb", linestyle=":", linewidth=1)
            ax.annotate("QC fail", (x_of(s, i), 1.0), xycoords=("data", "axes fraction"), fontsize=7,
                        rotation=90, va="top", ha="right", color="#888888")
            continue
        if s["tumour_fraction"] is not None:
            series.setdefault("tumour fraction", []).append((x_of(s, i), s["tumour_fraction"]))
        for a in s["alterations"]:
            if a["type"] == "mutation" and a["level"] is not None:
                series.setdefault(f"{a['gene']} {a['alteration']}", []).append((x_of(s, i), a["level"]))

    copies: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    for i, s in enumerate(samples):
        if s["qc_pass"]:
            for a in s["alterations"]:
                if a["type"] == "amplification" and a["level"] is not None:
                    copies.setdefault(f"{a['gene']} copies", []).append((x_of(s, i), a["level"]))
    ax2 = None
    if copies:
        # plasma copy number on its own axis: FB-10 reads amplification clearance from it (seed-003)
        ax2 = ax.twinx()
        for name, points in sorted(copies.items()):
            xs = [x for x, _ in points]
            ys = [lv["value"] if lv["value"] is not None else float("nan") for _, lv in points]
            ax2.plot(xs, ys, marker="s", linestyle="-.", color="#7b3294", label=name)
            cens = [(x, lv["lod"]) for x, lv in points if not lv["detected"] and lv["lod"] is not None]
            if cens:
                ax2.scatter([c[0] for c in cens], [c[1] for c in cens], marker="v", facecolors="none",
                            edgecolors="#7b3294", label=f"{name}: not called (below threshold)")
        ax2.set_ylabel("plasma copy number")
        ax2.set_ylim(bottom=0)

    for name, points in sorted(series.items()):
        style: dict[str, Any] = {"linestyle": "--", "color": "black"} if name == "tumour fraction" else {}
        # a censored point breaks the line (NaN): joining across it would draw values we never saw
        xs = [x for x, _ in points]
        ys = [100 * lv["value"] if lv["value"] is not None else float("nan") for _, lv in points]
        measured = any(lv["value"] is not None for _, lv in points)
        line = ax.plot(xs, ys, marker="o", label=name, **style)[0] if measured else None
        colour = line.get_color() if line is not None else style.get("color")
        cens = [(x, 100 * lv["lod"]) for x, lv in points if lv["value"] is None and lv["lod"] is not None]
        if cens:
            ax.scatter([c[0] for c in cens], [c[1] for c in cens], marker="v", facecolors="none",
                       edgecolors=colour or "grey", label=f"{name} < LOD" if line is None else None, zorder=3)
            ax.vlines([c[0] for c in cens], [c[1] / 10 for c in cens], [c[1] for c in cens],
                      colors=colour or "grey", linestyles=":", linewidth=0.8)

    if use_day and t.get("treatment_start"):
        ax.axvline(0, color="#3366cc", linewidth=1.5, label="treatment start")
    for a in t.get("assessments", []):
        if a["day"] is not None and use_day:
            ax.axvline(a["day"], color=_RESPONSE_COLOURS.get(a["response"], "grey"), linewidth=3, alpha=0.5)
            ax.annotate(a["response"], (a["day"], 0.98), xycoords=("data", "axes fraction"), fontsize=8,
                        ha="center", va="top")

    if any(True for pts in series.values() for _, lv in pts if (lv["value"] or lv["lod"] or 0) > 0):
        ax.set_yscale("log")
    ax.set_xlabel("days from treatment start" if xkey == "day" else "sample")
    ax.set_ylabel("VAF / tumour fraction (%)  [open ▽ = below LOD]")
    ax.set_title(f"ctDNA timeline — {findings.patient_id} (research use only)")
    handles, labels = ax.get_legend_handles_labels()
    if ax2 is not None:
        more = ax2.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    if handles:  # one legend under the plot, so it never hides a point
        ax.legend(handles, labels, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3, frameon=False)
    fig.text(0.01, 0.01, f"knowledge {findings.kb_version}", fontsize=6, color="#777777")
    fig.tight_layout()
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as partial:
            fig.savefig(partial, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".").lower() or "png")
    except OSError as exc:
        raise output_error(path, exc) from None
    finally:
        plt.close(fig)
    return path


__all__ = ["plot_ctdna_timeline"]
