"""The page in a real browser (Debian's Chromium through Playwright; the pip package only, no browser download):
log in, enter a case with a mistake and see the error at its field, fix it and upload a VCF, read the report,
see the history, re-run, download the JSON. Screenshots go to out/screenshots/ (look at them after a change)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import EXAMPLES, PASSWORD, REPO, need

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
SHOTS = REPO / "out" / "screenshots"


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[str]:

    from nerasense.service.settings import settings_from_env
    from tests.service.conftest import make_users, serving

    settings = settings_from_env(data_dir=tmp_path / "data", database_url=database_url, worker=False)
    make_users(settings, {"ana": ("clinician", "team-a")})
    with serving(settings) as url:
        yield url


@pytest.fixture
def page(live_server: str) -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        need("Chromium", "/usr/bin/chromium is missing (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True,
                                      base_url=live_server)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        yield pg
        context.close()
        browser.close()


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as _expect

    _expect.set_options(timeout=60_000)  # the report is drawn on demand; a loaded CI machine is slow
    return _expect(locator)


def _shot(page: Any, name: str, backend: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{backend}-{name}.png"), full_page=True)


def test_main_flow(page: Any, database_url: str) -> None:
    backend = database_url.split(":")[0].split("+")[0]
    page.goto("/cases")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # 401 shows the log-in form
    _shot(page, "01-login", backend)
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # keyboard only
    page.wait_for_url("**/cases")

    # a mistake: the error is shown at its field, the other values are kept
    page.get_by_label("Patient id (letters, digits, . _ -)").fill("WEB-1")
    page.get_by_label("Tumour type (OncoTree code, e.g. BRCA, LUAD)").fill("BRCX")
    page.get_by_label("Age (years)").fill("57")
    page.get_by_role("button", name="Assess").click()
    expect(page.locator("#e-tumour_type")).to_contain_text("did you mean 'BRCA'?")
    assert page.get_by_label("Age (years)").input_value() == "57"
    assert page.get_by_label("Tumour type (OncoTree code, e.g. BRCA, LUAD)").get_attribute("aria-invalid") == "true"
    _shot(page, "02-field-error", backend)

    page.get_by_label("Tumour type (OncoTree code, e.g. BRCA, LUAD)").fill("BRCA")
    page.get_by_label("Setting", exact=True).select_option("metastatic")
    page.get_by_label("Oestrogen receptor").select_option("positive")
    page.get_by_label("HER2 IHC score").select_option("1+")
    page.get_by_label("Sequencing files (VCF, MAF, copy-number table)").set_input_files(
        str(EXAMPLES / "genomics" / "example_tumour_vep.vcf"))
    page.get_by_role("button", name="Assess").click()
    page.wait_for_url("**/assessments/*")
    expect(page.get_by_role("heading", name="Patient WEB-1 — assessment 1")).to_be_visible()
    report = page.frame_locator("iframe.report")
    expect(report.get_by_text("Research use only.").first).to_be_visible()
    expect(report.get_by_role("heading", name="Neratinib assessment — WEB-1")).to_be_visible()
    _shot(page, "03-report", backend)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download JSON").click()
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved["patient_id"] == "WEB-1" and saved["alterations"], "the VCF's alterations are in the report"

    page.get_by_role("link", name="History").click()
    page.wait_for_url("**/patients/WEB-1")
    page.get_by_role("button", name="Re-run assessment 1 on today's knowledge").click()
    page.wait_for_url("**/patients/WEB-1")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("nothing changed")
    _shot(page, "04-history", backend)


def test_ctdna_timeline_in_history(page: Any, database_url: str) -> None:
    backend = database_url.split(":")[0].split("+")[0]
    page.goto("/login")
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/cases")
    page.get_by_label("Patient id (letters, digits, . _ -)").fill("EX-GATEKEEPER")
    page.get_by_label("Tumour type (OncoTree code, e.g. BRCA, LUAD)").fill("BRCA")
    page.get_by_label("Alterations found (one per line: GENE CHANGE [VAF])").fill("ERBB2 L869R 0.22")
    page.get_by_label("Plasma ctDNA series (CSV/TSV)").set_input_files(str(EXAMPLES / "patients" / "ctdna" / "series.csv"))
    page.get_by_role("button", name="Assess").click()
    page.wait_for_url("**/assessments/*")
    page.get_by_role("link", name="History").click()
    timeline = page.get_by_role("img", name="Plasma ctDNA over time for patient EX-GATEKEEPER")
    expect(timeline).to_be_visible()
    assert timeline.evaluate("img => img.naturalWidth") > 200
    _shot(page, "05-ctdna-history", backend)
