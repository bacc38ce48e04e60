"""``nerasense validate MODEL_OR_RULE TABLE``: a locked model or rule applied to a second data set."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, add_json_flag, stamp


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="apply a locked model or rule to a second table; discrimination, calibration, drop")
    p.add_argument("locked", metavar="MODEL_OR_RULE",
                   help="model.json or rule.json from discover, a YAML/JSON file with a list under 'rules:', "
                        "or a rule written out ('gain_x AND NOT PIK3CA_mut', rule-positive rows predicted lower)")
    p.add_argument("table", type=Path, help="validation table (CSV, TSV or Parquet)")
    p.add_argument("--response", help="response column (default: the one the model or rule was discovered on)")
    p.add_argument("--kind", choices=("continuous", "binary", "survival"), help="kind of response (default: the locked one)")
    p.add_argument("--event", help="event column of a survival response")
    p.add_argument("--direction", choices=("lower", "higher"), help="for a rule written out: rule-positive rows have a lower "
                   "(default) or higher response")
    p.add_argument("--title", help="report title")
    p.add_argument("-o", "--output", type=Path, help="folder for report.html and validation.json")
    add_json_flag(p)
    p.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> CommandResult:
    from nerasense.discovery.model import LockedModel
    from nerasense.discovery.validate import LockedRule, load_locked, validate
    from nerasense.errors import InputError, Problem
    from nerasense.knowledge import default_knowledge
    from nerasense.stats.tables import read_table

    kb = default_knowledge()
    locked = load_locked(args.locked)
    items: list[LockedModel | LockedRule] = list(locked) if isinstance(locked, list) else [locked]
    if args.direction:
        for it in items:
            if isinstance(it, LockedRule):
                it.direction = args.direction
    known = {e.id for e in kb.of("evidence", _evidence_model())}
    cited = [ev for it in items if isinstance(it, LockedRule) for ev in (it.source or {}).get("evidence", [])]
    unknown = [ev for ev in cited if ev not in known]
    if unknown:
        raise InputError(Problem("rule source.evidence", ", ".join(unknown),
                                 "evidence ids of the knowledge base (nerasense kb show)"))
    df = read_table(args.table)
    results = [validate(it, df, args.response, args.kind, args.event) for it in items]
    payload = stamp({"table": str(args.table), "results": results}, kb.kb_version)
    if args.output is not None:
        from nerasense.report.discovery import validation_report

        args.output.mkdir(parents=True, exist_ok=True)
        figs = _rule_figures(items, results, df)
        command = "nerasense " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["validate"] else ""
        meta = {"title": args.title or f"Validation on {args.table.name}", "kb_version": kb.kb_version,
                "data": f"Table {args.table} ({len(df)} rows).",
                "command": command or f"nerasense validate {args.locked} {args.table}", "figures": figs,
                "limitations": ["Cell-line AUCs of different drugs are on different scales: discrimination and the "
                                "direction of effects carry over, calibration does not."]
                if args.response and any(isinstance(i, LockedRule | LockedModel) and
                                         (i.response or args.response) != args.response for i in items) else []}
        (args.output / "report.html").write_text(validation_report(results, meta), encoding="utf-8")
        (args.output / "validation.json").write_text(json.dumps(payload, indent=2, default=str, allow_nan=False) + "\n",
                                                     encoding="utf-8")
        payload["report"] = str(args.output / "report.html")
    return CommandResult(payload, _text(results))


def _evidence_model() -> Any:
    from nerasense.knowledge.schema import EvidenceItem

    return EvidenceItem


def _rule_figures(items: list[Any], results: list[dict[str, Any]], df: Any) -> list[dict[str, Any]]:
    import numpy as np
    import pandas as pd

    from nerasense.discovery.validate import LockedRule

    figs = []
    for it, r in zip(items, results, strict=True):
        if not isinstance(it, LockedRule) or r["kind"] != "continuous":
            continue
        sub = df if not it.within else df[_parse(it.within).evaluate(df) == 1]
        g = it.rule.evaluate(sub)
        y = pd.to_numeric(sub[r["response"]], errors="coerce").to_numpy(dtype=float)
        ok = ~np.isnan(g) & ~np.isnan(y)
        figs.append({"args": (y[ok], g[ok], ("rule negative", "rule positive"), r["response"]),
                     "title": it.name or r["label"]})
    return figs


def _parse(text: str) -> Any:
    from nerasense.discovery.rules import parse_rule

    return parse_rule(text)


def _text(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        d = r["discrimination"]
        if r["type"] == "rule":
            e = r["effect"]
            lines.append(f"{r.get('name') or 'rule'}: {r['label']} ({r['n_positive']}/{r['n']} positive): "
                         f"{e['effect_name']} {e['effect']:.3g} (p={e['p']:.3g}); direction {r['direction']} "
                         f"{'holds' if r['direction_holds'] else 'does not hold'}; {d['metric']} {d['value']:.3f}")
        else:
            lines.append(f"model: n={r['n']}; {d['metric']} {d['value']:.3f}; calibration slope {r['calibration'].get('slope')}")
    return "\n".join(lines)
