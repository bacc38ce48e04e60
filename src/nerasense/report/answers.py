"""The JSON answers that the command line and the service both give (one alteration, one HER2 reading), built
in one place so that ``nerasense variant`` and ``GET /v1/variants`` can never drift apart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nerasense._version import software_version
from nerasense.errors import InputError, Problem
from nerasense.ingest.variant_text import alteration_from_text
from nerasense.interpret.her2_testing import her2_scheme, interpret_her2, parse_her2_tests
from nerasense.interpret.variants import interpret
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.oncotree import oncotree


def stamped(payload: Mapping[str, Any], kb_version: str) -> dict[str, Any]:
    return {"software_version": software_version(), "kb_version": kb_version, **payload}


def variant_answer(gene: str, change: str, kb: KnowledgeBase, gk: GenomicsKnowledge) -> dict[str, Any]:
    """One alteration classified (the keys of ``nerasense variant --json``)."""
    alteration, legacy = alteration_from_text(gene, change, gk)
    vi = interpret(alteration, gk)
    sources = kb.sources
    return stamped({
        "gene": vi.gene,
        "protein_change": vi.protein_change,
        "kind": vi.kind.value,
        "domain": vi.domain,
        "exon": vi.exon,
        "hotspot": vi.hotspot,
        "effect": vi.effect.value,
        "lower_benefit": vi.lower_benefit,
        "evidence": vi.evidence,
        "evidence_details": [
            {"id": s, "citation": sources[s].citation, "locator": sources[s].locator} for s in vi.evidence
        ],
        "oncogenicity": vi.oncogenicity.value,
        "mutation_effect": vi.mutation_effect.value,
        "classification_level": vi.classification_level.value if vi.classification_level else None,
        "classification_evidence": vi.classification_evidence,
        "rules": vi.rules,
        "reason": vi.reason,
        "unverified": vi.unverified,
        "input": {"gene": gene, "change": change, "legacy_name": legacy},
    }, kb.kb_version)


def tumour_path(code: str | None, kb: KnowledgeBase, field: str = "--tumour-type") -> tuple[str, ...] | None:
    """The OncoTree path of ``code`` (itself first), None when no code is given."""
    if code is None:
        return None
    tree = oncotree(kb)
    key = code.strip().upper()
    if key not in tree:
        raise InputError(Problem(field, code, "an OncoTree code (release 2025-10-03)",
                                 "e.g. BRCA, STAD, EGC, COADREAD, GBC"))
    return (key, *tree.ancestors(key))


def her2_answer(raw: Mapping[str, object], tumour_type: str | None, kb: KnowledgeBase,
                field: str = "--tumour-type") -> dict[str, Any]:
    """A HER2 reading (the keys of ``nerasense her2 --json``) from test fields named as in the patient file."""
    path = tumour_path(tumour_type, kb, field)
    scheme = her2_scheme(kb, path)
    tests = parse_her2_tests(dict(raw), where="her2", breast=scheme is None or scheme.id == "breast")
    return stamped(interpret_her2(tests, kb, path).to_dict(), kb.kb_version)


def timeline_data_uri(findings: Any) -> str:
    """The ctDNA timeline figure as a PNG data URI, so an HTML report stays one self-contained file."""
    import base64
    import tempfile
    from pathlib import Path

    from nerasense.report.ctdna_figure import plot_ctdna_timeline

    with tempfile.TemporaryDirectory() as tmp:
        path = plot_ctdna_timeline(findings, Path(tmp) / "timeline.png")
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def assessment_answer(prepared: Any, kb: KnowledgeBase, region: str | None = None) -> dict[str, Any]:
    """The assessment of a prepared patient (:func:`nerasense.pipeline.prepare`) as ``nerasense assess --json``
    gives it, with the ctDNA section and its timeline when the patient has a plasma series."""
    from nerasense.engine.assess import assess_patient
    from nerasense.report.ctdna_section import ctdna_report_section

    assessment = assess_patient(prepared.patient, kb, prepared.alterations, software_version=software_version(),
                                ctdna=prepared.ctdna, region=region)
    payload = assessment.to_dict()
    if getattr(prepared, "read_calls", None):  # reads named in the patient file, called by nerasense call
        payload["read_calls"] = prepared.read_calls
    if prepared.ctdna is not None:
        payload["ctdna"] = ctdna_report_section(prepared.ctdna, timeline_data_uri(prepared.ctdna))
    return payload
