"""Strict models for the read-calling knowledge files (``calling.yaml``, ``calling_liftover.yaml``).

The caller's thresholds are mostly conventions of ours (source ``nerasense-convention`` with a
rationale); the GRCh37 -> GRCh38 shifts of the reference windows are facts checked against the
cancerhotspots v2 table, which lists every hotspot allele in both builds.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from nerasense.knowledge.ctdna_schema import _Conventional


class CallingParameter(_Conventional):
    """A named number used by the low-fraction caller (quality cut-off, test level, filter threshold)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    value: float
    unit: str


class BuildShift(_Conventional):
    """GRCh38 position = GRCh37 position + ``offset`` for every base of a GRCh37 interval.

    ``checked`` says where the shift was seen (e.g. hotspot rows listed in both builds); positions
    of the interval outside that span rely on the builds having no gap change inside the window.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    gene: str
    chrom: str = Field(pattern=r"^([0-9]{1,2}|X|Y)$")
    start_grch37: int = Field(gt=0)
    end_grch37: int = Field(gt=0)
    offset: int
    checked: str

    @model_validator(mode="after")
    def _ordered(self) -> BuildShift:
        if self.end_grch37 < self.start_grch37:
            raise ValueError("end_grch37 must not be before start_grch37")
        return self


__all__ = ["BuildShift", "CallingParameter"]
