"""Reads through the page: the case form takes reads (BAM with its index) and a reference FASTA, the assessment
runs as a job with a page to follow it, and the report follows; missing pieces are shown at their fields.
The reads are the caller's own test reads (../shared/data/ngs-panel). On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.service.conftest import PASSWORD, Service, make_users, serving
from tests.service.test_admin_page import _login
from tests.service.test_reads_uploads import BAI, BAM, FASTA, PANEL


def _need_reads() -> None:
    if not PANEL.is_dir():
        pytest.skip(f"real data folder {PANEL} is absent (it sits beside the checkout in CI)")
    missing = [t for t in ("bwa", "samtools") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not on PATH (Debian packages; .ci/run installs them)")


def test_reads_form_problems_at_their_fields(service: Service) -> None:
    _need_reads()
    csrf = _login(service, "ana")
    data = {"csrf": csrf, "patient_id": "PAGE-READS-0", "tumour_type": "BRCA"}
    r = service.client.post("/cases", data=data, files=[("reads", ("plasma.bam", BAM.read_bytes(), "application/octet-stream"))])
    assert r.status_code == 422 and 'id="e-reference"' in r.text and "reference FASTA" in r.text
    r = service.client.post("/cases", data=data, files=[("reference", ("ref.fa", FASTA.read_bytes(), "text/plain")),
                                                        ("reads", ("x.vcf", b"##fileformat=VCFv4.2\n", "text/plain"))])
    assert r.status_code == 422 and 'id="e-reads"' in r.text and "BAM, CRAM or FASTQ" in r.text
    assert 'value="PAGE-READS-0"' in r.text  # the other values are kept


def test_reads_job_from_the_page_in_the_browser(tmp_path: Path, database_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _need_reads()

    from nerasense.service.settings import settings_from_env
    from tests.service.conftest import need
    from tests.service.test_browser import ARGS, CHROMIUM, _shot, expect

    if not CHROMIUM.exists():
        need("Chromium", "/usr/bin/chromium is missing (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("NERASENSE_CACHE_DIR", str(tmp_path / "cache"))
    settings = settings_from_env(data_dir=tmp_path / "data", database_url=database_url, worker=True)
    make_users(settings, {"ana": ("clinician", "board-1")})
    backend = database_url.split(":")[0].split("+")[0]
    with serving(settings) as base, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=base)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto("/login")
        page.get_by_label("User name").fill("ana")
        page.get_by_label("Password").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/cases")
        page.get_by_label("Patient id (letters, digits, . _ -)").fill("PAGE-READS-1")
        page.get_by_label("Tumour type (OncoTree code, e.g. BRCA, LUAD)").fill("IDC")
        page.get_by_label("Setting", exact=True).select_option("metastatic")
        page.get_by_label("HER2 IHC score").select_option("1+")
        page.get_by_label("Reads (one BAM or CRAM, or one or two FASTQ)").set_input_files([str(BAM), str(BAI)])
        page.get_by_label("Reference FASTA for the reads").set_input_files(str(FASTA))
        page.get_by_label("The reads are from").select_option("plasma")
        page.get_by_role("button", name="Assess").click()
        page.wait_for_url(re.compile(r".*/jobs/\d+$"))
        expect(page.get_by_role("heading", name=re.compile(r"Job \d+: reads"))).to_be_visible()
        for _ in range(240):
            if "State: done" in page.get_by_role("status").inner_text():
                break
            time.sleep(0.5)
            page.reload()
        expect(page.get_by_role("status")).to_contain_text("State: done")
        expect(page.get_by_role("cell", name="seracare_ctdna_5pct_duplex.bam", exact=True)).to_be_visible()
        _shot(page, "11-reads-job", backend)
        page.get_by_role("link", name=re.compile("Assessment \\d+ of patient PAGE-READS-1")).click()
        page.wait_for_url("**/assessments/*")
        report = page.frame_locator("iframe.report")
        expect(report.get_by_text("Hotspots tested in the reads")).to_be_visible()
        _shot(page, "12-reads-report", backend)
        context.close()
        browser.close()
