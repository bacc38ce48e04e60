"""``nerasense audit verify|export``: check the service's hash-chained audit trail, or write it out."""

from __future__ import annotations

import argparse
from pathlib import Path

from nerasense.cli._common import CommandResult, add_json_flag
from nerasense.cli.commands.serve import add_store_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="verify or export the service's hash-chained audit trail",
                       description="verify: walk the chain, exit 1 when a row was edited, inserted or deleted. "
                       "export: JSON lines, oldest first.")
    verbs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = verbs.add_parser("verify", help="check the chain (exit 1 when broken)")
    export = verbs.add_parser("export", help="write the rows as JSON lines")
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here (else stdout)")
    for q in (verify, export):
        add_store_options(q)
        add_json_flag(q)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    from nerasense.service import admin
    from nerasense.service.settings import settings_from_env

    settings = settings_from_env(database_url=args.database_url, data_dir=args.data_dir)
    if args.action == "verify":
        out = admin.verify_audit(settings)
        lines = [f"audit chain: {out['rows']} rows, {'intact' if out['ok'] else 'BROKEN'}; head {out['head']}"]
        lines += [f"  row {p['id']}: {p['problem']}" for p in out["problems"]]
        return CommandResult(out, "\n".join(lines), exit_code=0 if out["ok"] else 1)
    rows = admin.export_audit(settings)
    if args.output is None:
        text = "\n".join(rows)
        return CommandResult({"rows": text.count("\n") + 1 if text else 0}, text)
    from nerasense.safe_io import atomic_output

    n = 0
    with atomic_output(args.output) as partial, partial.open("w", encoding="utf-8") as f:
        for line in rows:
            f.write(line + "\n")
            n += 1
    return CommandResult({"rows": n, "output": str(args.output)}, f"{n} audit rows written to {args.output}")
