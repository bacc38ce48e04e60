"""``nerasense assess PATIENT_FILE [-o report.html|report.pdf] [--json]``: a call for every regimen."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, add_json_flag
from nerasense.knowledge import default_knowledge
from nerasense.pipeline import prepare
from nerasense.report.answers import assessment_answer


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assess", help="assess a patient file: a call, evidence and expected outcome per regimen",
                       description="Assess one patient (YAML or JSON, schema in docs/patient-file.md).")
    p.add_argument("patient_file", type=Path, metavar="PATIENT_FILE")
    p.add_argument("-o", "--output", type=Path, default=None, help="write the report (.html or .pdf)")
    p.add_argument("--region", choices=["US", "EU"], default=None,
                   help="label region (contraindications, hepatic rule, label populations); overrides the patient "
                   "file's region; US when neither says")
    p.add_argument("--allow-dir", type=Path, action="append", default=[], metavar="FOLDER",
                   help="a folder (besides the patient file's own) that files named in the patient file may lie in")
    add_json_flag(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    kb = default_knowledge()
    prepared = prepare(args.patient_file, kb, allowed=args.allow_dir)
    patient = prepared.patient
    payload = assessment_answer(prepared, kb, args.region)
    if args.output is not None:
        from nerasense.report.patient_report import write_report

        written = write_report(payload, kb, patient.model_dump(mode="json"), args.output)
        payload["report"] = str(written)
    return CommandResult(payload, _text(payload))


def _text(a: dict[str, Any]) -> str:
    from nerasense.report.patient_report import outcome_text

    her2 = a["her2"]
    lines = [f"{a['patient_id']}  (nerasense {a['software_version']}, knowledge {a['kb_version']}; label region "
             f"{a['region']}; research use only)",
             f"HER2: {her2['result'] or 'no result'} / {her2['category'] or '—'}"
             + (f"   [{her2['scheme']['name']}]" if her2.get("scheme") else "")]
    for r in sorted(a["regimens"], key=lambda r: r["rank"]):
        exp = r["expected"]
        outcome = f"  {outcome_text(exp)} [{exp['trial']}]" if exp else ""
        level = (r["level_equivalents"] or {}).get("oncokb") or ""
        lines.append(f"  {r['rank']:>2}. {r['name']:<52} {r['call']:<18} {level:<9}{outcome}")
    changing = [m for m in a["missing_tests"] if m["would_change_call_to"]]
    if changing:
        lines.append("tests that could change a call: " + "; ".join(m["test"] for m in changing))
    if a.get("report"):
        lines.append(f"report: {a['report']}")
    return "\n".join(lines)
