"""Neratinib toxicity management, hepatic/renal impairment and dose reduction, read from the label rows
in ``toxicity_rules.yaml`` and the ladders in ``dose_reductions.yaml``.

The rules are matched in file order; the first whose every criterion holds applies (the data puts the
discontinuation rows first). A criterion that needs an input the caller did not give (e.g. the duration of
grade 2 diarrhoea) is an :class:`~nerasense.errors.InputError`, never a silent fall-through. Rows tagged
U are returned with ``unverified=True`` and raise an :class:`~nerasense.errors.UnverifiedKnowledgeWarning`.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

from nerasense.engine import _kb
from nerasense.errors import ProblemCollector, UnverifiedKnowledgeWarning
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.dosing_schema import Action, Region, Resume, Topic, ToxicityRule
from nerasense.knowledge.schema import Verification

TOXICITIES = (Topic.DIARRHOEA, Topic.ALT, Topic.BILIRUBIN, Topic.OTHER)
GRADES = (1, 2, 3, 4)  # CTCAE grades with a management row; grade 5 is death
CHILD_PUGH = ("A", "B", "C")


# --------------------------------------------------------------------------- dose reduction


def reduction_levels(drug: str, kb: KnowledgeBase) -> tuple[float, ...]:
    """The drug's dose levels from the label starting dose down (empty when not encoded)."""
    ladder = _kb.ladders(kb).get(drug)
    if ladder is None or ladder.not_encoded:
        return ()
    return tuple(ladder.levels)


def next_lower_dose(drug: str, current: float, kb: KnowledgeBase) -> float | None:
    """The next level below ``current``; ``None`` means discontinue (no lower level).

    A current dose between levels (e.g. neratinib 80 mg in Child-Pugh C) steps to the next level below it.
    """
    below = [level for level in reduction_levels(drug, kb) if level < current]
    return max(below) if below else None


@dataclass
class ReductionStep:
    drug: str
    current: float
    next_dose: float | None
    basis: str
    levels: list[float]
    discontinue_when: list[str]
    not_encoded: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def dose_reduction(drug: str, current: float, kb: KnowledgeBase) -> ReductionStep:
    """Dose-reduction lookup for any drug with a ladder; InputError names the drugs that have one."""
    ladders = _kb.ladders(kb)
    problems = ProblemCollector()
    if drug not in ladders:
        problems.add("drug", drug, ", ".join(sorted(ladders)))
    if current <= 0:
        problems.add("current_dose", current, "a positive dose")
    problems.raise_if_any()
    ladder = ladders[drug]
    return ReductionStep(
        drug=drug,
        current=current,
        next_dose=None if ladder.not_encoded else next_lower_dose(drug, current, kb),
        basis=ladder.basis.value,
        levels=list(ladder.levels),
        discontinue_when=list(ladder.discontinue_when),
        not_encoded=ladder.not_encoded,
        source=ladder.source,
    )


# --------------------------------------------------------------------------- toxicity management


@dataclass
class ToxicityAdvice:
    """What to do about one toxicity episode, and the neratinib dose to go on with."""

    toxicity: str
    grade: int
    current_dose_mg: float
    rule_id: str | None
    action: str
    next_dose_mg: float | None
    next_dose_mg_if_late_recovery: float | None
    recovery_window_days: int | None
    discontinue: bool
    instructions: list[str]
    source: str | None
    verification: str | None
    unverified: bool
    note: str | None = None
    reduction_levels: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _needs(rule: ToxicityRule) -> list[str]:
    return [
        name
        for name, criterion in (
            ("duration_days", rule.duration_days),
            ("complicated", rule.complicated),
            ("recurrence", rule.recurrence),
        )
        if criterion is not None
    ]


