"""The audit trail: one append-only row for every read and every write of patient data (and every account
change), each carrying the SHA-256 of the row before it, so an edited, inserted or deleted row breaks the chain.

A row holds who (user id and name, team), which patient (the internal record number, never a name or an
identifier from the patient file), what (action and target), when (UTC), from where (client address) and
with which knowledge version. Rows are appended under a lock (a process lock, and on PostgreSQL a
transaction-scoped advisory lock) in the same transaction as the change they record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from nerasense.service.db import AuditRow, utcnow

GENESIS = "0" * 64
_LOCK = threading.Lock()
_PG_LOCK_KEY = 18_0001


@dataclass(frozen=True)
class Entry:
    action: str
    target: str
    username: str
    user_id: int | None = None
    team_id: int | None = None
    patient_pk: int | None = None
    address: str = ""
    kb_version: str = ""


def row_hash(prev: str, row_id: int, at: dt.datetime, e: Entry) -> str:
    fields = [row_id, at.isoformat(timespec="microseconds"), e.user_id, e.username, e.team_id, e.patient_pk,
              e.action, e.target, e.address, e.kb_version]
    return hashlib.sha256((prev + json.dumps(fields, separators=(",", ":"))).encode()).hexdigest()


def append(s: Session, entry: Entry) -> AuditRow:
    """Append ``entry`` to the chain and commit ``s`` (with whatever change it holds) in one transaction."""
    with _LOCK:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        last = s.execute(select(AuditRow.id, AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)).first()
        row_id, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = utcnow()
        e = Entry(entry.action[:64], entry.target[:128], entry.username[:128], entry.user_id, entry.team_id,
                  entry.patient_pk, entry.address[:64], entry.kb_version[:64])
        row = AuditRow(id=row_id, at=at, user_id=e.user_id, username=e.username, team_id=e.team_id,
                       patient_pk=e.patient_pk, action=e.action, target=e.target, address=e.address,
                       kb_version=e.kb_version, prev_hash=prev, hash=row_hash(prev, row_id, at, e))
        s.add(row)
        s.commit()
        return row


def _entry(r: AuditRow) -> Entry:
    return Entry(r.action, r.target, r.username, r.user_id, r.team_id, r.patient_pk, r.address, r.kb_version)


def verify(s: Session) -> dict[str, Any]:
    """Walk the chain; every broken link is listed (row id and why)."""
    problems: list[dict[str, Any]] = []
    prev = GENESIS
    n = 0
    for r in _rows(s):
        n += 1
        if r.prev_hash != prev:
            problems.append({"id": r.id, "problem": "prev_hash does not match the row before it (a row was "
                             "deleted, inserted or edited before this one)"})
        if row_hash(r.prev_hash, r.id, r.at, _entry(r)) != r.hash:
            problems.append({"id": r.id, "problem": "the row's content does not match its hash (the row was edited)"})
        prev = r.hash
    return {"rows": n, "ok": not problems, "head": prev, "problems": problems}


def _rows(s: Session) -> Iterator[AuditRow]:
    yield from s.scalars(select(AuditRow).order_by(AuditRow.id).execution_options(yield_per=1000))


def export_rows(s: Session) -> Iterator[dict[str, Any]]:
    for r in _rows(s):
        yield {"id": r.id, "at": r.at.isoformat(timespec="microseconds") + "Z", "user_id": r.user_id,
               "username": r.username, "team_id": r.team_id, "patient_pk": r.patient_pk, "action": r.action,
               "target": r.target, "address": r.address, "kb_version": r.kb_version, "prev_hash": r.prev_hash,
               "hash": r.hash}
