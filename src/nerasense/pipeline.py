"""From a patient file to an assessment: reading (ingest), plasma interpretation and the engine, in one
place for the CLI, the benchmarks and the tests. Sits beside ``cli`` and may import every layer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nerasense._version import software_version
from nerasense.domain.alterations import Alteration
from nerasense.domain.patient import Patient
from nerasense.engine.assess import Assessment, assess_patient
from nerasense.ingest.patient import emergent_alterations, patient_alterations, patient_ctdna_series, read_patient
from nerasense.interpret.ctdna import CtdnaFindings, interpret_ctdna
from nerasense.knowledge import KnowledgeBase, default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge


@dataclass
class PreparedPatient:
    patient: Patient
    alterations: list[Alteration] | None
    ctdna: CtdnaFindings | None


def prepare(path: Path, kb: KnowledgeBase, gk: GenomicsKnowledge | None = None) -> PreparedPatient:
    """Read a patient file with its sequencing and plasma files (paths relative to the patient file)."""
    path = Path(path)
    gk = gk or GenomicsKnowledge(kb)
    patient = read_patient(path)
    base = path.resolve().parent
    alterations = patient_alterations(patient, gk, base)
    series = patient_ctdna_series(patient, kb, base)
    findings = interpret_ctdna(series, kb) if series is not None else None
    if findings is not None:
        emergent = emergent_alterations(findings.emergent, patient.patient_id, gk)
        if emergent:
            alterations = (alterations or []) + emergent
    return PreparedPatient(patient, alterations, findings)


def assess_file(path: Path, kb: KnowledgeBase | None = None, gk: GenomicsKnowledge | None = None,
                region: str | None = None) -> Assessment:
    kb = kb or default_knowledge()
    gk = gk or GenomicsKnowledge(kb)
    prepared = prepare(path, kb, gk)
    return assess_patient(prepared.patient, kb, prepared.alterations, software_version=software_version(),
                          ctdna=prepared.ctdna, gk=gk, region=region)
