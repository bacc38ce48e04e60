"""Jobs from uploaded files, done by the job worker of :mod:`~nerasense.service.jobs`:

* ``maf``: a MAF upload read by ``nerasense annotate``'s reader and checks (:func:`~nerasense.ingest.maf.read_maf_text`)
  when the job is made, so a file the reader refuses whole (no header, a missing column) answers 422 at once.
  Each data row becomes one entry, in file order, in items of :data:`~nerasense.service.jobs.VARIANTS_PER_ITEM`
  rows: an accepted row is classified (as ``nerasense variant``), a refused row is kept with the reader's reason
  (never dropped), so ``results`` has one entry per data line of the file.
* ``reads``: a patient whose sequencing names reads (BAM, CRAM, FASTQ; issue 22's low-fraction caller). Calling
  takes minutes, so the submission is a job of one item; the item stores the patient document and the uploads'
  checksums (the files are kept as content-addressed blobs), so a restarted server finds everything again.

The job's ``source`` (file names, sizes, checksums, row counts) is kept with it (``jobs.source_json``, r0002).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

from sqlalchemy import select

from nerasense.errors import InputError, Problem
from nerasense.service import cases
from nerasense.service.accounts import Principal
from nerasense.service.cases import Conflict, Context, Forbidden
from nerasense.service.db import Job
from nerasense.service.jobs import MAX_VARIANTS, VARIANTS_PER_ITEM, _status, annotate_one, insert, problems_json
from nerasense.service.storage import READS_KINDS, UnsupportedMedia, Upload

MAX_MAF_BYTES = 1 << 30  # decompressed


def _team(who: Principal) -> int:
    if who.team_id is None:
        raise InputError(Problem("team", None, "a user who belongs to a team (jobs belong to teams)"))
    return who.team_id


def _maf_bytes(up: Upload, field: str) -> bytes:
    if up.data[:2] != b"\x1f\x8b":
        return up.data
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(up.data, MAX_MAF_BYTES + 1)
    except zlib.error as exc:
        raise InputError(Problem(field, up.name, "a MAF, plain or gzip", f"the gzip stream is damaged: {exc}")) from exc
    if len(out) > MAX_MAF_BYTES:
        raise InputError(Problem(field, up.name, f"a MAF of at most {MAX_MAF_BYTES:,} bytes once decompressed"))
    return out


def maf_rows(up: Upload, ctx: Context, field: str = "maf") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every data row of the MAF, in file order: accepted ones as queries, refused ones with their reasons."""
    from nerasense.ingest.maf import read_maf_text

    if up.kind != "maf":
        raise UnsupportedMedia(Problem(field, up.name, "a MAF (tab-separated, a header naming Hugo_Symbol and "
                                       "HGVSp_Short, Variant_Classification or Tumor_Sample_Barcode), plain or gzip",
                                       f"the content reads as {up.kind}"))
    table, messages = cases.captured(read_maf_text, _maf_bytes(up, field), up.name, ctx.gk)
    if table.input_records > MAX_VARIANTS:
        raise InputError(Problem(field, f"{table.input_records:,} rows", f"at most {MAX_VARIANTS:,} data rows per job"))
    rows: list[dict[str, Any]] = []
    for r in table.frame.select("line", "sample", "gene", "protein_change", "hgvs_c", "kind").iter_rows(named=True):
        rows.append({"line": r["line"], "sample": r["sample"], "gene": r["gene"],
                     "change": r["protein_change"] or r["hgvs_c"] or r["kind"]})
    for r in table.rejected.iter_rows(named=True):
        where = str(r["record"] or "")
        line = where.rsplit(":", 1)[-1]
        rows.append({"line": int(line) if line.isdigit() else None, "sample": r["sample"], "gene": r["gene"],
                     "value": r["value"], "refused": r["reason"]})
    rows.sort(key=lambda x: (x["line"] is None, x["line"] or 0))
    source = {"format": "maf", "file": up.name, "sha256": up.sha256, "size": len(up.data), "rows": table.input_records,
              "accepted": table.frame.height, "refused": table.rejected.height, "accounted": table.accounted,
              "flavour": table.flavour, "warnings": messages + list(table.notes)}
    return rows, source


