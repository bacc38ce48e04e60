"""``nerasense batch PATIENT_FILE... -o DIR``: assess many patients, one JSON (and optional report) each,
plus ``summary.tsv`` (one row per patient and regimen) that opens in a spreadsheet.

Every file is written under a temporary name and renamed when whole. ``summary.tsv`` is rewritten as the run
goes (at most once a second, and at the end), so a killed run leaves a summary that matches the JSON files
written before it; ``--resume`` skips patients whose JSON is already there and rebuilds the summary from the
JSON files. A folder holding an earlier run is refused unless ``--resume`` or ``--overwrite`` says what to do.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, add_json_flag, stamp
from nerasense.errors import InputError, NerasenseError, Problem
from nerasense.safe_io import atomic_write, check_id, check_input

SUMMARY_COLUMNS = ["patient_id", "regimen_id", "call", "level", "score", "expected_endpoint", "expected_value",
                   "expected_trial", "rank", "region"]
MARKER = ".nerasense-batch"  # written into every output folder batch makes; --overwrite cleans only such folders
_SUMMARY_EVERY_S = 1.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="assess many patient files; JSON per patient and a summary TSV")
    p.add_argument("patient_files", type=Path, nargs="+", metavar="PATIENT_FILE")
    p.add_argument("-o", "--output-dir", type=Path, required=True, help="folder for <patient>.json and summary.tsv")
    p.add_argument("--html", action="store_true", help="also write <patient>.html reports")
    p.add_argument("--region", choices=["US", "EU"], default=None,
                   help="label region (contraindications, hepatic rule, label populations); overrides the patient "
                   "file's region; US when neither says")
    p.add_argument("--allow-dir", type=Path, action="append", default=[], metavar="FOLDER",
                   help="a folder (besides each patient file's own) that files named in patient files may lie in")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="skip patients whose JSON is already in the folder")
    again.add_argument("--overwrite", action="store_true",
                       help="first delete the JSON, HTML and summary files of an earlier batch run in the folder")
    add_json_flag(p)
    p.set_defaults(handler=handle)


def _ids(files: list[Path]) -> dict[Path, str]:
    """The patient id of each file that can be read (the others fail later, with their own message)."""
    from nerasense.ingest.patient import load_patient_data

    out = {}
    for f in files:
        try:
            raw = load_patient_data(f)
        except NerasenseError:
            continue
        if isinstance(raw, dict) and isinstance(raw.get("patient_id"), str):
            out[f] = raw["patient_id"]
    return out


def _prepare_folder(out_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse a folder holding an earlier run unless told what to do; clean it with --overwrite."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        earlier = [p for p in out_dir.iterdir() if p.name != MARKER]
    except OSError as exc:
        raise InputError(Problem("--output-dir", str(out_dir), "a folder nerasense can create and write",
                                 exc.strerror or str(exc))) from None
    if earlier and not resume:
        if not overwrite:
            raise InputError(Problem("--output-dir", str(out_dir), "an empty or new folder",
                                     f"it holds {len(earlier)} files; pass --resume to continue that run or "
                                     "--overwrite to delete its results first"))
        if not (out_dir / MARKER).is_file():
            raise InputError(Problem("--output-dir", str(out_dir), "a folder made by `nerasense batch` for --overwrite",
                                     f"it has no {MARKER} file, so its {len(earlier)} files are not deleted"))
        for p in earlier:
            if p.is_file() and (p.suffix in (".json", ".html") or p.name == "summary.tsv"):
                p.unlink()
    (out_dir / MARKER).touch()


def summary_rows(a: dict[str, Any]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for r in a["regimens"]:
        exp = r["expected"] or {}
        rows.append({"patient_id": a["patient_id"], "regimen_id": r["regimen_id"], "call": r["call"],
                     "level": r["level"] or "", "score": r["score"], "expected_endpoint": exp.get("endpoint", ""),
                     "expected_value": exp.get("value", ""), "expected_trial": exp.get("trial", ""),
                     "rank": r.get("rank", ""), "region": a.get("region", "")})
    return rows


def _write_summary(path: Path, rows: list[dict[str, object]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, buf.getvalue())


def _done(path: Path, patient_id: str) -> dict[str, Any] | None:
    """The assessment already written for ``patient_id`` (a whole, parseable JSON), or None."""
    try:
        a = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return a if isinstance(a, dict) and a.get("patient_id") == patient_id and "regimens" in a else None


def handle(args: argparse.Namespace) -> CommandResult:
    problems: list[Problem] = []
    for f in args.patient_files:
        try:
            check_input(f, "patient", field="PATIENT_FILE")
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    ids = _ids(args.patient_files)
    shared = {pid: [str(f) for f, i in ids.items() if i == pid] for pid, n in Counter(ids.values()).items() if n > 1}
    if shared:
        raise InputError([Problem("patient_id", pid, "a different patient_id in each patient file",
                                  f"shared by {', '.join(files)}; each id names one output file")
                          for pid, files in shared.items()])
    from nerasense.knowledge import default_knowledge
    from nerasense.knowledge.genomics import GenomicsKnowledge
    from nerasense.pipeline import assess_file

    kb = default_knowledge()
    gk = GenomicsKnowledge(kb)
    out_dir: Path = args.output_dir
    _prepare_folder(out_dir, args.resume, args.overwrite)
    summary = out_dir / "summary.tsv"
    rows: list[dict[str, object]] = []
    failed: list[dict[str, str]] = []
    skipped = 0
    last_summary = time.monotonic()
    from rich.progress import Progress

    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("assessing", total=len(args.patient_files))
        for path in args.patient_files:
            pid = ids.get(path)
            earlier = _done(out_dir / f"{pid}.json", pid) if args.resume and pid else None
            if earlier is not None:
                rows += summary_rows(earlier)
                skipped += 1
                progress.advance(task)
                continue
            try:
                a = assess_file(path, kb, gk, region=args.region, allowed=args.allow_dir).to_dict()
                check_id(a["patient_id"], "patient_id", str(path))
            except NerasenseError as exc:  # one bad file must not hide the others: list it, go on
                failed.append({"file": str(path), "error": " ".join(str(exc).split())})
                progress.advance(task)
                continue
            if args.html:
                from nerasense.report.patient_report import write_report

                write_report(a, kb, {}, out_dir / f"{a['patient_id']}.html")
            # the JSON last: its presence tells --resume that the patient is done
            atomic_write(out_dir / f"{a['patient_id']}.json", json.dumps(a, indent=1, default=str))
            rows += summary_rows(a)
            if time.monotonic() - last_summary >= _SUMMARY_EVERY_S:
                _write_summary(summary, rows)
                last_summary = time.monotonic()
            progress.advance(task)
    _write_summary(summary, rows)
    done = len(args.patient_files) - len(failed)
    payload = stamp({"assessed": done - skipped, "skipped": skipped, "failed": failed, "summary": str(summary),
                     "output_dir": str(out_dir)}, kb.kb_version)
    text = f"assessed {done - skipped} of {len(args.patient_files)} patients"
    text += f" ({skipped} already done)" if skipped else ""
    text += f" -> {summary}"
    text += "".join(f"\nfailed: {f['file']}: {f['error']}" for f in failed)
    return CommandResult(payload, text, exit_code=1 if failed else 0)


__all__ = ["MARKER", "SUMMARY_COLUMNS", "summary_rows"]
