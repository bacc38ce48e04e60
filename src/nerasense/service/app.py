"""The FastAPI application factory: settings, database (migrated on start), file store, knowledge, the job
worker, request limits, metrics, and the one place where errors become HTTP answers.

=======================================  ======  ================================================
error                                    status  body
=======================================  ======  ================================================
InputError / a malformed request         422     ``detail`` and ``problems`` (field, value, allowed, fix)
no or bad credentials                    401     ``detail``
a role that may not do this              403     ``detail``
another team's record, or none           404     ``detail`` (the same answer for both)
idempotency key reused for another body  409     ``detail``
body over the size limit                 413     ``detail`` naming the limit
wrong content type, or an upload of a    415     ``detail`` naming the types allowed (and
kind the service does not read                  ``problems`` for an upload)
database unreachable                     503     ``detail``, ``Retry-After``
a compute worker died                    503     ``detail``, ``Retry-After``
=======================================  ======  ================================================
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nerasense._version import software_version
from nerasense.errors import InputError, KnowledgeError
from nerasense.service.accounts import Principal
from nerasense.service.cases import Conflict, Forbidden, NotFound
from nerasense.service.settings import Settings, settings_from_env
from nerasense.service.storage import UnsupportedMedia

log = logging.getLogger("nerasense.service")
DB_SLOTS = 8  # threads for the database work of the async routes on PostgreSQL (its pool keeps 40)
WARM_CONNECTIONS = 16  # PostgreSQL connections opened when the app starts


class BodyLimit:
    """Refuse a request body over ``limit`` bytes (by Content-Length, and by counting a chunked body)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = JSONResponse({"detail": f"request body over the limit of {self.limit:,} bytes "
                                f"(NERASENSE_MAX_BODY_MB)", "problems": []}, status_code=413)
        if length is not None:
            try:
                if int(length) > self.limit:
                    await too_big(scope, receive, send)
                    return
            except ValueError:
                await JSONResponse({"detail": "Content-Length is not a number", "problems": []},
                                   status_code=400)(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server holds the body to its Content-Length
            return
        # no Content-Length (a chunked body): read it here, up to the limit, then hand it on whole
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > self.limit:
                await too_big(scope, receive, send)
                return
        await self.app(scope, _replay([{"type": "http.request", "body": bytes(body), "more_body": False}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


def problem_body(err: InputError) -> dict[str, Any]:
    from nerasense.service.jobs import problems_json

    return {"detail": str(err), "problems": problems_json(err)}


def _validation_body(exc: RequestValidationError) -> dict[str, Any]:
    problems = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header")]
        value = e.get("input")
        problems.append({"field": ".".join(loc) or "(request)",
                         "value": value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)[:200],
                         "allowed": e.get("msg", ""), "fix": "", "where": ""})
    detail = "; ".join(f"{p['field']}={p['value']!r} is not allowed; allowed: {p['allowed']}" for p in problems)
    return {"detail": detail, "problems": problems}


def create_app(settings: Settings | None = None, serving: bool = False) -> FastAPI:
    """The service. ``settings`` default to the environment's (read now, not at import). ``serving`` (``nerasense
    serve``): open PostgreSQL connections on start, and stop the process's compute pool with the app (the tests
    build many apps, which share one pool and open connections as they need them)."""
    settings = settings or settings_from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio

        from nerasense.service import jobs
        from nerasense.service.runtime import open_context

        ctx = open_context(settings)
        # the async routes' database work: on SQLite one writer at a time anyway (a second one waits ready)
        ctx.db_slots = anyio.CapacityLimiter(2 if ctx.db.serial_writes else DB_SLOTS)
        if serving and not ctx.db.serial_writes:
            await anyio.to_thread.run_sync(ctx.db.warm, WARM_CONNECTIONS)
        ctx.pool.warm()
        app.state.ctx = ctx
        worker = None
        if settings.worker:
            jobs.recover(ctx)
            worker = jobs.Worker(ctx)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if serving:
                from nerasense.service import compute

                compute.shutdown()
            ctx.db.dispose()

    app = FastAPI(title="nerasense", version=software_version(), lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Neratinib response prediction for the tumour board. Research use only. Every answer "
                  "carries software_version and kb_version.")
    app.state.settings = settings
    _metrics(app)

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(problem_body(exc), status_code=422)

    @app.exception_handler(UnsupportedMedia)
    async def _unsupported(_: Request, exc: UnsupportedMedia) -> JSONResponse:
        return JSONResponse(problem_body(exc), status_code=415)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_validation_body(exc), status_code=422)

    @app.exception_handler(NotFound)
    async def _missing(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(KnowledgeError)
    async def _kb(_: Request, exc: KnowledgeError) -> JSONResponse:
        return JSONResponse({"detail": f"knowledge base: {exc}"}, status_code=500)

    async def _db_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return JSONResponse({"detail": "the database is unavailable; retry in a few seconds"}, status_code=503,
                            headers={"Retry-After": "5"})

    for kind in (OperationalError, PoolTimeout):
        app.add_exception_handler(kind, _db_down)

    @app.exception_handler(BrokenProcessPool)
    async def _pool_down(_: Request, exc: BrokenProcessPool) -> JSONResponse:
        log.warning("a compute worker stopped; the pool is made again")
        return JSONResponse({"detail": "the compute workers were restarted; retry in a few seconds"}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated or "connection" in str(exc.orig).lower():
            return await _db_down(request, exc)
        raise exc

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 401:
            return JSONResponse({"detail": exc.detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    from nerasense.service import admin_web, api, cohort_api, cohort_web, upload_api, web

    app.include_router(api.router)
    app.include_router(cohort_api.router)
    app.include_router(upload_api.router)
    web.mount(app)
    admin_web.mount(app)
    cohort_web.mount(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


def _metrics(app: FastAPI) -> None:
    """Prometheus counters and latency histograms per route template (never the path: it may hold an id)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry()
    app.state.registry = registry
    requests = Counter("nerasense_requests", "HTTP requests", ["method", "route", "status"], registry=registry)
    latency = Histogram("nerasense_request_seconds", "HTTP request latency", ["method", "route"], registry=registry,
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
    app.add_middleware(Metrics, requests=requests, latency=latency)


class Metrics:
    """Count and time each request by its route template (plain ASGI: no task or stream per request)."""

    def __init__(self, app: ASGIApp, requests: Any, latency: Any) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            took = time.perf_counter() - start
            name = getattr(scope.get("route"), "path", "(unmatched)")
            method = scope.get("method", "")
            self.requests.labels(method, name, str(status)).inc()
            self.latency.labels(method, name).observe(took)
            log.info("%s %s %s %.3fs", method, name, status, took)


def who_or_none(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)
