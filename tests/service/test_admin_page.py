"""The administration page: admins list users, add a user with role and team, issue and revoke tokens,
deactivate and reactivate users; every form needs the session's CSRF token; other roles get 403 (as the API's
account routes), no session the log-in page (401); every change is audited. On SQLite and PostgreSQL; the
browser half (keyboard only where it matters, labels on every field, screenshots) in Debian's Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import PASSWORD, Service, make_users, serving

ADMIN_ROUTES = [("GET", "/admin"), ("POST", "/admin/users"), ("POST", "/admin/users/ana/tokens"),
                ("POST", "/admin/tokens/abc/revoke"), ("POST", "/admin/users/ana/active")]


def _login(svc: Service, who: str) -> str:
    """Log the test client in (the log-in form's double-submit CSRF); the page's CSRF token."""
    svc.client.cookies.clear()
    form = svc.client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    r = svc.client.post("/login", data={"username": who, "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    page = svc.client.get("/cases").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_admin_routes_refuse_other_roles_and_missing_csrf(service: Service) -> None:
    service.client.cookies.clear()
    for method, path in ADMIN_ROUTES:  # no session: the log-in page
        r = service.client.request(method, path, follow_redirects=False)
        assert r.status_code == 401 and "Log in" in r.text, (method, path)
    csrf = _login(service, "ana")  # a clinician: 403 on every admin route, even with a good CSRF token
    for method, path in ADMIN_ROUTES:
        r = service.client.request(method, path, data={"csrf": csrf} if method == "POST" else None)
        assert r.status_code == 403 and "admin" in r.text, (method, path)
    assert "/admin" not in service.client.get("/cases").text  # no link to it either
    _login(service, "root")
    for method, path in ADMIN_ROUTES[1:]:  # an admin without the CSRF token: refused, nothing changed
        r = service.client.request(method, path, data={"csrf": "wrong", "username": "x", "password": PASSWORD * 2,
                                                       "role": "clinician", "team": "t", "days": "1", "active": "0"})
        assert r.status_code == 403 and "expired" in r.text, (method, path)
    from sqlalchemy import func, select

    from nerasense.service.db import ApiToken, User

    with service.ctx.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 4
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 4
        assert all(s.scalars(select(User.active)))


def test_admin_manages_users_and_tokens(service: Service) -> None:
    from sqlalchemy import select

    from nerasense.service.db import AuditRow

    csrf = _login(service, "root")
    page = service.client.get("/admin")
    assert page.status_code == 200 and all(u in page.text for u in ("ana", "ben", "rita", "root"))
    bad = service.client.post("/admin/users", data={"csrf": csrf, "username": "cleo", "password": "short",
                                                    "role": "clinician", "team": ""})
    assert bad.status_code == 422
    assert 'id="e-password"' in bad.text and 'id="e-team"' in bad.text and "12 to 1024" in bad.text
    assert 'value="cleo"' in bad.text and "short" not in bad.text.replace("shortly", "")  # the password is not echoed
    ok = service.client.post("/admin/users", data={"csrf": csrf, "username": "cleo", "password": PASSWORD,
                                                   "role": "researcher", "team": "team-c"}, follow_redirects=False)
    assert ok.status_code == 303
    issued = service.client.post("/admin/users/cleo/tokens", data={"csrf": csrf, "days": "7", "label": "laptop"})
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(nsk_[^"]+)"', issued.text).group(1)  # type: ignore[union-attr]
    me = service.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "cleo" and me.json()["role"] == "researcher"
    token_id = token.removeprefix("nsk_").split(".")[0]
    assert service.client.post("/admin/users/cleo/tokens", data={"csrf": csrf, "days": "0"}).status_code == 422
    assert service.client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf": csrf},
                               follow_redirects=False).status_code == 303
    assert service.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # deactivate ana: her token stops working at once; reactivate: it works again
    assert service.client.get("/v1/me", headers=service.headers("ana")).status_code == 200
    assert service.client.post("/admin/users/ana/active", data={"csrf": csrf, "active": "0"},
                               follow_redirects=False).status_code == 303
    assert service.client.get("/v1/me", headers=service.headers("ana")).status_code == 401
    assert "deactivated" in service.client.get("/admin").text
    assert service.client.post("/admin/users/ana/active", data={"csrf": csrf, "active": "1"},
                               follow_redirects=False).status_code == 303
    assert service.client.get("/v1/me", headers=service.headers("ana")).status_code == 200
    selfie = service.client.post("/admin/users/root/active", data={"csrf": csrf, "active": "0"})
    assert selfie.status_code == 422 and "cannot deactivate themselves" in selfie.text
    with service.ctx.db.session(write=False) as s:
        actions = [(r.action, r.username) for r in s.scalars(select(AuditRow).order_by(AuditRow.id))
                   if r.action.startswith(("user-", "token-")) and r.username == "root"]
    assert actions == [("user-add", "root"), ("token-issue", "root"), ("token-revoke", "root"),
                       ("user-deactivate", "root"), ("user-activate", "root")]


# ------------------------------------------------------------------------------------------------ the browser


@pytest.fixture
def admin_server(tmp_path: Path, database_url: str) -> Iterator[str]:

    from nerasense.service.settings import settings_from_env

    settings = settings_from_env(data_dir=tmp_path / "data", database_url=database_url, worker=False)
    make_users(settings, {"root": ("admin", "board-1"), "ana": ("clinician", "board-1")})
    with serving(settings) as url:
        yield url


@pytest.fixture
def admin_page(admin_server: str) -> Iterator[Any]:
    from tests.service.conftest import need
    from tests.service.test_browser import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        need("Chromium", "/usr/bin/chromium is missing (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=admin_server)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        yield pg
        context.close()
        browser.close()


def _unlabelled(page: Any) -> list[str]:
    return list(page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        "els => els.filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id)"))


def test_admin_page_in_the_browser(admin_page: Any, database_url: str) -> None:
    from tests.service.test_browser import _shot, expect

    page = admin_page
    backend = database_url.split(":")[0].split("+")[0]
    page.goto("/login")
    page.get_by_label("User name").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases")
    page.get_by_role("link", name="Admin").click()
    page.wait_for_url("**/admin")
    expect(page.get_by_role("heading", name="Users and teams")).to_be_visible()
    assert _unlabelled(page) == []

    # add a user by keyboard only: a mistake first (short password, no team), shown at the fields
    page.get_by_label("User name").focus()
    page.keyboard.type("dr-cleo")
    page.keyboard.press("Tab")
    page.keyboard.type("short")
    page.keyboard.press("Tab")  # the role (clinician, the first choice, stays)
    assert page.evaluate("document.activeElement.name") == "role"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "team"
    page.keyboard.press("Enter")  # in the (empty) team field: submits the form
    page.wait_for_load_state()
    expect(page.locator("#e-password")).to_contain_text("12 to 1024 characters")
    expect(page.locator("#e-team")).to_contain_text("clinicians and researchers belong to a team")
    assert page.get_by_label("User name").input_value() == "dr-cleo"
    assert page.get_by_label("Password (12 characters or more)").get_attribute("aria-invalid") == "true"
    _shot(page, "06-admin-field-errors", backend)
    page.get_by_label("Password (12 characters or more)").fill(PASSWORD)
    page.get_by_label("Team (created when new; needed for clinicians and researchers)").fill("board-2")
    page.get_by_label("Team (created when new; needed for clinicians and researchers)").press("Enter")
    page.wait_for_url("**/admin?added=dr-cleo")
    expect(page.get_by_role("status")).to_contain_text("Added user dr-cleo.")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="dr-cleo", exact=True))
    expect(row).to_contain_text("board-2")

    # a token for dr-cleo, from the keyboard: its days field, then Enter
    row.get_by_label("Days valid for dr-cleo").fill("7")
    row.get_by_label("Label").fill("laptop")
    row.get_by_label("Label").press("Enter")
    token = page.get_by_label("Token", exact=True).input_value()
    assert token.startswith("nsk_")
    _shot(page, "07-admin-new-token", backend)
    me = page.request.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status == 200 and me.json()["username"] == "dr-cleo"
    page.goto("/admin")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="dr-cleo", exact=True))
    token_id = token.removeprefix("nsk_").split(".")[0]
    row.get_by_role("button", name=f"Revoke token {token_id} of dr-cleo").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin?revoked={token_id}")
    assert page.request.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status == 401
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="dr-cleo", exact=True))
    expect(row).to_contain_text("revoked")
    row.get_by_role("button", name="Deactivate dr-cleo").click()
    page.wait_for_url("**/admin?deactivated=dr-cleo")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="dr-cleo", exact=True))
    expect(row).to_contain_text("deactivated")
    expect(row.get_by_role("button", name="Reactivate dr-cleo")).to_be_visible()
    assert _unlabelled(page) == []
    _shot(page, "08-admin-users", backend)

    # a clinician: no link, and 403 on the page
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases")
    assert page.get_by_role("link", name="Admin").count() == 0
    response = page.goto("/admin")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    _shot(page, "09-admin-forbidden", backend)
