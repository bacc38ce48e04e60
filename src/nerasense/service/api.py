"""The HTTP API under ``/v1`` (OpenAPI at ``/openapi.json``). Routes are thin: they read the request, call
:mod:`~nerasense.service.cases`, :mod:`~nerasense.service.jobs` or :mod:`~nerasense.report.answers`, and let
the app's handlers turn errors into statuses. Every route but ``/healthz`` and ``/metrics`` needs a bearer token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from nerasense._version import software_version
from nerasense.errors import InputError, Problem
from nerasense.service import accounts, cases, jobs
from nerasense.service.accounts import Principal
from nerasense.service.cases import Context
from nerasense.service.storage import UnsupportedMedia, Upload, make_upload


class ProblemItem(BaseModel):
    field: str
    value: Any = None
    allowed: str
    fix: str = ""
    where: str = ""


class ErrorBody(BaseModel):
    detail: str
    problems: list[ProblemItem] = []


_ERR = {"model": ErrorBody}
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _ERR, 401: _ERR, 403: _ERR, 404: _ERR, 409: _ERR, 413: _ERR, 415: _ERR, 422: _ERR, 503: _ERR,
}
router = APIRouter(responses=RESPONSES)
MAX_BATCH = 1000
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def address(request: Request) -> str:
    return request.client.host if request.client else ""


def _principal(request: Request, authorization: str | None) -> Principal:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "credentials needed: Authorization: Bearer <token> (nerasense users token)")
    with ctx_of(request).db.session(write=False) as s:
        who = accounts.principal_from_token(s, authorization.removeprefix("Bearer ").strip())
    if who is None:
        raise HTTPException(401, "the token is unknown, expired or revoked")
    return who


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    return _principal(request, authorization)


Caller = Annotated[Principal, Depends(caller)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a record number")]
PatientId = Annotated[str, Path(max_length=128, description="the patient id of the patient file")]


# ------------------------------------------------------------------------------------------------ public


@router.get("/healthz", tags=["public"])
def healthz(request: Request) -> dict[str, Any]:
    """Liveness and database reachability (no credentials; no patient data)."""
    from sqlalchemy import text

    ctx = ctx_of(request)
    with ctx.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "database": ctx.db.engine.dialect.name, "software_version": software_version(),
            "kb_version": ctx.kb.kb_version}


@router.get("/metrics", tags=["public"], response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics (no credentials; request counts and latencies by route template, no patient data)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


# ------------------------------------------------------------------------------------------------ patients


class PatientSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient: dict[str, Any] = Field(description="the patient document (docs/patient.schema.json)")
    region: Literal["US", "EU"] | None = None


_SUBMIT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": PatientSubmission.model_json_schema()},
    "application/yaml": {"schema": {"type": "string", "description": "the patient file as YAML"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["patient"], "properties": {
        "patient": {"type": "string", "format": "binary", "description": "patient file (YAML or JSON)"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "VCF / MAF / copy-number / plasma tables named in the patient file by file name"},
        "region": {"type": "string", "enum": ["US", "EU"]}}}},
}}}


async def _read_submission(request: Request) -> tuple[dict[str, Any], list[Upload], str | None]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        body = await request.body()
        data = cases.parse_document(_text(body, "body"), "body", "json", field="body")
        unknown = sorted(set(data) - {"patient", "region"})
        problems: list[Problem] = [Problem(k, "(given)", "patient, region") for k in unknown]
        if not isinstance(data.get("patient"), dict):
            problems.append(Problem("patient", type(data.get("patient")).__name__ if "patient" in data else None,
                                    "the patient document as a JSON object"))
        if problems:
            raise InputError(problems)
        region = data.get("region")
        if region is not None and not isinstance(region, str):
            raise InputError(Problem("region", region, "US | EU"))
        return data["patient"], [], region
    if kind in YAML_TYPES:
        body = await request.body()
        return cases.parse_document(_text(body, "body"), "body", "yaml"), [], request.query_params.get("region")
    if kind == "multipart/form-data":
        form = await read_form(request, max_files=64, max_fields=16)
        patient = form.get("patient")
        if patient is None:
            raise InputError(Problem("patient", None, "a form part 'patient' holding the patient file (YAML or JSON)"))
        if isinstance(patient, FilePart):
            name = patient.filename or "patient"
            text = _text(patient.data, "patient")
        else:
            name, text = "patient", str(patient)
        doc = cases.parse_document(text, name, "json" if name.lower().endswith(".json") else "yaml")
        uploads: list[Upload] = []
        problems = []
        unsupported = False
        for i, part in enumerate(form.getlist("files")):
            if not isinstance(part, FilePart):
                problems.append(Problem(f"files[{i}]", str(part)[:80], "an uploaded file"))
                continue
            try:
                uploads.append(make_upload(part.filename, part.data, f"files[{i}]"))
            except InputError as err:
                problems += err.problems
                unsupported = unsupported or isinstance(err, UnsupportedMedia)
        if problems:
            raise UnsupportedMedia(problems) if unsupported else InputError(problems)
        region = form.get("region")
        return doc, uploads, region if isinstance(region, str) and region else None
    raise HTTPException(415, f"Content-Type {kind or '(none)'} is not accepted; allowed: application/json, "
                        "application/yaml, multipart/form-data")


class FilePart:
    """An uploaded form part read into memory (the request body is already bounded by the size limit)."""

    def __init__(self, filename: str | None, data: bytes) -> None:
        self.filename, self.data = filename, data


class Form:
    """A multipart or urlencoded form read whole and closed (no temporary file left open)."""

    def __init__(self, items: list[tuple[str, str | FilePart]]) -> None:
        self.items = items

    def get(self, name: str) -> str | FilePart | None:
        return next((v for k, v in self.items if k == name), None)

    def getlist(self, name: str) -> list[str | FilePart]:
        return [v for k, v in self.items if k == name]

    def text(self) -> dict[str, str]:
        return {k: v for k, v in self.items if isinstance(v, str)}


async def read_form(request: Request, max_files: int, max_fields: int) -> Form:
    form = await request.form(max_files=max_files, max_fields=max_fields)
    try:
        items: list[tuple[str, str | FilePart]] = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                items.append((key, FilePart(value.filename, await value.read())))
            else:
                items.append((key, str(value)))
        return Form(items)
    finally:
        await form.close()


def _text(body: bytes, field: str) -> str:
    from nerasense.safe_io import decode

    return decode(body, field, field=field)


@router.post("/v1/patients", status_code=201, openapi_extra=_SUBMIT_BODY, tags=["patients"],
             responses={202: {"description": "the files name reads (BAM/CRAM/FASTQ): a job was made; poll status_url"}})
async def submit_patient(request: Request, who: Caller, idempotency_key: IdemKey = None) -> JSONResponse:
    """Submit a patient (JSON, YAML, or multipart with its sequencing and plasma files) and get the assessment.
    A retried request with the same ``Idempotency-Key`` answers with the first record (200) and never makes two."""
    doc, uploads, region = await _read_submission(request)
    from nerasense.service import upload_jobs

    if upload_jobs.has_reads(uploads):  # calling reads is long work: a job (202, poll status_url)
        job = await run_in_threadpool(upload_jobs.create_reads_job, ctx_of(request), who, doc, uploads, region,
                                      idempotency_key, address(request))
        return JSONResponse(job, status_code=202, headers={"Location": job["status_url"]})
    record, replay = await cases.submit_async(ctx_of(request), who, doc, uploads, region, idempotency_key,
                                              address(request))
    return JSONResponse(record, status_code=200 if replay else 201,
                        headers={"Location": f"/v1/assessments/{record['assessment_id']}",
                                 "Idempotent-Replayed": "true" if replay else "false"})


@router.get("/v1/patients", tags=["patients"])
def list_patients(request: Request, who: Caller) -> dict[str, Any]:
    """The caller's team's patients."""
    return {"patients": cases.list_patients(ctx_of(request), who, address(request))}


@router.get("/v1/patients/{patient_id}/assessments", tags=["patients"])
def patient_history(request: Request, who: Caller, patient_id: PatientId) -> dict[str, Any]:
    """A patient's assessments over time with their software and knowledge versions and what changed."""
    return cases.history(ctx_of(request), who, patient_id, address(request))


