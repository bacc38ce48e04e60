"""Researchers' de-identified cohort exports (HIPAA Safe Harbor, see service/cohort.py), checked from outside:
the pseudonyms are recomputed here with hmac/hashlib, no identifying string of the inputs appears anywhere in the
exported bytes (nor in the Parquet's decoded cells), another team's patients never appear, other roles get 403,
and every export is audited. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from typing import Any

import pytest

from tests.service.conftest import Service, make_users

SECRET = "an-export-key-of-at-least-32-characters-0123456789"
# identifying strings in the inputs: none may reach an export (patient ids, a name, a date of birth, an MRN,
# full dates, a sample barcode, the file name)
IDS = {"team-a": ["DOE-JANE-19570314", "ROE-RICHARD-77"], "team-b": ["OTHER-TEAM-PATIENT"]}
FORBIDDEN = ["DOE-JANE", "Jane", "1957-03-14", "19570314", "MRN", "884213", "ROE-RICHARD", "Richard",
             "2026-11-20", "2025-04-10", "OTHER-TEAM", "JDOE-TUMOUR-S1", "jane.maf"]
MAF = ("Hugo_Symbol\tChromosome\tStart_Position\tEnd_Position\tVariant_Classification\tVariant_Type\t"
       "Reference_Allele\tTumor_Seq_Allele1\tTumor_Seq_Allele2\tTumor_Sample_Barcode\tHGVSp_Short\n"
       "ERBB2\t17\t37880220\t37880220\tMissense_Mutation\tSNP\tT\tT\tC\tJDOE-TUMOUR-S1\tp.L755S\n")


@pytest.fixture
def svc(service_factory: Any) -> Service:
    s: Service = service_factory(export_secret=SECRET)
    s.tokens = make_users(s.settings, {"ana": ("clinician", "team-a"), "ben": ("clinician", "team-b"),
                                       "rita": ("researcher", "team-a"), "rob": ("researcher", "team-b"),
                                       "root": ("admin", "team-a")})
    return s


def _submit(svc: Service) -> None:
    jane = (f"patient_id: {IDS['team-a'][0]}\ndescription: Jane Doe, born 1957-03-14, MRN 884213\n"
            "tumour_type: IDC\nsetting: metastatic\nsex: female\nage_years: 93\necog: 1\ner: negative\n"
            "her2: {ihc: 3+}\nassessed_on: 2026-11-20\nsequencing:\n  - {path: jane.maf}\n"
            "prior_therapies:\n  - {agents: [trastuzumab, pertuzumab, taxane], setting: metastatic, outcome: progression}\n")
    r = svc.client.post("/v1/patients", headers=svc.headers("ana"),
                        files=[("patient", ("p.yaml", jane, "application/yaml")),
                               ("files", ("jane.maf", MAF.encode(), "text/plain"))])
    assert r.status_code == 201, r.text
    assert svc.client.post(f"/v1/assessments/{r.json()['assessment_id']}/rerun",
                           headers=svc.headers("ana")).status_code == 201
    richard = {"patient_id": IDS["team-a"][1], "description": "Richard Roe", "tumour_type": "BRCA", "age_years": 61,
               "her2": {"ihc": "1+"}, "assessed_on": "2025-04-10"}
    other = {"patient_id": IDS["team-b"][0], "description": "another team", "tumour_type": "BRCA", "age_years": 50}
    assert svc.client.post("/v1/patients", json={"patient": richard}, headers=svc.headers("ana")).status_code == 201
    assert svc.client.post("/v1/patients", json={"patient": other}, headers=svc.headers("ben")).status_code == 201


def _pseudo(team_id: int, patient_id: str) -> str:
    return "NS-" + hmac.new(SECRET.encode(), f"team:{team_id}\x1f{patient_id}".encode(), hashlib.sha256).hexdigest()[:20]


def _team_ids(svc: Service) -> dict[str, int]:
    from sqlalchemy import select

    from nerasense.service.db import Team

    with svc.ctx.db.session() as s:
        return {t.name: t.id for t in s.scalars(select(Team))}


def _export(svc: Service, who: str, fmt: str) -> bytes:
    r = svc.client.get("/v1/cohort/export", params={"format": fmt}, headers=svc.headers(who))
    assert r.status_code == 200, r.text
    return r.content


def test_export_is_pseudonymised_and_free_of_identifiers(svc: Service) -> None:
    import pyarrow.parquet as pq

    _submit(svc)
    teams = _team_ids(svc)
    jane, richard = (_pseudo(teams["team-a"], p) for p in IDS["team-a"])
    outsider = _pseudo(teams["team-b"], IDS["team-b"][0])
    exports = {fmt: _export(svc, "rita", fmt) for fmt in ("tsv", "json", "parquet")}
    table = pq.read_table(io.BytesIO(exports["parquet"])).to_pylist()
    meta = pq.read_schema(io.BytesIO(exports["parquet"])).metadata
    texts = {"tsv": exports["tsv"].decode(), "json": exports["json"].decode(),
             "parquet cells": json.dumps(table), "parquet metadata": repr(meta)}
    for name, text in texts.items():
        for bad in FORBIDDEN:
            assert bad not in text, (name, bad)
        assert outsider not in text, name
    for bad in FORBIDDEN:  # also the raw bytes (the Parquet file's own dictionary pages and statistics)
        for data in exports.values():
            assert bad.encode() not in data, bad

    rows = json.loads(exports["json"])["assessments"]
    assert [(r["pseudonym"], r["assessment_n"]) for r in rows] == sorted([(jane, 1), (jane, 2), (richard, 1)])
    by = {(r["pseudonym"], r["assessment_n"]): r for r in rows}
    j = by[(jane, 1)]
    assert j["age_years"] == 90  # 93: over 89, into the "90 or older" category
    assert j["assessment_year"] == 2026 and by[(richard, 1)]["assessment_year"] == 2025
    assert j["prior_therapy_lines"] == 1 and j["tumour_type"] == "IDC" and j["her2_result"] == "positive"
    assert [(a["gene"], a["protein_change"]) for a in j["alterations"]] == [("ERBB2", "p.L755S")]
    assert by[(richard, 1)]["age_years"] == 61
    # the three formats hold the same rows
    tsv_lines = texts["tsv"].splitlines()
    header = tsv_lines[0].split("\t")
    tsv_rows = [dict(zip(header, line.split("\t"), strict=True)) for line in tsv_lines[1:]]
    assert [(r["pseudonym"], int(r["assessment_n"]), r["age_years"]) for r in tsv_rows] == \
        [(r["pseudonym"], r["assessment_n"], str(r["age_years"])) for r in rows]
    assert [(r["pseudonym"], r["assessment_n"], r["age_years"]) for r in table] == \
        [(r["pseudonym"], r["assessment_n"], r["age_years"]) for r in rows]
    assert tsv_rows[0]["alterations"] in ("ERBB2 p.L755S", "")
    # stable per scope: the same pseudonyms in a second export; team-b's researcher sees only team-b
    assert json.loads(_export(svc, "rita", "json"))["assessments"] == rows
    theirs = json.loads(_export(svc, "rob", "json"))["assessments"]
    assert [r["pseudonym"] for r in theirs] == [outsider]
    assert jane not in json.dumps(theirs)


def test_export_is_for_researchers_only_and_audited(svc: Service) -> None:
    from sqlalchemy import select

    from nerasense.service.db import AuditRow

    _submit(svc)
    for who in ("ana", "root"):
        r = svc.client.get("/v1/cohort/export", headers=svc.headers(who))
        assert r.status_code == 403 and "researcher" in r.json()["detail"] and who != "rita"
    r = svc.client.get("/v1/cohort/export", params={"format": "xlsx"}, headers=svc.headers("rita"))
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "format"
    assert "xlsx" in r.text and "tsv" in r.text
    _export(svc, "rita", "parquet")
    with svc.ctx.db.session() as s:
        rows = s.scalars(select(AuditRow).where(AuditRow.action == "export")).all()
    assert [(r.username, r.target) for r in rows] == [
        ("rita", f"cohort:parquet patients=2 assessments=3 kb={svc.ctx.kb.kb_version}")]
    assert rows[0].kb_version == svc.ctx.kb.kb_version


def test_key_is_made_once_when_not_configured(service_factory: Any) -> None:
    svc: Service = service_factory()
    svc.tokens = make_users(svc.settings, {"rita": ("researcher", "team-a"), "ana": ("clinician", "team-a")})
    assert svc.client.post("/v1/patients", json={"patient": {"patient_id": "K-1", "tumour_type": "BRCA"}},
                           headers=svc.headers("ana")).status_code == 201
    first = json.loads(_export(svc, "rita", "json"))["assessments"][0]["pseudonym"]
    key_file = svc.settings.data_dir / "export-secret"
    assert key_file.stat().st_mode & 0o077 == 0
    key = key_file.read_text().strip().encode()
    assert len(key) == 64
    expect = "NS-" + hmac.new(key, f"team:{_team_ids(svc)['team-a']}\x1fK-1".encode(), hashlib.sha256).hexdigest()[:20]
    assert first == expect
    assert json.loads(_export(svc, "rita", "json"))["assessments"][0]["pseudonym"] == expect


def test_short_export_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from nerasense.errors import InputError
    from nerasense.service.settings import settings_from_env

    monkeypatch.setenv("NERASENSE_EXPORT_SECRET", "short")
    with pytest.raises(InputError) as err:
        settings_from_env()
    assert err.value.problems[0].field == "NERASENSE_EXPORT_SECRET" and "short" not in str(err.value)
