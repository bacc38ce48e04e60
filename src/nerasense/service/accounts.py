"""Users, teams, roles, API tokens and page sessions.

Passwords and token secrets are stored as Argon2id hashes (argon2-cffi, its RFC 9106 low-memory profile).
A token reads ``nsk_<id>.<secret>``: the id finds the row, the secret is checked against the hash. A checked
token is remembered in memory for :data:`TOKEN_CACHE_S` seconds under the SHA-256 of the whole token, so a
busy client does not pay one Argon2 verification per request; expiry and revocation are still read from the
database on every request.

Roles: ``clinician`` reads and writes its own team's patients; ``researcher`` reads its team's patients and
de-identified exports; ``admin`` manages users and teams (and reads every team). A patient outside the
caller's reach answers 404, never 403, so its existence is not disclosed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from nerasense.errors import InputError, Problem
from nerasense.service.db import ApiToken, LoginFailure, Team, User, WebSession, utcnow

ROLES = ("clinician", "researcher", "admin")
TOKEN_CACHE_S = 60.0
_PREFIX = "nsk_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their role and team, and how they proved it."""

    user_id: int
    username: str
    role: str
    team_id: int | None
    via: str  # token | session
    csrf: str = ""

    def can_write(self) -> bool:
        return self.role in ("clinician", "admin")


_hashers: dict[tuple[str, str], PasswordHasher] = {}
_hasher_lock = threading.Lock()


def hasher(kind: str = "password") -> PasswordHasher:
    """Argon2id: RFC 9106's low-memory profile (t=3, 64 MiB) for passwords; for token secrets, which are 256
    random bits and cannot be guessed, a light one (t=1, 8 MiB) so a busy API is not slowed by its own checks.
    ``NERASENSE_ARGON2_MEMORY_KIB`` lowers the password memory (tests only; never in production)."""
    memory = os.environ.get("NERASENSE_ARGON2_MEMORY_KIB", "") if kind == "password" else "token"
    with _hasher_lock:
        if (kind, memory) not in _hashers:
            from argon2 import Type
            from argon2.profiles import RFC_9106_LOW_MEMORY

            if kind == "token":
                h = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
            elif memory.isdigit():
                h = PasswordHasher(time_cost=1, memory_cost=max(8, int(memory)), parallelism=1, type=Type.ID)
            else:
                h = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
            _hashers[(kind, memory)] = h
        return _hashers[(kind, memory)]


def hash_secret(secret: str, kind: str = "password") -> str:
    return hasher(kind).hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    """Checks against the parameters written in the stored hash (either kind)."""
    try:
        return hasher("token").verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < 12 or len(password) > 1024:
        raise InputError(Problem("password", "(hidden)", "12 to 1024 characters"))


def ensure_team(s: Session, name: str) -> Team:
    if not name or len(name) > 128:
        raise InputError(Problem("team", name, "a team name of 1-128 characters"))
    team = s.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        s.add(team)
        s.flush()
    return team


def add_user(s: Session, username: str, password: str, role: str, team: str | None) -> User:
    """A new user (every problem with the request at once)."""
    problems = []
    if not isinstance(username, str) or not (1 <= len(username) <= 128) or not username.isprintable():
        problems.append(Problem("username", username, "1-128 printable characters"))
    if role not in ROLES:
        problems.append(Problem("role", role, " | ".join(ROLES)))
    if role in ("clinician", "researcher") and not team:
        problems.append(Problem("team", team, "a team name (clinicians and researchers belong to a team)"))
    try:
        _check_password(password)
    except InputError as err:
        problems += err.problems
    if not problems and s.scalar(select(User).where(User.username == username)) is not None:
        problems.append(Problem("username", username, "a name not yet taken"))
    if problems:
        raise InputError(problems)
    team_row = ensure_team(s, team) if team else None
    user = User(username=username, password_hash=hash_secret(password), role=role,
                team_id=team_row.id if team_row else None, active=True)
    s.add(user)
    s.flush()
    return user


