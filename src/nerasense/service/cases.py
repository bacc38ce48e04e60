"""Patient cases: submit (validate, store, assess), read, list over time, re-run on today's knowledge with the
differences listed. Routes call these; they hold no HTTP. Every read and write of patient data is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nerasense.errors import InputError, NerasenseWarning, Problem
from nerasense.ingest.patient import case_file_paths
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.pipeline import prepare
from nerasense.report.answers import assessment_answer
from nerasense.safe_io import check_id, load_json, load_yaml
from nerasense.service import audit
from nerasense.service.accounts import Principal
from nerasense.service.compute import Compute
from nerasense.service.db import AssessmentRecord, Database, PatientRecord, StoredFile, Submission
from nerasense.service.storage import Store, Upload

log = logging.getLogger("nerasense.service")


class NotFound(Exception):
    """The record does not exist or is outside the caller's team (both answer 404)."""


class Forbidden(Exception):
    """The caller's role may not do this (403)."""


class Conflict(Exception):
    """An idempotency key reused with a different request (409)."""


T = TypeVar("T")


class Memo:
    """A small bounded memo (least recently used out) for answers that never change once made: a stored
    assessment's report, a variant's classification under the loaded knowledge."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], T]) -> T:
        found, value = self.peek(key)
        if found:
            return value
        return self.put(key, make())

    async def aget(self, key: Any, make: Callable[[], Awaitable[T]]) -> T:
        found, value = self.peek(key)
        if found:
            return value
        return self.put(key, await make())

    def peek(self, key: Any) -> tuple[bool, Any]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key]
        return False, None

    def put(self, key: Any, value: T) -> T:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


@dataclass
class Context:
    db: Database
    store: Store
    kb: KnowledgeBase
    gk: GenomicsKnowledge
    reports: Memo = field(default_factory=lambda: Memo(128))  # per database: record numbers are per database
    compute: Compute | None = None  # where assessments and reports are computed (None: in this process)
    db_slots: Any = None  # an anyio CapacityLimiter for the database work of the async routes (set by the app)

    def __post_init__(self) -> None:
        if self.compute is None:
            self.compute = Compute(self.kb, self.gk, workers=0)

    @property
    def pool(self) -> Compute:
        assert self.compute is not None
        return self.compute

    async def in_db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` (database work, short) in a thread, at most ``db_slots`` at a time: requests waiting
        to write wait here, on the event loop, not in the threads that answer look-ups."""
        from anyio import to_thread

        return await to_thread.run_sync(fn, *args, limiter=self.db_slots)


def parse_document(text: str, name: str, kind: str, field: str = "patient") -> dict[str, Any]:
    """The patient document from JSON or YAML text, read with the safe readers (alias and nesting budgets)."""
    value = load_json(text, name, field=field) if kind == "json" else load_yaml(text, name, field=field)
    if not isinstance(value, dict):
        raise InputError(Problem(field, type(value).__name__, "a mapping of patient fields (docs/patient.schema.json)"))
    return value


def _names_only_uploads(doc: dict[str, Any], uploads: list[Upload]) -> list[Problem]:
    """Files named in the document must be uploads of this request, by plain name."""
    have = {u.name for u in uploads}
    problems = []
    for where, name in case_file_paths(doc):
        if name not in have:
            uploaded = ", ".join(sorted(have)) or "none uploaded"
            problems.append(Problem(where, name, f"the name of a file uploaded with this request ({uploaded})",
                                    "upload the file in the same request and name it here by its file name"))
    names = [u.name for u in uploads]
    dupes = sorted({n for n in names if names.count(n) > 1})
    problems += [Problem("files", n, "each file name once") for n in dupes]
    return problems


