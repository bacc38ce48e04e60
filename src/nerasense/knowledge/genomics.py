"""Look-ups over the genomic knowledge: gene aliases, regions, variant rules, legacy names, pathway
genes and hotspot alleles. Hotspot TSVs are read here (the loader only checksums TSVs).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from nerasense.domain.alterations import Effect, MutationEffect, Oncogenicity, ProteinChange, ProteinChangeType
from nerasense.errors import KnowledgeError
from nerasense.knowledge.genomics_schema import (
    GeneAlias,
    HotspotTable,
    OncogenicityEffect,
    PathwayGene,
    ProteinRegion,
    ProteinSequence,
    VariantAlias,
    VariantRule,
)
from nerasense.knowledge.loader import KnowledgeBase

# --------------------------------------------------------------------------- hotspot rows


@dataclass(frozen=True)
class HotspotAllele:
    gene: str
    protein_change: str  # normalised, with p.
    variant_class: str
    chrom: str
    pos_grch37: int
    ref_grch37: str
    alt_grch37: str
    pos_grch38: int | None = None


HGNC_SYMBOLS_FILE = "hgnc_symbols.tsv"
HotspotLocus = tuple[str, str, int, str, str]  # build (GRCh37 / GRCh38), chrom without 'chr', position, ref, alt
HOTSPOT_COLUMNS = ("gene", "protein_change", "variant_class", "chrom", "pos_grch37", "ref_grch37",
                   "alt_grch37", "pos_grch38")


def read_hotspot_tsv(path: Path) -> list[HotspotAllele]:
    """Read a derived hotspot TSV (header = :data:`HOTSPOT_COLUMNS`)."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        if tuple(reader.fieldnames or ()) != HOTSPOT_COLUMNS:
            raise KnowledgeError(f"{path.name}: header must be {', '.join(HOTSPOT_COLUMNS)}")
        out = []
        for i, row in enumerate(reader, start=2):
            try:
                out.append(HotspotAllele(
                    gene=row["gene"], protein_change=row["protein_change"], variant_class=row["variant_class"],
                    chrom=row["chrom"], pos_grch37=int(row["pos_grch37"]), ref_grch37=row["ref_grch37"],
                    alt_grch37=row["alt_grch37"],
                    pos_grch38=int(row["pos_grch38"]) if row["pos_grch38"] else None,
                ))
            except (TypeError, ValueError) as exc:
                raise KnowledgeError(f"{path.name}: data line {i}: {exc}") from None
    return out


# --------------------------------------------------------------------------- look-ups


