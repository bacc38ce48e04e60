"""The HTML summary of ``nerasense screen``: accounting, prevalence by tumour type (table and figure), an
oncoprint of the ERBB2-altered samples with their co-alterations, a lollipop of ERBB2 alleles along the
protein's regions (``protein_regions.yaml``), regimen criteria, alleles and refused rows. One self-contained
page (figures as embedded PNG)."""

from __future__ import annotations

import base64
import html
from typing import Any

import polars as pl

from nerasense._version import software_version
from nerasense.report.figures import _figure, to_png
from nerasense.screen.summary import ALL_SAMPLES, CELL_ORDER, Screen

CELL_COLOURS = {"amplification": "#d62728", "activating mutation": "#1a9641", "resistance mutation": "#7b3294",
                "other mutation": "#404040", "deep deletion": "#2c7bb6", "gain / loss": "#fdae61"}
EFFECT_COLOURS = {"activating": "#1a9641", "resistance": "#7b3294", "unknown": "#969696", "likely-neutral": "#bdbdbd"}
ONCOPRINT_SAMPLES = 150  # columns drawn; the table lists them all
PREVALENCE_TYPES = 25  # tumour types in the prevalence figure (largest first)
DOMAIN_COLOURS = ["#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada"]


def _img(fig: Any, alt: str) -> str:
    data = base64.b64encode(to_png(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def prevalence_figure(tumour_types: pl.DataFrame) -> Any:
    """Share of samples with any / activating ERBB2 alteration per tumour type, with exact 95% intervals."""
    c = pl.col
    rows = tumour_types.filter(c("measure").is_in(["erbb2_any", "erbb2_activating"]) & (c("tumour_type") != ALL_SAMPLES))
    order = (rows.filter(c("measure") == "erbb2_any").sort(["denominator", "tumour_type"], descending=[True, False])
             .head(PREVALENCE_TYPES)["tumour_type"].to_list())
    fig = _figure(8, max(2.5, 0.32 * len(order) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    for offset, measure, colour, label in ((-0.18, "erbb2_any", "#4d4d4d", "any ERBB2 alteration"),
                                           (0.18, "erbb2_activating", "#1a9641", "activating ERBB2 mutation")):
        sub = {r["tumour_type"]: r for r in rows.filter(c("measure") == measure).iter_rows(named=True)}
        ys, xs, lo, hi = [], [], [], []
        for i, t in enumerate(order):
            r = sub.get(t)
            if r is None or r["proportion"] is None:
                continue
            ys.append(i + offset)
            xs.append(100 * r["proportion"])
            lo.append(100 * (r["proportion"] - r["ci_low"]))
            hi.append(100 * (r["ci_high"] - r["proportion"]))
        ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", color=colour, ms=4, capsize=2, lw=1, label=label)
    n = {r["tumour_type"]: r["denominator"] for r in rows.filter(c("measure") == "erbb2_any").iter_rows(named=True)}
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([f"{t} (n={n[t]})" for t in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("samples (%), exact 95% CI")
    ax.set_xlim(left=0)
    ax.grid(axis="x", color="#e0e0e0", lw=0.6)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title("ERBB2 alterations by tumour type", fontsize=10)
    return fig


def oncoprint_figure(oncoprint: pl.DataFrame) -> Any:
    """Genes (rows) x ERBB2-altered samples (columns), one colour per alteration class, samples sorted by
    their alterations (the usual oncoprint ordering)."""
    genes = oncoprint.group_by("gene").agg(pl.col("sample").n_unique().alias("n")).sort(
        ["n", "gene"], descending=[True, False])["gene"].to_list()
    genes = ["ERBB2"] + [g for g in genes if g != "ERBB2"]
    cell = {(s, g): a for s, g, a in oncoprint.select("sample", "gene", "alteration").iter_rows()}
    samples = sorted(oncoprint["sample"].unique().to_list(),
                     key=lambda s: (*tuple(CELL_ORDER.index(cell[s, g]) if (s, g) in cell else 99 for g in genes), s))
    shown = samples[:ONCOPRINT_SAMPLES]
    fig = _figure(min(16, 2.5 + 0.07 * len(shown)), 0.3 * len(genes) + 1.6)
    ax = fig.add_subplot(1, 1, 1)
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    # one image, not a patch per cell: a cell is its class number (0 = none) in a colour table
    code = {k: i + 1 for i, k in enumerate(CELL_ORDER)}
    grid = [[code.get(cell.get((s, g), ""), 0) for s in shown] for g in genes]
    colours = ListedColormap(["#eeeeee", *(CELL_COLOURS[k] for k in CELL_ORDER)])
    ax.imshow(grid, cmap=colours, vmin=0, vmax=len(CELL_ORDER), aspect="auto", interpolation="nearest")
    ax.set_xticks([x + 0.5 for x in range(len(shown))], minor=True)
    ax.set_yticks([y + 0.5 for y in range(len(genes))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="minor", length=0)
    ax.set_yticks(range(len(genes)))
    total = len(samples)
    ax.set_yticklabels([f"{g} {100 * sum(1 for s in samples if (s, g) in cell) / max(1, total):.0f}%" for g in genes],
                       fontsize=8)
    ax.set_xticks([])
    ax.set_xlabel(f"{len(shown)} of {total} ERBB2-altered samples" if total > len(shown) else f"{total} ERBB2-altered samples",
                  fontsize=8)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    present = [k for k in CELL_ORDER if k in set(cell.values())]
    ax.legend(handles=[Patch(color=CELL_COLOURS[k], label=k) for k in present], fontsize=7, ncol=len(present) or 1,
              loc="upper left", bbox_to_anchor=(0, -0.12 if total <= len(shown) else -0.2), frameon=False)
    ax.set_title("ERBB2-altered samples and their co-alterations", fontsize=10)
    return fig


def lollipop_figure(lollipop: pl.DataFrame, regions: list[dict[str, Any]], length: int | None) -> Any:
    """ERBB2 protein changes by residue (height: samples), over the protein's domains."""
    fig = _figure(10, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    end = length or max([r["end"] for r in regions] + [1])
    top = max([*lollipop["samples"].to_list(), 1])
    for row in lollipop.iter_rows(named=True):
        colour = EFFECT_COLOURS.get(row["effect"], "#969696")
        ax.plot([row["position"], row["position"]], [0, row["samples"]], color="#9e9e9e", lw=0.8, zorder=1)
        ax.scatter([row["position"]], [row["samples"]], color=colour, s=28, zorder=2, edgecolors="white", linewidths=0.5)
    labelled = lollipop.sort("samples", descending=True).head(8)
    for row in labelled.iter_rows(named=True):
        ax.annotate(row["protein_change"].removeprefix("p."), (row["position"], row["samples"]),
                    xytext=(0, 5), textcoords="offset points", ha="center", fontsize=7)
    from matplotlib.patches import Patch, Rectangle

    bar = -0.12 * top
    ax.add_patch(Rectangle((1, bar - 0.04 * top), end, 0.08 * top, color="#dddddd", lw=0))
    domains = [r for r in regions if r["level"] == "domain"]
    for i, r in enumerate(domains):
        ax.add_patch(Rectangle((r["start"], bar - 0.07 * top), r["end"] - r["start"] + 1, 0.14 * top,
                               color=DOMAIN_COLOURS[i % len(DOMAIN_COLOURS)], lw=0))
    ax.legend(handles=[Patch(color=DOMAIN_COLOURS[i % len(DOMAIN_COLOURS)], label=f"{r['name']} {r['start']}-{r['end']}")
                       for i, r in enumerate(domains)]
              + [Patch(color=v, label=f"effect: {k}") for k, v in EFFECT_COLOURS.items()
                 if k in set(lollipop["effect"].to_list())],
              fontsize=7, ncol=3, loc="upper left", bbox_to_anchor=(0, -0.15), frameon=False)
    ax.set_xlim(0, end + 10)
    ax.set_ylim(bar - 0.1 * top, top * 1.2)
    ax.set_xlabel("ERBB2 residue (UniProt P04626 numbering)", fontsize=8)
    ax.set_ylabel("samples", fontsize=8)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.set_title("ERBB2 protein changes along the protein", fontsize=10)
    return fig


def _pct(r: dict[str, Any]) -> str:
    if r["proportion"] is None:
        return "–"
    return (f"{r['count']} ({100 * r['proportion']:.1f}%, "
            f"{100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f})")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_screen(screen: Screen, kb_version: str) -> str:
    c = pl.col
    a = screen.accounting
    tt = screen.tumour_types
    measures = [m for m in ("erbb2_any", "erbb2_activating", "erbb2_amplified", "erbb3_any", "resistance")
                if m in set(tt["measure"].to_list())]
    labels = {r["measure"]: r["label"] for r in tt.select("measure", "label").unique("measure").iter_rows(named=True)}
    rows = []
    for group in tt.filter(c("measure") == "screened")["tumour_type"].to_list():
        sub = {r["measure"]: r for r in tt.filter(c("tumour_type") == group).iter_rows(named=True)}
        rows.append([group, sub["screened"]["count"], *(_pct(sub[m]) if m in sub else "–" for m in measures)])
    prevalence = _table(["tumour type", "screened", *(labels[m] for m in measures)], rows)
    crit_rows = []
    total = {r["measure"]: r for r in tt.filter(c("tumour_type") == ALL_SAMPLES).iter_rows(named=True)}
    for x in screen.criteria:
        r = total.get(x["id"])
        crit_rows.append([x["name"], x["kind"], "; ".join(x["molecular"]), "; ".join(x["not_assessed"]),
                          _pct(r) if r else "–", r["unknown"] if r else "–"])
    criteria = _table(["regimen / trial", "kind", "molecular criteria read", "criteria not assessed (assumed met)",
                       "samples meeting them (95% CI)", "undecided"], crit_rows)
    alleles = screen.alleles.filter(c("tumour_type") == ALL_SAMPLES).sort(["gene", "samples"], descending=[False, True])
    allele_table = _table(["gene", "allele", "effect", "oncogenicity", "hotspot", "samples", "rows"],
                          [[r["gene"], r["allele"], r["effect"], r["oncogenicity"], "yes" if r["hotspot"] else "no",
                            r["samples"], r["rows"]] for r in alleles.head(60).iter_rows(named=True)])
    refused = _table(["record", "reason", "gene", "value"],
                     [[r["record"], r["reason"], r["gene"], r["value"]] for r in screen.rejected.head(50).iter_rows(named=True)])
    figures = [_img(prevalence_figure(tt), "prevalence by tumour type")]
    if screen.oncoprint.height:
        figures.append(_img(oncoprint_figure(screen.oncoprint), "oncoprint of ERBB2-altered samples"))
    if screen.lollipop.height:
        figures.append(_img(lollipop_figure(screen.lollipop, screen.regions, screen.protein_length),
                            "ERBB2 lollipop"))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in [*screen.notes, *screen.warnings])
    files = ", ".join(html.escape(f) for f in a["files"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nerasense screen</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1150px; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }}
table {{ border-collapse: collapse; font-size: 12px; margin: .5em 0; }}
th, td {{ border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }} img {{ max-width: 100%; display: block; margin: .8em 0; }}
.ruo {{ background: #fff3cd; padding: .4em .8em; border: 1px solid #e0c97a; }}
</style></head><body>
<h1>Cohort screen for neratinib-relevant alterations</h1>
<p class="ruo">Research use only. nerasense {html.escape(software_version())}, knowledge base {html.escape(kb_version)}.</p>
<h2>Input</h2>
<p>{files}<br>{a['input_records']:,} input rows in {a['parts']} parts: {a['alterations']:,} alterations,
{a['no_call']:,} no-calls, {a['refused']:,} refused — all accounted for: <b>{'yes' if a['accounted'] else 'NO'}</b>.
{a['duplicate_rows']:,} rows repeat another row's sample, gene and allele (counted once: every figure here counts samples).
{screen.samples.height:,} samples.</p>
<ul>{notes}</ul>
<h2>Prevalence by tumour type (OncoTree main type; count, %, exact 95% CI)</h2>
{prevalence}
{figures[0]}
<h2>ERBB2-altered samples</h2>
{''.join(figures[1:]) or '<p>No ERBB2-altered sample.</p>'}
<h2>Regimens and trials: molecular criteria</h2>
<p>Each regimen's conditions and each trial's eligibility, read over what a mutation table says: tumour type
and DNA alterations. Clinical criteria are not assessed here (listed, counted as met); HER2 protein status
(IHC/ISH) is not in DNA data, so criteria on it stay undecided.</p>
{criteria}
<h2>ERBB2 / ERBB3 and resistance alleles (all samples)</h2>
{allele_table}
<h2>Refused rows (first 50; all in refused.tsv)</h2>
{refused if screen.rejected.height else '<p>None.</p>'}
</body></html>
"""


__all__ = ["lollipop_figure", "oncoprint_figure", "prevalence_figure", "render_screen"]
