"""From a patient file to an assessment: reading (ingest), plasma interpretation and the engine, in one
place for the CLI, the benchmarks and the tests. Sits beside ``cli`` and may import every layer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerasense._version import software_version
from nerasense.domain.alterations import Alteration
from nerasense.domain.patient import Patient, SequencingFile
from nerasense.engine.assess import Assessment, assess_patient
from nerasense.errors import InputError, Problem
from nerasense.ingest.patient import (
    emergent_alterations,
    load_patient_data,
    patient_alterations,
    patient_ctdna_series,
    patient_problems,
)
from nerasense.ingest.variant_text import alteration_from_text
from nerasense.interpret.ctdna import CtdnaFindings, interpret_ctdna
from nerasense.interpret.her2_testing import parse_her2_tests
from nerasense.knowledge import KnowledgeBase, default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge


@dataclass
class PreparedPatient:
    patient: Patient
    alterations: list[Alteration] | None
    ctdna: CtdnaFindings | None
    read_calls: list[dict[str, Any]] = field(default_factory=list)  # hotspot summaries of reads called here


def check_patient_file(path: Path, kb: KnowledgeBase, allowed: Sequence[Path] = (),
                       gk: GenomicsKnowledge | None = None) -> Patient:
    """Read and check a patient file, every problem in one pass: schema, id, HER2 tests, tumour type,
    therapies, typed alterations and the files it names (confined to the file's folder or ``allowed``)."""
    path = Path(path)
    raw = load_patient_data(path)
    patient, problems = patient_problems(raw, path.name, path.resolve().parent, kb, allowed)
    typed = raw.get("alterations") if isinstance(raw, dict) else None
    for i, rep in enumerate(typed if isinstance(typed, list) else []):
        if not (isinstance(rep, dict) and isinstance(rep.get("gene"), str) and isinstance(rep.get("change"), str)):
            continue  # the schema check names what is wrong with it
        try:
            alteration_from_text(rep["gene"], rep["change"], gk or GenomicsKnowledge(kb))
        except InputError as err:
            problems += [Problem(f"alterations[{i}].{p.field}", p.value, p.allowed, p.fix, path.name)
                         for p in err.problems]
    her2 = raw.get("her2") if isinstance(raw, dict) else None
    if isinstance(her2, dict):
        pid = raw.get("patient_id") if isinstance(raw.get("patient_id"), str) else path.name
        try:
            parse_her2_tests(her2, where=f"{pid}: her2")
        except InputError as err:
            problems += [Problem(f"her2.{p.field}", p.value, p.allowed, p.fix, p.where) for p in err.problems]
    if problems:
        raise InputError(problems)
    assert patient is not None
    return patient


def prepare(path: Path, kb: KnowledgeBase, gk: GenomicsKnowledge | None = None,
            allowed: Sequence[Path] = ()) -> PreparedPatient:
    """Read a patient file with its sequencing and plasma files (paths relative to the patient file, and
    confined to its folder or to ``allowed``)."""
    path = Path(path)
    gk = gk or GenomicsKnowledge(kb)
    patient = check_patient_file(path, kb, allowed, gk)
    base = path.resolve().parent
    patient, read_calls, call_dirs = call_patient_reads(patient, kb, base, allowed)
    alterations = patient_alterations(patient, gk, base, [*allowed, *call_dirs])
    series = patient_ctdna_series(patient, kb, base, allowed, call_reads=_series_reads_caller(patient, kb, base, allowed))
    findings = interpret_ctdna(series, kb) if series is not None else None
    if findings is not None:
        emergent = emergent_alterations(findings.emergent, patient.patient_id, gk)
        if emergent:
            alterations = (alterations or []) + emergent
    return PreparedPatient(patient, alterations, findings, read_calls)


def _series_reads_caller(patient: Patient, kb: KnowledgeBase, base: Path, allowed: Sequence[Path]
                         ) -> Callable[[list[Path]], Path] | None:
    """When the patient file names a reference for its ctDNA series, reads in the series become VCFs this way."""
    c = patient.ctdna
    if c is None or not c.reference:
        return None
    from nerasense.calling.run import call_reads_cached
    from nerasense.safe_io import confine

    where = patient.patient_id
    reference = confine(c.reference, base, field="ctdna.reference", allowed=allowed, where=where)
    targets = confine(c.targets, base, field="ctdna.targets", allowed=allowed, where=where) if c.targets else None

    def call(paths: list[Path]) -> Path:
        return call_reads_cached(paths, reference, kb, targets=targets)[0]

    return call


def call_patient_reads(patient: Patient, kb: KnowledgeBase, base: Path, allowed: Sequence[Path] = ()
                       ) -> tuple[Patient, list[dict[str, Any]], list[Path]]:
    """Sequencing entries of ``format: reads`` (FASTQ or BAM) called with ``nerasense call`` (cached) and
    replaced by the VCF it writes; returns the patient, each call's hotspot summary and the folders written."""
    if not any(f.format == "reads" for f in patient.sequencing):
        return patient, [], []
    from nerasense.calling.run import call_reads_cached, hotspot_summary
    from nerasense.safe_io import confine

    entries: list[SequencingFile] = []
    summaries: list[dict[str, Any]] = []
    folders: list[Path] = []
    for i, f in enumerate(patient.sequencing):
        if f.format != "reads":
            entries.append(f)
            continue

        def place(name: str, key: str, i: int = i) -> Path:
            return confine(name, base, field=f"sequencing[{i}].{key}", allowed=allowed, where=patient.patient_id)

        reads = [place(f.path, "path")] + ([place(f.mate, "mate")] if f.mate else [])
        assert f.reference is not None  # the model requires it for reads
        vcf, payload = call_reads_cached(reads, place(f.reference, "reference"), kb,
                                         targets=place(f.targets, "targets") if f.targets else None, sample=f.sample)
        summaries.append({**hotspot_summary(payload), "origin": f.origin, "entry": f"sequencing[{i}]"})
        folders.append(vcf.parent)
        entries.append(SequencingFile(path=str(vcf), format="vcf", sample=None, origin=f.origin))
    return patient.model_copy(update={"sequencing": entries}), summaries, folders


def assess_file(path: Path, kb: KnowledgeBase | None = None, gk: GenomicsKnowledge | None = None,
                region: str | None = None, allowed: Sequence[Path] = ()) -> Assessment:
    kb = kb or default_knowledge()
    gk = gk or GenomicsKnowledge(kb)
    prepared = prepare(path, kb, gk, allowed)
    return assess_patient(prepared.patient, kb, prepared.alterations, software_version=software_version(),
                          ctdna=prepared.ctdna, gk=gk, region=region)
