"""Accounts and isolation: every route needs credentials except the few public ones named here; another team's
records answer 404 (never 403); tokens expire and can be revoked; page sessions are HttpOnly/SameSite cookies
with CSRF on every form; failed log-ins are throttled."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from tests.service.conftest import PASSWORD, Service, example_patient

# (method, path) that answer without credentials, and why
PUBLIC = {
    ("GET", "/healthz"): "liveness for load balancers; no patient data",
    ("GET", "/metrics"): "Prometheus scrape; counts by route template, no patient data",
    ("GET", "/openapi.json"): "the API's schema",
    ("GET", "/"): "redirects to the log-in page",
    ("GET", "/login"): "the log-in form",
    ("POST", "/login"): "log-in itself (CSRF-checked, throttled)",
    ("POST", "/logout"): "ends a session if there is one; harmless without",
}
PUBLIC_MOUNTS = {"/static": "the page's stylesheet"}


def all_routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for route in _flat(app.routes):
        if isinstance(route, Mount):
            assert route.path in PUBLIC_MOUNTS, f"mount {route.path} not named"
            continue
        assert isinstance(route, (APIRoute, Route))
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, route.path))
    return out


def _flat(routes: list[Any]) -> list[Any]:
    """Routes, with included routers opened (FastAPI keeps an included router as one entry)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out += _flat(inner.routes) if inner is not None else [route]
    return out


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_needs_credentials(service: Service) -> None:
    routes = all_routes(service.app)
    assert len(routes) >= 25
    for method, path in routes:
        r = service.client.request(method, _fill(path), follow_redirects=False)
        if (method, path) in PUBLIC:
            assert r.status_code != 401 and r.status_code < 500, (method, path, r.status_code)
        else:
            assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
    assert set(PUBLIC) <= set(routes), "a named public route no longer exists"


def test_bad_tokens_are_refused(service: Service) -> None:
    for value in ("Bearer nsk_nothing.here", "Bearer " + service.tokens["ana"] + "x", "Basic YW5hOmFuYQ==",
                  "Bearer " + service.tokens["ana"].split(".")[0]):
        r = service.client.get("/v1/patients", headers={"Authorization": value})
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def _submit(service: Service, who: str) -> dict[str, Any]:
    r = service.client.post("/v1/patients", content=example_patient(),
                            headers=service.headers(who, **{"Content-Type": "application/yaml"}))
    assert r.status_code == 201, r.text
    return r.json()


def test_other_team_gets_404(service: Service) -> None:
    mine = _submit(service, "ana")
    aid, pid = mine["assessment_id"], mine["patient_id"]
    job = service.client.post("/v1/jobs", json={"kind": "variants", "items": [{"gene": "ERBB2", "change": "L755S"}]},
                              headers=service.headers("ana")).json()
    jid = job["job_id"]
    cases = [("GET", "/v1/assessments/{a}"), ("GET", "/v1/assessments/{a}?format=html"),
             ("POST", "/v1/assessments/{a}/rerun"), ("GET", "/v1/patients/{p}/assessments"),
             ("GET", "/v1/jobs/{j}"), ("POST", "/v1/jobs/{j}/retry")]
    for method, template in cases:
        theirs = service.client.request(method, template.format(a=aid, p=pid, j=jid), headers=service.headers("ben"))
        missing = service.client.request(method, template.format(a=999999, p="NO-SUCH", j=999999),
                                         headers=service.headers("ben"))
        assert theirs.status_code == 404 == missing.status_code, (method, template)
        assert theirs.json() == missing.json()  # nothing tells "exists elsewhere" from "does not exist"
    assert service.client.get("/v1/patients", headers=service.headers("ben")).json() == {"patients": []}
    # the same patient id in another team is another patient
    theirs = _submit(service, "ben")
    assert theirs["patient_id"] == pid and theirs["assessment_id"] != aid
    hist = service.client.get(f"/v1/patients/{pid}/assessments", headers=service.headers("ana")).json()
    assert [a["assessment_id"] for a in hist["assessments"]] == [aid]
    # same team, other role: the researcher reads the clinician's record
    assert service.client.get(f"/v1/assessments/{aid}", headers=service.headers("rita")).status_code == 200