def find_user(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise InputError(Problem("username", username, "an existing user"))
    return user


def issue_token(s: Session, user: User, days: float, label: str = "") -> tuple[str, ApiToken]:
    """A new API token for ``user``: the full token text (shown once) and its row."""
    if not days > 0 or days > 3660:
        raise InputError(Problem("days", days, "a lifetime of more than 0 and at most 3660 days"))
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(id=token_id, user_id=user.id, secret_hash=hash_secret(secret, "token"), label=label[:128],
                   expires=utcnow() + dt.timedelta(days=days))
    s.add(row)
    s.flush()
    return f"{_PREFIX}{token_id}.{secret}", row


def revoke_token(s: Session, token_id: str) -> ApiToken:
    token_id = token_id.removeprefix(_PREFIX).split(".", 1)[0]
    row = s.get(ApiToken, token_id)
    if row is None:
        raise InputError(Problem("token", token_id, "the id of an existing token (the part before the dot)"))
    row.revoked = row.revoked or utcnow()
    _verified.clear()
    return row


_verified: dict[str, float] = {}
_verified_lock = threading.Lock()


def principal_from_token(s: Session, token: str) -> Principal | None:
    """The caller behind a bearer token, or None when it is unknown, wrong, expired or revoked."""
    if not token.startswith(_PREFIX) or "." not in token or len(token) > 256:
        return None
    token_id, secret = token[len(_PREFIX):].split(".", 1)
    row = s.execute(select(ApiToken.secret_hash, ApiToken.revoked, ApiToken.expires, User.id, User.username,
                           User.role, User.team_id, User.active)
                    .join(User, User.id == ApiToken.user_id).where(ApiToken.id == token_id)).first()
    if row is None or row.revoked is not None or row.expires <= utcnow():
        return None
    key = hashlib.sha256(token.encode()).hexdigest()
    now = time.monotonic()
    with _verified_lock:
        fresh = _verified.get(key, 0.0) > now
    if not fresh:
        if not verify_secret(row.secret_hash, secret):
            return None
        with _verified_lock:
            if len(_verified) > 10_000:
                _verified.clear()
            _verified[key] = now + TOKEN_CACHE_S
    if not row.active:  # one query reads the token and its user: expiry and revocation on every request
        return None
    return Principal(row.id, row.username, row.role, row.team_id, "token")


def throttled(s: Session, username: str, address: str, attempts: int, window_s: int) -> bool:
    """True when ``username`` has had ``attempts`` failed log-ins (from any address) in the window."""
    since = utcnow() - dt.timedelta(seconds=window_s)
    n = s.scalar(select(func.count()).select_from(LoginFailure)
                 .where(LoginFailure.username == username[:128], LoginFailure.at > since)) or 0
    return n >= attempts


def check_login(s: Session, username: str, password: str, address: str) -> User | None:
    """The user when the password is right; a failure is recorded for throttling."""
    user = s.scalar(select(User).where(User.username == username))
    ok = user is not None and user.active and verify_secret(user.password_hash, password)
    if user is None:  # spend the same time as a real check, so names cannot be probed by timing
        verify_secret(_DUMMY_HASH(), password)
    if not ok:
        s.add(LoginFailure(username=username[:128], address=address[:64]))
        return None
    s.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return user


_dummy: list[str] = []


def _DUMMY_HASH() -> str:
    if not _dummy:
        _dummy.append(hash_secret(secrets.token_hex(8)))
    return _dummy[0]


def open_session(s: Session, user: User, hours: float) -> tuple[str, WebSession]:
    """A page session: the cookie value (random; only its SHA-256 is stored) and its row with a CSRF token."""
    value = secrets.token_urlsafe(32)
    row = WebSession(id=hashlib.sha256(value.encode()).hexdigest(), user_id=user.id, csrf=secrets.token_urlsafe(24),
                     expires=utcnow() + dt.timedelta(hours=hours))
    s.add(row)
    s.flush()
    return value, row


def principal_from_session(s: Session, value: str) -> Principal | None:
    if not value or len(value) > 128:
        return None
    row = s.get(WebSession, hashlib.sha256(value.encode()).hexdigest())
    if row is None or row.expires <= utcnow():
        return None
    user = s.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return Principal(user.id, user.username, user.role, user.team_id, "session", row.csrf)


def close_session(s: Session, value: str) -> None:
    s.execute(delete(WebSession).where(WebSession.id == hashlib.sha256(value.encode()).hexdigest()))
