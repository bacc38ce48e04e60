"""The service's settings: one typed object, read from the environment when the app is built (never at import).

=============================  =====================================================  ==========================
environment variable           meaning                                                default
=============================  =====================================================  ==========================
NERASENSE_DATABASE_URL         SQLAlchemy URL (``postgresql+psycopg://...``)          SQLite file in the data folder
NERASENSE_DATA_DIR             uploaded files, the SQLite file                         ``$XDG_DATA_HOME/nerasense``
NERASENSE_MAX_BODY_MB          largest request body                                    64
NERASENSE_TOKEN_DAYS           lifetime of a new API token                             90
NERASENSE_SESSION_HOURS        lifetime of a page session                              12
NERASENSE_LOGIN_ATTEMPTS       failed log-ins per user and address in 15 minutes       5
NERASENSE_WORKER               run the job worker thread in the server (0 = off)        1
NERASENSE_SECURE_COOKIES       mark cookies Secure (behind HTTPS)                      0
NERASENSE_COMPUTE_WORKERS      processes that assess and draw reports (0 = in the     the number of cores, at
                               server process)                                         most 4
NERASENSE_COMPUTE_NICE         how much lower their OS priority is (os.nice, 0-19)     10
NERASENSE_EXPORT_SECRET        key of the cohort exports' pseudonyms (32+ characters)  random, kept in the data folder
=============================  =====================================================  ==========================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from nerasense.errors import InputError, Problem


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nerasense"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""
    max_body_mb: float = 64.0
    token_days: float = 90.0
    session_hours: float = 12.0
    login_attempts: int = 5
    login_window_s: int = 900
    worker: bool = True
    secure_cookies: bool = False
    compute_workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    compute_nice: int = 10
    export_secret: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        """The database URL in force: the one given, else a SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'nerasense.sqlite3'}"

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)


_ENV = {
    "data_dir": ("NERASENSE_DATA_DIR", Path),
    "database_url": ("NERASENSE_DATABASE_URL", str),
    "max_body_mb": ("NERASENSE_MAX_BODY_MB", float),
    "token_days": ("NERASENSE_TOKEN_DAYS", float),
    "session_hours": ("NERASENSE_SESSION_HOURS", float),
    "login_attempts": ("NERASENSE_LOGIN_ATTEMPTS", int),
    "worker": ("NERASENSE_WORKER", lambda t: t.strip() not in ("0", "false", "no", "")),
    "secure_cookies": ("NERASENSE_SECURE_COOKIES", lambda t: t.strip() in ("1", "true", "yes")),
    "compute_workers": ("NERASENSE_COMPUTE_WORKERS", int),
    "compute_nice": ("NERASENSE_COMPUTE_NICE", int),
    "export_secret": ("NERASENSE_EXPORT_SECRET", str),
}


def settings_from_env(**overrides: object) -> Settings:
    """Settings from the environment (variables in the module docstring), then ``overrides`` (None ignored)."""
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for name, (var, kind) in _ENV.items():
        text = os.environ.get(var)
        if text is None or text == "":
            continue
        try:
            values[name] = kind(text)  # type: ignore[operator]
        except ValueError:
            problems.append(Problem(var, text, f"a value of type {getattr(kind, '__name__', 'flag')}"))
    if problems:
        raise InputError(problems)
    values.update({k: v for k, v in overrides.items() if v is not None})
    workers, nice = values.get("compute_workers", 0), values.get("compute_nice", 10)
    if not isinstance(workers, int) or not 0 <= workers <= 64:
        problems.append(Problem("NERASENSE_COMPUTE_WORKERS", workers, "0 (in the server process) to 64"))
    if not isinstance(nice, int) or not 0 <= nice <= 19:
        problems.append(Problem("NERASENSE_COMPUTE_NICE", nice, "0 to 19"))
    if problems:
        raise InputError(problems)
    url = str(values.get("database_url") or "")
    if url and not url.startswith(("sqlite", "postgresql")):
        raise InputError(Problem("database_url", url, "sqlite:///FILE or postgresql+psycopg://USER:PASS@HOST/DB"))
    secret = str(values.get("export_secret") or "")
    if secret and len(secret) < 32:
        raise InputError(Problem("NERASENSE_EXPORT_SECRET", "(hidden)", "at least 32 characters (a random key)"))
    return Settings(**values)  # type: ignore[arg-type]