def request_hash(doc: dict[str, Any], uploads: list[Upload], region: str | None) -> str:
    body = json.dumps({"patient": doc, "files": sorted((u.name, u.sha256) for u in uploads), "region": region},
                      sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _team(who: Principal) -> int:
    if who.team_id is None:
        raise InputError(Problem("team", None, "a user who belongs to a team (patients belong to teams)",
                                 "ask an admin to put you in a team"))
    return who.team_id


def _entry(who: Principal, action: str, target: str, patient_pk: int | None, address: str, kb_version: str) -> audit.Entry:
    return audit.Entry(action, target, who.username, who.user_id, who.team_id, patient_pk, address, kb_version)


_PLOTTING = threading.Lock()  # matplotlib (the ctDNA timeline) is not thread-safe
_local = threading.local()


def _route_warnings() -> None:
    """Send NerasenseWarnings to the list of the thread that raised them (see :func:`captured`).

    ``warnings.catch_warnings`` would change process-wide state for every thread at once; instead the service
    shows every NerasenseWarning ("always") through a hook that files it under the running thread."""
    if getattr(warnings.showwarning, "_nerasense", False):
        return
    original = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        sink = getattr(_local, "sink", None)
        if sink is not None and issubclass(category, NerasenseWarning):
            if str(message) not in sink:
                sink.append(str(message))
            return
        if sink is not None:
            log.info("library warning: %s", category.__name__)
            return
        original(message, category, filename, lineno, file, line)

    show._nerasense = True  # type: ignore[attr-defined]
    warnings.filterwarnings("always", category=NerasenseWarning)
    warnings.showwarning = show


def captured(fn: Callable[..., T], *args: Any) -> tuple[T, list[str]]:
    """Run an analysis and collect the NerasenseWarnings it emits (its caveats), as the command line does."""
    _route_warnings()
    previous = getattr(_local, "sink", None)
    _local.sink = []
    try:
        result = fn(*args)
        return result, list(_local.sink)
    finally:
        _local.sink = previous




def _html(kb: KnowledgeBase, _gk: GenomicsKnowledge, result: dict[str, Any], doc: dict[str, Any]) -> str:
    from nerasense.report.patient_report import render_html

    with _PLOTTING:  # its figures use pyplot: one at a time in a process
        return render_html(result, kb, doc)


def _pdf(_kb: KnowledgeBase, _gk: GenomicsKnowledge, html: str) -> bytes:
    from weasyprint import HTML

    with _PLOTTING:
        pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def report_html(ctx: Context, result: dict[str, Any], doc: dict[str, Any], key: Any = None) -> str:
    """The report, as the command line writes it. ``key`` (the stored assessment's id) lets a report made today be
    served again without drawing it anew."""
    if key is None:
        return ctx.pool.call(_html, result, doc)
    return ctx.reports.get(("html", key, dt.date.today()), lambda: ctx.pool.call(_html, result, doc))


def report_pdf(ctx: Context, result: dict[str, Any], doc: dict[str, Any], key: Any = None) -> bytes:
    def make() -> bytes:
        return ctx.pool.call(_pdf, report_html(ctx, result, doc, key))

    if key is None:
        return make()
    return ctx.reports.get(("pdf", key, dt.date.today()), make)


async def report_html_async(ctx: Context, result: dict[str, Any], doc: dict[str, Any], key: Any = None) -> str:
    """:func:`report_html` from the event loop: drawn in the compute pool."""

    async def make() -> str:
        return await ctx.pool.run(_html, result, doc)

    if key is None:
        return await make()
    return await ctx.reports.aget(("html", key, dt.date.today()), make)


async def report_pdf_async(ctx: Context, result: dict[str, Any], doc: dict[str, Any], key: Any = None) -> bytes:
    async def make() -> bytes:
        return await ctx.pool.run(_pdf, await report_html_async(ctx, result, doc, key))

    if key is None:
        return await make()
    return await ctx.reports.aget(("pdf", key, dt.date.today()), make)


def with_warnings(payload: dict[str, Any], messages: list[str]) -> dict[str, Any]:
    existing = list(payload.get("warnings") or [])
    payload["warnings"] = existing + [m for m in messages if m not in existing]
    return payload


def _assess(kb: KnowledgeBase, gk: GenomicsKnowledge, patient_file: Path, region: str | None) -> dict[str, Any]:
    """Run the pipeline on a case folder: names resolve only inside it (no ``allowed`` folders). Pure computation
    (files in, the answer out), so it runs in a compute worker as well as here."""

    def run() -> dict[str, Any]:
        prepared = prepare(patient_file, kb, gk, allowed=())
        if prepared.ctdna is None:
            return assessment_answer(prepared, kb, region)
        with _PLOTTING:  # the ctDNA timeline is drawn with pyplot
            return assessment_answer(prepared, kb, region)

    return with_warnings(*captured(run))


def assess_case(ctx: Context, patient_file: Path, region: str | None) -> dict[str, Any]:
    return ctx.pool.call(_assess, patient_file, region)


@dataclass
class _Staged:
    """A submission checked and written to its scratch folder, waiting for its assessment."""

    team: int
    digest: str
    text: str
    scratch: Path
    patient_file: Path


Outcome = tuple[dict[str, Any], bool]  # (the stored assessment, whether it was a replay)


def _submit_check(ctx: Context, who: Principal, doc: dict[str, Any], uploads: list[Upload], region: str | None,
                  idem_key: str | None, address: str) -> Outcome | _Staged:
    if not who.can_write():
        raise Forbidden("researchers read; clinicians and admins submit")
    team = _team(who)
    if region is not None and region not in ("US", "EU"):
        raise InputError(Problem("region", region, "US | EU"))
    if idem_key is not None and (not idem_key or len(idem_key) > 128 or not idem_key.isprintable()):
        raise InputError(Problem("Idempotency-Key", idem_key, "1-128 printable characters"))
    digest = request_hash(doc, uploads, region)
    if idem_key:
        replay = _replay(ctx, who, team, idem_key, digest, address)
        if replay is not None:
            return replay, True
    problems = _names_only_uploads(doc, uploads)
    pid = doc.get("patient_id")
    if isinstance(pid, str):
        try:
            check_id(pid, "patient_id")
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    text = json.dumps(doc, sort_keys=True, default=str)
    scratch = ctx.store.scratch()
    try:
        patient_file = ctx.store.write_case(scratch, text, uploads)
    except BaseException:
        ctx.store.discard(scratch)
        raise
    return _Staged(team, digest, text, scratch, patient_file)


def _submit_store(ctx: Context, who: Principal, staged: _Staged, uploads: list[Upload], region: str | None,
                  idem_key: str | None, address: str, result: dict[str, Any]) -> Outcome:
    team, digest, text = staged.team, staged.digest, staged.text
    try:
        ctx.store.keep(staged.scratch, uploads, digest)
    except BaseException:
        ctx.store.discard(staged.scratch)
        raise
    try:
        with ctx.db.session() as s:
            patient = s.scalar(select(PatientRecord).where(PatientRecord.team_id == team,
                                                           PatientRecord.patient_id == result["patient_id"]))
            if patient is None:
                patient = PatientRecord(team_id=team, patient_id=result["patient_id"])
                s.add(patient)
                s.flush()
            sub = Submission(patient_pk=patient.id, team_id=team, user_id=who.user_id, idempotency_key=idem_key,
                             request_hash=digest, patient_json=text, region=region)
            s.add(sub)
            s.flush()
            for up in uploads:
                s.add(StoredFile(submission_id=sub.id, name=up.name, sha256=up.sha256, size=len(up.data), kind=up.kind))
            rec = AssessmentRecord(submission_id=sub.id, patient_pk=patient.id, team_id=team,
                                   software_version=result["software_version"], kb_version=result["kb_version"],
                                   result_json=json.dumps(result, default=str))
            s.add(rec)
            s.flush()
            audit.append(s, _entry(who, "submit", f"assessment:{rec.id}", patient.id, address, ctx.kb.kb_version))
            return _record(rec, result["patient_id"], result), False
    except IntegrityError:  # the same key raced in from another request: answer with the stored one
        if idem_key:
            replay = _replay(ctx, who, team, idem_key, digest, address)
            if replay is not None:
                return replay, True
        raise


def submit(ctx: Context, who: Principal, doc: dict[str, Any], uploads: list[Upload], region: str | None,
           idem_key: str | None, address: str) -> Outcome:
    """Validate, assess and store one patient; (the stored assessment, whether it was a replay)."""
    staged = _submit_check(ctx, who, doc, uploads, region, idem_key, address)
    if not isinstance(staged, _Staged):
        return staged
    try:
        result = assess_case(ctx, staged.patient_file, region)
    except BaseException:
        ctx.store.discard(staged.scratch)
        raise
    return _submit_store(ctx, who, staged, uploads, region, idem_key, address, result)


async def submit_async(ctx: Context, who: Principal, doc: dict[str, Any], uploads: list[Upload], region: str | None,
                       idem_key: str | None, address: str) -> Outcome:
    """:func:`submit` from the event loop: the checks and the storing in a database thread, the assessment in the
    compute pool (no thread held while it runs)."""
    staged = await ctx.in_db(_submit_check, ctx, who, doc, uploads, region, idem_key, address)
    if not isinstance(staged, _Staged):
        return staged
    try:
        result = await ctx.pool.run(_assess, staged.patient_file, region)
    except BaseException:
        ctx.store.discard(staged.scratch)
        raise
    return await ctx.in_db(_submit_store, ctx, who, staged, uploads, region, idem_key, address, result)


def _replay(ctx: Context, who: Principal, team: int, key: str, digest: str, address: str) -> dict[str, Any] | None:
    with ctx.db.session() as s:
        sub = s.scalar(select(Submission).where(Submission.team_id == team, Submission.idempotency_key == key))
        if sub is None:
            return None
        if sub.request_hash != digest:
            raise Conflict(f"Idempotency-Key {key!r} was used for a different request")
        rec = s.scalar(select(AssessmentRecord).where(AssessmentRecord.submission_id == sub.id)
                       .order_by(AssessmentRecord.id).limit(1))
        assert rec is not None
        pid = s.get(PatientRecord, sub.patient_pk).patient_id  # type: ignore[union-attr]
        out = _record(rec, pid, json.loads(rec.result_json))
        audit.append(s, _entry(who, "read", f"assessment:{rec.id}", sub.patient_pk, address, ctx.kb.kb_version))
        return out


def _record(rec: AssessmentRecord, patient_id: str, result: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"assessment_id": rec.id, "patient_id": patient_id, "created": rec.created.isoformat() + "Z",
                           "software_version": rec.software_version, "kb_version": rec.kb_version,
                           "rerun_of": rec.rerun_of}
    if result is not None:
        out["result"] = result
    return out


def _visible(s: Session, who: Principal, rec_team: int) -> bool:
    return who.team_id is not None and rec_team == who.team_id


def _read_assessment(ctx: Context, who: Principal, assessment_id: int, address: str, action: str
                     ) -> tuple[dict[str, Any], str, str]:
    """(the stored assessment without its result, the result as stored JSON text, the patient document as text),
    the read audited in the same transaction; or NotFound."""
    with ctx.db.session() as s:
        rec = s.get(AssessmentRecord, assessment_id)
        if rec is None or not _visible(s, who, rec.team_id):
            raise NotFound()
        sub = s.get(Submission, rec.submission_id)
        patient = s.get(PatientRecord, rec.patient_pk)
        assert sub is not None and patient is not None
        out = _record(rec, patient.patient_id, None), rec.result_json, sub.patient_json
        audit.append(s, _entry(who, action, f"assessment:{rec.id}", rec.patient_pk, address, ctx.kb.kb_version))
        return out


def get_assessment(ctx: Context, who: Principal, assessment_id: int, address: str, action: str = "read"
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the stored assessment with its result, the patient document) or NotFound."""
    record, result, doc = _read_assessment(ctx, who, assessment_id, address, action)
    record["result"] = json.loads(result)
    return record, json.loads(doc)


def assessment_json(ctx: Context, who: Principal, assessment_id: int, address: str, action: str = "read-json") -> bytes:
    """:func:`get_assessment`'s record as JSON bytes, the stored result spliced in as it is kept (the same JSON
    value, not parsed and written again: this is the most frequent read)."""
    record, result, _ = _read_assessment(ctx, who, assessment_id, address, action)
    head = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"result":{result}}}'.encode()


def history(ctx: Context, who: Principal, patient_id: str, address: str) -> dict[str, Any]:
    """A patient's assessments over time, oldest first, each with its versions and calls, and what changed
    from the one before it."""
    with ctx.db.session() as s:
        patient = _patient(s, who, patient_id)
        recs = s.scalars(select(AssessmentRecord).where(AssessmentRecord.patient_pk == patient.id)
                         .order_by(AssessmentRecord.id)).all()
        items: list[dict[str, Any]] = []
        previous: dict[str, Any] | None = None
        for rec in recs:
            result = json.loads(rec.result_json)
            item = _record(rec, patient.patient_id, None)
            item["calls"] = {r["regimen_id"]: r["call"] for r in result.get("regimens", [])}
            item["her2"] = {k: (result.get("her2") or {}).get(k) for k in ("result", "category")}
            item["changes"] = differences(previous, result) if previous is not None else []
            ctdna = result.get("ctdna")
            item["ctdna"] = ({k: ctdna.get(k) for k in ("summary", "figure") if k in ctdna}
                             if isinstance(ctdna, dict) else None)
            items.append(item)
            previous = result
        audit.append(s, _entry(who, "history", f"patient:{patient.id}", patient.id, address, ctx.kb.kb_version))
        return {"patient_id": patient.patient_id, "assessments": items}


def _patient(s: Session, who: Principal, patient_id: str) -> PatientRecord:
    if who.team_id is None:
        raise NotFound()
    patient = s.scalar(select(PatientRecord).where(PatientRecord.team_id == who.team_id,
                                                   PatientRecord.patient_id == patient_id))
    if patient is None:
        raise NotFound()
    return patient


def list_patients(ctx: Context, who: Principal, address: str) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        if who.team_id is None:
            return []
        rows = s.scalars(select(PatientRecord).where(PatientRecord.team_id == who.team_id)
                         .order_by(PatientRecord.patient_id)).all()
        out = []
        for p in rows:
            last = s.scalar(select(AssessmentRecord).where(AssessmentRecord.patient_pk == p.id)
                            .order_by(AssessmentRecord.id.desc()).limit(1))
            out.append({"patient_id": p.patient_id, "assessments_url": f"/v1/patients/{p.patient_id}/assessments",
                        "latest_assessment_id": last.id if last else None})
        audit.append(s, _entry(who, "list", "patients", None, address, ctx.kb.kb_version))
        return out


@dataclass
class _Rerun:
    assessment_id: int
    old: dict[str, Any]
    patient_file: Path
    region: str | None
    submission_id: int
    patient_pk: int
    team: int


def _rerun_load(ctx: Context, who: Principal, assessment_id: int) -> _Rerun:
    if not who.can_write():
        raise Forbidden("researchers read; clinicians and admins re-run")
    with ctx.db.session(write=False) as s:
        rec = s.get(AssessmentRecord, assessment_id)
        if rec is None or not _visible(s, who, rec.team_id):
            raise NotFound()
        sub = s.get(Submission, rec.submission_id)
        assert sub is not None
        files = [(f.name, f.sha256) for f in s.scalars(select(StoredFile).where(StoredFile.submission_id == sub.id))]
        folder = ctx.store.case_folder(sub.request_hash, sub.patient_json, files)
        return _Rerun(assessment_id, json.loads(rec.result_json), folder / "patient.json", sub.region, sub.id,
                      rec.patient_pk, rec.team_id)


def _rerun_store(ctx: Context, who: Principal, job: _Rerun, result: dict[str, Any], address: str) -> dict[str, Any]:
    with ctx.db.session() as s:
        new = AssessmentRecord(submission_id=job.submission_id, patient_pk=job.patient_pk, team_id=job.team,
                               software_version=result["software_version"], kb_version=result["kb_version"],
                               result_json=json.dumps(result, default=str), rerun_of=job.assessment_id)
        s.add(new)
        s.flush()
        out = _record(new, result["patient_id"], result)
        out["changes"] = differences(job.old, result)
        out["previous"] = {"assessment_id": job.assessment_id, "software_version": job.old.get("software_version"),
                           "kb_version": job.old.get("kb_version")}
        audit.append(s, _entry(who, "rerun", f"assessment:{new.id}", job.patient_pk, address, ctx.kb.kb_version))
        return out


def rerun(ctx: Context, who: Principal, assessment_id: int, address: str) -> dict[str, Any]:
    """Assess a stored submission again on today's knowledge; the new record lists what changed."""
    job = _rerun_load(ctx, who, assessment_id)
    return _rerun_store(ctx, who, job, assess_case(ctx, job.patient_file, job.region), address)


