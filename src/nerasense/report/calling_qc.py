"""The QC page of ``nerasense call``: coverage along each target with the hotspots marked, on-target fraction,
insert sizes, per-hotspot depth and limit of detection, strand balance, and a plain verdict per hotspot.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import numpy as np

from nerasense.calling.run import CallResult
from nerasense.report.figures import _figure, to_png

_CSS = """body{font-family:sans-serif;max-width:64em;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
td.num{text-align:right}.ok{background:#e6f4ea}.no{background:#fde8e8}.hit{background:#fff3cd;font-weight:bold}
.warn{background:#fff3cd;padding:.5em}img{max-width:100%}small{color:#555}"""


def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f} %"


def _coverage_figure(result: CallResult) -> str:
    """One panel per covered target: depth (bases passing the floors) with hotspot positions marked."""
    pile = result.tumour.pile
    assert pile is not None
    panels = []
    for t in result.targets:
        cp = pile.contigs[t.contig]
        depth = cp.depth[t.start - 1 - cp.offset: t.end - cp.offset]
        if depth.size and depth.max() > 0:
            panels.append((t, depth))
    if not panels:
        return "<p>No target has any read.</p>"
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    fig = _figure(12, 2.2 * rows)
    hot: dict[str, list[Any]] = {}
    for v in result.callset.hotspot_lines:
        hot.setdefault(v.evidence.contig, []).append(v)
    for k, (t, depth) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, k + 1)
        contig = result.contigs[t.contig]
        x = np.arange(contig.to_chrom(t.start), contig.to_chrom(t.end) + 1)
        ax.fill_between(x, depth, step="mid", color="#9ecae1", linewidth=0)
        ax.plot(x, depth, drawstyle="steps-mid", color="#3182bd", linewidth=0.8)
        if result.normal is not None and result.normal.pile is not None:
            ncp = result.normal.pile.contigs[t.contig]
            nd = ncp.depth[t.start - 1 - ncp.offset: t.end - ncp.offset]
            ax.plot(x, nd, drawstyle="steps-mid", color="#636363", linewidth=0.8, linestyle="--")
        labelled = set()
        for v in hot.get(t.contig, []):
            if not t.start <= v.evidence.pos <= t.end:
                continue
            pos = contig.to_chrom(v.evidence.pos)
            colour = "#d62728" if v.called else "#7f7f7f"
            ax.axvline(pos, color=colour, linewidth=0.8, alpha=0.8)
            name = v.hotspot.protein_change.removeprefix("p.") if v.hotspot else ""
            if v.called and name not in labelled:
                ax.text(pos, depth.max() * 1.02, name, color=colour, fontsize=7, ha="center", va="bottom")
                labelled.add(name)
        genes = sorted({v.hotspot.gene for v in hot.get(t.contig, []) if v.hotspot})
        ax.set_title(f"{'/'.join(genes) + ' ' if genes else ''}chr{contig.chrom}:{x[0]:,}-{x[-1]:,}", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_ylim(0, depth.max() * 1.18)
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        ax.set_xticks([x[0], x[-1]])
    fig.supylabel("depth (reads)", fontsize=8)
    fig.tight_layout()
    data = base64.b64encode(to_png(fig)).decode("ascii")
    return (f'<img alt="coverage along each target, hotspots marked" src="data:image/png;base64,{data}">'
            '<p><small>Blue: tumour depth (bases passing the quality floors); dashed grey: normal. Vertical lines: '
            'hotspot alleles (red and labelled: detected; grey: not detected).</small></p>')


def _insert_figure(result: CallResult) -> str:
    pile = result.tumour.pile
    assert pile is not None
    if not pile.insert_sizes:
        return "<p>No proper pairs: insert sizes not available (single-end or unpaired reads).</p>"
    fig = _figure(5, 2.2)
    ax = fig.add_subplot(1, 1, 1)
    sizes = np.asarray(pile.insert_sizes)
    ax.hist(sizes[sizes < np.percentile(sizes, 99.5) + 1], bins=60, color="#74a9cf")
    ax.set_xlabel("insert size (bp)", fontsize=8)
    ax.set_ylabel("pairs", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    data = base64.b64encode(to_png(fig)).decode("ascii")
    return f'<img alt="insert size histogram" src="data:image/png;base64,{data}">'


def _row(cells: list[tuple[str, str]], cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<tr{c}>" + "".join(f'<td class="{k}">{html.escape(v)}</td>' for k, v in cells) + "</tr>"


def qc_page(result: CallResult, payload: dict[str, Any] | None = None) -> str:
    """The whole HTML page (self-contained, images inline)."""
    d = payload if payload is not None else result.to_dict()
    qc = d["qc"]
    verdict_vaf = result.callset.settings["verdict-vaf"]
    samples = [("tumour", qc["tumour"])] + ([("normal", qc["normal"])] if "normal" in qc else [])
    summary = "".join(_row([("", f"{role} ({d['sample'] if role == 'tumour' else d['normal']})"),
                            ("num", f"{q['reads_total']:,}"), ("num", f"{q['reads_mapped']:,}"),
                            ("num", f"{q['reads_on_target']:,}"), ("num", _pct(q["on_target_fraction"])),
                            ("num", _pct(q["on_target_of_all"])),
                            ("num", "–" if q["insert_size"]["median"] is None else
                             f"{q['insert_size']['median']:.0f} ({q['insert_size']['q1']:.0f}–{q['insert_size']['q3']:.0f})"),
                            ("num", _pct(q["forward_fraction"])),
                            ("", ", ".join(f"{k} {v:,}" for k, v in sorted(q["read_types"].items()))),
                            ("", ", ".join(f"{k} {v:,}" for k, v in sorted(q["skipped"].items())) or "–")])
                      for role, q in samples)
    hot_rows = []
    for h in d["hotspots"]:
        ok = h["verdict"].startswith("adequate") or h["status"] == "detected"
        cls = "hit" if h["status"] == "detected" else ("ok" if ok else "no")
        strand = f"{h['alt_forward']}/{h['alt_reverse']}" if h["alt_count"] else "–"
        hot_rows.append(_row([
            ("", h["gene"] or ""), ("", (h["protein_change"] or "").removeprefix("p.")),
            ("", f"{h['chrom']}:{h['pos']} {h['ref']}>{h['alt']}"),
            ("num", "–" if h["pos_grch38"] is None else str(h["pos_grch38"])),
            ("num", str(h["depth"])), ("num", str(h["alt_count"])), ("", strand),
            ("num", "–" if h["vaf"] is None else
             f"{100 * h['vaf']:.2f} % ({100 * h['vaf_ci_low']:.2f}–{100 * h['vaf_ci_high']:.2f})"),
            ("num", _pct(h["lod"], 2) if h["lod"] is not None else "not reachable"),
            ("", h["status"]), ("", h["verdict"])], cls))
    call_rows = [_row([("", c["gene"] or ""), ("", (c["protein_change"] or "").removeprefix("p.")),
                       ("", f"{c['chrom']}:{c['pos']} {c['ref']}>{c['alt']}"), ("num", str(c["depth"])),
                       ("num", str(c["alt_count"])), ("num", f"{_pct(c['vaf'], 2)}"),
                       ("", f"{c['alt_forward']}/{c['alt_reverse']}"), ("num", f"{c['p_value']:.2g}"),
                       ("", ", ".join(c["filters"]))], "hit" if c["status"] == "detected" else "")
                 for c in d["calls"]]
    per_target = "".join(_row([("", t["target"]), ("", f"chr{result.contigs[t['contig']].chrom}:{t['start']}-{t['end']}"),
                               ("num", f"{t['mean_depth']:.0f}"), ("num", f"{t['median_depth']:.0f}"),
                               ("num", str(t["min_depth"]))]) for t in qc["tumour"]["targets"])
    test = d["test"]
    adequate = sum(1 for h in d["hotspots"] if h["verdict"].startswith("adequate"))
    detected = sum(1 for h in d["hotspots"] if h["status"] == "detected")
    warn = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in d["warnings"])
    tools = ", ".join(f"{k} {v}" for k, v in d["tools"].items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>nerasense call QC — {html.escape(d['sample'])}</title>
<style>{_CSS}</style></head><body>
<h1>Sequencing QC and hotspot calls — {html.escape(d['sample'])}</h1>
<p><strong>Research use only.</strong> nerasense {html.escape(d['software_version'])}, knowledge {html.escape(d['kb_version'])};
{html.escape(tools)}; build {html.escape(d['build'])}; reference {html.escape(d['reference'])}.</p>
{warn}
<p>{detected} hotspot allele(s) detected; {adequate} of {len(d['hotspots'])} not detected with a depth
adequate to exclude {100 * verdict_vaf:g} % VAF.</p>
<h2>Reads</h2>
<table><thead><tr><th>sample</th><th>reads</th><th>mapped</th><th>on target</th><th>on-target fraction (of mapped)</th>
<th>(of all)</th><th>insert size median (IQR)</th><th>forward strand</th><th>read types</th><th>not counted</th></tr></thead>
<tbody>{summary}</tbody></table>
<h2>Coverage along each target</h2>
{_coverage_figure(result)}
<h2>Hotspots: depth, limit of detection, verdict</h2>
<p><small>LOD: the smallest VAF that would be called with {100 * test['lod_probability']:g} % probability at that depth
(beta-binomial background, hotspot family threshold p &lt; {test['hotspot_threshold']:.2g},
at least {test['min_alt_reads']} reads).
VAF interval: exact 95 %. Strand: alt reads forward/reverse.</small></p>
<table><thead><tr><th>gene</th><th>change</th><th>{html.escape(d['build'])}</th><th>GRCh38</th><th>depth</th><th>alt</th><th>strand</th>
<th>VAF (95 % CI)</th><th>LOD</th><th>status</th><th>verdict</th></tr></thead><tbody>{''.join(hot_rows)}</tbody></table>
<h2>All calls</h2>
<p><small>Every allele whose reads exceed the error model ({test['alleles_tested']:,} alleles tested;
p &lt; {test['threshold']:.2g} outside hotspots). Filters: strand_bias, read_end, paralogue, normal, germline.</small></p>
<table><thead><tr><th>gene</th><th>change</th><th>position</th><th>depth</th><th>alt</th><th>VAF</th><th>strand</th><th>p</th>
<th>filter</th></tr></thead><tbody>{''.join(call_rows)}</tbody></table>
<h2>Insert sizes</h2>
{_insert_figure(result)}
<h2>Depth per target</h2>
<table><thead><tr><th>target</th><th>region</th><th>mean</th><th>median</th><th>min</th></tr></thead><tbody>{per_target}</tbody></table>
</body></html>"""


__all__ = ["qc_page"]
