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
    for section in ("dosing", "interactions"):
        for row in assessment.get(section) or []:
            for key in ("source", "sources"):
                value = row.get(key) if isinstance(row, dict) else None
                for s in ([value] if isinstance(value, str) else value or []):
                    add(s)
    sources = kb.sources
    return [{"n": str(i + 1), "id": s, "citation": sources[s].citation, "locator": sources[s].locator}
            for i, s in enumerate(seen) if s in sources]


def render_html(assessment: dict[str, Any], kb: KnowledgeBase, patient: dict[str, Any]) -> str:
    cites = citations(assessment, kb)
    number = {c["id"]: c["n"] for c in cites}
    regimens = sorted(assessment["regimens"], key=lambda r: (CALL_ORDER.index(r["call"]), r["name"]))
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
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    if suffix == ".pdf":
        from weasyprint import HTML

        HTML(string=html).write_pdf(str(partial))
    else:
        partial.write_text(html, encoding="utf-8")
    partial.replace(target)
    return target
