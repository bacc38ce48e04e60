"""Read a patient file (YAML or JSON) into :class:`~nerasense.domain.patient.Patient`, listing every
problem at once with the file name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from nerasense.domain.alterations import Alteration
from nerasense.domain.ctdna import CtdnaSeries
from nerasense.domain.patient import AGENT_ALIASES, Patient
from nerasense.domain.validation import validate_model
from nerasense.errors import InputError, Problem
from nerasense.ingest.cna import read_cna
from nerasense.ingest.ctdna import normalise_alteration, read_ctdna_series
from nerasense.ingest.maf import read_maf
from nerasense.ingest.table import AlterationTable, guess_format
from nerasense.ingest.variant_text import alteration_from_text
from nerasense.ingest.vcf import read_vcf
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.genomics import GenomicsKnowledge


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Accept brand names and common spellings of prior agents (AGENT_ALIASES)."""
    out = dict(raw)
    therapies = out.get("prior_therapies")
    if isinstance(therapies, list):
        fixed = []
        for t in therapies:
            if isinstance(t, dict) and isinstance(t.get("agents"), list):
                t = {**t, "agents": [AGENT_ALIASES.get(str(a).strip().lower(), str(a).strip().lower())
                                     for a in t["agents"]]}
            fixed.append(t)
        out["prior_therapies"] = fixed
    return out


def parse_patient(raw: Any, where: str = "patient") -> Patient:
    if not isinstance(raw, dict):
        raise InputError(Problem("(file)", type(raw).__name__, "a mapping of patient fields", where=where))
    return validate_model(Patient, _normalise(raw), where=where)


def read_patient(path: Path) -> Patient:
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("PATIENT_FILE", str(path), "an existing .yaml, .yml or .json file"))
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(Problem("(file)", path.name, "valid YAML or JSON", " ".join(str(exc).split())[:200],
                                 where=str(path))) from None
    return parse_patient(raw, where=path.name)


def read_alteration_file(path: Path, gk: GenomicsKnowledge, *, fmt: str | None, sample: str | None,
                         origin: str) -> AlterationTable:
    """One sequencing file named in a patient file; the format comes from the file or its suffix."""
    if not path.is_file():
        raise InputError(Problem("sequencing.path", str(path), "an existing file (relative to the patient file)"))
    fmt = fmt or guess_format(path, field="sequencing.format")
    if fmt == "maf":
        return read_maf(path, gk, origin_by_sample={sample: origin} if sample else {})
    if fmt == "vcf":
        return read_vcf(path, gk, sample=sample, origin=origin)
    return read_cna(path, origin=origin)


def patient_alterations(patient: Patient, gk: GenomicsKnowledge, base_dir: Path) -> list[Alteration] | None:
    """The alterations typed into the patient file plus those read from its sequencing files.

    ``None`` when the patient was not sequenced (no ``alterations`` list and no files), so that the
    engine treats genomic facts as unknown rather than negative. Relative file paths are read from
    ``base_dir`` (the patient file's folder). Every problem in typed alterations is reported at once.
    """
    if patient.alterations is None and not patient.sequencing:
        return None
    out: list[Alteration] = []
    problems: list[Problem] = []
    for i, rep in enumerate(patient.alterations or []):
        try:
            alteration, _legacy = alteration_from_text(rep.gene, rep.change, gk)
        except InputError as err:
            problems.extend(Problem(f"alterations[{i}].{p.field}", p.value, p.allowed, p.fix, patient.patient_id)
                            for p in err.problems)
            continue
        out.append(Alteration.model_validate({
            **alteration.model_dump(), "vaf": rep.vaf, "origin": rep.origin, "copy_number": rep.copy_number,
            "record": f"{patient.patient_id}: alterations[{i}]",
        }))
    if problems:
        raise InputError(problems)
    for f in patient.sequencing:
        path = Path(f.path) if Path(f.path).is_absolute() else base_dir / f.path
        table = read_alteration_file(path, gk, fmt=f.format, sample=f.sample, origin=f.origin)
        out.extend(table.alterations())
    return out


def patient_ctdna_series(patient: Patient, kb: KnowledgeBase, base_dir: Path) -> CtdnaSeries | None:
    """Read the patient's serial plasma file (``ctdna.series_file``), if one is named.

    The series file may hold several patients; the one whose ``patient_id`` matches is returned.
    """
    c = patient.ctdna
    if c is None or not c.series_file:
        return None

    def resolve(name: str | None) -> Path | None:
        if not name:
            return None
        p = Path(name)
        return p if p.is_absolute() else base_dir / p

    path = resolve(c.series_file)
    assert path is not None
    if not path.is_file():
        raise InputError(Problem("ctdna.series_file", str(path), "an existing series table (CSV/TSV/Parquet)",
                                 where=patient.patient_id))
    series = read_ctdna_series(path, tissue=resolve(c.tissue_file), assessments=resolve(c.assessments_file), kb=kb)
    if patient.patient_id not in series:
        raise InputError(Problem("ctdna.series_file", path.name, f"a table with rows for {patient.patient_id}",
                                 f"patients in the file: {', '.join(sorted(series)) or 'none'}",
                                 where=patient.patient_id))
    return series[patient.patient_id]


def emergent_alterations(emergent: list[dict[str, Any]], patient_id: str, gk: GenomicsKnowledge) -> list[Alteration]:
    """New plasma alterations on treatment (the ``emergent`` list of a ctDNA reading), as alterations the
    engine can classify (origin plasma)."""
    out = []
    for e in emergent:
        if str(e.get("alteration", "")).lower() == "amplification":
            continue
        a = normalise_alteration(e["gene"], e["alteration"], gk)
        out.append(Alteration.model_validate({**a.model_dump(), "origin": "plasma",
                                              "record": f"{patient_id}: ctDNA {e.get('first_date', '')}"}))
    return out
