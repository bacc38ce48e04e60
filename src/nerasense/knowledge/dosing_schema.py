"""Strict models for dosing, dose modification, toxicity rules, interactions and BSA formulas.

Files and kinds (see :mod:`nerasense.knowledge.registry`):

=========================  ==================  ==========================================================
file                       kind                holds
=========================  ==================  ==========================================================
``dosing.yaml``            ``regimen_dosing``  per regimen: neratinib dose and start options, companions
``dose_schedules.yaml``    ``dose_schedules``  day-by-day schedules (label escalation Table 2, loperamide)
``dose_reductions.yaml``   ``dose_reductions`` dose-reduction ladders (neratinib, T-DM1, eribulin …)
``toxicity_rules.yaml``    ``toxicity_rules``  diarrhoea, liver, general grade 3/4, hepatic/renal impairment
``interactions.yaml``      ``interactions``    interacting drug classes with members, timing and PK effects
``bsa.yaml``               ``bsa_formulas``    body-surface-area formulas (coefficient x H^a x W^b / divisor)
=========================  ==================  ==========================================================

Every number sits in a :class:`~nerasense.knowledge.schema.Cited` model, so it names its source.
"""

from __future__ import annotations

import re
from enum import StrEnum
from itertools import pairwise
from typing import Literal

from pydantic import Field, field_validator, model_validator

from nerasense.knowledge.schema import Cited, KBModel, Range, Verification

_DAYS = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


class DoseBasis(StrEnum):
    """How a dose scales with the patient."""

    FLAT = "mg"
    PER_M2 = "mg/m2"
    PER_KG = "mg/kg"


class Route(StrEnum):
    ORAL = "oral"
    IV = "iv"
    IM = "im"
    SC = "sc"


class Region(StrEnum):
    US = "US"
    EU = "EU"


def parse_days(spec: str) -> frozenset[int]:
    """``"1-14"`` → days 1..14; ``"1,8"`` → days 1 and 8 (days within a period, 1-based)."""
    out: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return frozenset(out)


# --------------------------------------------------------------------------- regimen dosing


class Administration(Cited):
    """One repeating pattern of a drug: ``dose`` on ``days`` of every ``period_days``-day period,
    from study day ``from_day`` to ``until_day`` (inclusive; open-ended when absent)."""

    phase: Literal["loading", "maintenance"] = "maintenance"
    dose: float = Field(gt=0)
    basis: DoseBasis
    days: str
    period_days: int = Field(gt=0)
    from_day: int = Field(default=1, ge=1)
    until_day: int | None = Field(default=None, ge=1)
    times_per_day: int = Field(default=1, ge=1)
    note: str | None = None

    @field_validator("days")
    @classmethod
    def _days_spec(cls, v: str) -> str:
        if not _DAYS.match(v):
            raise ValueError(f"days must look like '1', '1,8' or '1-14', got {v!r}")
        return v

    @model_validator(mode="after")
    def _days_in_period(self) -> Administration:
        if max(parse_days(self.days)) > self.period_days:
            raise ValueError(f"days {self.days!r} run past period_days={self.period_days}")
        if self.until_day is not None and self.until_day < self.from_day:
            raise ValueError("until_day is before from_day")
        return self

    def given_on(self, study_day: int) -> bool:
        if study_day < self.from_day or (self.until_day is not None and study_day > self.until_day):
            return False
        return (study_day - self.from_day) % self.period_days + 1 in parse_days(self.days)


class CompanionDosing(Cited):
    """A companion drug of a regimen; ``administrations`` empty means the dose is not encoded."""

    drug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    route: Route
    administrations: list[Administration] = Field(default_factory=list)
    not_encoded: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _encoded_or_why(self) -> CompanionDosing:
        if not self.administrations and not self.not_encoded:
            raise ValueError("give administrations, or not_encoded saying why the dose is absent")
        return self


StartOption = Literal["escalation", "loperamide-prophylaxis", "escalation-with-prophylaxis"]


class NeratinibPlan(Cited):
    """Neratinib in a regimen: the full daily dose, allowed start options and the default."""

    dose_mg: float = Field(gt=0)
    days: str = "1-21"
    start_options: list[StartOption] = Field(min_length=1)
    default_start: StartOption
    duration: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _default_allowed(self) -> NeratinibPlan:
        if self.default_start not in self.start_options:
            raise ValueError(f"default_start {self.default_start!r} is not among start_options")
        return self


