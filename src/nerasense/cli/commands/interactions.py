"""``nerasense interactions DRUG [DRUG ...]``: concomitant medications against neratinib's interaction classes."""

from __future__ import annotations

import argparse
from typing import Any

from nerasense.cli._common import CommandResult, add_json_flag, stamp
from nerasense.engine import interactions
from nerasense.knowledge import default_knowledge


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "interactions",
        help="check concomitant medications against neratinib's interaction classes",
        description="Generic or brand names; unknown names are listed as not in the knowledge base.",
    )
    p.add_argument("drugs", nargs="+", metavar="DRUG", help="drug name (quote names with spaces)")
    p.add_argument("--region", metavar="US|EU", default=None, help="keep only this region's rules (default both)")
    add_json_flag(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    kb = default_knowledge()
    report = interactions.check(list(args.drugs), kb, region=args.region)
    payload = stamp(report.to_dict(), kb.kb_version)
    return CommandResult(payload, _text(payload))


def _text(p: dict[str, Any]) -> str:
    lines = []
    for f in p["findings"]:
        regions = "/".join(f["regions"])
        flag = " [UNVERIFIED]" if f["unverified"] else ""
        lines.append(f"{f['query']} ({f['drug']}): {f['class_name']} — {f['severity'].upper()} ({regions}){flag}")
        lines.append(f"    {f['recommendation']}  (source {f['source']}, {f['verification']})")
        for pk in f["pk_effects"]:
            lines.append(f"    {pk['perpetrator']} {pk['regimen']}: neratinib Cmax {pk['cmax_change_pct']:+g}%, "
                         f"AUC {pk['auc_change_pct']:+g}%")
    for name in p["not_found"]:
        lines.append(f"{name}: not in the knowledge base (not checked; this does not mean it is safe)")
    if not lines:
        lines.append("no interactions found")
    lines.append(f"(research use only; nerasense {p['software_version']}, knowledge {p['kb_version']})")
    return "\n".join(lines)
