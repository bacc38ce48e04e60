"""The researchers' page: the de-identified export through the page's session (the same bytes as the API's),
403 for other roles, the log-in page without a session; and in Debian's Chromium, the downloads with a
screenshot. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import PASSWORD, Service, make_users, serving
from tests.service.test_admin_page import _login

SECRET = "a-page-export-key-of-at-least-32-characters-42"


@pytest.fixture
def svc(service_factory: Any) -> Service:
    s: Service = service_factory(export_secret=SECRET)
    s.tokens = make_users(s.settings, {"ana": ("clinician", "team-a"), "rita": ("researcher", "team-a")})
    r = s.client.post("/v1/patients", json={"patient": {"patient_id": "PAGE-PT-1", "tumour_type": "BRCA",
                                                         "assessed_on": "2026-02-03"}}, headers=s.headers("ana"))
    assert r.status_code == 201
    return s


def test_cohort_page_and_download(svc: Service) -> None:
    svc.client.cookies.clear()
    assert svc.client.get("/cohort").status_code == 401
    assert svc.client.get("/cohort/export").status_code == 401
    _login(svc, "ana")
    assert svc.client.get("/cohort").status_code == 403
    assert svc.client.get("/cohort/export?format=json").status_code == 403
    _login(svc, "rita")
    page = svc.client.get("/cohort")
    assert page.status_code == 200 and "Safe Harbor" in page.text and "Download PARQUET" in page.text
    r = svc.client.get("/cohort/export", params={"format": "tsv"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    from sqlalchemy import select

    from nerasense.service.db import Team

    with svc.ctx.db.session(write=False) as s:
        team = s.scalar(select(Team.id).where(Team.name == "team-a"))
    pseudo = "NS-" + hmac.new(SECRET.encode(), f"team:{team}\x1fPAGE-PT-1".encode(), hashlib.sha256).hexdigest()[:20]
    lines = r.text.splitlines()
    assert lines[1].split("\t")[:3] == [pseudo, "1", "2026"] and "PAGE-PT-1" not in r.text and "02-03" not in r.text
    assert r.content == svc.client.get("/v1/cohort/export", params={"format": "tsv"}, headers=svc.headers("rita")).content
    bad = svc.client.get("/cohort/export", params={"format": "xlsx"})
    assert bad.status_code == 422 and "format=&#39;xlsx&#39; is not allowed; allowed: tsv, json, parquet" in bad.text


def test_cohort_page_in_the_browser(tmp_path: Path, database_url: str) -> None:


    from nerasense.service.settings import settings_from_env
    from tests.service.conftest import need
    from tests.service.test_browser import ARGS, CHROMIUM, _shot, expect

    if not CHROMIUM.exists():
        need("Chromium", "/usr/bin/chromium is missing (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    settings = settings_from_env(data_dir=tmp_path / "data", database_url=database_url, worker=False,
                                 export_secret=SECRET)
    tokens = make_users(settings, {"ana": ("clinician", "board-1"), "rita": ("researcher", "board-1")})
    with serving(settings) as base:
        backend = database_url.split(":")[0].split("+")[0]
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True,
                                          base_url=base)
            page = context.new_page()
            page.set_default_timeout(30_000)
            r = page.request.post("/v1/patients", data={"patient": {"patient_id": "BROWSER-PT", "tumour_type": "BRCA"}},
                                  headers={"Authorization": f"Bearer {tokens['ana']}"})
            assert r.status == 201
            page.goto("/login")
            page.get_by_label("User name").fill("rita")
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url("**/cases")
            page.get_by_role("link", name="Cohort").click()
            expect(page.get_by_role("heading", name="De-identified cohort of your team")).to_be_visible()
            _shot(page, "10-cohort", backend)
            page.get_by_role("link", name="Download TSV").focus()
            with page.expect_download() as download:
                page.keyboard.press("Enter")
            text = Path(download.value.path()).read_text()
            assert text.startswith("pseudonym\t") and "NS-" in text and "BROWSER-PT" not in text
            context.close()
            browser.close()
