"""Interpret a patient's alterations for the engine (each with the knowledge rows that matched)."""

from __future__ import annotations

from nerasense.domain.alterations import Alteration
from nerasense.engine.facts import InterpretedAlteration
from nerasense.interpret.variants import interpret
from nerasense.knowledge.genomics import GenomicsKnowledge


def interpret_all(alterations: list[Alteration], gk: GenomicsKnowledge) -> list[InterpretedAlteration]:
    out = []
    for a in alterations:
        vi = interpret(a, gk)
        out.append(InterpretedAlteration(
            gene=a.gene, kind=a.kind.value, protein_change=a.protein_change, effect=vi.effect.value,
            domain=vi.domain, exon=vi.exon, hotspot=vi.hotspot, lower_benefit=vi.lower_benefit,
            truncating=bool(a.protein and a.protein.truncating), rules=tuple(vi.rules), evidence=tuple(vi.evidence),
            reason=vi.reason, unverified=tuple(vi.unverified), vaf=a.vaf, origin=a.origin.value, record=a.record,
            oncogenicity=vi.oncogenicity.value, mutation_effect=vi.mutation_effect.value,
            classification_level=vi.classification_level.value if vi.classification_level else None,
        ))
    return out
