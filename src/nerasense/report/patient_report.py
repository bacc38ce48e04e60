"""The patient report: a self-contained HTML page (and PDF through WeasyPrint) a tumour board can read
in two minutes — summary first, then the evidence regimen by regimen, the figure, eligibility, dosing,
interactions, citations, versions and the research-use-only statement."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from nerasense.errors import InputError, Problem
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.oncotree import oncotree
from nerasense.knowledge.schema import EvidenceItem
from nerasense.report.evidence_figure import CALL_COLOURS, forest_svg
from nerasense.safe_io import atomic_output, atomic_write, output_error


def fmt_num(v: Any) -> str:
    """A number for people: 52 not 52.0, 0.58 not 0.580000, thousands as given; '—' for missing."""
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.4g}"


def fmt_pct(v: Any) -> str:
    """A fraction as a percentage with at most one decimal: 0.16 → 16%, 0.3608 → 36.1%."""
    if v is None:
        return "—"
    pct = round(100 * float(v), 1)
    return f"{int(pct)}%" if pct.is_integer() else f"{pct:.1f}%"


MEASURE_UNITS = {"median_months": "months (median)", "median_weeks": "weeks (median)",
                 "mean_months": "months (mean)", "count": "", "probability": "(probability)"}


def outcome_text(e: dict[str, Any]) -> str:
    """One published result in words, e.g. 'ORR 16% (exact 95% CI 4.5–36.1%; 4 of 25)'."""
    level = f"{fmt_num(100 * float(e.get('ci_level') or 0.95))}%"
    if e.get("measure") == "proportion":
        text = f"{e['endpoint']} {fmt_pct(e['value'])}"
        parts = []
        if e.get("exact_ci_low") is not None:
            parts.append(f"exact {level} CI {fmt_pct(e['exact_ci_low'])}–{fmt_pct(e['exact_ci_high'])}")
        elif e.get("ci_low") is not None:
            parts.append(f"{level} CI {fmt_pct(e['ci_low'])}–{fmt_pct(e['ci_high'])}")
        if e.get("responders") is not None and e.get("n"):
            parts.append(f"{e['responders']} of {e['n']}")
        elif e.get("n"):
            parts.append(f"n = {e['n']}")
        return text + (f" ({'; '.join(parts)})" if parts else "")
    if e.get("measure") == "hazard_ratio":
        text = f"{e['endpoint']} HR {fmt_num(e['value'])}"
        parts = []
        if e.get("ci_low") is not None:
            parts.append(f"{level} CI {fmt_num(e['ci_low'])}–{fmt_num(e['ci_high'])}")
        if e.get("n"):
            parts.append(f"n = {e['n']}")
        return text + (f" ({'; '.join(parts)})" if parts else "")
    unit = MEASURE_UNITS.get(str(e.get("measure")), "")
    return f"{e['endpoint']} {fmt_num(e['value'])} {unit}".strip() + (f" (n = {e['n']})" if e.get("n") else "")


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("nerasense.report", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = fmt_pct
    env.filters["num"] = fmt_num
    env.filters["outcome"] = outcome_text
    env.filters["score"] = lambda v: f"{v:.2f}".rstrip("0").rstrip(".") if v is not None else "—"
    return env


def citations(assessment: dict[str, Any], kb: KnowledgeBase) -> list[dict[str, str]]:
    """Every source the report rests on, numbered in order of first use."""
    seen: list[str] = []

    def add(source: str | None) -> None:
        if source and source not in seen:
            seen.append(source)

    for rule in assessment["her2"]["rules"]:
        add(rule["source"])
    for reg in assessment["regimens"]:
        for ev in reg["evidence"]:
            add(ev["source"])
            if ev.get("result"):
                add(ev["result"].get("source"))
    for trial in assessment["eligibility"]:
        for c in trial["criteria"]:
            add(c["source"])
    for finding in (assessment.get("interactions") or {}).get("findings", []):
        add(finding.get("source"))
    for source in (assessment.get("ctdna") or {}).get("sources", []):
        add(source)
    sources = kb.sources
    return [{"n": str(i + 1), "id": s, "citation": sources[s].citation, "locator": _locator(sources[s])}
            for i, s in enumerate(seen) if s in sources]


def _locator(src: Any) -> str:
    """PMID, DOI, NCT or URL — never the project's seed file name (the citation names the document)."""
    if src.pmid:
        return f"PMID {src.pmid}"
    if src.doi:
        return f"doi:{src.doi}"
    if src.nct:
        return src.nct
    return src.url or ""


def _dose_text(day: dict[str, Any]) -> str:
    parts = []
    for d in day["doses"]:
        amount = f"{d['amount_mg']:g} mg" if d.get("amount_mg") is not None else f"{d['dose']:g} {d['basis']}"
        times = {1: "", 2: " twice daily"}.get(d["times_per_day"], f" ×{d['times_per_day']}/day")
        parts.append(f"{d['drug']} {amount}{times} ({d['route']})")
    return "; ".join(parts) or "no anticancer drug"


