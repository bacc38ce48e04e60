"""``nerasense kb validate | show | rehash``: check, describe and re-checksum the knowledge base."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, stamp
from nerasense.knowledge import load_knowledge
from nerasense.knowledge.loader import default_data_dir, write_manifest
from nerasense.knowledge.schema import Cited, Verification


def register(sub: argparse._SubParsersAction) -> None:
    kb = sub.add_parser("kb", help="validate, show or re-checksum the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", parser_class=type(kb))
    for name, helptext, handler in (
        ("validate", "validate every file; exit non-zero listing all problems", _validate),
        ("show", "versions, files, counts and sources", _show),
    ):
        p = kb_sub.add_parser(name, help=helptext)
        p.add_argument("--data-dir", type=Path, default=None, help="a knowledge folder other than the bundled one")
        add_json_flag(p)
        p.set_defaults(handler=handler)
    p = kb_sub.add_parser("rehash", help="(curators) rewrite manifest.yaml checksums after an edit")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--set-version", default=None, help="new semantic version, e.g. 0.2.0")
    p.add_argument("--curated", default=None, help="curation date, YYYY-MM-DD")
    add_json_flag(p)
    p.set_defaults(handler=_rehash)
    kb.set_defaults(handler=_no_action)


def _no_action(args: argparse.Namespace) -> CommandResult:
    raise UsageError("nerasense kb: choose an action: validate, show or rehash")


def _summary(data_dir: Path | None) -> dict[str, Any]:
    kb = load_knowledge(data_dir)
    counts = {kind: len(items) for kind, items in sorted(kb.entries.items())}
    tags: Counter[str] = Counter(c.verification.value for items in kb.entries.values() for c in _cited(items))
    return {
        "kb_version": kb.kb_version,
        "version": kb.version,
        "content_hash": kb.content_hash,
        "data_dir": str(kb.data_dir),
        "files": {kind: list(files) for kind, files in sorted(kb.entry_files.items())},
        "entries": counts,
        "verification": {t.value: tags.get(t.value, 0) for t in Verification},
        "sources": [
            {"id": s.id, "type": s.type.value, "locator": s.locator, "citation": s.citation}
            for s in kb.sources.values()
        ],
        "trials": [{"id": t.id, "name": t.name, "nct": t.nct, "results": len(t.results)} for t in kb.trials.values()],
    }


def _cited(obj: Any) -> Iterator[Cited]:
    """Every cited fact, however deeply nested (trial results, eligibility criteria)."""
    if isinstance(obj, Cited):
        yield obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _cited(getattr(obj, name))
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from _cited(item)


def _validate(args: argparse.Namespace) -> CommandResult:
    s = _summary(args.data_dir)
    total = sum(s["entries"].values())
    payload = stamp({"valid": True, "entries": s["entries"], "verification": s["verification"]}, s["kb_version"])
    text = f"knowledge base {s['kb_version']} is valid: {total} entries in {len(s['entries'])} kinds"
    return CommandResult(payload, text)


def _show(args: argparse.Namespace) -> CommandResult:
    s = _summary(args.data_dir)
    lines = [f"nerasense knowledge base {s['kb_version']}  ({s['data_dir']})", ""]
    lines += [
        f"  {kind:<24} {n:>5} entries  ({', '.join(s['files'][kind])})" for kind, n in s["entries"].items()
    ]
    v = s["verification"]
    lines += ["", f"  verification: {v['V']} verified, {v['P']} partly verified, "
              f"{v['U']} unverified (marked in outputs)"]
    lines += ["", f"  {len(s['sources'])} sources, {len(s['trials'])} trials:"]
    lines += [f"    {t['id']:<14} {t['name']:<40} {t['nct'] or '':<12} {t['results']} results" for t in s["trials"]]
    return CommandResult(stamp(s, s["kb_version"]), "\n".join(lines))


def _rehash(args: argparse.Namespace) -> CommandResult:
    data_dir = args.data_dir or default_data_dir()
    manifest = write_manifest(data_dir, args.set_version, args.curated)
    kb = load_knowledge(data_dir)  # the edited files must still validate
    return CommandResult(
        stamp({"manifest": str(data_dir / "manifest.yaml"), "files": len(manifest.files)}, kb.kb_version),
        f"manifest rewritten: {len(manifest.files)} files, knowledge base {kb.kb_version}",
    )