def test_token_expiry_and_revocation(service: Service) -> None:
    from nerasense.service import accounts
    from nerasense.service.db import ApiToken

    token = service.tokens["ana"]
    token_id = token.removeprefix("nsk_").split(".")[0]
    assert service.client.get("/v1/me", headers=service.headers("ana")).json()["username"] == "ana"
    with service.ctx.db.session() as s:
        s.get(ApiToken, token_id).expires = dt.datetime(2000, 1, 1)
    assert service.client.get("/v1/me", headers=service.headers("ana")).status_code == 401
    with service.ctx.db.session() as s:
        s.get(ApiToken, token_id).expires = dt.datetime(2999, 1, 1)
    assert service.client.get("/v1/me", headers=service.headers("ana")).status_code == 200
    r = service.client.delete(f"/v1/tokens/{token_id}", headers=service.headers("ben"))
    assert r.status_code == 404  # not ben's token
    r = service.client.delete(f"/v1/tokens/{token_id}", headers=service.headers("root"))
    assert r.status_code == 200
    assert service.client.get("/v1/me", headers=service.headers("ana")).status_code == 401
    with service.ctx.db.session() as s:  # stored hashed with Argon2id, never in clear
        row = s.get(ApiToken, token_id)
        assert row.secret_hash.startswith("$argon2id$") and token.split(".")[1] not in row.secret_hash
        assert accounts.verify_secret(row.secret_hash, token.split(".")[1])


def test_admin_adds_users_and_tokens(service: Service) -> None:
    new = {"username": "cleo", "password": PASSWORD, "role": "clinician", "team": "team-b"}
    assert service.client.post("/v1/users", json=new, headers=service.headers("ana")).status_code == 403
    r = service.client.post("/v1/users", json=new, headers=service.headers("root"))
    assert r.status_code == 201
    weak = service.client.post("/v1/users", json={**new, "username": "dan", "password": "short"},
                               headers=service.headers("root"))
    assert weak.status_code == 422 and weak.json()["problems"][0]["field"] == "password"
    assert "short" not in weak.text
    tok = service.client.post("/v1/users/cleo/tokens", json={"days": 1}, headers=service.headers("root")).json()
    me = service.client.get("/v1/me", headers={"Authorization": f"Bearer {tok['token']}"}).json()
    assert me["username"] == "cleo" and me["role"] == "clinician"


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the form"
    return m.group(1)


def _login(service: Service, user: str = "ana", password: str = PASSWORD) -> Any:
    page = service.client.get("/login")
    return service.client.post("/login", data={"username": user, "password": password, "csrf": _csrf(page.text)},
                               follow_redirects=False)


def test_session_cookie_and_csrf(service: Service) -> None:
    r = _login(service)
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("nerasense_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = service.client.get("/cases")
    assert page.status_code == 200 and "Enter a case" in page.text
    # a form without the session's CSRF token is refused
    no_csrf = service.client.post("/cases", data={"patient_id": "X1"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    wrong = service.client.post("/cases", data={"patient_id": "X1", "csrf": "guess"}, follow_redirects=False)
    assert wrong.status_code == 403
    ok = service.client.post("/cases", data={"patient_id": "X1", "tumour_type": "BRCA", "csrf": _csrf(page.text)},
                             follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].startswith("/assessments/")
    # log-in itself needs the double-submit token
    service.client.cookies.clear()
    bare = service.client.post("/login", data={"username": "ana", "password": PASSWORD}, follow_redirects=False)
    assert bare.status_code == 403


def test_login_throttling(service: Service) -> None:
    limit = service.settings.login_attempts
    for _ in range(limit):
        assert _login(service, password="wrong password!").status_code == 401
    blocked = _login(service)  # even the right password waits now
    assert blocked.status_code == 429
    assert _login(service, user="ben").status_code == 303  # another user is not affected


def test_page_isolation(service: Service) -> None:
    mine = _submit(service, "ana")
    _login(service, "ben")
    for path in (f"/assessments/{mine['assessment_id']}", f"/assessments/{mine['assessment_id']}/report",
                 f"/patients/{mine['patient_id']}"):
        assert service.client.get(path).status_code == 404, path


@pytest.mark.parametrize("role", ["clinician"])
def test_roles_listed(role: str) -> None:
    from nerasense.service.accounts import ROLES

    assert ROLES == ("clinician", "researcher", "admin") and role in ROLES
