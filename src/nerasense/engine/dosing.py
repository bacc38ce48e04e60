"""How to give a neratinib regimen: body-surface area, per-drug doses for a patient and a day-by-day calendar.

Every dose, day and schedule comes from the knowledge files (``dosing.yaml``, ``dose_schedules.yaml``,
``dose_reductions.yaml``, ``bsa.yaml``); this module only does arithmetic on them. Start options:

* ``escalation`` — NERLYNX label Table 2 (120 mg days 1-7, 160 mg days 8-14, 240 mg from day 15) with
  loperamide as needed, the CONTROL DE1 strategy;
* ``loperamide-prophylaxis`` — full dose from day 1 with label Table 1 loperamide;
* ``escalation-with-prophylaxis`` — both (NCT07333937).

Facts tagged U are listed in ``unverified`` and raise :class:`~nerasense.errors.UnverifiedKnowledgeWarning`.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from nerasense.engine import _kb
from nerasense.engine.toxicity import OrganAdvice, hepatic_adjustment, reduction_levels
from nerasense.errors import Problem, ProblemCollector, UnverifiedKnowledgeWarning
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.dosing_schema import (
    Action,
    Administration,
    BsaFormula,
    DoseBasis,
    RegimenDosing,
    StartOption,
    parse_days,
)
from nerasense.knowledge.schema import Verification

# Plausible-input bounds for checking the caller's numbers (not clinical thresholds).
HEIGHT_CM_RANGE = (50.0, 250.0)
MAX_CYCLES = 60

# Which schedules each start option uses: (escalation schedule id or None, loperamide schedule id).
_START_SCHEDULES: dict[str, tuple[str | None, str]] = {
    "escalation": ("neratinib-escalation", "loperamide-with-escalation"),
    "loperamide-prophylaxis": (None, "loperamide-prophylaxis"),
    "escalation-with-prophylaxis": ("neratinib-escalation", "loperamide-prophylaxis"),
}


# --------------------------------------------------------------------------- BSA


@dataclass
class BsaResult:
    formula: str
    formula_name: str
    equation: str
    height_cm: float
    weight_kg: float
    bsa_m2: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bsa_m2"] = round(self.bsa_m2, 4)
        return out


def bsa(height_cm: float, weight_kg: float, kb: KnowledgeBase, formula: str | None = None) -> BsaResult:
    """Body-surface area in m² by the named formula (default: the one ``bsa.yaml`` marks default, Mosteller)."""
    formulas = _kb.bsa_formulas(kb)
    problems = ProblemCollector()
    _check_body(weight_kg, height_cm, problems, required=True)
    if formula is not None and formula not in formulas:
        problems.add("bsa_formula", formula, ", ".join(sorted(formulas)))
    problems.raise_if_any()
    f: BsaFormula = formulas[formula] if formula else _kb.default_bsa_formula(kb)
    value = f.coefficient * height_cm**f.height_exponent * weight_kg**f.weight_exponent / f.divisor
    return BsaResult(f.id, f.name, f.equation, height_cm, weight_kg, value, f.source)


def _check_body(
    weight_kg: float | None, height_cm: float | None, problems: ProblemCollector, *, required: bool = False
) -> None:
    if weight_kg is None:
        if required:
            problems.add("weight_kg", None, "body weight in kg, greater than 0")
    elif not weight_kg > 0:
        problems.add("weight_kg", weight_kg, "greater than 0 kg")
    lo, hi = HEIGHT_CM_RANGE
    if height_cm is None:
        if required:
            problems.add("height_cm", None, f"height in cm, {lo:g}-{hi:g}")
    elif not lo <= height_cm <= hi:
        problems.add("height_cm", height_cm, f"{lo:g}-{hi:g} cm", fix="give height in centimetres")


# --------------------------------------------------------------------------- doses per component


@dataclass
class ComponentDose:
    """One administration pattern of one drug, with the amount for this patient where it can be computed."""

    drug: str
    route: str
    phase: str
    dose: float | None
    basis: str | None
    amount_mg: float | None
    times_per_day: int
    schedule: str
    source: str
    verification: str
    note: str | None = None
    not_encoded: str | None = None
    reduction_levels: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RegimenDoses:
    regimen_id: str
    regimen_name: str
    cycle_days: int
    cycle_note: str | None
    neratinib_dose_mg: float
    start_options: list[str]
    default_start: str
    bsa: BsaResult | None
    components: list[ComponentDose]
    rationale: list[dict[str, Any]]
    notes: list[str]
    unverified: list[str]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bsa"] = self.bsa.to_dict() if self.bsa else None
        return out


def _schedule_text(a: Administration) -> str:
    per_day = {1: "once", 2: "twice", 3: "three times"}.get(a.times_per_day, f"{a.times_per_day} times")
    until = f" to day {a.until_day}" if a.until_day else ""
    return f"days {a.days} of every {a.period_days} days, from study day {a.from_day}{until}, {per_day} a day"


def _amount(dose: float, basis: DoseBasis, weight_kg: float | None, bsa_m2: float | None) -> float | None:
    if basis is DoseBasis.FLAT:
        return dose
    if basis is DoseBasis.PER_KG:
        return None if weight_kg is None else round(dose * weight_kg, 2)
    return None if bsa_m2 is None else round(dose * bsa_m2, 2)


def _unknown_regimen(regimen_id: str, kb: KnowledgeBase) -> Problem:
    return Problem("regimen_id", regimen_id, ", ".join(sorted(_kb.regimen_dosing(kb))),
                   fix="see `nerasense kb show` for the regimens")


def regimen_doses(
    regimen_id: str,
    weight_kg: float | None,
    height_cm: float | None,
    kb: KnowledgeBase,
    *,
    bsa_formula: str | None = None,
) -> RegimenDoses:
    """Each component's dose (and amount in mg for this patient where weight/height are given)."""
    problems = ProblemCollector()
    if regimen_id not in _kb.regimen_dosing(kb):
        problems.problems.append(_unknown_regimen(regimen_id, kb))
    _check_body(weight_kg, height_cm, problems)
    formulas = _kb.bsa_formulas(kb)
    if bsa_formula is not None and bsa_formula not in formulas:
        problems.add("bsa_formula", bsa_formula, ", ".join(sorted(formulas)))
    problems.raise_if_any()
    rd = _kb.regimen_dosing(kb)[regimen_id]
    name = _kb.regimens(kb)[regimen_id].name if regimen_id in _kb.regimens(kb) else regimen_id
    body = bsa(height_cm, weight_kg, kb, bsa_formula) if weight_kg is not None and height_cm is not None else None
    bsa_m2 = body.bsa_m2 if body else None

    unverified: list[str] = []
    notes = [n for n in (rd.note, rd.neratinib.note) if n]
    ner = rd.neratinib
    if ner.verification is Verification.U:
        unverified.append(f"{regimen_id}: neratinib {ner.dose_mg:g} mg for this regimen ({ner.source}, tag U)")
    components = [
        ComponentDose(
            drug="neratinib", route="oral", phase="maintenance", dose=ner.dose_mg, basis=DoseBasis.FLAT.value,
            amount_mg=ner.dose_mg, times_per_day=1,
            schedule=f"days {ner.days} of every {rd.cycle_days}-day cycle, once a day with food",
            source=ner.source, verification=ner.verification.value, note=ner.duration,
            reduction_levels=[lv for lv in reduction_levels("neratinib", kb) if lv <= ner.dose_mg],
        )
    ]
    for comp in rd.companions:
        levels = list(reduction_levels(comp.drug, kb))
        if comp.not_encoded:
            components.append(ComponentDose(
                drug=comp.drug, route=comp.route.value, phase="-", dose=None, basis=None, amount_mg=None,
                times_per_day=0, schedule="not encoded", source=comp.source, verification=comp.verification.value,
                note=comp.note, not_encoded=comp.not_encoded,
            ))
            notes.append(f"{comp.drug}: {comp.not_encoded}")
            continue
        for a in comp.administrations:
            amount = _amount(a.dose, a.basis, weight_kg, bsa_m2)
            if amount is None:
                notes.append(f"{comp.drug} {a.dose:g} {a.basis.value}: give weight and height to compute the amount")
            if a.verification is Verification.U or comp.verification is Verification.U:
                unverified.append(f"{regimen_id}: {comp.drug} {a.dose:g} {a.basis.value} ({a.source}, tag U)")
            components.append(ComponentDose(
                drug=comp.drug, route=comp.route.value, phase=a.phase, dose=a.dose, basis=a.basis.value,
                amount_mg=amount, times_per_day=a.times_per_day, schedule=_schedule_text(a), source=a.source,
                verification=a.verification.value, note="; ".join(n for n in (a.note, comp.note) if n) or None,
                reduction_levels=levels,
            ))
    rationale = []
    if any(opt != "loperamide-prophylaxis" for opt in ner.start_options):
        esc = _kb.schedule(kb, "neratinib-escalation")
        rationale = [{"text": r.text, "value": r.value, "source": r.source, "verification": r.verification.value}
                     for r in esc.rationale]
    _warn_unverified(unverified)
    return RegimenDoses(
        regimen_id=regimen_id, regimen_name=name, cycle_days=rd.cycle_days, cycle_note=rd.cycle_note,
        neratinib_dose_mg=ner.dose_mg, start_options=list(ner.start_options), default_start=ner.default_start,
        bsa=body, components=components, rationale=rationale, notes=notes, unverified=unverified,
    )


