"""The administration page (admins only): list users with their teams, roles and tokens; add a user; issue and
revoke API tokens; deactivate and reactivate users. Plain forms, each with the session's CSRF token and a label
on every field; no scripts. Another role gets 403 (the role rule of the API's account routes); without a session
the log-in page (401). Every change is audited as the API's account routes audit it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from nerasense.errors import InputError, Problem
from nerasense.service import accounts, audit
from nerasense.service.accounts import ROLES, Principal
from nerasense.service.api import Form, address, ctx_of, read_form
from nerasense.service.db import ApiToken, Team, User, WebSession, utcnow
from nerasense.service.web import _csrf_ok, _login_page, _page, _session_principal

ADD_FIELDS = ("username", "password", "role", "team")


def _entry(who: Principal, action: str, target: str, request: Request) -> audit.Entry:
    return audit.Entry(action, target, who.username, who.user_id, who.team_id, None, address(request),
                       ctx_of(request).kb.kb_version)


def overview(request: Request) -> dict[str, Any]:
    """Users (with team and tokens) and teams, for the page."""
    now = utcnow()
    with ctx_of(request).db.session(write=False) as s:
        teams = {t.id: t.name for t in s.scalars(select(Team).order_by(Team.name))}
        tokens: dict[int, list[dict[str, Any]]] = {}
        for t in s.scalars(select(ApiToken).order_by(ApiToken.created)):
            state = "revoked" if t.revoked else "expired" if t.expires <= now else "active"
            tokens.setdefault(t.user_id, []).append({"id": t.id, "label": t.label, "state": state,
                                                     "expires": t.expires.strftime("%Y-%m-%d")})
        users = [{"id": u.id, "username": u.username, "role": u.role, "team": teams.get(u.team_id or -1, ""),
                  "active": u.active, "tokens": tokens.get(u.id, [])}
                 for u in s.scalars(select(User).order_by(User.username))]
    return {"users": users, "teams": sorted(teams.values())}


def _render(request: Request, who: Principal, status: int = 200, **extra: Any) -> HTMLResponse:
    notice = next((f"{label} {request.query_params[key]}." for key, label in (
        ("added", "Added user"), ("revoked", "Revoked token"), ("deactivated", "Deactivated user"),
        ("activated", "Reactivated user")) if key in request.query_params), None)
    context: dict[str, Any] = {"values": {}, "errors": {}, "general": [], "roles": ROLES, "new_token": None,
                               "notice": notice, **extra}
    return _page(request, "admin.html", who, status=status, **overview(request), **context)


def _admin_or_refusal(request: Request) -> tuple[Principal | None, Response | None]:
    who = _session_principal(request)
    if who is None:
        return None, _login_page(request, 401, "Log in to continue.")
    if who.role != "admin":
        return None, _page(request, "forbidden.html", who, status=403, need="admin")
    return who, None


async def _admin_form(request: Request) -> tuple[Principal, Form] | Response:
    """An admin's posted form with its CSRF token checked, or the answer that refuses it (log in, 403, expired)."""
    who, refusal = _admin_or_refusal(request)
    if refusal is not None:
        return refusal
    assert who is not None
    form = await read_form(request, max_files=0, max_fields=16)
    if not _csrf_ok(who, form):
        return HTMLResponse("The form expired; reload the page.", status_code=403)
    return who, form


