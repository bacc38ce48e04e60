"""De-identified cohort exports for researchers.

**Scope.** A researcher exports the assessments of the team they belong to, and of no other team; the role is
checked first (clinicians and admins get 403: clinicians treat patients and read them identified, admins manage
accounts and hold no research purpose), then the rows are read with ``team_id`` equal to the caller's team, so
another team's patient can never be in the answer. Every export writes one audit row (who, the team, how many
patients and assessments, the format, the knowledge versions of the rows) in the same transaction as the read.

**De-identification: HIPAA Safe Harbor** (45 CFR 164.514(b)(2)). The export is built from an allow-list of
fields, never by deleting fields from the stored record, so a field added to the patient schema later stays out
until it is named here. Of the eighteen Safe Harbor identifiers:

* the patient id (a medical record number, (R)) is replaced by a keyed pseudonym,
  ``"NS-" + HMAC-SHA256(key, "team:<team id>\\x1f<patient id>")[:20 hex]``, with the server's export key
  (``NERASENSE_EXPORT_SECRET``, or a random key made once in the data folder). The pseudonym is stable within
  one scope (a team: a patient keeps it from export to export, so a cohort can be followed) and differs between
  teams; without the key it cannot be reversed or recomputed, and the key never leaves the server. A strict
  reading of 164.514(c)(1) asks that a re-identification code be "not derived from" information about the
  person; a keyed hash is derived from the id, though no recipient can translate it back. Where that reading
  applies, treat the export as Safe Harbor data with a code the covered entity must keep (the key) under
  164.514(c)(2), or replace the key per export (a new ``NERASENSE_EXPORT_SECRET``), which gives unlinkable
  exports;
* all elements of dates but the year (C) go: the assessment date becomes its year; no other date is exported
  (ctDNA sample dates, treatment dates, the record's time stamps stay out);
* ages over 89 are aggregated into one category (C): ``age_years`` is capped at 90, read "90 or older";
* free text goes (the description, warnings, reasons and every text written about the patient), as do file
  names, sample barcodes and record locations (``file:line:sample``), record numbers of the database and
  anything else that could be a unique identifying number (R).

What stays: tumour type (OncoTree code), setting, sex, capped age, ECOG, ER/PR, HER2 result and category, the
alterations as gene and protein change (with effect, origin and VAF), the number of prior therapy lines, CNS
metastases, and per regimen the call, level and score; with the software and knowledge version of each
assessment. Safe Harbor also asks that the exporter has no actual knowledge that what remains could identify a
person; that judgement (small cohorts, rare variants) stays with the researcher and their review board.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from nerasense.service import audit
from nerasense.service.accounts import Principal
from nerasense.service.cases import Context, Forbidden
from nerasense.service.db import AssessmentRecord, PatientRecord, Submission
from nerasense.service.settings import Settings

FORMATS = ("tsv", "json", "parquet")
MEDIA = {"tsv": "text/tab-separated-values; charset=utf-8", "json": "application/json",
         "parquet": "application/vnd.apache.parquet"}
AGE_CAP = 90  # Safe Harbor: ages over 89 fall into one category, "90 or older"
PSEUDONYM_HEX = 20
KEY_FILE = "export-secret"

# the columns of the flat table (TSV and Parquet), in order; regimen columns follow, one per regimen
COLUMNS: list[tuple[str, str]] = [
    ("pseudonym", "string"), ("assessment_n", "int"), ("assessment_year", "int"), ("software_version", "string"),
    ("kb_version", "string"), ("tumour_type", "string"), ("setting", "string"), ("sex", "string"),
    ("age_years", "int"), ("ecog", "int"), ("er", "string"), ("pr", "string"), ("cns_metastases", "bool"),
    ("prior_therapy_lines", "int"), ("her2_result", "string"), ("her2_category", "string"),
    ("alterations", "string"),
]


def export_key(settings: Settings) -> bytes:
    """The export key: ``NERASENSE_EXPORT_SECRET`` when set, else a random 256-bit key made once in the data
    folder (``export-secret``, mode 0600, created exclusively so two processes agree on one key)."""
    if settings.export_secret:
        return settings.export_secret.encode()
    path = Path(settings.data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32))
        f.flush()
        os.fsync(f.fileno())
    return path.read_text(encoding="ascii").strip().encode()


def pseudonym(key: bytes, team_id: int, patient_id: str) -> str:
    digest = hmac.new(key, f"team:{team_id}\x1f{patient_id}".encode(), hashlib.sha256).hexdigest()
    return "NS-" + digest[:PSEUDONYM_HEX]


def _year(value: Any) -> int | None:
    text = str(value or "")
    return int(text[:4]) if len(text) >= 4 and text[:4].isdigit() else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def deidentify(doc: dict[str, Any], result: dict[str, Any], created_year: int, pseudo: str, n: int) -> dict[str, Any]:
    """One assessment as the export shows it (the allow-list; see the module docstring)."""
    age = doc.get("age_years")
    age_out = None if not isinstance(age, (int, float)) or isinstance(age, bool) else min(int(age), AGE_CAP)
    her2 = result.get("her2") or {}
    alterations = []
    for a in result.get("alterations") or []:
        if not isinstance(a, dict):
            continue
        alterations.append({"gene": _text(a.get("gene")), "protein_change": _text(a.get("protein_change")),
                            "kind": _text(a.get("kind")), "effect": _text(a.get("effect")),
                            "origin": _text(a.get("origin")),
                            "vaf": a.get("vaf") if isinstance(a.get("vaf"), (int, float)) else None})
    regimens = [{"regimen_id": r.get("regimen_id"), "call": _text(r.get("call")), "level": _text(r.get("level")),
                 "score": r.get("score") if isinstance(r.get("score"), (int, float)) else None}
                for r in result.get("regimens") or [] if isinstance(r, dict) and isinstance(r.get("regimen_id"), str)]
    therapies = doc.get("prior_therapies")
    return {
        "pseudonym": pseudo, "assessment_n": n,
        "assessment_year": _year(doc.get("assessed_on")) or created_year,
        "software_version": _text(result.get("software_version")), "kb_version": _text(result.get("kb_version")),
        "tumour_type": _text(doc.get("tumour_type")), "setting": _text(doc.get("setting")),
        "sex": _text(doc.get("sex")), "age_years": age_out, "ecog": _int(doc.get("ecog")),
        "er": _text(doc.get("er")), "pr": _text(doc.get("pr")),
        "cns_metastases": doc.get("cns_metastases") if isinstance(doc.get("cns_metastases"), bool) else None,
        "prior_therapy_lines": len(therapies) if isinstance(therapies, list) else 0,
        "her2_result": _text(her2.get("result")), "her2_category": _text(her2.get("category")),
        "alterations": alterations, "regimens": regimens,
    }


@dataclass(frozen=True)
class Export:
    data: bytes
    media_type: str
    filename: str
    patients: int
    assessments: int


def cohort(ctx: Context, settings: Settings, who: Principal, fmt: str, address: str) -> Export:
    """The caller's team's assessments, de-identified, as ``fmt`` (tsv, json or parquet); audited."""
    if who.role != "researcher":
        raise Forbidden(f"role {who.role!r} may not export cohorts; allowed: researcher")
    if who.team_id is None:
        raise Forbidden("a researcher who belongs to a team (the export's scope is the researcher's team)")
    key = export_key(settings)
    with ctx.db.session() as s:
        rows = s.execute(
            select(PatientRecord.patient_id, AssessmentRecord.id, AssessmentRecord.created, AssessmentRecord.result_json,
                   Submission.patient_json)
            .join(PatientRecord, PatientRecord.id == AssessmentRecord.patient_pk)
            .join(Submission, Submission.id == AssessmentRecord.submission_id)
            .where(AssessmentRecord.team_id == who.team_id, PatientRecord.team_id == who.team_id)
            .order_by(PatientRecord.id, AssessmentRecord.id)).all()
        records: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for patient_id, _rec_id, created, result_json, patient_json in rows:
            seen[patient_id] = seen.get(patient_id, 0) + 1
            records.append(deidentify(json.loads(patient_json), json.loads(result_json), created.year,
                                      pseudonym(key, who.team_id, patient_id), seen[patient_id]))
        records.sort(key=lambda r: (r["pseudonym"], r["assessment_n"]))  # no trace of the order of entry
        kb_versions = sorted({r["kb_version"] or "" for r in records})
        data = _encode(records, fmt, kb_versions, ctx.kb.kb_version)
        target = (f"cohort:{fmt} patients={len(seen)} assessments={len(records)} kb={','.join(kb_versions) or '-'}")
        audit.append(s, audit.Entry("export", target[:128], who.username, who.user_id, who.team_id, None, address,
                                    ctx.kb.kb_version))
    return Export(data, MEDIA[fmt], f"cohort-team{who.team_id}.{fmt}", len(seen), len(records))


def regimen_ids(records: list[dict[str, Any]]) -> list[str]:
    return sorted({r["regimen_id"] for rec in records for r in rec["regimens"]})


def flat(records: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The flat table: one row per assessment; alterations as ``GENE p.X`` joined by ``;``; one ``call:<regimen>``
    column per regimen."""
    ids = regimen_ids(records)
    names = [c for c, _ in COLUMNS] + [f"call:{r}" for r in ids]
    out = []
    for rec in records:
        row = {c: rec[c] for c, _ in COLUMNS if c != "alterations"}
        row["alterations"] = ";".join(f"{a['gene']} {a['protein_change'] or a['kind'] or ''}".strip()
                                      for a in rec["alterations"])
        calls = {r["regimen_id"]: r["call"] for r in rec["regimens"]}
        row.update({f"call:{r}": calls.get(r) for r in ids})
        out.append(row)
    return names, out


def _encode(records: list[dict[str, Any]], fmt: str, kb_versions: list[str], server_kb: str) -> bytes:
    from nerasense._version import software_version

    if fmt == "json":
        return json.dumps({"deidentification": "HIPAA Safe Harbor, 45 CFR 164.514(b)(2)",
                           "software_version": software_version(), "kb_version": server_kb,
                           "record_kb_versions": kb_versions, "research_use_only": True,
                           "assessments": records}, indent=1).encode()
    names, rows = flat(records)
    if fmt == "tsv":
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if row[n] is None else str(row[n]).lower() if isinstance(row[n], bool) else row[n]
                             for n in names])
        return buf.getvalue().encode()
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = dict(COLUMNS)
    types = {"string": pa.string(), "int": pa.int64(), "bool": pa.bool_()}
    schema = pa.schema([(n, types[kinds.get(n, "string")]) for n in names],
                       metadata={b"deidentification": b"HIPAA Safe Harbor, 45 CFR 164.514(b)(2)",
                                 b"software_version": software_version().encode(), b"kb_version": server_kb.encode()})
    table = pa.Table.from_pylist(rows, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()
