"""The web page for the tumour board: server-rendered (Jinja2), no scripts from elsewhere, plain forms that work
from the keyboard. Log in; enter a case in a form that mirrors the patient schema (errors shown at each field);
upload sequencing and plasma files; read the report (the CLI's); a patient's history with the ctDNA timeline and
what changed; downloads. Sessions are cookies (HttpOnly, SameSite=Strict; Secure behind HTTPS) and every form
carries a CSRF token.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from nerasense._version import software_version
from nerasense.errors import InputError, Problem
from nerasense.service import accounts, cases
from nerasense.service.accounts import Principal
from nerasense.service.api import FilePart, address, ctx_of, read_form
from nerasense.service.storage import READS_KINDS, Upload, make_upload

COOKIE = "nerasense_session"
LOGIN_CSRF = "nerasense_login_csrf"
_HERE = Path(__file__).parent

# the case form: (form field, patient field, label, kind, choices); kinds: text, number, integer, select
SCHEMA_FIELDS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    ("patient_id", "patient_id", "Patient id (letters, digits, . _ -)", "text", ()),
    ("description", "description", "Description", "text", ()),
    ("tumour_type", "tumour_type", "Tumour type (OncoTree code, e.g. BRCA, LUAD)", "text", ()),
    ("setting", "setting", "Setting", "select", ("", "early", "locally-advanced", "metastatic")),
    ("sex", "sex", "Sex", "select", ("", "female", "male")),
    ("age_years", "age_years", "Age (years)", "number", ()),
    ("ecog", "ecog", "ECOG performance status (0-4)", "integer", ()),
    ("weight_kg", "weight_kg", "Weight (kg)", "number", ()),
    ("height_cm", "height_cm", "Height (cm)", "number", ()),
    ("er", "er", "Oestrogen receptor", "select", ("", "positive", "low", "negative")),
    ("pr", "pr", "Progesterone receptor", "select", ("", "positive", "low", "negative")),
    ("region", "region", "Label region", "select", ("", "US", "EU")),
    ("assessed_on", "assessed_on", "Assessed on (YYYY-MM-DD)", "text", ()),
]
HER2_FIELDS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    ("her2_ihc", "ihc", "HER2 IHC score", "select", ("", "0", "ultralow", "1+", "2+", "3+")),
    ("her2_ish_ratio", "ish_ratio", "HER2/CEP17 ratio (ISH)", "number", ()),
    ("her2_her2_signals", "her2_signals", "HER2 signals per cell", "number", ()),
    ("her2_cep17_signals", "cep17_signals", "CEP17 signals per cell", "number", ()),
    ("her2_pct_3plus", "pct_3plus", "Percent of cells staining 3+", "number", ()),
    ("her2_specimen", "specimen", "Specimen (gastroesophageal)", "select", ("", "surgical", "biopsy")),
]


def when(stamp: object) -> str:
    """A stored UTC time stamp as people read it: ``2026-12-07 10:35 UTC`` (the ISO text stays in the API)."""
    text = str(stamp or "")
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 and text[10] in "T " else text


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    templates.env.filters["when"] = when
    return templates


def _session_principal(request: Request) -> Principal | None:
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    with ctx_of(request).db.session(write=False) as s:
        return accounts.principal_from_session(s, value)


def _page(request: Request, name: str, who: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    ctx = ctx_of(request)
    return _templates().TemplateResponse(request, name, {
        "who": who, "software_version": software_version(), "kb_version": ctx.kb.kb_version, **context,
    }, status_code=status)


def _login_page(request: Request, status: int, error: str | None = None) -> HTMLResponse:
    """The log-in form, with a fresh CSRF cookie (double-submit: the form's hidden field must match it)."""
    token = secrets.token_urlsafe(24)
    response = _page(request, "login.html", None, status=status, csrf=token, error=error)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict",
                        secure=request.app.state.settings.secure_cookies)
    return response


def _csrf_ok(who: Principal, form: Any) -> bool:
    given = form.get("csrf")
    return isinstance(given, str) and bool(who.csrf) and secrets.compare_digest(given, who.csrf)


