"""``nerasense batch PATIENT_FILE... -o DIR``: assess many patients, one JSON (and optional report) each,
plus ``summary.tsv`` (one row per patient and regimen) that opens in a spreadsheet."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from nerasense.cli._common import CommandResult, add_json_flag, stamp
from nerasense.errors import InputError, NerasenseError, Problem
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.pipeline import assess_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="assess many patient files; JSON per patient and a summary TSV")
    p.add_argument("patient_files", type=Path, nargs="+", metavar="PATIENT_FILE")
    p.add_argument("-o", "--output-dir", type=Path, required=True, help="folder for <patient>.json and summary.tsv")
    p.add_argument("--html", action="store_true", help="also write <patient>.html reports")
    p.add_argument("--region", choices=["US", "EU"], default=None,
                   help="label region (contraindications, hepatic rule, label populations); overrides the patient "
                   "file's region; US when neither says")
    add_json_flag(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    missing = [Problem("PATIENT_FILE", str(f), "an existing file") for f in args.patient_files if not f.is_file()]
    if missing:
        raise InputError(missing)
    kb = default_knowledge()
    gk = GenomicsKnowledge(kb)
    out_dir: Path = args.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    failed: list[dict[str, str]] = []
    from rich.progress import Progress

    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("assessing", total=len(args.patient_files))
        for path in args.patient_files:
            try:
                a = assess_file(path, kb, gk, region=args.region).to_dict()
            except NerasenseError as exc:  # one bad file must not hide the others: list it, go on
                failed.append({"file": str(path), "error": " ".join(str(exc).split())})
                progress.advance(task)
                continue
            (out_dir / f"{a['patient_id']}.json").write_text(json.dumps(a, indent=1, default=str), encoding="utf-8")
            if args.html:
                from nerasense.report.patient_report import write_report

                write_report(a, kb, {}, out_dir / f"{a['patient_id']}.html")
            for r in a["regimens"]:
                exp = r["expected"] or {}
                rows.append({"patient_id": a["patient_id"], "regimen_id": r["regimen_id"], "call": r["call"],
                             "level": r["level"] or "", "score": r["score"], "expected_endpoint": exp.get("endpoint", ""),
                             "expected_value": exp.get("value", ""), "expected_trial": exp.get("trial", ""),
                             "rank": r["rank"], "region": a["region"]})
            progress.advance(task)
    summary = out_dir / "summary.tsv"
    with summary.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["patient_id", "regimen_id", "call", "level", "score",
                                               "expected_endpoint", "expected_value", "expected_trial", "rank",
                                               "region"],
                                delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    done = len(args.patient_files) - len(failed)
    payload = stamp({"assessed": done, "failed": failed, "summary": str(summary), "output_dir": str(out_dir)},
                    kb.kb_version)
    text = f"assessed {done} of {len(args.patient_files)} patients -> {summary}"
    text += "".join(f"\nfailed: {f['file']}: {f['error']}" for f in failed)
    return CommandResult(payload, text, exit_code=1 if failed else 0)
