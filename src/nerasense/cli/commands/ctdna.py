"""``nerasense ctdna SERIES_FILE``: read serial plasma ctDNA for neratinib (baseline, molecular response,
emergent resistance) per patient."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, stamp
from nerasense.errors import InputError, NerasenseWarning, Problem
from nerasense.knowledge import default_knowledge
from nerasense.safe_io import check_id, check_input


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ctdna",
        help="read serial plasma ctDNA: tumour fraction, molecular response, emergent resistance",
        description="Read a tidy table of plasma samples (CSV, TSV or Parquet; columns in the README). "
        "Values below the limit of detection are censored, never zero; failed-QC samples are excluded "
        "with a note. Research use only.",
    )
    p.add_argument("series", type=Path, metavar="SERIES_FILE", help="plasma series table")
    p.add_argument("--patient", metavar="ID", help="only this patient")
    p.add_argument("--tissue", type=Path, metavar="FILE", help="tissue alterations table: patient_id, gene, alteration")
    p.add_argument("--assessments", type=Path, metavar="FILE", help="response table: patient_id, date, response (RECIST)")
    p.add_argument("--definition", action="append", metavar="ID",
                   help="molecular-response definition id (repeatable; default: all in ctdna_response.yaml)")
    p.add_argument("-o", "--output", type=Path, metavar="PNG",
                   help="timeline figure; with several patients, one file per patient (<stem>_<patient>.png)")
    p.add_argument("--reference", type=Path, metavar="FASTA",
                   help="reference for variants_file entries that are reads (a BAM, or FASTQ R1;R2), called with "
                   "nerasense call (cached)")
    p.add_argument("--targets", type=Path, metavar="BED", help="target BED for those reads")
    p.add_argument("--allow-dir", type=Path, action="append", default=[], metavar="FOLDER",
                   help="a folder (besides the series table's own) that variants_file entries may lie in")
    add_json_flag(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    # imported here: scipy, polars and matplotlib are not needed by the other commands
    from nerasense.ingest.ctdna import read_ctdna_series
    from nerasense.interpret.ctdna import interpret_ctdna
    from nerasense.report.ctdna_figure import plot_ctdna_timeline

    problems: list[Problem] = []
    for field, path in (("SERIES_FILE", args.series), ("--tissue", args.tissue), ("--assessments", args.assessments)):
        try:
            if path is not None:
                check_input(path, "CSV, TSV or Parquet table", field=field)
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    kb = default_knowledge()
    call_reads = None
    if args.reference is not None:  # reads as variants files (issue 22)
        from nerasense.calling.run import call_reads_cached

        def call_reads(paths: list[Path]) -> Path:
            return call_reads_cached(paths, args.reference, kb, targets=args.targets)[0]

    series = read_ctdna_series(args.series, tissue=args.tissue, assessments=args.assessments, allowed=args.allow_dir,
                               call_reads=call_reads)
    if args.patient is not None:
        if args.patient not in series:
            raise UsageError(f"nerasense ctdna: --patient={args.patient!r} is not in the table; "
                             f"allowed: {', '.join(sorted(series))}")
        series = {args.patient: series[args.patient]}
    patients: list[dict[str, Any]] = []
    messages: list[str] = []
    for pid, s in series.items():
        # each patient's caveats are in its own `warnings`; the command repeats each message once only
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            findings = interpret_ctdna(s, kb, definitions=args.definition)
        for w in caught:
            if not issubclass(w.category, NerasenseWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            elif str(w.message) not in messages:
                messages.append(str(w.message))
        d = findings.to_dict()
        if args.output is not None:
            suffix = args.output.suffix or ".png"
            target = (args.output if len(series) == 1 else
                      args.output.with_name(f"{args.output.stem}_{check_id(pid, 'patient_id')}{suffix}"))
            plot_ctdna_timeline(findings, target)
            d["figure"] = str(target)
        patients.append(stamp(d, kb.kb_version))
    payload = patients[0] if len(patients) == 1 else stamp({"patients": patients, "warnings": []}, kb.kb_version)
    if len(patients) > 1:
        payload["warnings"] = messages
    return CommandResult(payload, "\n\n".join(_text(p) for p in patients), warnings=messages)


def _text(d: dict[str, Any]) -> str:
    lines = [f"patient {d['patient_id']}"]
    b = d["baseline"]
    if b:
        tf = b["tumour_fraction"]["text"] if b["tumour_fraction"] else "not measured"
        lines.append(f"  baseline {b['sample_id']} ({b['date']}): tumour fraction {tf} -> {b['tumour_fraction_category']} "
                     f"vs cut-off {100 * b['cutoff']:g}%")
        if b["tumour_fraction"]:
            lines.append(f"    caveat: {b['cutoff_caveat']}")
        for a in b["alterations"]:
            clon = a.get("clonality", {}).get("call")
            unit = " copies" if a["type"] == "amplification" and a["level"]["value"] is not None else ""
            lines.append(f"    {a['gene']} {a['alteration']}: {a['level']['text']}{unit}" + (f" ({clon})" if clon else ""))
    for m in d["molecular_response"]:
        lines.append(f"  molecular response [{m['definition']}]: {m['status']}" + (f" — {m['detail']}" if m["detail"] else ""))
    for e in d["emergent"]:
        lines.append(f"  emergent {e['gene']} {e['alteration']} ({e['first_sample']}): {e['role']}; "
                     f"{e['certainty']['statement']}")
    for r in d["rising"]:
        lines.append(f"  rising {r['gene']} {r['alteration']}: {r['sample']}")
    for f in d["flags"]:
        lines.append(f"  flag [{f['kind']}] {f['id']}")
    for t in d["missing_tests"]:
        lines.append(f"  missing test: {t}")
    for x in d["excluded"]:
        lines.append(f"  excluded {x['sample_id']} ({x['date']}): {x['reason']}")
    if "figure" in d:
        lines.append(f"  figure: {d['figure']}")
    lines.append(f"  (research use only; nerasense {d['software_version']}, knowledge {d['kb_version']})")
    return "\n".join(lines)
