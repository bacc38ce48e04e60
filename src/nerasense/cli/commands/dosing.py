"""``nerasense dosing REGIMEN_ID``: per-drug doses and a day-by-day calendar for a neratinib regimen."""

from __future__ import annotations

import argparse
from typing import Any

from nerasense.cli._common import CommandResult, add_json_flag, stamp
from nerasense.engine import dosing, toxicity
from nerasense.errors import ProblemCollector
from nerasense.knowledge import default_knowledge


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dosing",
        help="doses and a dosing calendar for a neratinib regimen (label and trial schedules)",
        description="Per-drug doses for a patient (BSA by Mosteller unless --bsa-formula) and the first N cycles "
        "day by day, with label dose escalation or loperamide prophylaxis. Research use only.",
    )
    p.add_argument("regimen_id", metavar="REGIMEN_ID", help="a regimen id of the knowledge base, e.g. neratinib-capecitabine")
    p.add_argument("--weight", metavar="KG", help="body weight in kg (needed for mg/kg and mg/m2 doses)")
    p.add_argument("--height", metavar="CM", help="height in cm, 50-250 (needed for mg/m2 doses)")
    p.add_argument("--start", metavar="YYYY-MM-DD", help="first day of treatment (default: no calendar)")
    p.add_argument("--cycles", metavar="N", default="1", help="cycles in the calendar (default 1)")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--escalation", action="store_true", help="label two-week escalation, loperamide as needed")
    start.add_argument("--loperamide-prophylaxis", action="store_true", help="full dose from day 1 with Table 1 loperamide")
    p.add_argument("--child-pugh", metavar="A|B|C", help="hepatic impairment class")
    p.add_argument("--region", default="US", metavar="US|EU", help="label region for hepatic rules (default US)")
    p.add_argument("--bsa-formula", metavar="NAME", help="mosteller (default), dubois, haycock or gehan-george")
    add_json_flag(p)
    p.set_defaults(handler=handle)


def _number(raw: str | None, field: str, problems: ProblemCollector, allowed: str) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        problems.add(field, raw, allowed)
        return None


def handle(args: argparse.Namespace) -> CommandResult:
    problems = ProblemCollector()
    weight = _number(args.weight, "weight_kg", problems, "a number of kg greater than 0")
    height = _number(args.height, "height_cm", problems, "a number of cm, 50-250")
    cycles: Any = args.cycles
    try:
        cycles = int(args.cycles)
    except ValueError:
        problems.add("cycles", args.cycles, f"a whole number from 1 to {dosing.MAX_CYCLES}")
    problems.raise_if_any()
    kb = default_knowledge()
    escalation = True if args.escalation else (False if args.loperamide_prophylaxis else None)
    if args.start is None:
        if args.child_pugh is not None:  # validate it even without a calendar
            dosing.calendar(args.regimen_id, weight, height, "2000-01-01", 1, escalation, kb,
                            child_pugh=args.child_pugh, region=args.region, bsa_formula=args.bsa_formula)
        doses = dosing.regimen_doses(args.regimen_id, weight, height, kb, bsa_formula=args.bsa_formula)
        hepatic = toxicity.hepatic_adjustment(args.child_pugh, args.region, kb).to_dict() if args.child_pugh else None
        payload = stamp({"regimen": doses.to_dict(), "calendar": None, "hepatic": hepatic}, kb.kb_version)
        return CommandResult(payload, _text(payload))
    cal = dosing.calendar(args.regimen_id, weight, height, args.start, cycles, escalation, kb,
                          child_pugh=args.child_pugh, region=args.region, bsa_formula=args.bsa_formula)
    d = cal.to_dict()
    regimen = d.pop("regimen")
    payload = stamp({"regimen": regimen, "calendar": d, "hepatic": d["hepatic"]}, kb.kb_version)
    return CommandResult(payload, _text(payload))


def _fmt(x: Any) -> str:
    return "—" if x is None else f"{x:g}" if isinstance(x, float | int) else str(x)


def _text(p: dict[str, Any]) -> str:
    r = p["regimen"]
    lines = [f"{r['regimen_name']} ({r['regimen_id']}), cycle {r['cycle_days']} days"]
    if r["bsa"]:
        b = r["bsa"]
        lines.append(f"BSA {b['bsa_m2']:.2f} m2 ({b['formula_name']}: {b['equation']})")
    for c in r["components"]:
        if c["not_encoded"]:
            lines.append(f"  {c['drug']}: dose not encoded — {c['not_encoded']}")
            continue
        amount = f" = {_fmt(c['amount_mg'])} mg" if c["basis"] != "mg" and c["amount_mg"] is not None else ""
        lines.append(f"  {c['drug']} {_fmt(c['dose'])} {c['basis']}{amount} {c['route']} [{c['phase']}] "
                     f"{c['schedule']}  (source {c['source']}, {c['verification']})")
    lines.append(f"start options: {', '.join(r['start_options'])} (default {r['default_start']})")
    if p["hepatic"]:
        h = p["hepatic"]
        lines.append(f"hepatic ({h['region']}, {h['finding']}): {h['action']} — {'; '.join(h['instructions'])}")
    cal = p["calendar"]
    if cal:
        lines.append(f"calendar from {cal['start']}, {cal['cycles']} cycle(s), start: {cal['start_option']}, "
                     f"status: {cal['status']}")
        for day in cal["days"]:
            drugs = ", ".join(f"{x['drug']} {_fmt(x['amount_mg'] if x['amount_mg'] is not None else x['dose'])}"
                              f"{' mg' if x['amount_mg'] is not None else ' ' + x['basis']}"
                              + (f" x{x['times_per_day']}" if x["times_per_day"] > 1 else "") for x in day["doses"])
            lines.append(f"  {day['date']}  C{day['cycle']}D{day['day']:<2}  {drugs}"
                         + (f"; {day['loperamide']}" if day["loperamide"] else ""))
    notes = r["notes"] + (cal["notes"] if cal else [])
    lines += [f"note: {n}" for n in dict.fromkeys(notes)]
    unverified = r["unverified"] + (cal["unverified"] if cal else [])
    lines += [f"UNVERIFIED: {u}" for u in dict.fromkeys(unverified)]
    lines.append(f"(research use only; nerasense {p['software_version']}, knowledge {p['kb_version']})")
    return "\n".join(lines)