def assess(
    toxicity: str,
    grade: int,
    current_dose_mg: float,
    kb: KnowledgeBase,
    *,
    duration_days: float | None = None,
    complicated: bool | None = False,
    recurrence: bool | None = False,
    recovery_days: float | None = None,
    region: str = "US",
) -> ToxicityAdvice:
    """Management of a neratinib toxicity (diarrhoea, ALT, bilirubin, other) by CTCAE grade.

    ``recovery_days`` (days to recover to grade 0-1), when given, decides between the "resume at the same
    dose" and "resume lower" branches; without it both next doses are reported.
    """
    problems = ProblemCollector()
    allowed_tox = [t.value for t in TOXICITIES]
    if toxicity not in allowed_tox:
        problems.add("toxicity", toxicity, ", ".join(allowed_tox))
    if grade not in GRADES:
        problems.add("grade", grade, "CTCAE grade 1, 2, 3 or 4")
    if not current_dose_mg > 0:
        problems.add("current_dose_mg", current_dose_mg, "a positive neratinib daily dose in mg")
    if duration_days is not None and duration_days < 0:
        problems.add("duration_days", duration_days, "0 or more days")
    if recovery_days is not None and recovery_days < 0:
        problems.add("recovery_days", recovery_days, "0 or more days")
    if region not in {r.value for r in Region}:
        problems.add("region", region, "US or EU")
    problems.raise_if_any()

    levels = reduction_levels("neratinib", kb)
    at_lowest = bool(levels) and current_dose_mg <= min(levels)
    given = {"duration_days": duration_days, "complicated": complicated, "recurrence": recurrence}
    for rule in _kb.toxicity_rules(kb):
        if rule.topic.value != toxicity or Region(region) not in rule.regions:
            continue
        if rule.grades is not None and grade not in rule.grades:
            continue
        missing = [name for name in _needs(rule) if given[name] is None]
        if missing:
            for name in missing:
                problems.add(name, None, f"needed to decide rule {rule.id} ({toxicity} grade {grade})")
            problems.raise_if_any()
        if rule.duration_days is not None and not rule.duration_days.contains(float(duration_days or 0)):
            continue
        if rule.complicated is not None and bool(complicated) != rule.complicated:
            continue
        if rule.recurrence is not None and bool(recurrence) != rule.recurrence:
            continue
        if rule.at_lowest_level is not None and at_lowest != rule.at_lowest_level:
            continue
        return _advice(rule, toxicity, grade, current_dose_mg, recovery_days, list(levels), kb)

    return ToxicityAdvice(
        toxicity=toxicity, grade=grade, current_dose_mg=current_dose_mg, rule_id=None, action="no-rule",
        next_dose_mg=None, next_dose_mg_if_late_recovery=None, recovery_window_days=None, discontinue=False,
        instructions=[], source=None, verification=None, unverified=False,
        note=f"the knowledge base has no neratinib label row for {toxicity} grade {grade}; use clinical judgement",
        reduction_levels=list(levels),
    )


def _advice(
    rule: ToxicityRule,
    toxicity: str,
    grade: int,
    current: float,
    recovery_days: float | None,
    levels: list[float],
    kb: KnowledgeBase,
) -> ToxicityAdvice:
    lower = next_lower_dose("neratinib", current, kb)
    next_dose: float | None = None
    if_late: float | None = None
    if rule.action in (Action.CONTINUE, Action.HOLD):
        if rule.resume is Resume.SAME or rule.resume is None:
            next_dose = current
        elif rule.resume is Resume.SAME_IF_RECOVERED_ELSE_LOWER:
            next_dose, if_late = current, lower
        elif rule.resume is Resume.LOWER_IF_RECOVERED_ELSE_STOP:
            next_dose, if_late = lower, None
        window = rule.recovery_window_days
        if recovery_days is not None and window is not None and recovery_days > window:
            next_dose, if_late = if_late, None
    # on hold, no dose to resume at (no lower level, or recovery too slow) means stop
    discontinue = rule.action is Action.DISCONTINUE or (rule.action is Action.HOLD and next_dose is None)
    unverified = rule.verification is Verification.U
    if unverified:
        warnings.warn(
            f"toxicity rule {rule.id} is not verified against the label text (tag U); check label Table 4",
            UnverifiedKnowledgeWarning,
            stacklevel=3,
        )
    return ToxicityAdvice(
        toxicity=toxicity,
        grade=grade,
        current_dose_mg=current,
        rule_id=rule.id,
        action=rule.action.value,
        next_dose_mg=None if discontinue else next_dose,
        next_dose_mg_if_late_recovery=None if discontinue else if_late,
        recovery_window_days=rule.recovery_window_days,
        discontinue=discontinue,
        instructions=list(rule.instructions),
        source=rule.source,
        verification=rule.verification.value,
        unverified=unverified,
        note=rule.note,
        reduction_levels=levels,
    )