@router.get("/v1/assessments/{assessment_id}", tags=["patients"],
            responses={200: {"content": {"application/json": {}, "text/html": {}, "application/pdf": {}}}})
async def get_assessment(request: Request, who: Caller, assessment_id: RecordId,
                         format: Literal["json", "html", "pdf"] = "json") -> Response:
    """One assessment as it was made: JSON, or the report as HTML or PDF (the CLI's report)."""
    ctx = ctx_of(request)
    if format == "json":
        body = await ctx.in_db(cases.assessment_json, ctx, who, assessment_id, address(request))
        return Response(body, media_type="application/json")
    record, doc = await ctx.in_db(cases.get_assessment, ctx, who, assessment_id, address(request), f"read-{format}")
    if format == "html":
        return HTMLResponse(await cases.report_html_async(ctx, record["result"], doc, assessment_id))
    return Response(await cases.report_pdf_async(ctx, record["result"], doc, assessment_id), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="assessment-{assessment_id}.pdf"'})


@router.post("/v1/assessments/{assessment_id}/rerun", status_code=201, tags=["patients"])
async def rerun_assessment(request: Request, who: Caller, assessment_id: RecordId) -> dict[str, Any]:
    """Assess the same submission again on today's knowledge; the answer lists the differences."""
    return await cases.rerun_async(ctx_of(request), who, assessment_id, address(request))


# ------------------------------------------------------------------------------------------------ variants


class VariantQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gene: str = Field(max_length=64)
    change: str = Field(max_length=256)


@router.get("/v1/variants", tags=["knowledge"])
async def variant(request: Request, who: Caller, gene: Annotated[str, Query(max_length=64)],
                  change: Annotated[str, Query(max_length=256)]) -> dict[str, Any]:
    """One alteration classified (as ``nerasense variant --json``)."""
    ctx = ctx_of(request)
    known = jobs.classified(ctx, gene, change)  # answered from memory on the event loop; made in a thread
    return known if known is not None else await run_in_threadpool(jobs.classify, ctx, gene, change)


@router.post("/v1/variants/annotate", tags=["knowledge"])
def annotate(request: Request, who: Caller, queries: list[VariantQuery]) -> dict[str, Any]:
    """Many alterations, one answer each in the order given (a refused one carries its problems; none is dropped).
    More than 1000: submit a job (``POST /v1/jobs`` with kind ``variants``)."""
    if len(queries) > MAX_BATCH:
        raise InputError(Problem("(body)", f"{len(queries)} queries", f"at most {MAX_BATCH} per request",
                                 "submit a job: POST /v1/jobs with kind 'variants'"))
    ctx = ctx_of(request)
    results = [jobs.annotate_one(ctx, q.model_dump()) for q in queries]
    return {"software_version": software_version(), "kb_version": ctx.kb.kb_version, "results": results}


# ------------------------------------------------------------------------------------------------ her2, ctdna


class Her2Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tumour_type: str | None = Field(default=None, max_length=32, description="OncoTree code; breast when omitted")
    specimen: Literal["surgical", "biopsy"] | None = None
    ihc: str | None = Field(default=None, max_length=16)
    ish_ratio: float | None = None
    her2_signals: float | None = None
    cep17_signals: float | None = None
    single_probe: bool = False
    recount_ratio: float | None = None
    recount_her2_signals: float | None = None
    recount_cep17_signals: float | None = None
    pct_1plus: float | None = None
    pct_2plus: float | None = None
    pct_3plus: float | None = None
    hermark_h2t: float | None = None
    p95: float | None = None
    pct_amplified_cells: float | None = None


@router.post("/v1/her2", tags=["knowledge"])
def her2(request: Request, who: Caller, body: Her2Request) -> dict[str, Any]:
    """HER2 interpretation by the scheme of the tumour type (as ``nerasense her2 --json``)."""
    from nerasense.report.answers import her2_answer

    raw = body.model_dump(exclude_none=True, exclude={"tumour_type"})
    if raw.get("single_probe") is False:
        raw.pop("single_probe")
    answer, messages = cases.captured(her2_answer, raw, body.tumour_type, ctx_of(request).kb, "tumour_type")
    return cases.with_warnings(answer, messages) if messages else answer


_CTDNA_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["series"], "properties": {
        "series": {"type": "string", "format": "binary", "description": "plasma series table (CSV/TSV)"},
        "tissue": {"type": "string", "format": "binary"},
        "assessments": {"type": "string", "format": "binary"}}}}}}}


