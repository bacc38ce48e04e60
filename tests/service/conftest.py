"""Fixtures for the service: a running app (in-process) on SQLite and on PostgreSQL, and users of two teams.

PostgreSQL comes from ``NERASENSE_TEST_PG_URL`` (``.ci/postgres`` starts the server and exports it). Each test
session works in a database of its own, created here and dropped at the end; each test starts from empty
tables. Without the URL the PostgreSQL half skips on a developer's machine, and fails under CI=true.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PASSWORD = "correct horse battery staple"
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(what: str, reason: str) -> None:
    """Skip on a developer's machine; in CI (CI=true) the component must be there, so fail."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {reason}")
    pytest.skip(f"{what} not available: {reason}")


@pytest.fixture(scope="session", autouse=True)
def _light_password_hashing() -> Iterator[None]:
    """Argon2 with 1 MiB for the tests' passwords (production keeps RFC 9106's 64 MiB); the hashes are still
    Argon2id and are verified the same way."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NERASENSE_ARGON2_MEMORY_KIB", "1024")
        yield


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    base = os.environ.get("NERASENSE_TEST_PG_URL")
    if not base:
        need("PostgreSQL", "NERASENSE_TEST_PG_URL is not set (.ci/postgres starts PostgreSQL 15 and sets it)")
    import sqlalchemy as sa

    name = f"nerasense_t{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        need("PostgreSQL", f"cannot connect to {base.split('@')[-1]}: {type(exc.orig).__name__}")
    url = base.rsplit("/", 1)[0] + "/" + name
    admin.dispose()
    yield url
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)  # a fresh connection
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty(url: str) -> None:
    """Start from empty tables (the schema stays)."""
    import sqlalchemy as sa

    from nerasense.service.db import Base
    from nerasense.service.migrate import upgrade

    engine = sa.create_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite3'}"
    url = request.getfixturevalue("pg_url")
    _empty(url)
    return url


@dataclass
class Service:
    client: Any
    settings: Any
    app: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx


USERS = {  # name: (role, team)
    "ana": ("clinician", "team-a"),
    "ben": ("clinician", "team-b"),
    "rita": ("researcher", "team-a"),
    "root": ("admin", "team-a"),
}


def make_users(settings: Any, names: dict[str, tuple[str, str]] = USERS) -> dict[str, str]:
    from nerasense.service import admin

    tokens = {}
    for name, (role, team) in names.items():
        admin.add_user(settings, name, PASSWORD, role, team)
        tokens[name] = admin.issue_token(settings, name, 1, "tests")["token"]
    return tokens


@pytest.fixture
def service_factory(tmp_path: Path, database_url: str) -> Iterator[Any]:
    """Build (and enter) apps over one database and data folder; closed at the end of the test."""
    from fastapi.testclient import TestClient

    from nerasense.service import create_app
    from nerasense.service.settings import settings_from_env

    opened: list[Any] = []

    def build(worker: bool = False, **overrides: Any) -> Service:
        settings = settings_from_env(data_dir=tmp_path / "data", database_url=database_url, worker=worker, **overrides)
        app = create_app(settings)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return Service(client, settings, app)

    yield build
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def service(service_factory: Any) -> Service:
    svc: Service = service_factory()
    svc.tokens = make_users(svc.settings)
    return svc


def example_patient(name: str = "02-her2pos-metastatic-after-two-her2-regimens.yaml") -> str:
    return (EXAMPLES / "patients" / name).read_text(encoding="utf-8")


@contextmanager
def serving(settings: Any) -> Iterator[str]:
    """The app of ``settings`` served by uvicorn on a free loopback port in a thread, for the browser tests: yields
    its base URL and stops the server on the way out."""
    import socket
    import threading
    import time

    import uvicorn

    from nerasense.service import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