def _warn_unverified(items: list[str]) -> None:
    if items:
        warnings.warn(
            "unverified dosing facts used (tag U): " + "; ".join(items),
            UnverifiedKnowledgeWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------- calendar


@dataclass
class DrugDose:
    drug: str
    dose: float
    basis: str
    amount_mg: float | None
    times_per_day: int
    route: str
    phase: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CalendarDay:
    date: str
    study_day: int
    cycle: int
    day: int
    doses: list[DrugDose]
    loperamide: str | None

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if k != "doses"}, "doses": [d.to_dict() for d in self.doses]}


@dataclass
class Calendar:
    """A dosing calendar for the first ``cycles`` cycles from ``start``."""

    regimen_id: str
    start: str
    cycles: int
    cycle_days: int
    start_option: str
    escalation: bool
    loperamide_schedule: str
    neratinib_target_mg: float
    status: str  # "ok" or "contraindicated"
    hepatic: OrganAdvice | None
    doses: RegimenDoses
    days: list[CalendarDay]
    notes: list[str]
    unverified: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "regimen_id": self.regimen_id,
            "start": self.start,
            "cycles": self.cycles,
            "cycle_days": self.cycle_days,
            "start_option": self.start_option,
            "escalation": self.escalation,
            "loperamide_schedule": self.loperamide_schedule,
            "neratinib_target_mg": self.neratinib_target_mg,
            "status": self.status,
            "hepatic": self.hepatic.to_dict() if self.hepatic else None,
            "regimen": self.doses.to_dict(),
            "days": [d.to_dict() for d in self.days],
            "notes": list(self.notes),
            "unverified": list(self.unverified),
        }


