"""Strict models for the genomic knowledge files: gene aliases, protein regions (ERBB2 domain map,
exon 20), curated variant rules, legacy variant names, pathway genes and hotspot-table provenance.

They validate ``gene_aliases.yaml``, ``protein_regions.yaml``, ``variant_rules.yaml``,
``variant_aliases.yaml``, ``pathway_genes.yaml`` and ``hotspot_tables.yaml`` (kinds registered in
:mod:`nerasense.knowledge.registry`). Look-ups over them live in :mod:`nerasense.knowledge.genomics`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from nerasense.domain.alterations import (
    AlterationKind,
    ClassificationLevel,
    Effect,
    MutationEffect,
    Oncogenicity,
    ProteinChangeType,
)
from nerasense.knowledge.cited import Cited, KBModel, Verification


class GeneAlias(Cited):
    """An alias or previous symbol and the HGNC symbol it stands for (HER2 -> ERBB2)."""

    alias: str = Field(pattern=r"^[A-Za-z0-9-]+$")
    symbol: str = Field(pattern=r"^[A-Z0-9-]+$")


class ProteinRegion(Cited):
    """A stretch of a protein on the reference numbering (UniProt precursor for ERBB2, P04626)."""

    id: str
    gene: str
    name: str
    level: Literal["topology", "domain", "exon"]
    start: int = Field(ge=1)
    end: int = Field(ge=1)
    protein: str = Field(description="UniProt accession or RefSeq protein the numbering refers to")
    exon: int | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ProteinRegion:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class EvidenceRef(Cited):
    """One statement from one source that supports (or qualifies) a rule."""

    statement: str


class RuleMatch(KBModel):
    """What an alteration must look like for a rule to apply. Give exactly one way of matching."""

    protein_changes: list[str] | None = None  # exact normalised HGVS p. (1-letter)
    codon: int | None = Field(default=None, ge=1)  # any non-synonymous change starting at this codon (or of change_types)
    start: int | None = Field(default=None, ge=1)  # a region ...
    end: int | None = Field(default=None, ge=1)
    change_types: list[ProteinChangeType] | None = None  # a region or codon restricted to these change types
    kinds: list[AlterationKind] | None = None  # copy-number / structural kinds

    @model_validator(mode="after")
    def _one_way(self) -> RuleMatch:
        ways = [self.protein_changes is not None, self.codon is not None, self.start is not None,
                self.kinds is not None and self.start is None]
        if sum(ways) != 1:
            raise ValueError("give exactly one of protein_changes, codon, start/end (+change_types) or kinds")
        if (self.start is None) != (self.end is None):
            raise ValueError("a region needs both start and end")
        return self

    @property
    def specificity(self) -> int:
        """Higher is more specific: exact change > codon > region > kind."""
        if self.protein_changes is not None:
            return 3
        if self.codon is not None:
            return 2
        if self.start is not None:
            return 1
        return 0


class VariantRule(KBModel):
    """A curated call about a set of alterations of one gene.

    ``oncogenicity`` and ``mutation_effect`` classify the alterations in the vocabulary users compare with;
    the call on neratinib (``effect``) is given explicitly where the evidence is about the drug (resistance,
    sensitivity) and otherwise follows from the two through ``oncogenicity_effects.yaml``. ``effect`` and
    ``oncogenicity`` both None: the rule only qualifies a call (``lower_benefit``). A rule whose
    ``verification`` is U never sets the effect nor the classification: its statement is reported as
    unverified. A rule over a codon or a range is class-level; one naming its alleles is allele-level.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    gene: str
    label: str
    match: RuleMatch
    effect: Effect | None = None
    oncogenicity: Oncogenicity | None = None
    mutation_effect: MutationEffect | None = None
    lower_benefit: bool = False
    verification: Verification
    evidence: list[EvidenceRef] = Field(min_length=1)
    reason: str

    @model_validator(mode="after")
    def _classified_whole(self) -> VariantRule:
        if (self.oncogenicity is None) != (self.mutation_effect is None):
            raise ValueError("give oncogenicity and mutation_effect together (or neither)")
        return self

    @property
    def sources(self) -> list[str]:
        return [e.source for e in self.evidence]

    @property
    def level(self) -> ClassificationLevel:
        """Class-level for a codon or range rule, allele-level for named alleles and copy-number kinds."""
        if self.match.codon is not None or self.match.start is not None:
            return ClassificationLevel.CLASS
        return ClassificationLevel.ALLELE

    @property
    def unverified(self) -> bool:
        return self.verification is Verification.U


