"""The HTML summary of ``nerasense screen``: accounting, prevalence by tumour type (table and figure), an
oncoprint of the ERBB2-altered samples with their co-alterations, a lollipop of ERBB2 alleles along the
protein's regions (``protein_regions.yaml``), regimen criteria, alleles and refused rows. One self-contained
page; the figures are inline SVG written here (no plotting library: the page of a 21-million-row screen is
written in milliseconds, and every mark carries its numbers as a tooltip)."""

from __future__ import annotations

import html
import math
from typing import Any

import polars as pl

from nerasense._version import software_version
from nerasense.screen.summary import ALL_SAMPLES, CELL_ORDER, Screen

CELL_COLOURS = {"amplification": "#d62728", "activating mutation": "#1a9641", "resistance mutation": "#7b3294",
                "other mutation": "#404040", "deep deletion": "#2c7bb6", "gain / loss": "#fdae61"}
EFFECT_COLOURS = {"activating": "#1a9641", "resistance": "#7b3294", "unknown": "#969696", "likely-neutral": "#bdbdbd"}
ONCOPRINT_SAMPLES = 150  # columns drawn; the table lists them all
PREVALENCE_TYPES = 25  # tumour types in the prevalence figure (largest first)
DOMAIN_COLOURS = ["#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada"]


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (steps of 1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _fmt(value: float) -> str:
    return f"{value:g}"


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    """One inline SVG figure (drawn as text: no plotting library, a few milliseconds per figure)."""
    return (f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{_esc(title)}" '
            f'font-family="system-ui, sans-serif" font-size="11">'
            f'<text x="{width / 2:.1f}" y="16" text-anchor="middle" font-size="13">{_esc(title)}</text>'
            + "".join(body) + "</svg></figure>")


def _legend(x: float, y: float, items: list[tuple[str, str]], width: float, *, dot: bool = False) -> tuple[list[str],
                                                                                                          float]:
    """Legend entries (colour, label) laid out in rows from (x, y) within ``width``; the parts and the height."""
    out, cx, cy = [], x, y
    for colour, label in items:
        w = 18 + 6.2 * len(label) + 14
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 16
        mark = (f'<circle cx="{cx + 5:.1f}" cy="{cy - 4:.1f}" r="4.5" fill="{colour}"/>' if dot
                else f'<rect x="{cx:.1f}" y="{cy - 9:.1f}" width="11" height="11" fill="{colour}"/>')
        out.append(mark + f'<text x="{cx + 16:.1f}" y="{cy:.1f}">{_esc(label)}</text>')
        cx += w
    return out, cy - y + 16


def prevalence_figure(tumour_types: pl.DataFrame) -> str:
    """Share of samples with any / activating ERBB2 alteration per tumour type, with exact 95% intervals."""
    c = pl.col
    rows = tumour_types.filter(c("measure").is_in(["erbb2_any", "erbb2_activating"]) & (c("tumour_type") != ALL_SAMPLES))
    order = (rows.filter(c("measure") == "erbb2_any").sort(["denominator", "tumour_type"], descending=[True, False])
             .head(PREVALENCE_TYPES)["tumour_type"].to_list())
    n = {r["tumour_type"]: r["denominator"] for r in rows.filter(c("measure") == "erbb2_any").iter_rows(named=True)}
    series = (("erbb2_any", "#4d4d4d", "any ERBB2 alteration", -5), ("erbb2_activating", "#1a9641",
                                                                     "activating ERBB2 mutation", 5))
    by = {(r["measure"], r["tumour_type"]): r for r in rows.iter_rows(named=True)}
    top = max([100 * r["ci_high"] for r in by.values() if r["ci_high"] is not None] + [1.0])
    ticks = _ticks(top)
    left, width, row_h, top_y = 250, 520, 22, 34
    height = top_y + row_h * max(1, len(order)) + 60
    scale = width / ticks[-1]
    body = []
    for t in ticks:
        x = left + t * scale
        body.append(f'<line x1="{x:.1f}" y1="{top_y}" x2="{x:.1f}" y2="{top_y + row_h * len(order)}" stroke="#e0e0e0"/>'
                    f'<text x="{x:.1f}" y="{top_y + row_h * len(order) + 14}" text-anchor="middle">{_fmt(t)}</text>')
    body.append(f'<text x="{left + width / 2:.1f}" y="{top_y + row_h * len(order) + 32}" text-anchor="middle">'
                "samples (%), exact 95% CI</text>")
    for i, t in enumerate(order):
        y = top_y + row_h * i + row_h / 2
        body.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_esc(f"{t} (n={n[t]})")}</text>')
        for measure, colour, _, dy in series:
            r = by.get((measure, t))
            if r is None or r["proportion"] is None:
                continue
            lo, mid, hi = (left + 100 * r[k] * scale for k in ("ci_low", "proportion", "ci_high"))
            body.append(f'<line x1="{lo:.1f}" y1="{y + dy:.1f}" x2="{hi:.1f}" y2="{y + dy:.1f}" stroke="{colour}"/>'
                        f'<circle cx="{mid:.1f}" cy="{y + dy:.1f}" r="3.5" fill="{colour}">'
                        f'<title>{_esc(t)}: {_pct(r)}</title></circle>')
    legend, _ = _legend(left, height - 10, [(colour, label) for _, colour, label, _ in series], width, dot=True)
    return _svg(left + width + 20, height, body + legend, "ERBB2 alterations by tumour type")


