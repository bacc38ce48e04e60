"""Serial plasma (ctDNA) results for one patient: samples, the alterations measured in them, and the
clinical timeline (treatment start, tissue findings, response assessments). No I/O, no knowledge.

A value below the assay's limit of detection (LOD) is *censored*: it lies somewhere in ``[0, LOD)``.
:class:`Level` keeps that interval instead of a number, so nothing downstream can mistake "not
detected" for zero.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nerasense.domain.alterations import AlterationKind, ProteinChange


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class AlterationType(StrEnum):
    """What was measured: a sequence variant (VAF) or a copy-number gain (plasma copy number)."""

    MUTATION = "mutation"
    AMPLIFICATION = "amplification"


class Level(_Strict):
    """A measured quantity that may be censored below a limit of detection.

    * detected with a value: a point, ``[value, value]``;
    * detected without a value (a lab that reports only "present"): ``(0, +inf)`` with ``value=None``;
    * not detected: ``[0, lod)``; ``lod=None`` means the limit was not reported (upper bound unknown).
    """

    detected: bool
    value: float | None = Field(default=None, ge=0)
    lod: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Level:
        if not self.detected and self.value is not None:
            raise ValueError("a value was given for a result marked not detected; leave the value empty")
        return self

    @property
    def low(self) -> float:
        """Smallest value consistent with the result."""
        return self.value if self.value is not None else 0.0

    @property
    def high(self) -> float:
        """Largest value consistent with the result (exclusive for a censored value; +inf if unknown)."""
        if self.value is not None:
            return self.value
        if not self.detected and self.lod is not None:
            return self.lod
        return math.inf

    @property
    def censored(self) -> bool:
        return not self.detected

    def describe(self, percent: bool = True) -> str:
        def fmt(x: float) -> str:
            return f"{100 * x:.3g}%" if percent else f"{x:.3g}"

        if self.detected:
            return fmt(self.value) if self.value is not None else "detected (no value)"
        return f"< {fmt(self.lod)} (not detected)" if self.lod is not None else "not detected (LOD not given)"


class PlasmaAlteration(_Strict):
    """One alteration measured in one plasma sample (detected or explicitly reported absent)."""

    gene: str = Field(min_length=1)
    alteration: str = Field(min_length=1, description="normalised 1-letter HGVS p. (p.L755S), or 'amplification'")
    type: AlterationType
    variant_kind: AlterationKind | None = Field(default=None, description="what happened to the DNA (snv, indel, ...)")
    protein: ProteinChange | None = Field(default=None, description="the parsed protein change (mutations)")
    vaf: Level | None = Field(default=None, description="variant allele fraction (0-1), mutations only")
    copy_number: Level | None = Field(default=None, description="plasma copy number, amplifications only")
    depth: int | None = Field(default=None, ge=0, description="unique reads covering the position")

    @property
    def key(self) -> tuple[str, str]:
        return (self.gene, self.alteration)

    @property
    def label(self) -> str:
        return f"{self.gene} {self.alteration}"

    @property
    def detected(self) -> bool:
        level = self.vaf if self.type is AlterationType.MUTATION else self.copy_number
        return level is not None and level.detected

    @property
    def level(self) -> Level | None:
        return self.vaf if self.type is AlterationType.MUTATION else self.copy_number


class PlasmaSample(_Strict):
    """One plasma draw and its assay results."""

    sample_id: str = Field(min_length=1)
    collected: dt.date
    qc_pass: bool
    tumour_fraction: Level | None = None
    depth: int | None = Field(default=None, ge=0, description="assay median unique depth, where reported")
    lod: float | None = Field(default=None, gt=0, le=1, description="assay VAF limit of detection, sample level")
    alterations: tuple[PlasmaAlteration, ...] = ()

    def find(self, key: tuple[str, str]) -> PlasmaAlteration | None:
        return next((a for a in self.alterations if a.key == key), None)


class TissueAlteration(_Strict):
    """An alteration known from tissue sequencing, for plasma-tissue concordance."""

    gene: str = Field(min_length=1)
    alteration: str = Field(min_length=1)

    @property
    def key(self) -> tuple[str, str]:
        return (self.gene, self.alteration)


class ResponseCategory(StrEnum):
    """RECIST 1.1 overall response at one assessment."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"


class ResponseAssessment(_Strict):
    date: dt.date
    response: ResponseCategory


class CtdnaSeries(_Strict):
    """Everything known about one patient's plasma monitoring. Samples are kept in date order."""

    patient_id: str = Field(min_length=1)
    samples: tuple[PlasmaSample, ...] = Field(min_length=1)
    treatment_start: dt.date | None = None
    tissue: tuple[TissueAlteration, ...] = ()
    assessments: tuple[ResponseAssessment, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> CtdnaSeries:
        dates = [s.collected for s in self.samples]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("samples must be in strictly increasing date order (one draw per day)")
        return self


__all__ = [
    "AlterationType",
    "CtdnaSeries",
    "Level",
    "PlasmaAlteration",
    "PlasmaSample",
    "ResponseAssessment",
    "ResponseCategory",
    "TissueAlteration",
]