# --------------------------------------------------------------------------- organ impairment and monitoring


@dataclass
class OrganAdvice:
    """Hepatic or renal impairment rule for neratinib, or the liver-test schedule."""

    topic: str
    region: str
    finding: str
    action: str
    start_dose_mg: float | None
    instructions: list[str]
    rule_id: str | None
    source: str | None
    verification: str | None

    @property
    def contraindicated(self) -> bool:
        return self.action in (Action.CONTRAINDICATED.value, Action.NOT_RECOMMENDED.value)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["contraindicated"] = self.contraindicated
        return out


def _organ(rule: ToxicityRule | None, topic: str, region: str, finding: str) -> OrganAdvice:
    if rule is None:
        return OrganAdvice(topic, region, finding, "no-rule", None,
                           [f"no {topic} rule for {finding} in the knowledge base ({region})"], None, None, None)
    return OrganAdvice(topic, region, finding, rule.action.value, rule.start_dose_mg, list(rule.instructions),
                       rule.id, rule.source, rule.verification.value)


def _check_region(region: str, problems: ProblemCollector) -> None:
    if region not in {r.value for r in Region}:
        problems.add("region", region, "US or EU")


def hepatic_adjustment(child_pugh: str, region: str, kb: KnowledgeBase) -> OrganAdvice:
    """Neratinib start for hepatic impairment by Child-Pugh class (US: C → 80 mg; EU: C contraindicated)."""
    problems = ProblemCollector()
    if child_pugh not in CHILD_PUGH:
        problems.add("child_pugh", child_pugh, "A, B or C")
    _check_region(region, problems)
    problems.raise_if_any()
    rule = next(
        (r for r in _kb.toxicity_rules(kb)
         if r.topic is Topic.HEPATIC_IMPAIRMENT and Region(region) in r.regions
         and r.child_pugh is not None and child_pugh in r.child_pugh),
        None,
    )
    return _organ(rule, Topic.HEPATIC_IMPAIRMENT.value, region, f"Child-Pugh {child_pugh}")


def renal_adjustment(egfr: float, region: str, kb: KnowledgeBase) -> OrganAdvice:
    """Renal impairment rule by eGFR (mL/min/1.73 m²); only the EU SmPC has one in the knowledge base."""
    problems = ProblemCollector()
    if not egfr >= 0:
        problems.add("egfr", egfr, "0 or more mL/min/1.73 m2")
    _check_region(region, problems)
    problems.raise_if_any()
    rule = next(
        (r for r in _kb.toxicity_rules(kb)
         if r.topic is Topic.RENAL_IMPAIRMENT and Region(region) in r.regions
         and r.egfr is not None and r.egfr.contains(egfr)),
        None,
    )
    return _organ(rule, Topic.RENAL_IMPAIRMENT.value, region, f"eGFR {egfr:g}")


def liver_monitoring(region: str, kb: KnowledgeBase) -> OrganAdvice:
    """Liver-test schedule on neratinib (US label vs EU SmPC)."""
    problems = ProblemCollector()
    _check_region(region, problems)
    problems.raise_if_any()
    rule = next(
        (r for r in _kb.toxicity_rules(kb) if r.topic is Topic.LIVER_MONITORING and Region(region) in r.regions),
        None,
    )
    return _organ(rule, Topic.LIVER_MONITORING.value, region, "liver tests")


__all__ = [
    "OrganAdvice",
    "ReductionStep",
    "ToxicityAdvice",
    "assess",
    "dose_reduction",
    "hepatic_adjustment",
    "liver_monitoring",
    "next_lower_dose",
    "reduction_levels",
    "renal_adjustment",
]
