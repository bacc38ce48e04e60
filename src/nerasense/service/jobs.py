"""Long work as jobs kept in the database: a job is a list of items, each done on its own by a worker thread,
so a restart loses nothing (items left ``running`` by a stopped server are queued again on start) and a retry
runs only the items that failed.

Kinds: ``variants`` (a list of gene/change queries, 500 per item) and ``assess`` (a list of patient documents,
one per item); ``maf`` and ``reads`` come from uploaded files (:mod:`~nerasense.service.upload_jobs`). A query
or patient the knowledge refuses is an answer (its problems are the result), not a failure; an item fails only
when it could not be done (the database went away, a bug).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update

from nerasense.errors import InputError, NerasenseError, Problem
from nerasense.service import audit
from nerasense.service.accounts import Principal
from nerasense.service.cases import Context, Forbidden, Memo, NotFound, captured, submit, with_warnings
from nerasense.service.db import Job, JobItem, User, utcnow

VARIANTS_PER_ITEM = 500
MAX_VARIANTS = 100_000
MAX_PATIENTS = 1_000


def problems_json(err: InputError) -> list[dict[str, Any]]:
    return [{"field": p.field, "value": p.value if isinstance(p.value, (str, int, float, bool, type(None))) else repr(p.value),
             "allowed": p.allowed, "fix": p.fix, "where": p.where} for p in err.problems]


_variants = Memo(20_000)


def classify(ctx: Context, gene: str, change: str) -> dict[str, Any]:
    """One alteration classified under the loaded knowledge (remembered: the answer cannot change while the
    knowledge stays; a refusal is not remembered, it raises)."""
    from nerasense.report.answers import variant_answer

    def make() -> dict[str, Any]:
        answer, messages = captured(variant_answer, gene, change, ctx.kb, ctx.gk)
        return with_warnings(answer, messages) if messages else answer

    return _variants.get((ctx.kb.kb_version, gene, change), make)


def classified(ctx: Context, gene: str, change: str) -> dict[str, Any] | None:
    """The remembered classification, or None when it has to be made (:func:`classify`)."""
    found, answer = _variants.peek((ctx.kb.kb_version, gene, change))
    return answer if found else None


def annotate_one(ctx: Context, query: Any) -> dict[str, Any]:
    """One variant query answered: the classification, or the problems with the query. Never dropped."""
    if not isinstance(query, dict) or not isinstance(query.get("gene"), str) or not isinstance(query.get("change"), str):
        return {"query": query, "error": [{"field": "query", "value": repr(query)[:200],
                                           "allowed": "an object with gene and change (strings)", "fix": "", "where": ""}]}
    try:
        return {"query": query, "result": classify(ctx, query["gene"], query["change"])}
    except InputError as err:
        return {"query": query, "error": problems_json(err)}


def create(ctx: Context, who: Principal, kind: str, inputs: list[Any], idem_key: str | None, address: str) -> dict[str, Any]:
    if kind not in ("variants", "assess"):
        raise InputError(Problem("kind", kind, "variants | assess"))
    if kind == "assess" and not who.can_write():
        raise Forbidden("researchers read; clinicians and admins submit")
    if who.team_id is None:
        raise InputError(Problem("team", None, "a user who belongs to a team"))
    limit = MAX_VARIANTS if kind == "variants" else MAX_PATIENTS
    if not isinstance(inputs, list) or not inputs or len(inputs) > limit:
        raise InputError(Problem("items", f"{len(inputs) if isinstance(inputs, list) else type(inputs).__name__}",
                                          f"a list of 1 to {limit:,} entries"))
    chunks = ([inputs[i:i + VARIANTS_PER_ITEM] for i in range(0, len(inputs), VARIANTS_PER_ITEM)]
              if kind == "variants" else [[x] for x in inputs])
    with ctx.db.session() as s:
        if idem_key:
            old = s.scalar(select(Job).where(Job.team_id == who.team_id, Job.idempotency_key == idem_key))
            if old is not None:
                return _status(s, old)
        return insert(s, ctx, who, who.team_id, kind, chunks, idem_key, address)


def insert(s: Any, ctx: Context, who: Principal, team: int, kind: str, chunks: list[list[Any]], idem_key: str | None,
           address: str, source: dict[str, Any] | None = None, audit_target: str = "job:{id}") -> dict[str, Any]:
    """A new job in the caller's transaction: the job row, one queued item per chunk, and its audit row (every kind
    of job — JSON lists, uploaded MAFs, reads — is made here)."""
    job = Job(team_id=team, user_id=who.user_id, kind=kind, status="queued", idempotency_key=idem_key,
              source_json=None if source is None else json.dumps(source, default=str))
    s.add(job)
    s.flush()
    for i, chunk in enumerate(chunks):
        s.add(JobItem(job_id=job.id, seq=i, status="queued", input_json=json.dumps(chunk, default=str), attempts=0))
    s.flush()
    out = _status(s, job)
    audit.append(s, audit.Entry("job-create", audit_target.format(id=job.id, kind=kind), who.username, who.user_id,
                                who.team_id, None, address, ctx.kb.kb_version))
    return out


def _status(s: Any, job: Job, with_results: bool = False) -> dict[str, Any]:
    counts = dict(s.execute(select(JobItem.status, func.count()).where(JobItem.job_id == job.id)
                            .group_by(JobItem.status)).all())
    out: dict[str, Any] = {"job_id": job.id, "kind": job.kind, "status": job.status,
                           "items": {k: counts.get(k, 0) for k in ("queued", "running", "done", "failed")},
                           "status_url": f"/v1/jobs/{job.id}", "created": job.created.isoformat() + "Z",
                           "updated": job.updated.isoformat() + "Z"}
    if job.source_json:  # a job from an uploaded file (upload_jobs)
        out["source"] = {k: v for k, v in json.loads(job.source_json).items() if k != "request"}
    if with_results:
        results: list[Any] = []
        failed: list[dict[str, Any]] = []
        for item in s.scalars(select(JobItem).where(JobItem.job_id == job.id).order_by(JobItem.seq)):
            if item.status == "done" and item.result_json:
                results.extend(json.loads(item.result_json))
            elif item.status == "failed":
                failed.append({"item": item.seq, "attempts": item.attempts, "error": item.error})
        out["results"] = results
        out["failed_items"] = failed
    return out


def status(ctx: Context, who: Principal, job_id: int, address: str, results: bool = True) -> dict[str, Any]:
    with ctx.db.session() as s:
        job = s.get(Job, job_id)
        if job is None or who.team_id is None or job.team_id != who.team_id:
            raise NotFound()
        out = _status(s, job, with_results=results)
        audit.append(s, audit.Entry("job-read", f"job:{job.id}", who.username, who.user_id, who.team_id, None,
                                    address, ctx.kb.kb_version))
        return out


def retry(ctx: Context, who: Principal, job_id: int, address: str) -> dict[str, Any]:
    """Queue the failed items of a job again (the done ones are kept)."""
    with ctx.db.session() as s:
        job = s.get(Job, job_id)
        if job is None or who.team_id is None or job.team_id != who.team_id:
            raise NotFound()
        s.execute(update(JobItem).where(JobItem.job_id == job.id, JobItem.status == "failed")
                  .values(status="queued", error=None))
        job.status, job.updated = "queued", utcnow()
        s.flush()
        out = _status(s, job)
        audit.append(s, audit.Entry("job-retry", f"job:{job.id}", who.username, who.user_id, who.team_id, None,
                                    address, ctx.kb.kb_version))
        return out


def recover(ctx: Context) -> int:
    """On start: items a stopped server left ``running`` go back to the queue. Returns how many."""
    with ctx.db.session() as s:
        n = s.execute(update(JobItem).where(JobItem.status == "running").values(status="queued")).rowcount  # type: ignore[attr-defined]
        s.execute(update(Job).where(Job.status == "running").values(status="queued"))
        return int(n or 0)


def _claim(ctx: Context) -> tuple[int, int, str, str, int] | None:
    """Take one queued item (a compare-and-set on its status, so two workers never take the same one)."""
    with ctx.db.session() as s:
        candidates = s.execute(select(JobItem.id, JobItem.job_id).where(JobItem.status == "queued")
                               .order_by(JobItem.id).limit(5)).all()
        for item_id, job_id in candidates:
            taken = s.execute(update(JobItem).where(JobItem.id == item_id, JobItem.status == "queued")
                              .values(status="running", attempts=JobItem.attempts + 1)).rowcount  # type: ignore[attr-defined]
            if taken:
                job = s.get(Job, job_id)
                assert job is not None
                job.status, job.updated = "running", utcnow()
                item = s.get(JobItem, item_id)
                assert item is not None
                return item_id, job_id, job.kind, item.input_json, job.user_id
    return None


Runner = Callable[[Context, str, list[Any], Principal], list[Any]]


def run_item(ctx: Context, kind: str, inputs: list[Any], who: Principal) -> list[Any]:
    if kind in ("maf", "reads"):  # jobs from uploaded files
        from nerasense.service import upload_jobs

        return upload_jobs.run_item(ctx, kind, inputs, who)
    if kind == "variants":
        return [annotate_one(ctx, q) for q in inputs]
    out = []
    for doc in inputs:
        try:
            if not isinstance(doc, dict):
                raise InputError(Problem("patient", type(doc).__name__, "a mapping of patient fields"))
            record, _ = submit(ctx, who, doc, [], doc.get("region") if isinstance(doc.get("region"), str) else None,
                               None, "job")
            out.append({"patient_id": record["patient_id"], "assessment_id": record["assessment_id"]})
        except InputError as err:
            out.append({"patient_id": doc.get("patient_id") if isinstance(doc, dict) else None,
                        "error": problems_json(err)})
    return out


def work_once(ctx: Context, runner: Runner = run_item) -> bool:
    """Do one queued item; False when there was none."""
    claimed = _claim(ctx)
    if claimed is None:
        return False
    item_id, job_id, kind, input_json, user_id = claimed
    try:
        with ctx.db.session() as s:
            user = s.get(User, user_id)
            assert user is not None
            who = Principal(user.id, user.username, user.role, user.team_id, "job")
        results = runner(ctx, kind, json.loads(input_json), who)
        status_, result_json, error = "done", json.dumps(results, default=str), None
    except (NerasenseError, Exception) as exc:  # an item that could not be done is kept for a retry
        status_, result_json, error = "failed", None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    with ctx.db.session() as s:
        item = s.get(JobItem, item_id)
        assert item is not None
        item.status, item.result_json, item.error = status_, result_json, error
        s.flush()
        left = dict(s.execute(select(JobItem.status, func.count()).where(JobItem.job_id == job_id)
                              .group_by(JobItem.status)).all())
        job = s.get(Job, job_id)
        assert job is not None
        if not left.get("queued") and not left.get("running"):
            job.status = "failed" if left.get("failed") else "done"
        job.updated = utcnow()
    return True


class Worker:
    """A daemon thread doing queued items until stopped."""

    def __init__(self, ctx: Context, poll_s: float = 0.5) -> None:
        self.ctx, self.poll_s = ctx, poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nerasense-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = work_once(self.ctx)
            except Exception:  # the database is away: wait and try again; the item stays queued or running
                busy = False
            if not busy:
                self._stop.wait(self.poll_s)
