"""Strict models for the knowledge-base files.

Every file under ``knowledge/data`` is a YAML mapping with ``kind`` (which model validates it) and
``entries``. Models forbid unknown fields, so a misspelt key is an error naming the file, the entry
and the field. Every quantitative fact carries ``source`` (an id in ``sources.yaml``) and
``verification`` (the tag of ``../shared/reference/domain-facts.md``: V, P or U).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

# the base models live in cited.py (imported alone by commands that need only the genomics models)
from nerasense.knowledge.cited import Cited as Cited
from nerasense.knowledge.cited import KBModel as KBModel
from nerasense.knowledge.cited import Verification as Verification
from nerasense.knowledge.conditions import Condition, Leaf

# --------------------------------------------------------------------------- sources


class SourceType(StrEnum):
    SEED = "seed"
    PAPER = "paper"
    ABSTRACT = "abstract"
    GUIDELINE = "guideline"
    LABEL = "label"
    TRIAL_REGISTRY = "trial-registry"
    DATASET = "dataset"
    WEB = "web"
    CONVENTION = "convention"  # a documented choice of this project, not a published fact


class Source(KBModel):
    """One citable document: a seed file, a paper (PMID/DOI), a trial (NCT), a label or a guideline."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.:-]*$")
    type: SourceType
    citation: str
    seed_file: str | None = None
    pmid: str | None = Field(default=None, pattern=r"^\d{6,9}$")
    doi: str | None = Field(default=None, pattern=r"^10\.\S+/\S+$")
    nct: str | None = Field(default=None, pattern=r"^NCT\d{8}$")
    url: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _has_locator(self) -> Source:
        if not any((self.seed_file, self.pmid, self.doi, self.nct, self.url)):
            raise ValueError("a source needs at least one of seed_file, pmid, doi, nct or url")
        if self.type is SourceType.SEED and not self.seed_file:
            raise ValueError("a seed source needs seed_file (the file name in shared/seeds)")
        return self

    @property
    def locator(self) -> str:
        if self.pmid:
            return f"PMID:{self.pmid}"
        if self.doi:
            return f"doi:{self.doi}"
        if self.nct:
            return self.nct
        if self.seed_file:
            return f"seed {self.seed_file}"
        return self.url or ""


# --------------------------------------------------------------------------- trials


class Measure(StrEnum):
    HAZARD_RATIO = "hazard_ratio"
    PROPORTION = "proportion"  # ORR, CBR, pCR, DCR, rate of an adverse event, landmark survival
    MEDIAN_MONTHS = "median_months"
    MEDIAN_WEEKS = "median_weeks"
    MEAN_MONTHS = "mean_months"
    COUNT = "count"
    PROBABILITY = "probability"  # Bayesian predictive probability


class TrialResult(Cited):
    """A published headline number with its CI where one was printed."""

    id: str
    endpoint: str  # e.g. iDFS, PFS, OS, ORR, CBR, pCR, CNS-ORR, DOR, grade3_diarrhoea
    measure: Measure
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float = 0.95
    p: float | None = None
    n: int | None = None
    events: int | None = None
    responders: int | None = None
    arm: str | None = None
    comparator: str | None = None
    subgroup: str | None = None
    timepoint_months: float | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _ci_contains_value(self) -> TrialResult:
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("give both ci_low and ci_high, or neither")
        if (
            self.ci_low is not None
            and self.ci_high is not None
            and not self.ci_low <= self.value <= self.ci_high
            and self.measure is not Measure.PROBABILITY
        ):
            raise ValueError(f"value {self.value} lies outside its CI [{self.ci_low}, {self.ci_high}]")
        if self.measure in (Measure.PROPORTION, Measure.PROBABILITY) and not 0 <= self.value <= 1:
            raise ValueError(f"a {self.measure.value} must lie in [0, 1], got {self.value}")
        if self.ci_level <= 0 or self.ci_level >= 1:
            raise ValueError(f"ci_level must lie in (0, 1), got {self.ci_level}")
        return self


class Criterion(Cited):
    """An eligibility criterion over a patient attribute (declarative; the engine evaluates it)."""

    id: str
    text: str
    attribute: str
    minimum: float | None = None
    maximum: float | None = None
    any_of: list[str] | None = None
    equals: bool | str | None = None


class SampleSize(Cited):
    """A trial's sample-size hypothesis as printed (for reproduction by ``nerasense design``)."""

    method: Literal["normal-approximation", "exact-binomial", "simon-two-stage", "not-stated"]
    endpoint: str
    p0: float
    p1: float
    alpha: float
    sides: Literal[1, 2]
    power: float
    n_evaluable: int
    dropout: float | None = None
    n_enrolled: int | None = None


