"""Genomic alterations and their interpretation.

These models are what every reader in :mod:`nerasense.ingest` produces (one :class:`Alteration` per
accepted input row, one :class:`RejectedRecord` per refused row) and what
:mod:`nerasense.interpret.variants` returns (:class:`VariantInterpretation`). They carry enough to
serve the engine (gene, normalised protein change, copy number) and a ctDNA module reading serial
plasma samples (``origin``, ``sample``, ``collected``, ``vaf``, ``depth``).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)

    @classmethod
    def _checked(cls, values: dict[str, Any], fields_set: set[str] | None = None) -> Self:
        """An instance from ``values`` a caller has already checked and typed: every field, in field order;
        ``fields_set`` names the fields the caller gave (default: all).

        It sets what pydantic's ``model_construct`` sets (``__dict__``, the fields set, no extra, no private
        attributes) without validating and without that method's generic loop over aliases and defaults. For
        hot paths only (the HGVS parser, the columnar annotator); each caller's tests hold its results equal
        to validated models.
        """
        model = cls.__new__(cls)
        _set_attribute(model, "__dict__", values)
        _set_attribute(model, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
        _set_attribute(model, "__pydantic_extra__", None)
        _set_attribute(model, "__pydantic_private__", None)
        return model


_set_attribute = object.__setattr__


class AlterationKind(StrEnum):
    """What happened to the DNA (not what it does to the protein)."""

    SNV = "snv"
    MNV = "mnv"  # two or more adjacent substituted bases (MAF DNP/TNP/ONP)
    INDEL = "indel"  # insertion, deletion or delins of a few bases
    AMPLIFICATION = "amplification"  # high-level copy gain (cBioPortal +2)
    GAIN = "gain"  # low-level copy gain (+1)
    LOSS = "loss"  # shallow (heterozygous) loss (-1)
    DELETION = "deletion"  # deep (homozygous) copy-number deletion (-2)
    FUSION = "fusion"
    OTHER = "other"


class Origin(StrEnum):
    """Where the sequenced DNA came from."""

    TISSUE = "tissue"
    PLASMA = "plasma"  # cell-free DNA
    UNKNOWN = "unknown"


class ProteinChangeType(StrEnum):
    MISSENSE = "missense"
    NONSENSE = "nonsense"
    SYNONYMOUS = "synonymous"
    DELETION = "del"
    DUPLICATION = "dup"
    INSERTION = "ins"
    DELINS = "delins"
    FRAMESHIFT = "fs"
    EXTENSION = "ext"
    START_LOSS = "start-loss"
    SPLICE = "splice"  # MAF's p.X123_splice: not an HGVS form, kept because MAFs emit it
    UNKNOWN_EFFECT = "unknown"  # p.? / p.(=) style placeholders


class ProteinChange(_Strict):
    """A parsed protein change on the reference protein's numbering (1-letter amino acids).

    ``text`` is the normalised HGVS p. string in 1-letter form (``p.Y772_A775dup``); the other
    fields are its parts, so rules can test a position range without re-parsing.
    """

    text: str
    type: ProteinChangeType
    start_aa: str | None = None
    start: int | None = Field(default=None, ge=1)
    end_aa: str | None = None
    end: int | None = Field(default=None, ge=1)
    alt: str | None = None  # inserted / substituted residues (1-letter), or the new residue
    predicted: bool = False  # written in parentheses, p.(L755S)

    @property
    def in_frame(self) -> bool:
        return self.type in {
            ProteinChangeType.DELETION,
            ProteinChangeType.DUPLICATION,
            ProteinChangeType.INSERTION,
            ProteinChangeType.DELINS,
        }

    @property
    def truncating(self) -> bool:
        return self.type in {ProteinChangeType.NONSENSE, ProteinChangeType.FRAMESHIFT}


class Alteration(_Strict):
    """One genomic alteration in one sample, as read from a file or typed by a user."""

    gene: str = Field(min_length=1, description="HGNC symbol (aliases such as HER2 resolved)")
    kind: AlterationKind
    protein_change: str | None = Field(default=None, description="normalised 1-letter HGVS p., e.g. p.Y772_A775dup")
    protein: ProteinChange | None = None
    consequence: str | None = Field(default=None, description="MAF Variant_Classification or SO term")
    hgvs_c: str | None = None
    transcript: str | None = None
    chrom: str | None = None
    pos: int | None = Field(default=None, ge=1)
    ref: str | None = None
    alt: str | None = None
    genome_build: str | None = None
    vaf: float | None = Field(default=None, ge=0, le=1)
    depth: int | None = Field(default=None, ge=0)
    alt_count: int | None = Field(default=None, ge=0)
    copy_number: float | None = Field(default=None, description="absolute copy number where given")
    cna_call: int | None = Field(default=None, ge=-2, le=2, description="discrete call -2..2 (GISTIC/cBioPortal)")
    sample: str | None = None
    origin: Origin = Origin.UNKNOWN
    collected: dt.date | None = Field(default=None, description="sample date, for serial plasma series")
    record: str | None = Field(default=None, description="where it was read: file:line")

    @model_validator(mode="after")
    def _protein_consistent(self) -> Alteration:
        if self.protein is not None and self.protein_change != self.protein.text:
            raise ValueError("protein_change must equal protein.text")
        return self


class Effect(StrEnum):
    """Functional effect as it bears on neratinib (design.md contract)."""

    ACTIVATING = "activating"
    RESISTANCE = "resistance"
    LIKELY_NEUTRAL = "likely-neutral"
    UNKNOWN = "unknown"


class Oncogenicity(StrEnum):
    """Whether an alteration drives cancer, in the vocabulary users compare with (OncoKB's terms)."""

    ONCOGENIC = "oncogenic"
    LIKELY_ONCOGENIC = "likely oncogenic"
    LIKELY_NEUTRAL = "likely neutral"
    INCONCLUSIVE = "inconclusive"
    UNKNOWN = "unknown"


class MutationEffect(StrEnum):
    """What an alteration does to the protein's function (OncoKB's terms; ``unknown`` = not assessed)."""

    GAIN = "gain-of-function"
    LIKELY_GAIN = "likely gain-of-function"
    LOSS = "loss-of-function"
    LIKELY_LOSS = "likely loss-of-function"
    SWITCH = "switch-of-function"
    LIKELY_SWITCH = "likely switch-of-function"
    NEUTRAL = "neutral"
    LIKELY_NEUTRAL = "likely neutral"
    INCONCLUSIVE = "inconclusive"
    UNKNOWN = "unknown"


class ClassificationLevel(StrEnum):
    """Whether the classification was made for this very allele or for a class it falls in (a codon, exon
    20 in-frame insertions, truncating mutations of a tumour suppressor)."""

    ALLELE = "allele"
    CLASS = "class"


class VariantInterpretation(_Strict):
    """What the knowledge base says about one alteration, with the reason and the evidence."""

    gene: str
    protein_change: str | None
    kind: AlterationKind
    domain: str | None = None
    exon: int | None = None
    hotspot: bool = False
    effect: Effect = Effect.UNKNOWN
    lower_benefit: bool = False
    evidence: list[str] = Field(default_factory=list, description="source ids in the knowledge base")
    rules: list[str] = Field(default_factory=list, description="ids of the knowledge entries that matched")
    reason: str = ""
    unverified: list[str] = Field(default_factory=list, description="facts used that are tagged [U]")
    oncogenicity: Oncogenicity = Oncogenicity.UNKNOWN
    mutation_effect: MutationEffect = MutationEffect.UNKNOWN
    classification_level: ClassificationLevel | None = Field(default=None,
                                                             description="allele- or class-level classification")
    classification_evidence: list[str] = Field(default_factory=list,
                                      description="the statements behind oncogenicity and mutation effect, each "
                                                  "'source [tag]: statement'")


class RejectedRecord(_Strict):
    """An input row that did not become an alteration, and why."""

    record: str = Field(description="file:line (1-based line in the file)")
    reason: str
    gene: str | None = None
    value: str | None = None
    sample: str | None = None


__all__ = [
    "Alteration",
    "AlterationKind",
    "ClassificationLevel",
    "Effect",
    "MutationEffect",
    "Oncogenicity",
    "Origin",
    "ProteinChange",
    "ProteinChangeType",
    "RejectedRecord",
    "VariantInterpretation",
]