def mount(app: FastAPI) -> None:
    @app.get("/admin", include_in_schema=False)
    def admin_page(request: Request) -> Response:
        who, refusal = _admin_or_refusal(request)
        if refusal is not None:
            return refusal
        assert who is not None
        return _render(request, who)

    @app.post("/admin/users", include_in_schema=False)
    async def admin_add_user(request: Request) -> Response:
        got = await _admin_form(request)
        if isinstance(got, Response):
            return got
        who, form = got
        values = {k: str(form.get(k) or "").strip() for k in ADD_FIELDS}

        def add() -> str:
            with ctx_of(request).db.session() as s:
                user = accounts.add_user(s, values["username"], str(form.get("password") or ""), values["role"],
                                         values["team"] or None)
                audit.append(s, _entry(who, "user-add", f"user:{user.id}", request))
                return user.username

        try:
            name = await run_in_threadpool(add)
        except InputError as err:
            errors, general = field_errors_for(err, ADD_FIELDS)
            values.pop("password")
            return _render(request, who, status=422, values=values, errors=errors, general=general)
        return RedirectResponse(f"/admin?added={name}", status_code=303)

    @app.post("/admin/users/{username}/tokens", include_in_schema=False)
    async def admin_issue_token(request: Request, username: str) -> Response:
        got = await _admin_form(request)
        if isinstance(got, Response):
            return got
        who, form = got
        days_text = str(form.get("days") or "").strip()
        label = str(form.get("label") or "")[:128]

        def issue() -> tuple[str, str]:
            try:
                days = float(days_text)
            except ValueError:
                raise InputError(Problem("days", days_text, "a number of days, more than 0 and at most 3660")) from None
            with ctx_of(request).db.session() as s:
                user = accounts.find_user(s, username)
                token, row = accounts.issue_token(s, user, days, label)
                audit.append(s, _entry(who, "token-issue", f"token:{row.id}", request))
                return token, row.id

        try:
            token, token_id = await run_in_threadpool(issue)
        except InputError as err:
            errors, general = field_errors_for(err, ("days", "username"), prefix=f"{username}-")
            return _render(request, who, status=422, errors=errors, general=general,
                           values={f"{username}-days": days_text, f"{username}-label": label})
        # shown once, in this answer only (never in a URL or a redirect)
        response = _render(request, who, new_token={"username": username, "token": token, "id": token_id})
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/admin/tokens/{token_id}/revoke", include_in_schema=False)
    async def admin_revoke(request: Request, token_id: str) -> Response:
        got = await _admin_form(request)
        if isinstance(got, Response):
            return got
        who, _ = got

        def revoke() -> None:
            with ctx_of(request).db.session() as s:
                accounts.revoke_token(s, token_id)
                audit.append(s, _entry(who, "token-revoke", f"token:{token_id[:64]}", request))

        try:
            await run_in_threadpool(revoke)
        except InputError as err:
            return _render(request, who, status=422, general=[str(p) for p in err.problems])
        return RedirectResponse(f"/admin?revoked={token_id}", status_code=303)

    @app.post("/admin/users/{username}/active", include_in_schema=False)
    async def admin_set_active(request: Request, username: str) -> Response:
        got = await _admin_form(request)
        if isinstance(got, Response):
            return got
        who, form = got
        active = str(form.get("active") or "")

        def change() -> None:
            if active not in ("0", "1"):
                raise InputError(Problem("active", active, "0 (deactivate) or 1 (reactivate)"))
            if username == who.username and active == "0":
                raise InputError(Problem("username", username, "another user (an admin cannot deactivate themselves)"))
            with ctx_of(request).db.session() as s:
                user = accounts.find_user(s, username)
                user.active = active == "1"
                if not user.active:  # end their page sessions now (tokens are refused by the active flag)
                    s.query(WebSession).filter(WebSession.user_id == user.id).delete()
                audit.append(s, _entry(who, "user-activate" if user.active else "user-deactivate", f"user:{user.id}",
                                       request))

        try:
            await run_in_threadpool(change)
        except InputError as err:
            return _render(request, who, status=422, general=[str(p) for p in err.problems])
        return RedirectResponse(f"/admin?{'activated' if active == '1' else 'deactivated'}={username}", status_code=303)


def field_errors_for(err: InputError, fields: tuple[str, ...], prefix: str = "") -> tuple[dict[str, list[str]], list[str]]:
    """The problems by field of the admin forms (``prefix`` for a form repeated per user); the rest at the top."""
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    for p in err.problems:
        text = str(Problem(p.field, p.value, p.allowed, p.fix))
        if p.field in fields:
            errors.setdefault(prefix + p.field, []).append(text)
        else:
            general.append(text)
    return errors, general
