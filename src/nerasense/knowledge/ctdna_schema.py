"""Strict models for the ctDNA knowledge files (``ctdna.yaml``, ``ctdna_response.yaml``,
``ctdna_emergent.yaml``).

A number that no publication gives is still a fact of this knowledge base: it cites the source
``nerasense-convention`` and says why it was chosen (``rationale``), so a reader can tell a published
threshold from one of ours at a glance.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from nerasense.knowledge.schema import Cited

CONVENTION_SOURCE = "nerasense-convention"


class _Conventional(Cited):
    rationale: str | None = None

    @property
    def is_convention(self) -> bool:
        return self.source == CONVENTION_SOURCE

    @model_validator(mode="after")
    def _convention_says_why(self) -> _Conventional:
        if self.source == CONVENTION_SOURCE and not self.rationale:
            raise ValueError(f"a number sourced to {CONVENTION_SOURCE} needs a rationale")
        return self


class CtdnaParameter(_Conventional):
    """A named number used by the ctDNA rules (cut-off, window, threshold, assay characteristic)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    value: float
    unit: str
    caveat: str | None = Field(default=None, description="printed wherever the parameter is used")
    trial_result: str | None = Field(default=None, description="id of the trials.yaml result it comes from")
    quote: str | None = Field(default=None, description="the source's own words")


class CitedNumber(_Conventional):
    """A number inside a definition that has its own source (often a convention of ours)."""

    value: float = Field(gt=0, lt=1)


class MolecularResponseDefinition(_Conventional):
    """A named, selectable definition of molecular response on treatment.

    * ``relative-fall``: the measure at the first on-treatment sample fell by at least ``threshold``
      (a fraction of baseline) — e.g. mean VAF down by half;
    * ``clearance``: every baseline-detected signal is undetectable on treatment, at an LOD below its
      baseline value;
    * ``clearance-or-reduction``: undetectable, or reduced by at least ``threshold`` (FB-10).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    measure: Literal["mean-vaf", "tumour-fraction", "erbb2-amplification", "all-mutations"]
    criterion: Literal["relative-fall", "clearance", "clearance-or-reduction"]
    threshold: CitedNumber | None = None
    quote: str | None = None
    meaning: str

    @model_validator(mode="after")
    def _threshold_where_needed(self) -> MolecularResponseDefinition:
        needs = self.criterion in ("relative-fall", "clearance-or-reduction")
        if needs and self.threshold is None:
            raise ValueError(f"criterion {self.criterion} needs a threshold (fraction of baseline)")
        if not needs and self.threshold is not None:
            raise ValueError("criterion clearance takes no threshold")
        return self


class EmergentWatch(_Conventional):
    """A gene whose new plasma alterations on treatment bear on neratinib resistance, and why.

    Allele-level meaning (gatekeeper, activating) comes from the variant classifier
    (``interpret/variants.py``); this table only says which genes to watch and what a new event in
    them has been reported to mean.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    gene: str
    types: list[Literal["mutation", "amplification"]] = Field(min_length=1)
    statement: str
    sources: list[str] = Field(default_factory=list, description="further sources for the statement")


__all__ = ["CONVENTION_SOURCE", "CitedNumber", "CtdnaParameter", "EmergentWatch", "MolecularResponseDefinition"]
