"""``nerasense variant GENE CHANGE``: classify one alteration against the knowledge base."""

from __future__ import annotations

import argparse
from types import SimpleNamespace

from nerasense.cli._common import CommandResult, add_json_flag
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.report.answers import variant_answer


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "variant",
        help="classify one alteration (domain, exon, hotspot, effect on neratinib, evidence)",
        description="GENE is an HGNC symbol or alias (HER2 -> ERBB2); CHANGE is HGVS p. in 1- or 3-letter "
        "form (p.L755S, Leu755Ser), a legacy name (A775_G776insYVMA) or a copy-number word (amplification).",
    )
    p.add_argument("gene", metavar="GENE")
    p.add_argument("change", metavar="CHANGE")
    add_json_flag(p)
    p.set_defaults(handler=_variant)


def _variant(args: argparse.Namespace) -> CommandResult:
    kb = default_knowledge()
    gk = GenomicsKnowledge(kb)
    # argparse (3.11) can hand a positional over as a list when '--' appears twice (`variant -- ERBB2 --`)
    gene, change = (" ".join(x) if isinstance(x, list) else str(x) for x in (args.gene, args.change))
    payload = variant_answer(gene, change, kb, gk)
    vi = SimpleNamespace(**payload)
    legacy = payload["input"]["legacy_name"]
    name = vi.protein_change or vi.kind
    lines = [
        f"{vi.gene} {name}" + (f"  (written {legacy})" if legacy else ""),
        f"  effect        {vi.effect}" + ("  — lower benefit" if vi.lower_benefit else ""),
        f"  oncogenicity  {vi.oncogenicity}; {vi.mutation_effect}"
        + (f" ({vi.classification_level}-level)" if vi.classification_level else ""),
        f"  domain        {vi.domain or '-'}" + (f"; exon {vi.exon}" if vi.exon else ""),
        f"  hotspot       {'yes' if vi.hotspot else 'no'}",
        f"  evidence      {', '.join(vi.evidence) or '-'}",
        f"  reason        {vi.reason}",
    ]
    lines += [f"  classified by {c}" for c in vi.classification_evidence]
    lines += [f"  unverified    {u}" for u in vi.unverified]
    lines.append(f"  knowledge {kb.kb_version}; research use only")
    return CommandResult(payload, "\n".join(lines))
