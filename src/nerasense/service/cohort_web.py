"""The researchers' page (``/cohort``): what the team's de-identified export holds and how it is made, with
downloads as TSV, JSON and Parquet (the export of ``GET /v1/cohort/export``, through the page's session).
Other roles get 403, as on the API route; without a session the log-in page (401)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from nerasense.service import cases, cohort
from nerasense.service.api import address, ctx_of
from nerasense.service.web import _login_page, _page, _session_principal


def mount(app: FastAPI) -> None:
    @app.get("/cohort", include_in_schema=False)
    def cohort_page(request: Request) -> Response:
        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        if who.role != "researcher":
            return _page(request, "forbidden.html", who, status=403, need="researcher")
        return _page(request, "cohort.html", who, formats=cohort.FORMATS, columns=[c for c, _ in cohort.COLUMNS])

    @app.get("/cohort/export", include_in_schema=False)
    async def cohort_download(request: Request, format: str = "tsv") -> Response:
        who = _session_principal(request)
        if who is None:
            return _login_page(request, 401, "Log in to continue.")
        if format not in cohort.FORMATS:
            return _page(request, "cohort.html", who, status=422, formats=cohort.FORMATS,
                         columns=[c for c, _ in cohort.COLUMNS],
                         error=f"format={format[:40]!r} is not allowed; allowed: {', '.join(cohort.FORMATS)}")
        try:
            out = await run_in_threadpool(cohort.cohort, ctx_of(request), request.app.state.settings, who, format,
                                          address(request))
        except cases.Forbidden:
            return _page(request, "forbidden.html", who, status=403, need="researcher")
        return Response(out.data, media_type=out.media_type, headers={
            "Content-Disposition": f'attachment; filename="{out.filename}"', "Cache-Control": "no-store"})
