"""Storage: the SQLAlchemy 2 models, the engine and the schema's migrations (Alembic, in ``migrations/``).

JSON documents are kept as text so that SQLite and PostgreSQL hold the same bytes. Times are UTC.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # clinician | researcher | admin
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the public half of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(256))  # Argon2 of the secret half
    label: Mapped[str] = mapped_column(String(128), default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires: Mapped[dt.datetime] = mapped_column(DateTime)


class LoginFailure(Base):
    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), index=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PatientRecord(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("team_id", "patient_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    patient_id: Mapped[str] = mapped_column(String(128))
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("team_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    patient_json: Mapped[str] = mapped_column(Text)  # the patient document as submitted (parsed, re-serialised)
    region: Mapped[str | None] = mapped_column(String(4), nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class StoredFile(Base):
    __tablename__ = "stored_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # vcf | maf | cna | table (sniffed from the content)


class AssessmentRecord(Base):
    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    patient_pk: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    software_version: Mapped[str] = mapped_column(String(64))
    kb_version: Mapped[str] = mapped_column(String(64))
    result_json: Mapped[str] = mapped_column(Text)
    rerun_of: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("team_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))  # variants | assess | maf | reads
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    source_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # an uploaded MAF / reads (r0002)


class JobItem(Base):
    __tablename__ = "job_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    input_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class AuditRow(Base):
    """Append-only, hash-chained: ``hash`` = SHA-256 of the previous row's hash and this row's fields."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(128))
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    patient_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(64))
    kb_version: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL a checked pool."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20,
                               max_overflow=20)

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            conn.isolation_level = None  # transactions are begun below, so a writer can say IMMEDIATE
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # a writer takes SQLite's write lock when it begins, so two writers never each hold a lock the other
            # waits for (the audit chain's lock is taken inside a transaction); readers do not block (WAL)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")

        return engine
    # connections are kept for every thread that may hold one (40 request threads, 8 for the async routes, the job
    # worker): a connection past pool_size is closed when given back, and opening one (SCRAM) costs CPU under load
    return create_engine(url, pool_size=40, max_overflow=10, pool_pre_ping=True, pool_timeout=10,
                         connect_args={"connect_timeout": 5})


class Database:
    """An engine and its session factory; ``session()`` commits on success and rolls back on error.

    On SQLite the writers of this process also take a process lock before they begin: a thread waiting for it wakes
    as soon as the writer before it ends, where a thread waiting in SQLite's busy handler polls, sleeping up to
    100 ms between tries (other processes, such as ``nerasense users``, still meet the busy handler)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.factory = sessionmaker(self.engine.execution_options(writer=True), expire_on_commit=False)
        self.read_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.serial_writes = self.engine.dialect.name == "sqlite"
        self._write_lock = threading.RLock()

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """A transaction; ``write=False`` for one that only reads (it then never waits for a writer on SQLite)."""
        with self._write_lock if write and self.serial_writes else nullcontext(), \
                (self.factory if write else self.read_factory)() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def warm(self, n: int) -> None:
        """Open ``n`` pooled connections now, so the first burst of requests does not open them all at once."""
        held = [self.engine.connect() for _ in range(min(n, self.engine.pool.size()))]  # type: ignore[attr-defined]
        for conn in held:
            conn.close()

    def dispose(self) -> None:
        self.engine.dispose()