def form_to_patient(form: Any) -> tuple[dict[str, Any], list[Problem]]:
    """The patient document from the case form; problems for lines that cannot be read."""
    doc: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, field, _label, kind, _choices in SCHEMA_FIELDS:
        value = str(form.get(name) or "").strip()
        if value:
            doc[field] = _number(value, kind)
    her2 = {}
    for name, field, _label, kind, _choices in HER2_FIELDS:
        value = str(form.get(name) or "").strip()
        if value:
            her2[field] = _number(value, kind)
    doc["her2"] = her2
    alterations_text = str(form.get("alterations") or "")
    if str(form.get("sequenced") or "") == "yes" or alterations_text.strip():
        alterations = []
        for i, line in enumerate(ln for ln in alterations_text.splitlines() if ln.strip()):
            parts = line.split()
            if len(parts) < 2:
                problems.append(Problem(f"alterations[{i}]", line, "GENE CHANGE [VAF], e.g. ERBB2 L755S 0.12"))
                continue
            alt: dict[str, Any] = {"gene": parts[0], "change": parts[1]}
            if len(parts) > 2:
                alt["vaf"] = _number(parts[2], "number")
            alterations.append(alt)
        doc["alterations"] = alterations
    therapies_text = str(form.get("prior_therapies") or "")
    if therapies_text.strip():
        therapies = []
        for line in (ln for ln in therapies_text.splitlines() if ln.strip()):
            agents, _, rest = line.partition(";")
            entry: dict[str, Any] = {"agents": [a.strip() for a in agents.split(",") if a.strip()]}
            words = [w.strip() for w in rest.split(";") if w.strip()]
            for w in words:
                key = "setting" if w in ("neoadjuvant", "adjuvant", "metastatic") else "outcome"
                entry[key] = w
            therapies.append(entry)
        doc["prior_therapies"] = therapies
    medications = [m.strip() for m in str(form.get("medications") or "").split(",") if m.strip()]
    if medications:
        doc["medications"] = medications
    return doc, problems


def _reads_from_form(form: Any, problems: list[Problem]) -> tuple[dict[str, Any] | None, list[Upload]]:
    """The case form's reads (one BAM/CRAM, or one or two FASTQ) with their reference FASTA, as a patient file's
    ``sequencing`` entry (``format: reads``) and the uploads; problems at the form's fields."""
    reads: list[Upload] = []
    for part in form.getlist("reads"):
        if isinstance(part, FilePart) and part.filename:
            try:
                reads.append(make_upload(part.filename, part.data, "reads"))
            except InputError as err:
                problems += err.problems
    ref = form.get("reference")
    reference = None
    if isinstance(ref, FilePart) and ref.filename:
        try:
            reference = make_upload(ref.filename, ref.data, "reference")
        except InputError as err:
            problems += err.problems
    if not reads and reference is None:
        return None, []
    companions = [u for u in reads if u.kind == "bai"]  # a BAM's index may come along
    reads = [u for u in reads if u.kind != "bai"]
    wrong = [u.name for u in reads if u.kind not in READS_KINDS]
    if wrong:
        problems.append(Problem("reads", ", ".join(wrong), "BAM, CRAM or FASTQ reads (other files go under "
                                "Sequencing files)"))
    if not reads:
        problems.append(Problem("reads", None, "the reads the reference FASTA is for (BAM, CRAM or FASTQ)"))
    elif len(reads) > 2 or (len(reads) == 2 and any(u.kind != "fastq" for u in reads)):
        problems.append(Problem("reads", ", ".join(u.name for u in reads), "one BAM or CRAM, or one or two FASTQ"))
    if reference is None:
        problems.append(Problem("reference", None, "the reference FASTA the reads are called against"))
    elif reference.kind != "fasta":
        problems.append(Problem("reference", reference.name, "a FASTA file ('>' records)"))
    if not reads or reference is None:
        return None, []
    origin = str(form.get("reads_origin") or "tissue")
    entry: dict[str, Any] = {"path": reads[0].name, "format": "reads", "reference": reference.name,
                             "origin": origin if origin in ("tissue", "plasma") else "tissue"}
    if len(reads) == 2:
        entry["mate"] = reads[1].name
    return entry, [*reads, *companions, reference]


def _number(value: str, kind: str) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value  # the schema names the field and what is allowed
    return value


_FIELD_ROOT = re.compile(r"^([a-z_0-9]+)(?:\[\d+\])?(?:\.([a-z_0-9]+))?")