@dataclass(repr=False)
class GenomicsKnowledge:
    """Look-up tables over the genomic parts of a knowledge base."""

    kb: KnowledgeBase
    extra_hotspots: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    # (build, chrom, pos, ref, alt) -> (gene, protein change) of a full cancerhotspots table given at run time
    extra_hotspot_loci: dict[HotspotLocus, tuple[str, str]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"GenomicsKnowledge(kb_version={self.kb.kb_version!r}, extra_hotspots={len(self.extra_hotspots)})"

    @cached_property
    def gene_aliases(self) -> dict[str, str]:
        return {a.alias.upper(): a.symbol for a in self.kb.of("gene_aliases", GeneAlias)}

    @cached_property
    def regions(self) -> dict[str, tuple[ProteinRegion, ...]]:
        out: dict[str, list[ProteinRegion]] = {}
        for r in self.kb.of("protein_regions", ProteinRegion):
            out.setdefault(r.gene, []).append(r)
        return {g: tuple(v) for g, v in out.items()}

    @cached_property
    def rules(self) -> dict[str, tuple[VariantRule, ...]]:
        out: dict[str, list[VariantRule]] = {}
        for r in self.kb.of("variant_rules", VariantRule):
            out.setdefault(r.gene, []).append(r)
        return {g: tuple(v) for g, v in out.items()}

    @cached_property
    def classification_effects(self) -> dict[tuple[Oncogenicity, MutationEffect], Effect]:
        """(oncogenicity, mutation effect) -> call on neratinib (``oncogenicity_effects.yaml``)."""
        out: dict[tuple[Oncogenicity, MutationEffect], Effect] = {}
        for m in self.kb.of("oncogenicity_effects", OncogenicityEffect):
            for me in m.mutation_effects:
                out[(m.oncogenicity, me)] = m.effect
        return out

    def effect_of(self, rule: VariantRule) -> Effect | None:
        """The call a rule makes on neratinib: its explicit effect, else the one its classification maps to
        (None for a rule that only qualifies a call, or whose classification has no mapping)."""
        if rule.effect is not None:
            return rule.effect
        if rule.oncogenicity is None or rule.mutation_effect is None:
            return None
        return self.classification_effects.get((rule.oncogenicity, rule.mutation_effect))

    @cached_property
    def variant_aliases(self) -> dict[tuple[str, str], VariantAlias]:
        return {(a.gene, a.legacy): a for a in self.kb.of("variant_aliases", VariantAlias)}

    @cached_property
    def pathway_genes(self) -> dict[str, PathwayGene]:
        return {p.gene: p for p in self.kb.of("pathway_genes", PathwayGene)}

    @cached_property
    def hotspot_tables(self) -> tuple[HotspotTable, ...]:
        return self.kb.of("hotspot_tables", HotspotTable)

    @cached_property
    def hotspots(self) -> frozenset[tuple[str, str]]:
        """(gene, normalised protein change) of every hotspot allele in the bundled tables (+ extra)."""
        pairs: set[tuple[str, str]] = set(self.extra_hotspots)
        for table in self.hotspot_tables:
            rows = read_hotspot_tsv(self.kb.data_dir / table.file)
            if len(rows) != table.rows:
                raise KnowledgeError(f"{table.file}: {len(rows)} rows, hotspot_tables.yaml says {table.rows}")
            pairs.update((r.gene, r.protein_change) for r in rows)
        return frozenset(pairs)

    @cached_property
    def hotspot_loci(self) -> dict[HotspotLocus, tuple[str, str]]:
        """(build, chrom, pos, ref, alt) -> (gene, normalised protein change) of every hotspot allele, on GRCh37
        and GRCh38 (MAF conventions: '-' for the empty allele of an insertion or deletion). The bundled rows and
        the loci of a full table given at run time; a locus named twice keeps its first allele."""
        loci: dict[HotspotLocus, tuple[str, str]] = {}
        for table in self.hotspot_tables:
            for r in read_hotspot_tsv(self.kb.data_dir / table.file):
                loci.setdefault(("GRCh37", r.chrom, r.pos_grch37, r.ref_grch37, r.alt_grch37), (r.gene, r.protein_change))
                if r.pos_grch38 is not None:
                    loci.setdefault(("GRCh38", r.chrom, r.pos_grch38, r.ref_grch37, r.alt_grch37),
                                    (r.gene, r.protein_change))
        for key, value in self.extra_hotspot_loci.items():
            loci.setdefault(key, value)
        return loci

    @cached_property
    def hotspot_source_ids(self) -> tuple[str, ...]:
        ids: list[str] = []
        for t in self.hotspot_tables:
            ids.extend(s for s in t.sources if s not in ids)
        return tuple(ids)

    @cached_property
    def sequences(self) -> dict[str, ProteinSequence]:
        """The reference protein of each gene that has one (``protein_sequences.yaml``)."""
        return {p.gene: p for p in self.kb.of("protein_sequences", ProteinSequence)}

    @cached_property
    def hgnc_symbols(self) -> dict[str, str]:
        """Upper-cased -> approved symbol of every human protein-coding gene (``hgnc_symbols.tsv``), read when
        first asked for (only the ``variant`` command asks)."""
        path = self.kb.data_dir / HGNC_SYMBOLS_FILE
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
        if not lines or lines[0] != "symbol":
            raise KnowledgeError(f"{HGNC_SYMBOLS_FILE}: the first line after the comments must be the header 'symbol'")
        return {s.upper(): s for s in lines[1:]}

    def closest_symbols(self, name: str, n: int = 3) -> list[str]:
        """The approved symbols or aliases spelled most like ``name`` (difflib's ratio), best first."""
        import difflib

        pool = {**self.hgnc_symbols, **{a: a for a in self.gene_aliases}}
        matches = difflib.get_close_matches(name.strip().upper(), list(pool), n=n, cutoff=0.5)
        return [pool[m] for m in matches]

    def symbol(self, gene: str) -> str:
        """The HGNC symbol for a symbol or alias, matched case-insensitively against the aliases and the
        genes the knowledge base knows; any other name is returned as written (HGNC symbols such as
        C1orf112 keep their lower-case letters)."""
        g = gene.strip()
        upper = g.upper()
        if upper in self.gene_aliases:
            return self.gene_aliases[upper]
        return upper if upper in self.known_genes() else g

    def known_genes(self) -> frozenset[str]:
        return self._known_genes

    @cached_property
    def _known_genes(self) -> frozenset[str]:
        genes = set(self.rules) | set(self.regions) | set(self.pathway_genes)
        genes.update(g for g, _ in self.hotspots)
        return frozenset(genes)


# --------------------------------------------------------------------------- the protein a change names


@dataclass(frozen=True)
class ReferenceMismatch:
    """Why a protein change cannot be on this protein: the residue written is not the one there, or the
    position lies beyond the protein. ``isoforms`` names other numberings in which it would fit."""

    position: int
    written: str
    found: str | None  # None: beyond the protein
    text: str
    isoforms: tuple[str, ...] = ()


def _residues_named(change: ProteinChange) -> list[tuple[int, str]]:
    """(position, residue) pairs a change states about the reference protein."""
    if change.start is None or change.start_aa is None or change.type is ProteinChangeType.UNKNOWN_EFFECT:
        return []
    if change.start_aa in ("X", "*"):  # MAF's X123_splice placeholder; a stop is checked apart (extension)
        return []
    named = [(change.start, change.start_aa)]
    if change.end is not None and change.end_aa is not None and change.end_aa not in ("X", "*"):
        named.append((change.end, change.end_aa))
    return named


def reference_mismatch(change: ProteinChange, protein: ProteinSequence) -> ReferenceMismatch | None:
    """Check the residues a change names against the reference protein; None when they agree."""
    where = f"{protein.gene} ({protein.uniprot}, {protein.refseq_protein}, {protein.length:,} residues)"
    if change.type is ProteinChangeType.EXTENSION and change.start is not None:
        if change.start != protein.length + 1:
            return ReferenceMismatch(change.start, "*", None, f"the stop codon of {where} is at {protein.length + 1}, "
                                     f"not {change.start}")
        return None
    for position, written in _residues_named(change):
        found = protein.residue(position)
        if found == written:
            continue
        if found is None:
            text = f"position {position} lies beyond the protein: {where} ends at {protein.length}"
        else:
            text = f"residue {position} of {where} is {found}{position}, not {written}{position}"
        fits = tuple(
            f"{iso.name} ({iso.refseq_protein}) [{iso.verification.value}]: its {written}{position} is "
            f"{written}{position + iso.offset} here" for iso in protein.isoforms
            if all(protein.residue(p + iso.offset) == w for p, w in _residues_named(change)))
        if fits:
            text += "; the change fits the numbering of " + "; ".join(fits)
        return ReferenceMismatch(position, written, found, text, fits)
    return None


__all__ = ["HGNC_SYMBOLS_FILE", "HOTSPOT_COLUMNS", "GenomicsKnowledge", "HotspotAllele", "HotspotLocus", "ReferenceMismatch",
           "read_hotspot_tsv", "reference_mismatch"]
