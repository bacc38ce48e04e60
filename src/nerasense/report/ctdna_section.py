"""The ctDNA section of the patient report: a plain dict the report templates (and the JSON report)
render. Every sentence that rests on the KCSG cut-off carries its in-sample caveat."""

from __future__ import annotations

from typing import Any

from nerasense.interpret.ctdna import CtdnaFindings


def ctdna_report_section(findings: CtdnaFindings, figure: str | None = None) -> dict[str, Any]:
    """Title, short summary lines, flags for the engine, missing tests, caveats and sources."""
    d = findings.to_dict()
    lines: list[str] = []
    caveats: list[str] = []
    b = d["baseline"]
    if b is None:
        lines.append("No baseline plasma sample passed QC.")
    else:
        tf = b["tumour_fraction"]["text"] if b["tumour_fraction"] else "not measured"
        lines.append(f"Baseline ({b['date']}): plasma tumour fraction {tf}, {b['tumour_fraction_category']} against the "
                     f"KCSG AL20-17 cut-off of {100 * b['cutoff']:g}% [{b['cutoff_source']}].")
        if b["tumour_fraction"]:
            caveats.append(b["cutoff_caveat"])
        erbb2 = b["erbb2"]
        if erbb2["tissue_alterations_in_plasma"] is False:
            lines.append("The tissue ERBB2 alteration was not found in baseline plasma.")
        elif erbb2["plasma_detected"]:
            lines.append(f"ERBB2 in baseline plasma: {', '.join(erbb2['plasma_detected'])}.")
    for m in d["molecular_response"]:
        if m["status"] not in ("not-applicable",):
            tag = " (our convention)" if m["convention"] else f" [{m['source']}]"
            lines.append(f"Molecular response — {m['name']}{tag}: {m['status']}. {m['detail']}".rstrip())
    for e in d["emergent"]:
        lines.append(f"New on treatment: {e['gene']} {e['alteration']} ({e['first_date']}; {e['role']}). "
                     f"{e['certainty']['statement']}.")
    for r in d["rising"]:
        lines.append(f"Rising: {r['gene']} {r['alteration']} at {r['sample']} ({r['date']}).")
    for x in d["excluded"]:
        lines.append(f"Excluded: sample {x['sample_id']} ({x['date']}), {x['reason']}.")
    sources = sorted({f["source"] for f in d["rules"]} | {s for f in d["flags"] for s in f["sources"]})
    return {
        "id": "ctdna",
        "title": "Liquid biopsy (ctDNA)",
        "summary": lines,
        "flags": d["flags"],
        "prognostic_modifiers": findings.prognostic_modifiers,
        "resistance_flags": findings.resistance_flags,
        "missing_tests": d["missing_tests"],
        "caveats": caveats + [w for w in d["warnings"] if w not in caveats],
        "sources": sources,
        "figure": figure,
        "kb_version": findings.kb_version,
        "research_use_only": True,
    }


__all__ = ["ctdna_report_section"]
