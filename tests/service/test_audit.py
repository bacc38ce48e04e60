"""The audit trail: a row for every read and write of patient data, hash-chained; `nerasense audit verify`
finds an edited or deleted row; `nerasense audit export` writes it; rows hold no patient data."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
from contextlib import redirect_stdout
from pathlib import Path

from sqlalchemy import select, text

from nerasense.cli import main
from nerasense.service.audit import GENESIS
from nerasense.service.db import AuditRow
from tests.service.conftest import Service, example_patient


def _verify(service: Service) -> tuple[int, dict]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["audit", "verify", "--json", "--database-url", service.settings.url])
    return code, json.loads(out.getvalue())


def _actions(service: Service) -> list[tuple[str, str, int | None]]:
    with service.ctx.db.session() as s:
        return [(r.username, r.action, r.patient_pk) for r in s.scalars(select(AuditRow).order_by(AuditRow.id))]


def test_reads_and_writes_are_audited_and_chained(service: Service) -> None:
    before = len(_actions(service))
    r = service.client.post("/v1/patients", content=example_patient(),
                            headers=service.headers("ana", **{"Content-Type": "application/yaml"}))
    aid, pid = r.json()["assessment_id"], r.json()["patient_id"]
    service.client.get(f"/v1/assessments/{aid}", headers=service.headers("rita"))
    service.client.get(f"/v1/assessments/{aid}?format=html", headers=service.headers("ana"))
    service.client.get(f"/v1/patients/{pid}/assessments", headers=service.headers("ana"))
    service.client.post(f"/v1/assessments/{aid}/rerun", headers=service.headers("ana"))
    service.client.get(f"/v1/assessments/{aid}", headers=service.headers("ben"))  # 404: nothing was read
    rows = _actions(service)[before:]
    assert [(u, a) for u, a, _ in rows] == [("ana", "submit"), ("rita", "read-json"), ("ana", "read-html"),
                                            ("ana", "history"), ("ana", "rerun")]
    assert len({p for _, _, p in rows}) == 1 and rows[0][2] is not None
    with service.ctx.db.session() as s:
        chain = list(s.scalars(select(AuditRow).order_by(AuditRow.id)))
        assert chain[0].prev_hash == GENESIS
        for prev, row in itertools.pairwise(chain):
            assert row.prev_hash == prev.hash
        # the hash is SHA-256 over the previous hash and the row's fields, recomputed here by hand
        last = chain[-1]
        fields = [last.id, last.at.isoformat(timespec="microseconds"), last.user_id, last.username, last.team_id,
                  last.patient_pk, last.action, last.target, last.address, last.kb_version]
        assert last.hash == hashlib.sha256((last.prev_hash + json.dumps(fields, separators=(",", ":"))).encode()).hexdigest()
        # no patient data: the patient id of the file appears nowhere in the trail
        assert all(pid not in json.dumps([r.target, r.username, r.action]) for r in chain)
    code, report = _verify(service)
    assert code == 0 and report["ok"] and report["rows"] == len(chain)


def test_verify_detects_an_edited_row(service: Service) -> None:
    service.client.post("/v1/patients", content=example_patient(),
                        headers=service.headers("ana", **{"Content-Type": "application/yaml"}))
    assert _verify(service)[0] == 0
    with service.ctx.db.engine.begin() as conn:  # someone with database access covers their tracks
        conn.execute(text("UPDATE audit SET username = 'nobody' WHERE action = 'submit'"))
    code, report = _verify(service)
    assert code == 1 and not report["ok"]
    with service.ctx.db.session() as s:
        edited = s.scalar(select(AuditRow.id).where(AuditRow.action == "submit"))
    assert report["problems"] == [{"id": edited, "problem": "the row's content does not match its hash (the row was edited)"}]


def test_verify_detects_a_deleted_row(service: Service) -> None:
    service.client.get("/v1/patients", headers=service.headers("ana"))
    service.client.get("/v1/patients", headers=service.headers("ana"))
    with service.ctx.db.session() as s:
        ids = list(s.scalars(select(AuditRow.id).order_by(AuditRow.id)))
    with service.ctx.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit WHERE id = :i"), {"i": ids[-2]})
    code, report = _verify(service)
    assert code == 1 and report["problems"][0]["id"] == ids[-1]
    assert "deleted" in report["problems"][0]["problem"]


def test_export(service: Service, tmp_path: Path) -> None:
    service.client.get("/v1/patients", headers=service.headers("ana"))
    target = tmp_path / "audit.jsonl"
    with redirect_stdout(io.StringIO()):
        assert main(["audit", "export", "-o", str(target), "--database-url", service.settings.url]) == 0
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    _code, report = _verify(service)
    assert len(rows) == report["rows"] and rows[-1]["hash"] == report["head"]
    assert rows[-1]["action"] == "list" and rows[-1]["username"] == "ana"
