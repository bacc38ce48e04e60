"""``nerasense celllines --data ../shared/data/ctrp-neratinib -o OUT/``: the CTRP × GDSC analysis tables.

Reads the shared files where they lie (never copies them into the repository) and writes the joined
table, its discovery and validation halves (by tissue, or random within tissue) and the join report
(every CTRP line without a GDSC partner, and why).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nerasense.cli._common import CommandResult, add_json_flag, stamp

DEFAULT_DATA = Path("../shared/data/ctrp-neratinib")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("celllines", help="build the CTRP drug-response × GDSC genomic-feature tables for discover/validate")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"folder of the CTRP and GDSC files ({DEFAULT_DATA})")
    p.add_argument("--split", choices=("tissue", "random"), default="tissue",
                   help="how to halve the lines: whole tissues to each side (default) or random within tissue")
    p.add_argument("--seed", type=int, default=0, help="seed of the split (0)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="folder for celllines.tsv, discovery.tsv, validation.tsv, join.json")
    add_json_flag(p)
    p.set_defaults(handler=_build)


META_COLUMNS = "cell_line,gdsc_name,cosmic_id,cancer_type,gdsc_tissue,match,auc_*,n_exp_*"


def _build(args: argparse.Namespace) -> CommandResult:
    from nerasense.discovery.celllines import build_ctrp_gdsc, split_by_tissue, split_random

    table, report = build_ctrp_gdsc(args.data)
    first, second = (split_by_tissue if args.split == "tissue" else split_random)(table, args.seed)
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    files = {"all": out / "celllines.tsv", "discovery": out / "discovery.tsv", "validation": out / "validation.tsv"}
    for name, frame in (("all", table), ("discovery", first), ("validation", second)):
        frame.to_csv(files[name], sep="\t", index=False)
    report["split"] = {
        "method": args.split, "seed": args.seed,
        "discovery": {"lines": len(first), "tissues": sorted(first["cancer_type"].fillna("(none)").unique().tolist())},
        "validation": {"lines": len(second), "tissues": sorted(second["cancer_type"].fillna("(none)").unique().tolist())},
    }
    report["meta_columns"] = META_COLUMNS
    report["source"] = str(args.data)
    (out / "join.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    payload = stamp({"files": {k: str(v) for k, v in files.items()} | {"join": str(out / "join.json")}, "join": report})
    text = (f"{report['matched']} of {report['ctrp_lines']} CTRP lines joined to GDSC features "
            f"({', '.join(f'{k}: {v}' for k, v in report['matched_by_rule'].items())}); "
            f"{len(report['unmatched_ctrp'])} unmatched (listed in join.json)\n"
            f"discovery {len(first)} lines, validation {len(second)} lines ({args.split} split, seed {args.seed})\n"
            f"non-feature columns (pass to discover --ignore): {META_COLUMNS}")
    return CommandResult(payload, text)