def _existing(s: Any, team: int, idem_key: str | None, digest: str) -> dict[str, Any] | None:
    if not idem_key:
        return None
    old = s.scalar(select(Job).where(Job.team_id == team, Job.idempotency_key == idem_key))
    if old is None:
        return None
    if json.loads(old.source_json or "{}").get("request") != digest:
        raise Conflict(f"Idempotency-Key {idem_key!r} was used for a different request")
    return _status(s, old)


def _make(ctx: Context, who: Principal, kind: str, chunks: list[list[Any]], source: dict[str, Any],
          uploads: list[Upload], idem_key: str | None, address: str) -> dict[str, Any]:
    team = _team(who)
    if idem_key is not None and (not idem_key or len(idem_key) > 128 or not idem_key.isprintable()):
        raise InputError(Problem("Idempotency-Key", idem_key, "1-128 printable characters"))
    for up in uploads:
        ctx.store.put_blob(up.data, up.sha256)
    with ctx.db.session() as s:
        old = _existing(s, team, idem_key, source["request"])
        if old is not None:
            return old
        return insert(s, ctx, who, team, kind, chunks, idem_key, address, source, audit_target="job:{id}:{kind}")


def create_maf_job(ctx: Context, who: Principal, up: Upload, idem_key: str | None, address: str) -> dict[str, Any]:
    _team(who)
    rows, source = maf_rows(up, ctx)
    source["request"] = up.sha256
    chunks = [rows[i:i + VARIANTS_PER_ITEM] for i in range(0, len(rows), VARIANTS_PER_ITEM)] or [[]]
    return _make(ctx, who, "maf", chunks, source, [up], idem_key, address)


def has_reads(uploads: list[Upload]) -> bool:
    return any(u.kind in READS_KINDS for u in uploads)


def create_reads_job(ctx: Context, who: Principal, doc: dict[str, Any], uploads: list[Upload], region: str | None,
                     idem_key: str | None, address: str) -> dict[str, Any]:
    """A patient with reads: checked now (names, role, region), assessed by the worker."""
    if not who.can_write():
        raise Forbidden("researchers read; clinicians and admins submit")
    _team(who)
    if region is not None and region not in ("US", "EU"):
        raise InputError(Problem("region", region, "US | EU"))
    problems = cases._names_only_uploads(doc, uploads)
    if problems:
        raise InputError(problems)
    files = [{"name": u.name, "sha256": u.sha256, "size": len(u.data), "kind": u.kind} for u in uploads]
    source = {"format": "reads", "files": files, "request": cases.request_hash(doc, uploads, region)}
    item = [{"patient": doc, "region": region, "files": [[u.name, u.sha256, u.kind] for u in uploads]}]
    return _make(ctx, who, "reads", [item], source, uploads, idem_key, address)


def _blob(ctx: Context, name: str, sha: str, kind: str) -> Upload:
    data = ctx.store.blob_path(sha).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise RuntimeError(f"stored file {name} does not match its checksum")  # a failure: the item can be retried
    return Upload(name, data, sha, kind)


def run_item(ctx: Context, kind: str, inputs: list[Any], who: Principal) -> list[Any]:
    """One item of a ``maf`` or ``reads`` job (called by :func:`nerasense.service.jobs.run_item`)."""
    if kind == "maf":
        out = []
        for row in inputs:
            keep = {k: row.get(k) for k in ("line", "sample")}
            if "refused" in row:
                out.append({**keep, "gene": row.get("gene"), "value": row.get("value"), "refused": row["refused"]})
            else:
                out.append({**keep, **annotate_one(ctx, {"gene": row.get("gene"), "change": row.get("change")})})
        return out
    results = []
    for entry in inputs:
        doc = entry["patient"]
        uploads = [_blob(ctx, name, sha, k) for name, sha, k in entry["files"]]
        try:
            record, _ = cases.submit(ctx, who, doc, uploads, entry.get("region"), None, "job")
            results.append({"patient_id": record["patient_id"], "assessment_id": record["assessment_id"],
                            "read_calls": len(record["result"].get("read_calls") or [])})
        except InputError as err:
            results.append({"patient_id": doc.get("patient_id"), "error": problems_json(err)})
    return results

