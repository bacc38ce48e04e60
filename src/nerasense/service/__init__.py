"""The service: the HTTP API and the web page for the tumour board, over a database (SQLite by default,
PostgreSQL by URL) with accounts, team isolation, jobs and a hash-chained audit trail.

Nothing happens at import: :func:`create_app` reads the settings and opens the database when it is called.
"""

from __future__ import annotations

from typing import Any


def create_app(settings: Any = None) -> Any:
    from nerasense.service.app import create_app as _create

    return _create(settings)


__all__ = ["create_app"]