def field_errors(problems: list[Problem]) -> tuple[dict[str, list[str]], list[str]]:
    """Problems by form field (``her2.ish_ratio`` -> ``her2_ish_ratio``; ``sequencing[0].path`` -> files);
    the rest for the top of the form."""
    form_names = {f[1]: f[0] for f in SCHEMA_FIELDS} | {"alterations": "alterations",
                                                          "prior_therapies": "prior_therapies",
                                                          "medications": "medications", "sequencing": "files", "reads": "reads",
                                                          "reference": "reference",
                                                          "ctdna": "plasma", "files": "files"}
    her2 = {f[1]: f[0] for f in HER2_FIELDS}
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for p in problems:
        text = str(Problem(p.field, p.value, p.allowed, p.fix))
        m = _FIELD_ROOT.match(p.field)
        name = None
        if m:
            root, sub = m.group(1), m.group(2)
            name = her2.get(sub or "", "her2_ihc") if root == "her2" else form_names.get(root)
        if name:
            by_field.setdefault(name, []).append(text)
        else:
            general.append(text)
    return by_field, general


def mount(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        return RedirectResponse("/cases" if _session_principal(request) else "/login", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request) -> Response:
        return _login_page(request, 200)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await read_form(request, max_files=0, max_fields=8)
        username, password = str(form.get("username") or ""), str(form.get("password") or "")
        expected = request.cookies.get(LOGIN_CSRF) or ""
        given = str(form.get("csrf") or "")
        if not expected or not secrets.compare_digest(expected, given):
            return _page(request, "login.html", None, status=403, csrf=expected, error="The form expired; try again.")
        settings = request.app.state.settings
        return await run_in_threadpool(_login, request, username, password, settings, expected)

    def _login(request: Request, username: str, password: str, settings: Any, csrf: str) -> Response:
        with ctx_of(request).db.session() as s:
            if accounts.throttled(s, username, address(request), settings.login_attempts, settings.login_window_s):
                return _page(request, "login.html", None, status=429, csrf=csrf,
                             error="Too many failed log-ins for this user; wait 15 minutes.")
            user = accounts.check_login(s, username, password, address(request))
            if user is None:
                s.commit()
                return _page(request, "login.html", None, status=401, csrf=csrf,
                             error="User name or password is wrong.")
            value, _row = accounts.open_session(s, user, settings.session_hours)
        response = RedirectResponse("/cases", status_code=303)
        response.set_cookie(COOKIE, value, httponly=True, samesite="strict", secure=settings.secure_cookies,
                            max_age=int(settings.session_hours * 3600))
        response.delete_cookie(LOGIN_CSRF)
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        who = _session_principal(request)
        form = await read_form(request, max_files=0, max_fields=4)
        if who is not None and _csrf_ok(who, form):
            with ctx_of(request).db.session() as s:
                accounts.close_session(s, request.cookies.get(COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/cases", include_in_schema=False)
    def case_list(request: Request) -> Response:
        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        patients = cases.list_patients(ctx_of(request), who, address(request))
        return _page(request, "cases.html", who, patients=patients, values={}, errors={}, general=[],
                     fields=SCHEMA_FIELDS, her2_fields=HER2_FIELDS)

    @app.post("/cases", include_in_schema=False)
    async def case_submit(request: Request) -> Response:
        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        form = await read_form(request, max_files=32, max_fields=64)
        if not _csrf_ok(who, form):
            return HTMLResponse("The form expired; reload the page.", status_code=403)
        doc, problems = form_to_patient(form)
        uploads: list[Upload] = []
        for part in form.getlist("files"):
            if isinstance(part, FilePart) and part.filename:
                try:
                    uploads.append(make_upload(part.filename, part.data, "files"))
                except InputError as err:
                    problems += err.problems
        if uploads:
            doc["sequencing"] = [{"path": u.name} for u in uploads]
        plasma = form.get("plasma")
        if isinstance(plasma, FilePart) and plasma.filename:
            try:
                up = make_upload(plasma.filename, plasma.data, "plasma")
                uploads.append(up)
                doc["ctdna"] = {"series_file": up.name}
            except InputError as err:
                problems += err.problems
        reads_entry, reads_uploads = _reads_from_form(form, problems)
        if reads_entry is not None:
            doc.setdefault("sequencing", []).append(reads_entry)
            uploads += reads_uploads
        values = {k: v for k, v in form.text().items() if k != "csrf"}
        if not problems and reads_entry is not None:  # calling reads is long work: a job, with a page to watch
            from nerasense.service import upload_jobs

            try:
                job = await run_in_threadpool(upload_jobs.create_reads_job, ctx_of(request), who, doc, uploads,
                                              doc.get("region"), None, address(request))
                return RedirectResponse(f"/jobs/{job['job_id']}", status_code=303)
            except InputError as err:
                problems += err.problems
            except cases.Forbidden as exc:
                problems.append(Problem("role", who.role, str(exc)))
        if not problems:
            try:
                record, _ = await cases.submit_async(ctx_of(request), who, doc, uploads, doc.get("region"), None,
                                                     address(request))
                return RedirectResponse(f"/assessments/{record['assessment_id']}", status_code=303)
            except InputError as err:
                problems += err.problems
            except cases.Forbidden as exc:
                problems.append(Problem("role", who.role, str(exc)))
        errors, general = field_errors(problems)
        patients = cases.list_patients(ctx_of(request), who, address(request))
        return _page(request, "cases.html", who, status=422, patients=patients, values=values, errors=errors,
                     general=general, fields=SCHEMA_FIELDS, her2_fields=HER2_FIELDS)

    @app.get("/assessments/{assessment_id}", include_in_schema=False)
    def assessment_page(request: Request, assessment_id: int) -> Response:
        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        try:
            record, _doc = cases.get_assessment(ctx_of(request), who, assessment_id, address(request))
        except cases.NotFound:
            return _page(request, "missing.html", who, status=404)
        return _page(request, "assessment.html", who, record=record, result=record["result"])

    @app.get("/assessments/{assessment_id}/report", include_in_schema=False)
    def assessment_report(request: Request, assessment_id: int, download: str = "") -> Response:
        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        ctx = ctx_of(request)
        try:
            record, doc = cases.get_assessment(ctx, who, assessment_id, address(request),
                                               action=f"read-{download or 'html'}")
        except cases.NotFound:
            return _page(request, "missing.html", who, status=404)
        if download == "json":
            return Response(json.dumps(record["result"], indent=2), media_type="application/json", headers={
                "Content-Disposition": f'attachment; filename="assessment-{assessment_id}.json"'})
        if download == "pdf":
            return Response(cases.report_pdf(ctx, record["result"], doc, assessment_id), media_type="application/pdf", headers={
                "Content-Disposition": f'attachment; filename="assessment-{assessment_id}.pdf"'})
        return HTMLResponse(cases.report_html(ctx, record["result"], doc, assessment_id))

    @app.post("/assessments/{assessment_id}/rerun", include_in_schema=False)
    async def assessment_rerun(request: Request, assessment_id: int) -> Response:
        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        form = await read_form(request, max_files=0, max_fields=4)
        if not _csrf_ok(who, form):
            return HTMLResponse("The form expired; reload the page.", status_code=403)
        try:
            out = await cases.rerun_async(ctx_of(request), who, assessment_id, address(request))
        except cases.NotFound:
            return _page(request, "missing.html", who, status=404)
        except cases.Forbidden as exc:
            return HTMLResponse(str(exc), status_code=403)
        return RedirectResponse(f"/patients/{out['patient_id']}", status_code=303)

    @app.get("/jobs/{job_id}", include_in_schema=False)
    def job_page(request: Request, job_id: int) -> Response:
        """A job's state (reads being called); reload to follow it; links to the assessment when done."""
        from nerasense.service import jobs

        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        if not 1 <= job_id <= 2**31 - 1:
            return _page(request, "missing.html", who, status=404)
        try:
            status = jobs.status(ctx_of(request), who, job_id, address(request))
        except cases.NotFound:
            return _page(request, "missing.html", who, status=404)
        return _page(request, "job.html", who, job=status)

    @app.post("/jobs/{job_id}/retry", include_in_schema=False)
    async def job_retry_page(request: Request, job_id: int) -> Response:
        from nerasense.service import jobs

        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        form = await read_form(request, max_files=0, max_fields=4)
        if not _csrf_ok(who, form):
            return HTMLResponse("The form expired; reload the page.", status_code=403)
        if not 1 <= job_id <= 2**31 - 1:
            return _page(request, "missing.html", who, status=404)
        try:
            await run_in_threadpool(jobs.retry, ctx_of(request), who, job_id, address(request))
        except cases.NotFound:
            return _page(request, "missing.html", who, status=404)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @app.get("/patients/{patient_id}", include_in_schema=False)
    def patient_page(request: Request, patient_id: str) -> Response:
        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        try:
            hist = cases.history(ctx_of(request), who, patient_id, address(request))
        except cases.NotFound:
            return _page(request, "missing.html", who, status=404)
        timeline = next((a["ctdna"]["figure"] for a in reversed(hist["assessments"])
                         if a.get("ctdna") and a["ctdna"].get("figure")), None)
        return _page(request, "history.html", who, history=hist, timeline=timeline)
