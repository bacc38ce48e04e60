"""``nerasense recist``: RECIST 1.1 time-point and best overall responses from a lesion table."""

from __future__ import annotations

import argparse
from pathlib import Path

from nerasense.cli._common import CommandResult, add_json_flag, nonnegative_int, positive_float, stamp


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recist", help="RECIST 1.1 best overall response per patient from a lesion table")
    p.add_argument("file", type=Path, help="lesion table (CSV, TSV or Parquet); columns in the README")
    p.add_argument("--no-confirm", action="store_true", help="do not require CR/PR confirmation (randomised trials)")
    p.add_argument("--min-sd-days", type=nonnegative_int, default=42, help="minimum SD duration from baseline (default 42)")
    p.add_argument("--confirm-days", type=nonnegative_int, default=28, help="minimum interval confirming CR/PR (default 28)")
    p.add_argument("--timepoints", action="store_true", help="include every assessment and the rules applied")
    p.add_argument("--irecist", action="store_true", help="add iRECIST time points and iBOR (Seymour 2017) per patient")
    p.add_argument(
        "--cbr-weeks", type=positive_float, default=24.0,
        help="SD duration (weeks from baseline) counted as clinical benefit (default 24)"
    )
    add_json_flag(p)
    p.set_defaults(handler=_recist)


def _recist(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.recist import assess
    from nerasense.stats.response import summarise_best_responses
    from nerasense.stats.tables import read_table

    res = assess(
        read_table(args.file),
        confirm=not args.no_confirm,
        min_sd_days=args.min_sd_days,
        confirm_days=args.confirm_days,
        irecist=args.irecist,
        cbr_weeks=args.cbr_weeks,
    )
    patients = {}
    lines = [
        f"RECIST 1.1 ({'confirmation required' if not args.no_confirm else 'no confirmation'}; "
        f"min SD {args.min_sd_days} d, confirmation ≥ {args.confirm_days} d)"
    ]
    for pid, r in res.items():
        d = r.as_dict()
        if not args.timepoints:
            d.pop("assessments")
            d.pop("rules")
            if "irecist" in d:
                d["irecist"].pop("assessments")
                d["irecist"].pop("rules")
        patients[pid] = d
        pct = "NA" if r.best_pct_change is None else f"{r.best_pct_change:+.1f}%"
        ibor = "" if r.irecist is None else f"; iBOR {r.irecist.best_response}"
        lines.append(f"  {pid}: {r.best_response}{' (confirmed)' if r.confirmed else ''}, best change {pct}{ibor}")
    summary = summarise_best_responses(
        [r.best_response for r in res.values()], sd_weeks=[r.sd_weeks for r in res.values()], cbr_weeks=args.cbr_weeks
    )
    payload = {
        "confirmation": not args.no_confirm,
        "min_sd_days": args.min_sd_days,
        "confirm_days": args.confirm_days,
        "irecist": args.irecist,
        "cbr_weeks": args.cbr_weeks,
        "patients": patients,
        "summary": summary.as_dict(),
    }
    if args.irecist:
        # iRECIST categories on the RECIST scale for ORR/DCR: iUPD and iCPD count as PD (Seymour 2017)
        to_recist = {"iCR": "CR", "iPR": "PR", "iSD": "SD", "iNON-CR/NON-PD": "NON-CR/NON-PD", "iUPD": "PD", "iCPD": "PD"}
        payload["summary_irecist"] = summarise_best_responses(
            [to_recist.get(r.irecist.best_response, "NE") for r in res.values() if r.irecist is not None]
        ).as_dict()
    o = summary.orr
    lines.append(
        f"  ORR {o.responders}/{o.evaluable} = {100 * o.rate:.1f}% (95% CI {100 * o.ci_low:.1f}–{100 * o.ci_high:.1f}%, exact)"
    )
    if summary.cbr is not None:
        c = summary.cbr
        lines.append(f"  CBR (CR, PR or SD ≥ {args.cbr_weeks:g} weeks) {c.responders}/{c.evaluable} = {100 * c.rate:.1f}%")
    return CommandResult(stamp(payload), "\n".join(lines))