class Trial(KBModel):
    """A trial and its published headline results."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    nct: str | None = Field(default=None, pattern=r"^NCT\d{8}$")
    phase: str
    design: str
    setting: str
    population: str
    sources: list[str] = Field(min_length=1)
    regimens: list[str] = Field(default_factory=list)
    results: list[TrialResult] = Field(default_factory=list)
    endpoints: dict[str, list[str]] | None = None
    eligibility: list[Criterion] = Field(default_factory=list)
    sample_size: SampleSize | None = None
    note: str | None = None


# --------------------------------------------------------------------------- HER2 testing


Her2Result = Literal["positive", "negative", "equivocal", "negative-with-comment"]
IhcKey = Literal["0", "1+", "2+", "3+"]


class IhcScoreRule(Cited):
    """ASCO/CAP IHC score: what it means and the result it gives on its own."""

    score: Literal["0", "null", "ultralow", "1+", "2+", "3+"]
    result: Her2Result
    definition: str
    workup: list[str] = Field(default_factory=list)


class Range(KBModel):
    """A numeric interval; each end is open (``above``/``below``) or closed (``minimum``/``maximum``)."""

    minimum: float | None = None
    above: float | None = None
    below: float | None = None
    maximum: float | None = None

    @model_validator(mode="after")
    def _one_bound_per_end(self) -> Range:
        if self.minimum is not None and self.above is not None:
            raise ValueError("give minimum or above, not both")
        if self.below is not None and self.maximum is not None:
            raise ValueError("give below or maximum, not both")
        return self

    def contains(self, x: float) -> bool:
        return (
            (self.minimum is None or x >= self.minimum)
            and (self.above is None or x > self.above)
            and (self.below is None or x < self.below)
            and (self.maximum is None or x <= self.maximum)
        )

    def describe(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        if self.above is not None:
            parts.append(f"> {self.above:g}")
        if self.below is not None:
            parts.append(f"< {self.below:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        return " and ".join(parts) or "any value"


class IshGroupRule(Cited):
    """One ASCO/CAP 2018 dual-probe ISH group with its work-up and final results by IHC."""

    group: int = Field(ge=1, le=5)
    ratio: Range
    her2_signals: Range
    initial_call: str
    result_without_ihc: Her2Result
    workup_without_ihc: list[str] = Field(default_factory=list)
    result_by_ihc: dict[IhcKey, Her2Result | Literal["recount"]]
    result_after_recount: Her2Result
    comment: str | None = None
    discordance: dict[IhcKey, str] = Field(default_factory=dict)


class SingleProbeRule(Cited):
    """ASCO/CAP 2018 single-probe ISH row (average HER2 copies per cell)."""

    id: str
    her2_signals: Range
    result_without_ihc: Her2Result
    result_by_ihc: dict[IhcKey, Her2Result]
    workup_by_ihc: dict[IhcKey, list[str]] = Field(default_factory=dict)
    workup_without_ihc: list[str] = Field(default_factory=list)


class CategoryRule(Cited):
    """Clinical category (HER2-positive / -low / -ultralow / -0) from the result and the IHC score."""

    id: str
    category: Literal["HER2-positive", "HER2-low", "HER2-ultralow", "HER2-0"] | None
    when_result: list[Her2Result] = Field(min_length=1)
    when_ihc: list[Literal["0", "null", "ultralow", "1+", "2+", "3+", "missing"]] | None = None
    note: str | None = None


class Threshold(Cited):
    """A named numeric cut-off (``value``) or band edges (``bands``) used in HER2 interpretation."""

    id: str
    description: str
    value: float | None = None
    unit: str | None = None
    bands: dict[str, Range] | None = None

    @model_validator(mode="after")
    def _value_or_bands(self) -> Threshold:
        if (self.value is None) == (self.bands is None):
            raise ValueError("give exactly one of value or bands")
        return self


class Her2TumourScheme(Cited):
    """Which HER2 scoring scheme applies to which OncoTree subtrees (her2_tumour_schemes.yaml)."""

    id: str
    name: str
    codes: list[str] = Field(min_length=1)
    categories: bool = Field(description="whether the breast HER2-low/-ultralow/-0 categories apply")
    ish_ratio_positive: Range | None = None
    ish_cells_note: str | None = None
    specimen_matters: bool = False
    note: str | None = None


class Her2TumourRule(Cited):
    """One IHC row of a non-breast HER2 scheme (her2_tumour_rules.yaml)."""

    id: str
    scheme: str
    specimen: Literal["surgical", "biopsy", "any"]
    ihc: Literal["0", "1+", "2+", "3+"]
    pct: Range | None = Field(default=None, description="percent of tumour cells at this intensity")
    result: Her2Result | None
    definition: str
    workup: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- regimens


class Regimen(Cited):
    """A neratinib regimen and when it applies (a condition over the patient profile)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    components: list[str] = Field(min_length=1)
    status: Literal["approved", "investigational"]
    label_note: str
    applies_when: Condition | Leaf
    label_populations: dict[Literal["US", "EU"], str] = Field(
        default_factory=dict, description="the labelled population in each region; a region absent here has none")


