"""``nerasense her2``: read HER2 IHC/ISH/H-score/HERmark/p95 results as ASCO/CAP 2018 (2023)."""

from __future__ import annotations

import argparse

from nerasense.cli._common import CommandResult, add_json_flag
from nerasense.knowledge import default_knowledge
from nerasense.report.answers import her2_answer

_FIELDS = {
    "ihc": "ihc",
    "ish_ratio": "ish_ratio",
    "her2_signals": "her2_signals",
    "cep17_signals": "cep17_signals",
    "recount_ratio": "recount_ratio",
    "recount_her2_signals": "recount_her2_signals",
    "recount_cep17_signals": "recount_cep17_signals",
    "pct_1plus": "pct_1plus",
    "pct_2plus": "pct_2plus",
    "pct_3plus": "pct_3plus",
    "hermark": "hermark_h2t",
    "p95": "p95",
    "pct_amplified_cells": "pct_amplified_cells",
    "specimen": "specimen",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "her2",
        help="interpret HER2 testing by tumour type (breast ASCO/CAP 2018; gastroesophageal; colorectal HERACLES)",
        description="Interpret HER2 IHC, dual- or single-probe ISH, H-score, HERmark and p95HER2 by the scheme of "
        "the tumour type (--tumour-type, an OncoTree code; breast when omitted). Numbers are read as given; every "
        "problem with them is reported at once.",
    )
    p.add_argument("--tumour-type", metavar="CODE", help="OncoTree code (e.g. BRCA, STAD, EGC, COADREAD, GBC); "
                   "breast rules when omitted; a tumour type with no scheme gets its raw results only")
    p.add_argument("--specimen", choices=["surgical", "biopsy"], help="specimen type (gastroesophageal scoring differs)")
    p.add_argument("--ihc", metavar="SCORE", help="0, null, ultralow, 1+, 2+ or 3+ (0+ is read as ultralow)")
    p.add_argument("--ish-ratio", metavar="R", help="HER2/CEP17 ratio (dual-probe ISH)")
    p.add_argument("--her2-signals", metavar="C", help="average HER2 signals per cell")
    p.add_argument("--cep17-signals", metavar="C", help="average CEP17 signals per cell")
    p.add_argument("--single-probe", action="store_true", help="the ISH assay had no CEP17 probe")
    p.add_argument("--recount-ratio", metavar="R", help="blinded recount: HER2/CEP17 ratio")
    p.add_argument("--recount-her2-signals", metavar="C", help="blinded recount: HER2 signals per cell")
    p.add_argument("--recount-cep17-signals", metavar="C", help="blinded recount: CEP17 signals per cell")
    p.add_argument("--pct-1plus", metavar="P", help="percent of tumour cells staining 1+ (H-score)")
    p.add_argument("--pct-2plus", metavar="P", help="percent of tumour cells staining 2+ (H-score)")
    p.add_argument("--pct-3plus", metavar="P", help="percent of tumour cells staining 3+ (H-score)")
    p.add_argument("--hermark", metavar="H2T", help="HERmark total HER2, RF/mm2")
    p.add_argument("--p95", metavar="V", help="p95HER2 (VeraTag), RF/mm2")
    p.add_argument("--pct-amplified-cells", metavar="P",
                   help="percent of tumour cells with HER2/CEP17 > 2.2 (genetic heterogeneity)")
    add_json_flag(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    raw: dict[str, object] = {
        model: getattr(args, cli) for cli, model in _FIELDS.items() if getattr(args, cli) is not None
    }
    raw["single_probe"] = args.single_probe
    payload = her2_answer(raw, args.tumour_type, default_knowledge())
    return CommandResult(payload, _text(payload), warnings=[])


def _text(d: dict[str, object]) -> str:
    scheme = d.get("scheme") or {}
    lines = [f"scheme: {scheme.get('name') if isinstance(scheme, dict) else '—'}",
        f"HER2 result: {d['result'] or 'no result'}"
        + (f"   (ISH group {d['ish_group']})" if d["ish_group"] else "")
        + f"   category: {d['category'] or '—'}",
    ]
    if d["comment"]:
        lines.append(f"comment: {d['comment']}")
    if d["h_score"] is not None:
        lines.append(f"H-score: {d['h_score']:g} ({'high' if d['h_score_high'] else 'below the NALA median'})")
    for key in ("hermark", "p95", "heterogeneity"):
        if d[key]:
            lines.append(f"{key}: {d[key]}")
    workup = d["workup"]
    if isinstance(workup, list) and workup:
        lines.append("work-up:")
        lines += [f"  - {w}" for w in workup]
    lines.append(f"(research use only; nerasense {d['software_version']}, knowledge {d['kb_version']})")
    return "\n".join(lines)