def _choose_start(
    rd: RegimenDosing, escalation: bool | None, loperamide_prophylaxis: bool | None, problems: ProblemCollector
) -> StartOption:
    options = rd.neratinib.start_options
    if escalation is None and loperamide_prophylaxis is None:
        return rd.neratinib.default_start
    wanted: StartOption
    if escalation and loperamide_prophylaxis:
        wanted = "escalation-with-prophylaxis"
    elif escalation:
        wanted = "escalation"
    elif loperamide_prophylaxis or escalation is False:
        wanted = "loperamide-prophylaxis"
    else:  # loperamide_prophylaxis is False and escalation unset: escalation alone
        wanted = "escalation"
    if wanted not in options:
        problems.add("start", wanted, ", ".join(options), where=rd.id)
    return wanted


def calendar(
    regimen_id: str,
    weight_kg: float | None,
    height_cm: float | None,
    start: date | str,
    cycles: int,
    escalation: bool | None,
    kb: KnowledgeBase,
    *,
    loperamide_prophylaxis: bool | None = None,
    child_pugh: str | None = None,
    region: str = "US",
    bsa_formula: str | None = None,
) -> Calendar:
    """Day-by-day doses for the first ``cycles`` cycles of a regimen from ``start``.

    ``escalation``: True — label escalation (loperamide as needed, or Table 1 prophylaxis too when
    ``loperamide_prophylaxis`` is True); False — full dose from day 1 with Table 1 prophylaxis; None — the
    regimen's default start. ``child_pugh`` applies the hepatic rule of ``region`` (US: C starts at 80 mg
    with Table 1 loperamide; EU: C is contraindicated and the calendar is empty with status
    ``contraindicated``).
    """
    problems = ProblemCollector()
    table = _kb.regimen_dosing(kb)
    if regimen_id not in table:
        problems.problems.append(_unknown_regimen(regimen_id, kb))
    _check_body(weight_kg, height_cm, problems)
    start_date: date | None = None
    if isinstance(start, date):
        start_date = start
    else:
        try:
            start_date = date.fromisoformat(str(start))
        except ValueError:
            problems.add("start", start, "a date as YYYY-MM-DD")
    if not isinstance(cycles, int) or isinstance(cycles, bool) or not 1 <= cycles <= MAX_CYCLES:
        problems.add("cycles", cycles, f"a whole number from 1 to {MAX_CYCLES}")
    if child_pugh is not None and child_pugh not in ("A", "B", "C"):
        problems.add("child_pugh", child_pugh, "A, B or C")
    if region not in ("US", "EU"):
        problems.add("region", region, "US or EU")
    rd = table.get(regimen_id)
    option: StartOption = "loperamide-prophylaxis"
    if rd is not None:
        option = _choose_start(rd, escalation, loperamide_prophylaxis, problems)
    problems.raise_if_any()
    assert rd is not None and start_date is not None  # for the type checker: problems were raised above

    doses = regimen_doses(regimen_id, weight_kg, height_cm, kb, bsa_formula=bsa_formula)
    notes = list(doses.notes)
    target = rd.neratinib.dose_mg
    hepatic = hepatic_adjustment(child_pugh, region, kb) if child_pugh else None
    status = "ok"
    if hepatic is not None:
        notes.extend(hepatic.instructions)
        if hepatic.contraindicated:
            status = "contraindicated"
        elif hepatic.action == Action.REDUCE_START.value and hepatic.start_dose_mg is not None:
            target = min(target, hepatic.start_dose_mg)
            if option != "loperamide-prophylaxis":
                notes.append(f"label escalation starts above the {target:g} mg hepatic-impairment dose, so it is "
                             "not used; loperamide prophylaxis (Table 1) instead")
                option = "loperamide-prophylaxis"

    esc_id, lop_id = _START_SCHEDULES[option]
    esc = _kb.schedule(kb, esc_id) if esc_id else None
    lop = _kb.schedule(kb, lop_id)
    unverified = list(doses.unverified)
    if lop.verification is Verification.U:
        unverified.append(f"loperamide schedule {lop.id} (tag U)")
    if esc is not None and status == "ok":
        notes.append("neratinib label dose escalation (Table 2); CONTROL DE1 had the lowest grade >=3 diarrhoea "
                     "and diarrhoea-related discontinuation of the CONTROL strategies")
    days: list[CalendarDay] = []
    if status == "ok":
        ner_days = parse_days(rd.neratinib.days)
        for study_day in range(1, cycles * rd.cycle_days + 1):
            cycle, day = divmod(study_day - 1, rd.cycle_days)
            todays: list[DrugDose] = []
            if day + 1 in ner_days:
                step = esc.step_on(study_day) if esc else None
                ner = target if step is None or step.dose is None else min(step.dose, target)
                todays.append(DrugDose("neratinib", ner, DoseBasis.FLAT.value, ner, 1, "oral",
                                       "escalation" if step is not None and ner < target else "maintenance",
                                       "once daily with food"))
            for comp in rd.companions:
                for a in comp.administrations:
                    if a.given_on(study_day):
                        amount = _amount(a.dose, a.basis, weight_kg, doses.bsa.bsa_m2 if doses.bsa else None)
                        todays.append(DrugDose(comp.drug, a.dose, a.basis.value, amount, a.times_per_day,
                                               comp.route.value, a.phase, a.note))
            lop_step = lop.step_on(study_day)
            days.append(CalendarDay(
                date=(start_date + timedelta(days=study_day - 1)).isoformat(), study_day=study_day,
                cycle=cycle + 1, day=day + 1, doses=todays, loperamide=lop_step.instruction if lop_step else None,
            ))
    _warn_unverified([u for u in unverified if u not in doses.unverified])
    return Calendar(
        regimen_id=regimen_id, start=start_date.isoformat(), cycles=cycles, cycle_days=rd.cycle_days,
        start_option=option, escalation=esc is not None, loperamide_schedule=lop.id, neratinib_target_mg=target,
        status=status, hepatic=hepatic, doses=doses, days=days, notes=notes, unverified=unverified,
    )


__all__ = [
    "BsaResult",
    "Calendar",
    "CalendarDay",
    "ComponentDose",
    "DrugDose",
    "RegimenDoses",
    "bsa",
    "calendar",
    "regimen_doses",
]