# --------------------------------------------------------------------------- evidence and scoring


class Direction(StrEnum):
    SENSITIVITY = "sensitivity"  # supports benefit from the regimen
    NO_BENEFIT = "no-benefit"  # argues against benefit (absent or weaker benefit)
    RESISTANCE = "resistance"  # a resistance mechanism
    PROGNOSTIC_FAVOURABLE = "prognostic-favourable"  # better outcome whatever the treatment
    PROGNOSTIC_UNFAVOURABLE = "prognostic-unfavourable"
    NEUTRAL = "neutral"  # looked for and not found to matter


class EvidenceItem(Cited):
    """One finding tying a biomarker, in a context, to the outcome of a regimen."""

    id: str = Field(pattern=r"^ev-[a-z0-9-]+$")
    regimens: list[str] = Field(min_length=1, description="regimen ids, or ['*'] for every neratinib regimen")
    direction: Direction
    level: str
    when: Condition | Leaf
    statement: str
    trial: str | None = None
    result: str | None = Field(default=None, description="id of a trial result giving the effect size")
    modifier: bool = Field(default=False, description="a subgroup or biomarker split shown as context beside the "
                           "expected outcome, never as the headline cohort")
    population: str | None = Field(default=None, description="the cohort's population in words, for the report")


class LevelDefinition(Cited):
    """One level of nerasense's evidence scale, its weight and its equivalents elsewhere."""

    id: str
    rank: int = Field(ge=0, description="0 is the strongest")
    kind: Literal["sensitivity", "resistance"]
    weight: float = Field(gt=0)
    strong: bool = Field(default=False, description="counts towards the strong score of call_rules.yaml")
    description: str
    oncokb: Literal["LEVEL_1", "LEVEL_2", "LEVEL_3A", "LEVEL_3B", "LEVEL_4", "LEVEL_R1", "LEVEL_R2"] | None = Field(
        default=None, description="the OncoKB therapeutic level as OncoKB writes it; None where OncoKB has none")
    amp_asco_cap: str


class ScoringFactor(Cited):
    """A named factor of the scoring convention (scoring.yaml)."""

    id: Literal["other-regimen", "cross-tumour", "diminishing"]
    value: float = Field(gt=0, le=1)
    description: str


class CallRule(Cited):
    """A call and the score / level it needs; tried in order, first match wins."""

    call: Literal["likely benefit", "possible benefit", "unlikely benefit"]
    min_score: float | None = None
    min_strong_score: float | None = Field(default=None, description="score counting only level 1-2 items")
    max_score: float | None = None
    best_level_rank_at_most: int | None = None
    description: str


class TumourLineageRule(Cited):
    """Which OncoTree subtrees a tumour fact covers."""

    fact: str
    codes: list[str] = Field(min_length=1)


class TcgaStudyMap(Cited):
    """A TCGA study abbreviation and the OncoTree code it maps to (``tcga_oncotree.yaml``).

    ``match``: ``same`` (the study is one OncoTree type), ``common`` (it spans several; the code is the most
    specific node above them all) or ``none`` (no node below the root covers them; ``oncotree`` is empty)."""

    study: str = Field(pattern=r"^[A-Z]{2,5}$")
    name: str = Field(min_length=1)
    oncotree: str | None = None
    match: Literal["same", "common", "none"]
    note: str = ""

    @model_validator(mode="after")
    def _reason_when_not_same(self) -> TcgaStudyMap:
        if (self.oncotree is None) != (self.match == "none"):
            raise ValueError("oncotree must be empty exactly when match is none")
        if self.match != "same" and not self.note.strip():
            raise ValueError(f"match {self.match!r} needs a note naming the OncoTree types the study spans")
        return self


class GenomicFactRule(Cited):
    """An engine fact set by matching any of the named variant rules."""

    fact: str
    variant_rules: list[str] = Field(min_length=1)


# --------------------------------------------------------------------------- manifest


class ManifestFile(KBModel):
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(KBModel):
    """``manifest.yaml``: the knowledge version and the checksum of every data file."""

    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    curated: str
    files: list[ManifestFile]


def entry_label(entry: Any, index: int) -> str:
    """How an error names an entry: by its id-like field when it has one, else by position."""
    if isinstance(entry, dict):
        for key in ("id", "group", "score", "name"):
            if key in entry:
                return f"entry {index} ({key}={entry[key]!r})"
    return f"entry {index}"
