"""Job routes for uploaded files: ``POST /v1/jobs/maf`` (a MAF, every data row answered or refused with its
reason) and ``POST /v1/jobs/reads`` (a patient whose sequencing names BAM/CRAM/FASTQ reads; the calling is long
work). Both answer 202 with the job's ``status_url``; ``GET /v1/jobs/{n}`` and ``/retry`` serve them as any job.
See :mod:`~nerasense.service.upload_jobs`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from nerasense.errors import InputError, Problem
from nerasense.service import upload_jobs
from nerasense.service.api import RESPONSES, Caller, FilePart, IdemKey, _read_submission, address, ctx_of, read_form
from nerasense.service.storage import make_upload

router = APIRouter(responses=RESPONSES)

_MAF_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["maf"], "properties": {
        "maf": {"type": "string", "format": "binary", "description": "a MAF file (plain or gzip)"}}}}}}}
_READS_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["patient"], "properties": {
        "patient": {"type": "string", "format": "binary", "description": "patient file (YAML or JSON) whose "
                    "sequencing names reads (format: reads) by file name"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "BAM/CRAM/FASTQ reads, the reference FASTA, a target BED, and any other files named"},
        "region": {"type": "string", "enum": ["US", "EU"]}}}}}}}


def _accepted(out: dict[str, Any]) -> JSONResponse:
    return JSONResponse(out, status_code=202, headers={"Location": out["status_url"]})


@router.post("/v1/jobs/maf", status_code=202, openapi_extra=_MAF_BODY, tags=["jobs"])
async def maf_job(request: Request, who: Caller, idempotency_key: IdemKey = None) -> JSONResponse:
    """A variants job from an uploaded MAF: read with ``nerasense annotate``'s checks; one result per data row in
    file order (a refused row carries the reader's reason), 500 rows per item; poll ``status_url``."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise HTTPException(415, f"Content-Type {kind or '(none)'} is not accepted; allowed: multipart/form-data "
                            "with a file part 'maf'")
    form = await read_form(request, max_files=1, max_fields=2)
    part = form.get("maf")
    if not isinstance(part, FilePart):
        raise InputError(Problem("maf", None if part is None else str(part)[:80], "a file part 'maf' holding a MAF"))
    up = make_upload(part.filename or "upload.maf", part.data, "maf")
    return _accepted(await run_in_threadpool(upload_jobs.create_maf_job, ctx_of(request), who, up, idempotency_key,
                                             address(request)))


@router.post("/v1/jobs/reads", status_code=202, openapi_extra=_READS_BODY, tags=["jobs"])
async def reads_job(request: Request, who: Caller, idempotency_key: IdemKey = None) -> JSONResponse:
    """Assess a patient whose sequencing names reads (BAM, CRAM or FASTQ with the reference FASTA) as a job: the
    calling runs in the worker; the job's result names the assessment. ``POST /v1/patients`` sends such a
    submission here too."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise HTTPException(415, f"Content-Type {kind or '(none)'} is not accepted; allowed: multipart/form-data "
                            "(patient + files)")
    doc, uploads, region = await _read_submission(request)
    if not upload_jobs.has_reads(uploads):
        raise InputError(Problem("files", ", ".join(u.name for u in uploads) or None,
                                 "at least one reads file (BAM, CRAM or FASTQ)",
                                 "without reads, submit to POST /v1/patients"))
    return _accepted(await run_in_threadpool(upload_jobs.create_reads_job, ctx_of(request), who, doc, uploads, region,
                                             idempotency_key, address(request)))


__all__ = ["router"]
