"""``nerasense cohort report COHORT.yaml -o report.html``: paper-style cohort analysis as one HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, stamp
from nerasense.safe_io import atomic_write, output_error


def register(sub: argparse._SubParsersAction) -> None:
    co = sub.add_parser("cohort", help="cohort analyses (response, survival, RECIST, AEs, subgroups) as a report")
    co_sub = co.add_subparsers(dest="cohort_command", metavar="ACTION", parser_class=type(co))
    p = co_sub.add_parser("report", help="run the analyses a cohort YAML asks for and write an HTML report")
    p.add_argument("spec", type=Path, help="cohort description (YAML); paths inside are relative to it")
    p.add_argument("-o", "--output", type=Path, default=None, help="HTML file to write")
    p.add_argument("--allow-dir", type=Path, action="append", default=[], metavar="FOLDER",
                   help="a folder, besides the YAML's own, that its tables may be read from (repeatable)")
    add_json_flag(p)
    p.set_defaults(handler=_report)
    co.set_defaults(handler=_no_action)


def _no_action(args: argparse.Namespace) -> CommandResult:
    raise UsageError("nerasense cohort: choose an action: report")


def _report(args: argparse.Namespace) -> CommandResult:
    from nerasense.report.cohort import build_report

    page, payload = build_report(args.spec, allowed=args.allow_dir)
    if args.output is not None:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(args.output, exc) from None
        atomic_write(args.output, page)
        payload["report"] = str(args.output)
    lines = [f"{payload['title']}: {payload['n_patients']} patients"]
    r = payload["sections"].get("response")
    if r:
        o = r["orr"]
        lines.append(
            f"  ORR {o['responders']}/{o['evaluable']} = {100 * o['rate']:.1f}% "
            f"(95% CI {100 * o['ci_low']:.1f}–{100 * o['ci_high']:.1f}%, exact)"
        )
    lines += [f"  not supported: {m}" for m in payload["not_supported"]]
    if args.output is not None:
        lines.append(f"  report written to {args.output}")
    return CommandResult(stamp(payload), "\n".join(lines))
