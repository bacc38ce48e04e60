"""The patient file: everything nerasense reads about one patient. Every field is optional except the
id; a missing field changes the answer (and shows up as a missing test), it never crashes it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Setting(StrEnum):
    EARLY = "early"
    LOCALLY_ADVANCED = "locally-advanced"
    METASTATIC = "metastatic"


class ReceptorStatus(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    LOW = "low"  # ER-low (1-10 %): reported apart, read as positive for eligibility


class Agent(StrEnum):
    """Prior systemic therapies the evidence distinguishes."""

    TRASTUZUMAB = "trastuzumab"
    PERTUZUMAB = "pertuzumab"
    T_DM1 = "t-dm1"
    T_DXD = "t-dxd"
    LAPATINIB = "lapatinib"
    TUCATINIB = "tucatinib"
    NERATINIB = "neratinib"
    CDK46_INHIBITOR = "cdk4/6-inhibitor"
    FULVESTRANT = "fulvestrant"
    AROMATASE_INHIBITOR = "aromatase-inhibitor"
    TAMOXIFEN = "tamoxifen"
    CAPECITABINE = "capecitabine"
    TAXANE = "taxane"
    ANTHRACYCLINE = "anthracycline"
    ERIBULIN = "eribulin"
    OTHER_CHEMOTHERAPY = "other-chemotherapy"
    OTHER = "other"


AGENT_ALIASES = {
    "herceptin": "trastuzumab", "kadcyla": "t-dm1", "trastuzumab emtansine": "t-dm1", "tdm1": "t-dm1",
    "enhertu": "t-dxd", "trastuzumab deruxtecan": "t-dxd", "tdxd": "t-dxd", "perjeta": "pertuzumab",
    "palbociclib": "cdk4/6-inhibitor", "ribociclib": "cdk4/6-inhibitor", "abemaciclib": "cdk4/6-inhibitor",
    "letrozole": "aromatase-inhibitor", "anastrozole": "aromatase-inhibitor", "exemestane": "aromatase-inhibitor",
    "paclitaxel": "taxane", "docetaxel": "taxane", "nab-paclitaxel": "taxane", "doxorubicin": "anthracycline",
    "epirubicin": "anthracycline", "tukysa": "tucatinib", "tykerb": "lapatinib", "faslodex": "fulvestrant",
}

HER2_DIRECTED = frozenset({
    Agent.TRASTUZUMAB, Agent.PERTUZUMAB, Agent.T_DM1, Agent.T_DXD, Agent.LAPATINIB, Agent.TUCATINIB, Agent.NERATINIB,
})


class PriorTherapy(_Strict):
    agents: list[Agent] = Field(min_length=1, description="agents given together as one regimen")
    setting: Literal["neoadjuvant", "adjuvant", "metastatic"] | None = None
    ended: dt.date | None = None
    outcome: Literal["progression", "completed", "intolerance", "ongoing"] | None = None


class ReportedAlteration(_Strict):
    """An alteration typed into the patient file (gene + HGVS p. change, or a copy-number event)."""

    gene: str
    change: str = Field(description="HGVS p. (1- or 3-letter), a legacy name, or amplification / deletion")
    vaf: float | None = Field(default=None, ge=0, le=1)
    origin: Literal["tissue", "plasma"] = "tissue"
    copy_number: float | None = Field(default=None, ge=0)


class SequencingFile(_Strict):
    path: str
    format: Literal["maf", "vcf", "cna", "reads"] | None = None
    sample: str | None = None
    origin: Literal["tissue", "plasma"] = "tissue"
    mate: str | None = Field(default=None, description="reads: the R2 FASTQ when path is R1")
    reference: str | None = Field(default=None, description="reads: reference FASTA (needed for format reads)")
    targets: str | None = Field(default=None, description="reads: target BED (optional)")

    @model_validator(mode="after")
    def _reads_need_a_reference(self) -> SequencingFile:
        if self.format == "reads" and not self.reference:
            raise ValueError("format reads needs reference (a FASTA the reads are aligned to)")
        if self.format != "reads" and (self.mate or self.reference or self.targets):
            raise ValueError("mate, reference and targets belong to format reads (FASTQ or BAM)")
        return self


class Ctdna(_Strict):
    """Baseline plasma results (a serial series belongs in a ctDNA series file)."""

    tumour_fraction: float | None = Field(default=None, ge=0, le=1, description="fraction, 0.115 = 11.5 %")
    collected: dt.date | None = None
    erbb2_detected: bool | None = Field(default=None, description="tissue-known ERBB2 alteration seen in plasma")
    erbb2_amplified: bool | None = Field(default=None, description="plasma ERBB2 amplification")
    series_file: str | None = Field(default=None, description="serial plasma table (columns as `nerasense ctdna`)")
    tissue_file: str | None = Field(default=None, description="tissue results table for plasma-tissue concordance")
    assessments_file: str | None = Field(default=None, description="response assessments for the timeline")
    reference: str | None = Field(default=None, description="FASTA for series variants files that are reads (BAM, FASTQ)")
    targets: str | None = Field(default=None, description="target BED for those reads")


class Liver(_Strict):
    child_pugh: Literal["A", "B", "C"] | None = None


class Patient(_Strict):
    patient_id: str = Field(min_length=1)
    description: str | None = None
    tumour_type: str | None = Field(default=None, description="OncoTree code, e.g. BRCA, IDC, ILC, NSCLC, LUAD")
    setting: Setting | None = None
    sex: Literal["female", "male"] | None = None
    age_years: float | None = Field(default=None, ge=0, le=120)
    ecog: int | None = Field(default=None, ge=0, le=4)
    weight_kg: float | None = Field(default=None, gt=0, le=400)
    height_cm: float | None = Field(default=None, ge=50, le=250)
    er: ReceptorStatus | None = None
    pr: ReceptorStatus | None = None
    her2: dict[str, object] = Field(default_factory=dict, description="HER2 test fields as for `nerasense her2`")
    alterations: list[ReportedAlteration] | None = Field(
        default=None, description="None = not sequenced; [] = sequenced, nothing found"
    )
    sequencing: list[SequencingFile] = Field(default_factory=list)
    ctdna: Ctdna | None = None
    prior_therapies: list[PriorTherapy] | None = Field(default=None, description="None = history unknown")
    metastatic_her2_regimens: int | None = Field(
        default=None, ge=0, description="count of HER2-directed regimens for metastatic disease (else derived)"
    )
    residual_disease: bool | None = Field(default=None, description="residual invasive disease after neoadjuvant therapy")
    cns_metastases: bool | None = None
    liver: Liver | None = None
    medications: list[str] = Field(default_factory=list, description="concomitant medications (generic names)")
    assessed_on: dt.date | None = Field(default=None, description="date of the assessment (for time since therapy)")
    region: Literal["US", "EU"] | None = Field(
        default=None, description="label region for contraindications, the hepatic rule and label populations "
        "(US when absent; `--region` on the command line overrides it)")