def oncoprint_figure(oncoprint: pl.DataFrame) -> str:
    """Genes (rows) x ERBB2-altered samples (columns), one colour per alteration class, samples sorted by
    their alterations (the usual oncoprint ordering)."""
    genes = oncoprint.group_by("gene").agg(pl.col("sample").n_unique().alias("n")).sort(
        ["n", "gene"], descending=[True, False])["gene"].to_list()
    genes = ["ERBB2"] + [g for g in genes if g != "ERBB2"]
    cell = {(s, g): a for s, g, a in oncoprint.select("sample", "gene", "alteration").iter_rows()}
    samples = sorted(oncoprint["sample"].unique().to_list(),
                     key=lambda s: (*tuple(CELL_ORDER.index(cell[s, g]) if (s, g) in cell else 99 for g in genes), s))
    shown = samples[:ONCOPRINT_SAMPLES]
    total = len(samples)
    left, top_y, cell_h = 110, 30, 16
    cell_w = max(3.0, min(12.0, 900 / max(1, len(shown))))
    grid_w = cell_w * len(shown)
    body = []
    for j, g in enumerate(genes):
        y = top_y + j * cell_h
        share = 100 * sum(1 for s in samples if (s, g) in cell) / max(1, total)
        body.append(f'<text x="{left - 6}" y="{y + cell_h - 4}" text-anchor="end">{_esc(g)} {share:.0f}%</text>')
        for i, s in enumerate(shown):
            a = cell.get((s, g))
            colour = CELL_COLOURS[a] if a else "#eeeeee"
            tip = f"<title>{_esc(s)} {_esc(g)}: {_esc(a)}</title>" if a else ""
            body.append(f'<rect x="{left + i * cell_w:.1f}" y="{y + 1}" width="{max(1.0, cell_w - 1):.1f}" '
                        f'height="{cell_h - 2}" fill="{colour}">{tip}</rect>')
    bottom = top_y + cell_h * len(genes)
    label = f"{len(shown)} of {total} ERBB2-altered samples" if total > len(shown) else f"{total} ERBB2-altered samples"
    body.append(f'<text x="{left + grid_w / 2:.1f}" y="{bottom + 16}" text-anchor="middle">{_esc(label)}</text>')
    present = [k for k in CELL_ORDER if k in set(cell.values())]
    width = max(left + grid_w + 20, 560)
    legend, legend_h = _legend(left, bottom + 38, [(CELL_COLOURS[k], k) for k in present], width - left - 10)
    return _svg(width, bottom + 38 + legend_h, body + legend, "ERBB2-altered samples and their co-alterations")