@router.post("/v1/ctdna", openapi_extra=_CTDNA_BODY, tags=["knowledge"])
async def ctdna(request: Request, who: Caller) -> dict[str, Any]:
    """The ctDNA reading of a plasma series (as ``nerasense ctdna --json``), per patient."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise HTTPException(415, f"Content-Type {kind or '(none)'} is not accepted; allowed: multipart/form-data")
    form = await read_form(request, max_files=3, max_fields=3)
    parts: dict[str, Upload] = {}
    problems: list[Problem] = []
    for field in ("series", "tissue", "assessments"):
        part = form.get(field)
        if part is None:
            if field == "series":
                problems.append(Problem("series", None, "the plasma series table as a file part"))
            continue
        if not isinstance(part, FilePart):
            problems.append(Problem(field, str(part)[:80], "an uploaded file"))
            continue
        try:
            parts[field] = make_upload(f"{field}{_suffix(part.filename)}", part.data, field)
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    return await run_in_threadpool(_ctdna_reading, ctx_of(request), parts)


def _suffix(name: str | None) -> str:
    low = (name or "").lower()
    return next((s for s in (".tsv", ".csv", ".txt") if low.endswith(s)), ".tsv")


def _ctdna_reading(ctx: Context, parts: dict[str, Upload]) -> dict[str, Any]:
    from nerasense.ingest.ctdna import read_ctdna_series
    from nerasense.interpret.ctdna import interpret_ctdna
    from nerasense.report.answers import stamped

    folder = ctx.store.scratch()
    try:
        for up in parts.values():
            (folder / up.name).write_bytes(up.data)
        paths = {k: folder / up.name for k, up in parts.items()}
        series, read_messages = cases.captured(read_ctdna_series, paths["series"], paths.get("tissue"),
                                               paths.get("assessments"), ctx.kb, ())
        patients = []
        for one in series.values():
            findings, messages = cases.captured(interpret_ctdna, one, ctx.kb)
            patients.append(cases.with_warnings(findings.to_dict(), messages))
        return stamped({"patients": patients, "warnings": read_messages}, ctx.kb.kb_version)
    finally:
        ctx.store.discard(folder)


# ------------------------------------------------------------------------------------------------ jobs


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["variants", "assess"]
    items: list[Any] = Field(description="variants: objects with gene and change; assess: patient documents")


@router.post("/v1/jobs", status_code=202, tags=["jobs"])
def create_job(request: Request, who: Caller, body: JobRequest, idempotency_key: IdemKey = None) -> dict[str, Any]:
    """Long work (many variants, a batch of patients) as a job; poll ``status_url``."""
    return jobs.create(ctx_of(request), who, body.kind, body.items, idempotency_key, address(request))


@router.get("/v1/jobs/{job_id}", tags=["jobs"])
def job_status(request: Request, who: Caller, job_id: RecordId) -> dict[str, Any]:
    """A job's status, its results so far (in input order) and its failed items."""
    return jobs.status(ctx_of(request), who, job_id, address(request))