async def rerun_async(ctx: Context, who: Principal, assessment_id: int, address: str) -> dict[str, Any]:
    """:func:`rerun` from the event loop (the assessment in the compute pool)."""
    job = await ctx.in_db(_rerun_load, ctx, who, assessment_id)
    result = await ctx.pool.run(_assess, job.patient_file, job.region)
    return await ctx.in_db(_rerun_store, ctx, who, job, result, address)


_REGIMEN_FIELDS = ("call", "level", "score", "status")


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two assessments of one patient: versions, HER2, alterations, each regimen's call,
    level, score, status and expected outcome, and the missing tests."""
    out: list[dict[str, Any]] = []

    def note(where: str, before: Any, after: Any) -> None:
        if before != after:
            out.append({"field": where, "before": before, "after": after})

    note("software_version", old.get("software_version"), new.get("software_version"))
    note("kb_version", old.get("kb_version"), new.get("kb_version"))
    for key in ("result", "category"):
        note(f"her2.{key}", (old.get("her2") or {}).get(key), (new.get("her2") or {}).get(key))
    alt = lambda d: sorted(f"{a.get('gene')} {a.get('protein_change') or a.get('change') or a.get('kind')}"  # noqa: E731
                           for a in d.get("alterations") or [])
    note("alterations", alt(old), alt(new))
    before = {r["regimen_id"]: r for r in old.get("regimens", [])}
    after = {r["regimen_id"]: r for r in new.get("regimens", [])}
    for rid in sorted(set(before) | set(after)):
        b, a = before.get(rid), after.get(rid)
        if b is None or a is None:
            note(f"regimens.{rid}", None if b is None else "present", None if a is None else "present")
            continue
        for key in _REGIMEN_FIELDS:
            note(f"regimens.{rid}.{key}", b.get(key), a.get(key))
        eb, ea = b.get("expected") or {}, a.get("expected") or {}
        note(f"regimens.{rid}.expected", {k: eb.get(k) for k in ("trial", "endpoint", "value")},
             {k: ea.get(k) for k in ("trial", "endpoint", "value")})
    tests = lambda d: sorted(m.get("test", "") for m in d.get("missing_tests") or [])  # noqa: E731
    note("missing_tests", tests(old), tests(new))
    return out
