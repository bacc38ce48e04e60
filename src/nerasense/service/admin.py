"""What the ``serve``, ``users`` and ``audit`` commands do, as plain functions over the settings (the command
line only parses arguments and prints). Account changes are audited like patient data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nerasense.service import accounts, audit
from nerasense.service.runtime import open_database
from nerasense.service.settings import Settings

CLI = "command line"


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the service until interrupted (uvicorn; access log off: paths can hold patient ids)."""
    import uvicorn

    from nerasense.service.app import create_app

    open_database(settings).dispose()  # migrate before the first request, and fail early on a bad URL
    uvicorn.run(create_app(settings, serving=True), host=host, port=port, access_log=False, log_level="warning")


def add_user(settings: Settings, username: str, password: str, role: str, team: str | None) -> dict[str, Any]:
    db = open_database(settings)
    try:
        with db.session() as s:
            user = accounts.add_user(s, username, password, role, team)
            out = {"username": user.username, "role": user.role, "team_id": user.team_id, "database": _where(settings)}
            audit.append(s, audit.Entry("user-add", f"user:{user.id}", CLI, None, None, None, "local", ""))
            return out
    finally:
        db.dispose()


def issue_token(settings: Settings, username: str, days: float, label: str) -> dict[str, Any]:
    db = open_database(settings)
    try:
        with db.session() as s:
            user = accounts.find_user(s, username)
            token, row = accounts.issue_token(s, user, days, label)
            out = {"username": username, "token": token, "token_id": row.id, "expires": row.expires.isoformat() + "Z"}
            audit.append(s, audit.Entry("token-issue", f"token:{row.id}", CLI, None, None, None, "local", ""))
            return out
    finally:
        db.dispose()


def revoke_token(settings: Settings, token_id: str) -> dict[str, Any]:
    db = open_database(settings)
    try:
        with db.session() as s:
            row = accounts.revoke_token(s, token_id)
            out = {"token_id": row.id, "revoked": row.revoked.isoformat() + "Z" if row.revoked else None}
            audit.append(s, audit.Entry("token-revoke", f"token:{row.id}", CLI, None, None, None, "local", ""))
            return out
    finally:
        db.dispose()


def verify_audit(settings: Settings) -> dict[str, Any]:
    db = open_database(settings)
    try:
        with db.session() as s:
            return audit.verify(s)
    finally:
        db.dispose()


def export_audit(settings: Settings) -> Iterator[str]:
    """The audit rows as JSON lines, oldest first."""
    db = open_database(settings)
    try:
        with db.session() as s:
            for row in audit.export_rows(s):
                yield json.dumps(row, sort_keys=True)
    finally:
        db.dispose()


def _where(settings: Settings) -> str:
    url = settings.url
    return url.split("@")[-1] if "@" in url else url


def read_password(path: Path | None, env_value: str | None) -> str | None:
    if path is not None:
        from nerasense.safe_io import read_input

        return read_input(path, "password", field="--password-file", kind="case_file").decode().strip("\r\n")
    return env_value
