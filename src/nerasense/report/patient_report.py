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
from nerasense.report.evidence_figure import CALL_COLOURS, forest_svg
from nerasense.safe_io import atomic_output, atomic_write, output_error

CALL_ORDER = ["resistance", "likely benefit", "possible benefit", "unlikely benefit", "insufficient data",
              "not applicable"]


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("nerasense.report", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    env.filters["num"] = lambda v: "—" if v is None else f"{v:g}"
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
    return [{"n": str(i + 1), "id": s, "citation": sources[s].citation, "locator": sources[s].locator}
            for i, s in enumerate(seen) if s in sources]


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


def render_html(assessment: dict[str, Any], kb: KnowledgeBase, patient: dict[str, Any]) -> str:
    cites = citations(assessment, kb)
    number = {c["id"]: c["n"] for c in cites}
    regimens = sorted(assessment["regimens"], key=lambda r: (CALL_ORDER.index(r["call"]), r["name"]))
    for d in assessment.get("dosing", []):
        d["condensed"] = condensed_calendar(d.get("days", []))
    template = _environment().get_template("patient.html.j2")
    return template.render(
        a=assessment, p=patient, regimens=regimens, cites=cites, number=number, colours=CALL_COLOURS,
        applicable=[r for r in regimens if r["call"] != "not applicable"],
        not_applicable=[r for r in regimens if r["call"] == "not applicable"],
        figure=forest_svg(regimens), generated=dt.date.today().isoformat(),
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