class RegimenDosing(Cited):
    """How a regimen (an id of ``regimens.yaml``) is given."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    cycle_days: int = Field(gt=0)
    cycle_note: str | None = None
    neratinib: NeratinibPlan
    companions: list[CompanionDosing] = Field(default_factory=list)
    note: str | None = None


# --------------------------------------------------------------------------- day-by-day schedules


class ScheduleStep(Cited):
    """From study day ``from_day`` to ``to_day`` (open-ended when absent)."""

    from_day: int = Field(ge=1)
    to_day: int | None = Field(default=None, ge=1)
    dose: float | None = Field(default=None, gt=0)
    unit: str = "mg"
    times_per_day: int | None = Field(default=None, ge=1)
    as_needed: bool = False
    max_per_day: float | None = None
    instruction: str

    def covers(self, study_day: int) -> bool:
        return study_day >= self.from_day and (self.to_day is None or study_day <= self.to_day)


class CitedNote(Cited):
    """A sentence of rationale with an optional number (e.g. a trial outcome)."""

    text: str
    value: float | None = None


class DoseSchedule(Cited):
    """A time-ordered schedule: neratinib escalation (label Table 2) or loperamide (Table 1)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    drug: str
    purpose: str
    steps: list[ScheduleStep] = Field(min_length=1)
    rationale: list[CitedNote] = Field(default_factory=list)
    note: str | None = None

    def step_on(self, study_day: int) -> ScheduleStep | None:
        return next((s for s in self.steps if s.covers(study_day)), None)


class ReductionLadder(Cited):
    """Dose levels from the starting dose down; below the last level the drug is stopped."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    drug: str
    basis: DoseBasis
    levels: list[float] = Field(min_length=1)
    after_last: Literal["discontinue"] = "discontinue"
    discontinue_when: list[str] = Field(default_factory=list)
    not_encoded: str | None = None
    note: str | None = None

    @field_validator("levels")
    @classmethod
    def _descending(cls, v: list[float]) -> list[float]:
        if any(b >= a for a, b in pairwise(v)):
            raise ValueError(f"levels must strictly decrease, got {v}")
        return v


# --------------------------------------------------------------------------- toxicity rules


class Topic(StrEnum):
    DIARRHOEA = "diarrhoea"
    ALT = "alt"
    BILIRUBIN = "bilirubin"
    OTHER = "other"
    HEPATIC_IMPAIRMENT = "hepatic-impairment"
    RENAL_IMPAIRMENT = "renal-impairment"
    LIVER_MONITORING = "liver-monitoring"


class Action(StrEnum):
    CONTINUE = "continue"
    HOLD = "hold"
    DISCONTINUE = "discontinue"
    NO_ADJUSTMENT = "no-adjustment"
    REDUCE_START = "reduce-start"
    CONTRAINDICATED = "contraindicated"
    NOT_RECOMMENDED = "not-recommended"
    MONITOR = "monitor"


class Resume(StrEnum):
    SAME = "same"
    SAME_IF_RECOVERED_ELSE_LOWER = "same-if-recovered-else-lower"
    LOWER_IF_RECOVERED_ELSE_STOP = "lower-if-recovered-else-discontinue"


class ToxicityRule(Cited):
    """One row of a label management table. A rule matches when every criterion it gives holds;
    the first matching rule in file order applies (discontinuation rows come first)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    topic: Topic
    grades: list[int] | None = None
    duration_days: Range | None = None
    complicated: bool | None = None
    at_lowest_level: bool | None = None
    recurrence: bool | None = None
    child_pugh: list[Literal["A", "B", "C"]] | None = None
    egfr: Range | None = None
    regions: list[Region] = Field(default_factory=lambda: [Region.US, Region.EU])
    action: Action
    resume: Resume | None = None
    recovery_window_days: int | None = None
    start_dose_mg: float | None = None
    instructions: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _resume_needs_window(self) -> ToxicityRule:
        if self.resume in (Resume.SAME_IF_RECOVERED_ELSE_LOWER, Resume.LOWER_IF_RECOVERED_ELSE_STOP) and (
            self.recovery_window_days is None
        ):
            raise ValueError(f"resume={self.resume.value} needs recovery_window_days")
        if self.action is Action.REDUCE_START and self.start_dose_mg is None:
            raise ValueError("action reduce-start needs start_dose_mg")
        return self


# --------------------------------------------------------------------------- interactions


class Severity(StrEnum):
    CONTRAINDICATED = "contraindicated"
    AVOID = "avoid"
    SEPARATE = "separate-timing"
    MONITOR = "monitor"


class Member(KBModel):
    """A drug in a class; its membership may be less well checked than the class rule."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9 '/-]*$")
    aliases: list[str] = Field(default_factory=list)
    verification: Verification | None = None
    note: str | None = None


class Timing(KBModel):
    """How to separate neratinib from the other drug when it cannot be avoided."""

    neratinib_hours_before_next_dose: float | None = None
    neratinib_hours_after: float | None = None


class PkEffect(Cited):
    """A measured change in neratinib exposure (percent; negative is a fall)."""

    perpetrator: str
    regimen: str
    cmax_change_pct: float | None = None
    auc_change_pct: float | None = None


class InteractionClass(Cited):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    severity: Severity
    regions: list[Region] = Field(default_factory=lambda: [Region.US, Region.EU])
    recommendation: str
    timing: Timing | None = None
    members: list[Member] = Field(min_length=1)
    pk_effects: list[PkEffect] = Field(default_factory=list)
    note: str | None = None


# --------------------------------------------------------------------------- BSA


class BsaFormula(Cited):
    """BSA (m²) = coefficient x height_cm^height_exponent x weight_kg^weight_exponent / divisor."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    coefficient: float = Field(gt=0)
    height_exponent: float
    weight_exponent: float
    divisor: float = Field(default=1.0, gt=0)
    default: bool = False
    equation: str