def condensed_calendar(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive days with the same doses and loperamide advice as one row ("Days 1-7")."""
    rows: list[dict[str, Any]] = []
    for day in days:
        text = _dose_text(day)
        if rows and rows[-1]["text"] == text and rows[-1]["loperamide"] == day.get("loperamide"):
            rows[-1]["last"] = day
            continue
        rows.append({"first": day, "last": day, "text": text, "loperamide": day.get("loperamide")})
    return [{
        "dates": r["first"]["date"] + ("" if r["first"] is r["last"] else f" – {r['last']['date']}"),
        "days": f"C{r['first']['cycle']} D{r['first']['day']}"
        + ("" if r["first"] is r["last"] else f"–{r['last']['day']}"),
        "text": r["text"], "loperamide": r["loperamide"],
    } for r in rows]


HER2_INPUT_WORDS = {
    "ihc": "IHC", "ish_ratio": "ISH HER2/CEP17 ratio", "her2_signals": "HER2 signals/cell",
    "cep17_signals": "CEP17 signals/cell", "single_probe": "single-probe ISH", "recount_ratio": "recount ratio",
    "recount_her2_signals": "recount HER2 signals/cell", "recount_cep17_signals": "recount CEP17 signals/cell",
    "pct_1plus": "% cells 1+", "pct_2plus": "% cells 2+", "pct_3plus": "% cells 3+", "hermark_h2t": "HERmark H2T (RF/mm²)",
    "p95": "p95HER2 (RF/mm²)", "pct_amplified_cells": "% amplified cells", "specimen": "specimen",
}


def _her2_inputs(her2: dict[str, Any]) -> list[str]:
    return [f"{HER2_INPUT_WORDS.get(k, k)} {fmt_num(v)}" for k, v in (her2.get("inputs") or {}).items()]


def _source_name(ev: dict[str, Any], kb: KnowledgeBase) -> str:
    """Where an evidence item comes from, in words: the trial's name, else the first words of its citation."""
    if ev.get("trial") and ev["trial"] in kb.trials:
        return kb.trials[ev["trial"]].name
    citation = kb.sources[ev["source"]].citation if ev.get("source") in kb.sources else ev.get("source", "")
    return citation.split(".")[0].split(" (")[0]


def _changing_tests(assessment: dict[str, Any], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Missing tests that could move a call, in words: which regimen's call to what, and which trials wait."""
    names = {r["regimen_id"]: r for r in assessment["regimens"]}
    items = {e.id: e for e in kb.of("evidence", EvidenceItem)}
    out = []
    for m in assessment["missing_tests"]:
        if not m["would_change_call_to"]:
            continue
        moves = []
        for change in m["would_change_call_to"]:
            rid, _, call = change.partition(": ")
            reg = names.get(rid)
            if reg and call == "decides whether the regimen applies":
                moves.append(f"{reg['name']}: decides whether it applies")
            else:
                moves.append(f"{reg['name']}: {reg['call']} → {call}" if reg and call else change)
        waiting = []
        for ev_id in m["evidence"]:
            item = items.get(ev_id)
            label = _source_name({"trial": item.trial, "source": item.source}, kb) if item else ev_id
            if label not in waiting:
                waiting.append(label)
        out.append({"test": m["test"], "moves": moves, "waiting": waiting})
    return out


def render_html(assessment: dict[str, Any], kb: KnowledgeBase, patient: dict[str, Any]) -> str:
    cites = citations(assessment, kb)
    number = {c["id"]: c["n"] for c in cites}
    regimens = sorted(assessment["regimens"], key=lambda r: (r.get("rank") or 0, r["name"]))
    for reg in regimens:
        for ev in reg["evidence"]:
            ev["source_name"] = _source_name(ev, kb)
    for d in assessment.get("dosing", []):
        d["condensed"] = condensed_calendar(d.get("days", []))
    tree = oncotree(kb)
    code = (patient.get("tumour_type") or "").strip().upper()
    tumour = f"{tree.name[code]} ({code})" if code and code in tree else (patient.get("tumour_type") or "")
    template = _environment().get_template("patient.html.j2")
    return template.render(
        a=assessment, p=patient, regimens=regimens, cites=cites, number=number, colours=CALL_COLOURS,
        applicable=[r for r in regimens if r["call"] != "not applicable"],
        not_applicable=[r for r in regimens if r["call"] == "not applicable"],
        figure=forest_svg([r for r in regimens if r["call"] != "not applicable"]), generated=dt.date.today().isoformat(),
        tumour=tumour, her2_inputs=_her2_inputs(assessment["her2"]), changing=_changing_tests(assessment, kb),
    )


def write_report(assessment: dict[str, Any], kb: KnowledgeBase, patient: dict[str, Any], target: Path) -> Path:
    """Write ``.html`` or ``.pdf`` (chosen by the suffix); written whole or not at all."""
    suffix = target.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise InputError(Problem("-o", str(target), "a path ending in .html or .pdf"))
    html = render_html(assessment, kb, patient)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(target, exc) from None
    if suffix != ".pdf":
        return atomic_write(target, html)
    from weasyprint import HTML

    with atomic_output(target) as partial:
        HTML(string=html).write_pdf(str(partial))
    return target