class OncogenicityEffect(Cited):
    """How a classification (oncogenicity with mutation effect) maps onto the call on neratinib, for rules
    that give no explicit ``effect``: a convention of ours, with its rationale."""

    oncogenicity: Oncogenicity
    mutation_effects: list[MutationEffect] = Field(min_length=1)
    effect: Effect
    rationale: str


class AlternativeNumbering(Cited):
    """Another isoform whose residue n is residue n + first - 1 of the reference sequence (an N-terminally
    shorter isoform), so a change written on its numbering can be recognised."""

    name: str
    refseq_protein: str
    first: int = Field(ge=2, description="the reference residue where the isoform's residue 1 sits")
    note: str | None = None

    @property
    def offset(self) -> int:
        return self.first - 1


class ProteinSequence(Cited):
    """The reference protein of a gene: the numbering HGVS p. changes are checked against."""

    gene: str
    uniprot: str = Field(pattern=r"^[A-Z0-9]{6,10}(-\d+)?$")
    sequence_version: int | None = Field(default=None, ge=1)
    refseq_protein: str = Field(pattern=r"^NP_\d+\.\d+$")
    refseq_transcript: str = Field(pattern=r"^NM_\d+\.\d+$")
    ensembl_transcript: str | None = Field(default=None, pattern=r"^ENST\d{11}$")
    length: int = Field(ge=1)
    sequence: str = Field(pattern=r"^[ACDEFGHIKLMNPQRSTVWY]+$")
    isoforms: list[AlternativeNumbering] = Field(default_factory=list)
    note: str | None = None

    @field_validator("sequence", mode="before")
    @classmethod
    def _joined(cls, value: object) -> object:
        """The data file wraps a sequence over lines (YAML folds them with spaces): the spaces go."""
        return "".join(value.split()) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _length_agrees(self) -> ProteinSequence:
        if len(self.sequence) != self.length:
            raise ValueError(f"the sequence has {len(self.sequence)} residues, length says {self.length}")
        return self

    def residue(self, position: int) -> str | None:
        """The residue at a 1-based position, or None beyond the protein."""
        return self.sequence[position - 1] if 1 <= position <= self.length else None


class VariantAlias(Cited):
    """A legacy or equivalent name and the normalised HGVS p. it stands for."""

    gene: str
    legacy: str
    hgvs: str = Field(pattern=r"^p\.")
    note: str | None = None


class TrialTie(Cited):
    statement: str


class PathwayGene(KBModel):
    """A gene whose alterations bear on neratinib, and which trials tie it to that."""

    gene: str
    pathway: str
    role: str
    ties: list[TrialTie] = Field(min_length=1)

    @property
    def sources(self) -> list[str]:
        return [t.source for t in self.ties]


class HotspotTable(KBModel):
    """Provenance and counts of a derived hotspot TSV in the data folder."""

    id: str
    file: str = Field(pattern=r"^[a-z0-9_.-]+\.tsv$")
    description: str
    derived_from: str
    licence: str
    sources: list[str] = Field(min_length=1)
    genes: list[str]
    rows: int = Field(ge=0)
    counts: dict[str, int]
    curated: str

    @model_validator(mode="after")
    def _counts_add_up(self) -> HotspotTable:
        if sum(self.counts.values()) != self.rows:
            raise ValueError(f"counts add up to {sum(self.counts.values())}, not rows={self.rows}")
        if sorted(self.counts) != sorted(self.genes):
            raise ValueError("counts must have one entry per gene")
        return self


__all__ = [
    "AlternativeNumbering",
    "EvidenceRef",
    "GeneAlias",
    "HotspotTable",
    "OncogenicityEffect",
    "PathwayGene",
    "ProteinRegion",
    "ProteinSequence",
    "RuleMatch",
    "TrialTie",
    "VariantAlias",
    "VariantRule",
]