@router.post("/v1/jobs/{job_id}/retry", tags=["jobs"])
def job_retry(request: Request, who: Caller, job_id: RecordId) -> dict[str, Any]:
    """Run the failed items of a job again; the finished ones are kept."""
    return jobs.retry(ctx_of(request), who, job_id, address(request))


# ------------------------------------------------------------------------------------------------ accounts


@router.get("/v1/me", tags=["accounts"])
def me(who: Caller) -> dict[str, Any]:
    return {"username": who.username, "role": who.role, "team_id": who.team_id}


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=128)
    password: str = Field(max_length=1024)
    role: Literal["clinician", "researcher", "admin"]
    team: str | None = Field(default=None, max_length=128)


def _admin(who: Principal) -> None:
    if who.role != "admin":
        raise cases.Forbidden("admins only")


@router.post("/v1/users", status_code=201, tags=["accounts"])
def add_user(request: Request, who: Caller, body: NewUser) -> dict[str, Any]:
    """A new user (admins only)."""
    from nerasense.service import audit

    _admin(who)
    with ctx_of(request).db.session() as s:
        user = accounts.add_user(s, body.username, body.password, body.role, body.team)
        out = {"username": user.username, "role": user.role, "team_id": user.team_id}
        audit.append(s, audit.Entry("user-add", f"user:{user.id}", who.username, who.user_id, who.team_id, None,
                                    address(request), ctx_of(request).kb.kb_version))
        return out


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: float = Field(default=90, gt=0, le=3660)
    label: str = Field(default="", max_length=128)


@router.post("/v1/users/{username}/tokens", status_code=201, tags=["accounts"])
def new_token(request: Request, who: Caller, username: Annotated[str, Path(max_length=128)], body: NewToken) -> dict[str, Any]:
    """A new API token for a user (admins, or the user for themselves); the token is shown once."""
    from nerasense.service import audit

    if who.role != "admin" and who.username != username:
        raise cases.Forbidden("admins, or the user for themselves")
    with ctx_of(request).db.session() as s:
        user = accounts.find_user(s, username)
        token, row = accounts.issue_token(s, user, body.days, body.label)
        out = {"token": token, "token_id": row.id, "expires": row.expires.isoformat() + "Z"}
        audit.append(s, audit.Entry("token-issue", f"token:{row.id}", who.username, who.user_id, who.team_id, None,
                                    address(request), ctx_of(request).kb.kb_version))
        return out


@router.delete("/v1/tokens/{token_id}", tags=["accounts"])
def revoke(request: Request, who: Caller, token_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    """Revoke a token (admins, or its owner)."""
    from nerasense.service import audit
    from nerasense.service.db import ApiToken

    with ctx_of(request).db.session() as s:
        row = s.get(ApiToken, token_id)
        if row is None or (who.role != "admin" and row.user_id != who.user_id):
            raise cases.NotFound()
        accounts.revoke_token(s, token_id)
        audit.append(s, audit.Entry("token-revoke", f"token:{token_id}", who.username, who.user_id, who.team_id, None,
                                    address(request), ctx_of(request).kb.kb_version))
        return {"token_id": token_id, "revoked": True}


@router.get("/v1/audit/verify", tags=["accounts"])
def audit_verify(request: Request, who: Caller) -> dict[str, Any]:
    """Check the audit chain (admins only)."""
    from nerasense.service import audit

    _admin(who)
    with ctx_of(request).db.session() as s:
        return audit.verify(s)


__all__ = ["router"]