def lollipop_figure(lollipop: pl.DataFrame, regions: list[dict[str, Any]], length: int | None) -> str:
    """ERBB2 protein changes by residue (height: samples), over the protein's domains."""
    end = length or max([r["end"] for r in regions] + [1])
    top = max([*lollipop["samples"].to_list(), 1])
    ticks = _ticks(top, 4)
    left, width, top_y, plot_h = 60, 860, 40, 190
    x_of = lambda p: left + width * p / (end + 10)  # noqa: E731
    y_of = lambda v: top_y + plot_h * (1 - v / ticks[-1])  # noqa: E731
    body = [f'<line x1="{left}" y1="{top_y}" x2="{left}" y2="{top_y + plot_h}" stroke="#444"/>']
    for t in ticks:
        body.append(f'<line x1="{left - 4}" y1="{y_of(t):.1f}" x2="{left}" y2="{y_of(t):.1f}" stroke="#444"/>'
                    f'<text x="{left - 7}" y="{y_of(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    body.append(f'<text x="16" y="{top_y + plot_h / 2:.1f}" text-anchor="middle" '
                f'transform="rotate(-90 16 {top_y + plot_h / 2:.1f})">samples</text>')
    bar_y = top_y + plot_h + 14
    body.append(f'<rect x="{x_of(1):.1f}" y="{bar_y - 4}" width="{x_of(end) - x_of(1):.1f}" height="8" fill="#dddddd"/>')
    domains = [r for r in regions if r["level"] == "domain"]
    for i, r in enumerate(domains):
        body.append(f'<rect x="{x_of(r["start"]):.1f}" y="{bar_y - 8}" width="{x_of(r["end"] + 1) - x_of(r["start"]):.1f}" '
                    f'height="16" fill="{DOMAIN_COLOURS[i % len(DOMAIN_COLOURS)]}"><title>{_esc(r["name"])} '
                    f'{r["start"]}-{r["end"]}</title></rect>')
    for t in _ticks(end, 6):
        if t <= end:
            body.append(f'<text x="{x_of(t):.1f}" y="{bar_y + 24}" text-anchor="middle">{_fmt(t)}</text>')
    body.append(f'<text x="{left + width / 2:.1f}" y="{bar_y + 40}" text-anchor="middle">'
                "ERBB2 residue (UniProt P04626 numbering)</text>")
    rows = lollipop.sort("samples").iter_rows(named=True)  # the tallest drawn last, on top
    for row in rows:
        x, y = x_of(row["position"]), y_of(row["samples"])
        colour = EFFECT_COLOURS.get(row["effect"], "#969696")
        body.append(f'<line x1="{x:.1f}" y1="{top_y + plot_h}" x2="{x:.1f}" y2="{y:.1f}" stroke="#9e9e9e"/>'
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}" stroke="white" stroke-width="0.6">'
                    f'<title>{_esc(row["protein_change"])} ({_esc(row["effect"])}): {row["samples"]} samples</title>'
                    "</circle>")
    for row in lollipop.sort("samples", descending=True).head(8).iter_rows(named=True):
        body.append(f'<text x="{x_of(row["position"]):.1f}" y="{y_of(row["samples"]) - 8:.1f}" text-anchor="middle" '
                    f'font-size="10">{_esc(row["protein_change"].removeprefix("p."))}</text>')
    items = [(DOMAIN_COLOURS[i % len(DOMAIN_COLOURS)], f"{r['name']} {r['start']}-{r['end']}")
             for i, r in enumerate(domains)]
    items += [(v, f"effect: {k}") for k, v in EFFECT_COLOURS.items() if k in set(lollipop["effect"].to_list())]
    legend, legend_h = _legend(left, bar_y + 64, items, width)
    return _svg(left + width + 20, bar_y + 64 + legend_h, body + legend, "ERBB2 protein changes along the protein")


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


def _vocabulary_section(vocabulary: dict[str, Any]) -> str:
    """Which tumour vocabulary was read; for TCGA studies the map's version and each study's mapping."""
    name = vocabulary.get("name", "oncotree")
    said = {"oncotree": "OncoTree codes, rolled up to the OncoTree main type",
            "label": "labels kept as given (no OncoTree main types; tumour-type criteria stay undecided)",
            "tcga": "TCGA study abbreviations, mapped to OncoTree codes and then rolled up to the main type"}
    head = f"<h2>Tumour vocabulary</h2>\n<p>{html.escape(said.get(name, name))}."
    if name != "tcga":
        return head + "</p>"
    rows = [[st["study"], st["name"], st["oncotree"] or "–", st["oncotree_name"] or "–", st["main_type"] or "–",
             st["match"], st["verification"] + (" (unverified)" if st["verification"] == "U" else ""),
             st["note"] or "", st["samples"]] for st in vocabulary["studies"]]
    table = _table(["TCGA study", "study name", "OncoTree code", "OncoTree name", "main type", "match", "tag",
                    "note", "samples"], rows)
    return head + f" Map: {html.escape(vocabulary['map'])}.</p>\n{table}"


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
    figures = [prevalence_figure(tt)]
    if screen.oncoprint.height:
        figures.append(oncoprint_figure(screen.oncoprint))
    if screen.lollipop.height:
        figures.append(lollipop_figure(screen.lollipop, screen.regions, screen.protein_length))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in [*screen.notes, *screen.warnings])
    vocab = _vocabulary_section(screen.vocabulary)
    files = ", ".join(html.escape(f) for f in a["files"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nerasense screen</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1150px; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }}
table {{ border-collapse: collapse; font-size: 12px; margin: .5em 0; }}
th, td {{ border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }} figure {{ margin: .8em 0; overflow-x: auto; }} svg {{ display: block; }}
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
{vocab}
<h2>Prevalence by tumour type (OncoTree main type, or the labels given; count, %, exact 95% CI)</h2>
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
