"""Small typed look-ups into the dosing knowledge shared by the dosing, toxicity and interaction modules."""

from __future__ import annotations

from nerasense.errors import KnowledgeError
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.dosing_schema import (
    BsaFormula,
    DoseSchedule,
    InteractionClass,
    ReductionLadder,
    RegimenDosing,
    ToxicityRule,
)
from nerasense.knowledge.schema import Regimen


def regimen_dosing(kb: KnowledgeBase) -> dict[str, RegimenDosing]:
    return {r.id: r for r in kb.of("regimen_dosing", RegimenDosing)}


def regimens(kb: KnowledgeBase) -> dict[str, Regimen]:
    return {r.id: r for r in kb.of("regimens", Regimen)}


def schedule(kb: KnowledgeBase, schedule_id: str) -> DoseSchedule:
    for s in kb.of("dose_schedules", DoseSchedule):
        if s.id == schedule_id:
            return s
    raise KnowledgeError(f"dose_schedules: no entry with id={schedule_id!r}")


def ladders(kb: KnowledgeBase) -> dict[str, ReductionLadder]:
    return {ladder.drug: ladder for ladder in kb.of("dose_reductions", ReductionLadder)}


def toxicity_rules(kb: KnowledgeBase) -> tuple[ToxicityRule, ...]:
    return kb.of("toxicity_rules", ToxicityRule)


def interaction_classes(kb: KnowledgeBase) -> tuple[InteractionClass, ...]:
    return kb.of("interactions", InteractionClass)


def bsa_formulas(kb: KnowledgeBase) -> dict[str, BsaFormula]:
    return {f.id: f for f in kb.of("bsa_formulas", BsaFormula)}


def default_bsa_formula(kb: KnowledgeBase) -> BsaFormula:
    defaults = [f for f in bsa_formulas(kb).values() if f.default]
    if len(defaults) != 1:
        raise KnowledgeError(f"bsa.yaml: exactly one formula must have default: true, found {len(defaults)}")
    return defaults[0]
