"""Read a patient file (YAML or JSON) into :class:`~nerasense.domain.patient.Patient`, listing every
problem at once with the file name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nerasense.domain.alterations import Alteration
from nerasense.domain.ctdna import CtdnaSeries
from nerasense.domain.patient import AGENT_ALIASES, Patient
from nerasense.domain.validation import closest, problems_from, validate_model
from nerasense.errors import InputError, Problem
from nerasense.ingest.cna import read_cna
from nerasense.ingest.ctdna import normalise_alteration, read_ctdna_series
from nerasense.ingest.maf import read_maf
from nerasense.ingest.table import AlterationTable, guess_format
from nerasense.ingest.variant_text import alteration_from_text
from nerasense.ingest.vcf import read_vcf
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.oncotree import oncotree
from nerasense.safe_io import check_id, check_input, confine, decode, load_json, load_yaml, read_input


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


def load_patient_data(path: Path) -> Any:
    """The parsed content of a patient file (YAML or JSON), read with the limits of :mod:`nerasense.safe_io`:
    a regular file of bounded size, UTF-8, no YAML tags, bounded aliases and nesting, each key once."""
    path = Path(path)
    data = read_input(path, "patient (.yaml, .yml or .json)", field="PATIENT_FILE", kind="case_file")
    text = decode(data, str(path), field="PATIENT_FILE")
    if path.suffix.lower() == ".json":
        return load_json(text, path.name)
    return load_yaml(text, path.name)


def read_patient(path: Path) -> Patient:
    path = Path(path)
    return parse_patient(load_patient_data(path), where=path.name)


def case_file_paths(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, path text) of every file a patient file's raw content names (read before schema validation, so
    a bad path is reported together with every other problem)."""
    out: list[tuple[str, str]] = []
    sequencing = raw.get("sequencing")
    for i, f in enumerate(sequencing if isinstance(sequencing, list) else []):
        for key in ("path", "mate", "reference", "targets"):  # the last three: reads (issue 22)
            if isinstance(f, dict) and isinstance(f.get(key), str) and f[key]:
                out.append((f"sequencing[{i}].{key}", f[key]))
    ctdna = raw.get("ctdna")
    if isinstance(ctdna, dict):
        out += [(f"ctdna.{name}", value) for name in ("series_file", "tissue_file", "assessments_file", "reference", "targets")
                if isinstance(value := ctdna.get(name), str) and value]
    return out


def patient_problems(raw: Any, where: str, base_dir: Path, kb: KnowledgeBase | None = None,
                     allowed: Sequence[Path] = ()) -> tuple[Patient | None, list[Problem]]:
    """Every problem of a patient file in one pass: schema (with the closest valid name for a misspelt key or
    choice), the id, the tumour type (OncoTree, with the closest code) and the files it names (confined to
    ``base_dir`` or ``allowed``, regular files). The patient model is returned when the schema is valid."""
    if not isinstance(raw, dict):
        return None, [Problem("(file)", type(raw).__name__, "a mapping of patient fields", where=where)]
    data = _normalise(raw)
    problems: list[Problem] = []
    patient: Patient | None = None
    try:
        patient = Patient.model_validate(data)
    except ValidationError as err:
        problems += problems_from(err, where, model=Patient)
    pid = raw.get("patient_id")
    if isinstance(pid, str) and pid:
        try:
            check_id(pid, "patient_id", where)
        except InputError as err:
            problems += err.problems
    tumour = raw.get("tumour_type")
    if kb is not None and isinstance(tumour, str) and tumour.strip():
        tree = oncotree(kb)
        if tumour.strip().upper() not in tree:
            guess = closest(tumour.strip().upper(), tree.parent)
            problems.append(Problem("tumour_type", tumour, "an OncoTree code (release 2025-10-03)",
                                    f"did you mean {guess!r}?" if guess else "e.g. BRCA, IDC, ILC, NSCLC, LUAD, BLCA",
                                    where=where))
    for field, name in case_file_paths(raw):
        try:
            check_input(confine(name, base_dir, field=field, allowed=allowed, where=where), "input", field=field)
        except InputError as err:
            problems += [Problem(p.field, name if p.field == field else p.value, p.allowed, p.fix, where)
                         for p in err.problems]
    return patient, problems


def read_alteration_file(path: Path, gk: GenomicsKnowledge, *, fmt: str | None, sample: str | None,
                         origin: str) -> AlterationTable:
    """One sequencing file named in a patient file; the format comes from the file or its suffix."""
    check_input(path, "sequencing", field="sequencing.path")
    fmt = fmt or guess_format(path, field="sequencing.format")
    if fmt == "maf":
        return read_maf(path, gk, origin_by_sample={sample: origin} if sample else {})
    if fmt == "vcf":
        return read_vcf(path, gk, sample=sample, origin=origin)
    return read_cna(path, origin=origin)


def patient_alterations(patient: Patient, gk: GenomicsKnowledge, base_dir: Path,
                        allowed: Sequence[Path] = ()) -> list[Alteration] | None:
    """The alterations typed into the patient file plus those read from its sequencing files.

    ``None`` when the patient was not sequenced (no ``alterations`` list and no files), so that the
    engine treats genomic facts as unknown rather than negative. Relative file paths are read from
    ``base_dir`` (the patient file's folder); every file must lie under it or under one of ``allowed`` (symlinks
    resolved). Every problem in typed alterations is reported at once.
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
    for i, f in enumerate(patient.sequencing):
        path = confine(f.path, base_dir, field=f"sequencing[{i}].path", allowed=allowed, where=patient.patient_id)
        table = read_alteration_file(path, gk, fmt=f.format, sample=f.sample, origin=f.origin)
        out.extend(table.alterations())
    return out


def patient_ctdna_series(patient: Patient, kb: KnowledgeBase, base_dir: Path,
                         allowed: Sequence[Path] = (),
                         call_reads: Callable[[list[Path]], Path] | None = None) -> CtdnaSeries | None:
    """Read the patient's serial plasma file (``ctdna.series_file``), if one is named.

    The series file may hold several patients; the one whose ``patient_id`` matches is returned. Its files,
    and the ``variants_file`` entries of the series, must lie under ``base_dir`` or one of ``allowed``.
    """
    c = patient.ctdna
    if c is None or not c.series_file:
        return None

    def resolve(name: str | None, field: str) -> Path | None:
        if not name:
            return None
        return confine(name, base_dir, field=f"ctdna.{field}", allowed=allowed, where=patient.patient_id)

    path = resolve(c.series_file, "series_file")
    assert path is not None
    check_input(path, "series table (CSV/TSV/Parquet)", field="ctdna.series_file")
    series = read_ctdna_series(path, tissue=resolve(c.tissue_file, "tissue_file"),
                               assessments=resolve(c.assessments_file, "assessments_file"), kb=kb,
                               allowed=[base_dir, *allowed], call_reads=call_reads)
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
