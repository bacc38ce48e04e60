"""Cohort routes for researchers: ``GET /v1/cohort/export`` (a de-identified export of the caller's team, see
:mod:`~nerasense.service.cohort` for the scope and the de-identification rule)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from nerasense.service import cohort
from nerasense.service.api import RESPONSES, Caller, address, ctx_of

router = APIRouter(responses=RESPONSES)


@router.get("/v1/cohort/export", tags=["research"], response_class=Response, responses={200: {"content": {
    "text/tab-separated-values": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "object"}},
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}}})
async def export_cohort(request: Request, who: Caller, format: Literal["tsv", "json", "parquet"] = "tsv") -> Response:
    """The assessments of the researcher's team, de-identified (HIPAA Safe Harbor): keyed pseudonyms for patient
    ids, years for dates, ages over 89 as 90, no free text. Researchers only (others 403); audited."""
    out = await run_in_threadpool(cohort.cohort, ctx_of(request), request.app.state.settings, who, format,
                                  address(request))
    return Response(out.data, media_type=out.media_type, headers={
        "Content-Disposition": f'attachment; filename="{out.filename}"',
        "X-Cohort-Patients": str(out.patients), "X-Cohort-Assessments": str(out.assessments)})


__all__ = ["router"]
