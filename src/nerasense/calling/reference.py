"""The reference as the caller sees it: contigs mapped to chromosome positions, target intervals, and the
hotspot alleles that fall inside them.

A contig named ``chrN:start-end`` (or ``N:start-end``; 1-based, inclusive) is a window of chromosome N
whose first base is ``start``; a contig named ``chrN`` or ``N`` is the chromosome itself. Calls are made
in contig coordinates and written in chromosome coordinates of the reference's build (GRCh37 unless
told otherwise), and in GRCh38 where ``calling_liftover.yaml`` knows the window's shift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nerasense.errors import InputError, Problem, ProblemCollector
from nerasense.knowledge.calling_schema import BuildShift
from nerasense.knowledge.genomics import HotspotAllele

_WINDOW = re.compile(r"^(?:chr)?([0-9]{1,2}|X|Y|MT|M):(\d+)-(\d+)$")
_CHROM = re.compile(r"^(?:chr)?([0-9]{1,2}|X|Y|MT|M)$")


@dataclass(frozen=True)
class Contig:
    """One reference contig and where it sits on its chromosome."""

    name: str
    length: int
    chrom: str | None  # "3", "17", ... (no chr prefix); None for a contig we cannot place
    start: int  # chromosome position of the contig's first base (1 for a whole chromosome)

    def to_chrom(self, pos: int) -> int:
        """1-based contig position -> 1-based chromosome position."""
        return self.start + pos - 1

    def to_contig(self, chrom_pos: int) -> int:
        return chrom_pos - self.start + 1

    @property
    def is_window(self) -> bool:
        return self.start != 1 or bool(_WINDOW.match(self.name))

    @property
    def label(self) -> str:
        if self.chrom is None:
            return self.name
        return f"chr{self.chrom}:{self.start}-{self.start + self.length - 1}"


def place_contig(name: str, length: int) -> Contig:
    m = _WINDOW.match(name)
    if m:
        start, end = int(m.group(2)), int(m.group(3))
        if end - start + 1 == length:
            return Contig(name, length, _norm_chrom(m.group(1)), start)
    m = _CHROM.match(name)
    if m:
        return Contig(name, length, _norm_chrom(m.group(1)), 1)
    return Contig(name, length, None, 1)


def _norm_chrom(c: str) -> str:
    return "MT" if c in ("M", "MT") else c


def read_fai(fasta: Path) -> list[Contig]:
    """Contigs from the FASTA's ``.fai`` index (written by ``samtools faidx``)."""
    fai = Path(str(fasta) + ".fai")
    contigs = []
    for line in fai.read_text().splitlines():
        name, length = line.split("\t")[:2]
        contigs.append(place_contig(name, int(length)))
    return contigs


@dataclass(frozen=True)
class Target:
    """A target interval on one contig, 1-based inclusive contig coordinates."""

    contig: str
    start: int
    end: int
    name: str


def read_bed(path: Path) -> list[tuple[str, int, int, str]]:
    """BED rows as (chrom without chr, 1-based start, 1-based inclusive end, name); every bad line reported."""
    problems = ProblemCollector()
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        f = line.split("\t")
        try:
            start0, end = int(f[1]), int(f[2])
            if start0 < 0 or end < start0:
                raise ValueError
            end = max(end, start0 + 1)  # a zero-length row (start = end; SNP probes in MSK-ACCESS) is read as one base
        except (IndexError, ValueError):
            problems.add("BED line", line[:60], "chrom<TAB>start<TAB>end with 0 <= start <= end", where=f"{path.name}:{i}")
            continue
        m = _CHROM.match(f[0])
        name = next((x for x in f[3:] if x.strip() not in ("", "+", "-", ".")), "")
        rows.append((_norm_chrom(m.group(1)) if m else f[0], start0 + 1, end, name.strip()))
    problems.raise_if_any()
    return rows


def targets_on(contigs: list[Contig], bed: list[tuple[str, int, int, str]] | None) -> list[Target]:
    """Target intervals in contig coordinates: BED rows clipped to the contigs, merged when they overlap.

    Without a BED every window contig is a target; a whole-chromosome reference needs a BED.
    """
    if bed is None:
        whole = [c.name for c in contigs if not c.is_window]
        if whole and len(whole) == len(contigs):
            raise InputError(Problem("--targets", None, "a BED of target regions",
                                     "the reference holds whole chromosomes; say which regions to call"))
        return [Target(c.name, 1, c.length, c.label) for c in contigs if c.is_window]
    out: list[Target] = []
    by_chrom: dict[str, list[Contig]] = {}
    for c in contigs:
        if c.chrom is not None:
            by_chrom.setdefault(c.chrom, []).append(c)
    raw: dict[str, list[tuple[int, int, str]]] = {}
    for chrom, start, end, name in bed:
        for c in by_chrom.get(chrom, []):
            s, e = max(start, c.start), min(end, c.start + c.length - 1)
            if s <= e:
                raw.setdefault(c.name, []).append((c.to_contig(s), c.to_contig(e), name))
    for contig, ivs in raw.items():
        ivs.sort()
        cur_s, cur_e, names = ivs[0][0], ivs[0][1], [ivs[0][2]]
        for s, e, n in ivs[1:]:
            if s <= cur_e + 1:
                cur_e = max(cur_e, e)
                names.append(n)
            else:
                out.append(Target(contig, cur_s, cur_e, _names(names)))
                cur_s, cur_e, names = s, e, [n]
        out.append(Target(contig, cur_s, cur_e, _names(names)))
    return out


def _names(names: list[str]) -> str:
    uniq = list(dict.fromkeys(n for n in names if n))
    return ",".join(uniq[:3]) + ("…" if len(uniq) > 3 else "")


def shift_for(contig: Contig, pos: int, shifts: tuple[BuildShift, ...]) -> int | None:
    """The GRCh38 position of a GRCh37 contig position, or None where no shift is known."""
    if contig.chrom is None:
        return None
    chrom_pos = contig.to_chrom(pos)
    for s in shifts:
        if s.chrom == contig.chrom and s.start_grch37 <= chrom_pos <= s.end_grch37:
            return chrom_pos + s.offset
    return None


@dataclass(frozen=True)
class HotspotSite:
    """A hotspot allele placed on a contig, normalised as the caller reports alleles (VCF style, left-aligned)."""

    gene: str
    protein_change: str
    contig: str
    pos: int  # contig coordinate of the VCF POS
    ref: str
    alt: str
    source_rows: int  # how many table rows normalised to this allele


def vcf_allele(hs: HotspotAllele, contig: Contig, seq: str, build: str) -> tuple[int, str, str] | None:
    """A MAF-style hotspot row (``-`` for empty alleles) as a left-aligned VCF allele on ``contig``.

    ``seq`` is the contig sequence (0-based string). Returns None when the row's reference allele does not
    match the contig (a different build or a damaged row) or it lies off the contig.
    """
    chrom_pos = hs.pos_grch37 if build == "GRCh37" else hs.pos_grch38
    if chrom_pos is None:
        return None
    p = contig.to_contig(chrom_pos)
    ref, alt = hs.ref_grch37.replace("-", ""), hs.alt_grch37.replace("-", "")
    if not 1 <= p <= contig.length:
        return None
    if not ref:  # insertion after p
        return normalise(seq, p, seq[p - 1], seq[p - 1] + alt)
    if seq[p - 1: p - 1 + len(ref)].upper() != ref.upper():
        return None
    if not alt:  # deletion of ref starting at p; anchor on the base before
        if p < 2:
            return None
        return normalise(seq, p - 1, seq[p - 2: p - 1 + len(ref)], seq[p - 2])
    return p, ref.upper(), alt.upper()


def normalise(seq: str, pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Left-align an indel given with a shared first base (VCF style); ``seq`` 0-based, ``pos`` 1-based."""
    ref, alt = ref.upper(), alt.upper()
    if len(ref) == len(alt) or ref[0] != alt[0]:
        return pos, ref, alt
    while pos > 1:
        if ref[-1] != alt[-1]:
            break
        prev = seq[pos - 2].upper()
        ref, alt = prev + ref[:-1], prev + alt[:-1]
        pos -= 1
    return pos, ref, alt


def hotspots_on(contigs: list[Contig], targets: list[Target], hotspots: list[HotspotAllele],
                sequences: dict[str, str], build: str) -> list[HotspotSite]:
    """Every hotspot allele whose position lies in a target, deduplicated after normalisation."""
    by_chrom: dict[str, list[Contig]] = {}
    for c in contigs:
        if c.chrom is not None:
            by_chrom.setdefault(c.chrom, []).append(c)
    tmap: dict[str, list[Target]] = {}
    for t in targets:
        tmap.setdefault(t.contig, []).append(t)
    sites: dict[tuple[str, int, str, str], HotspotSite] = {}
    for hs in hotspots:
        pos = hs.pos_grch37 if build == "GRCh37" else hs.pos_grch38
        if pos is None:
            continue
        for c in by_chrom.get(hs.chrom, []):
            p = c.to_contig(pos)
            if not any(t.start <= p <= t.end for t in tmap.get(c.name, [])):
                continue
            allele = vcf_allele(hs, c, sequences[c.name], build)
            if allele is None:
                continue
            key = (c.name, *allele)
            old = sites.get(key)
            sites[key] = HotspotSite(hs.gene, old.protein_change if old else hs.protein_change, c.name, *allele,
                                     source_rows=(old.source_rows if old else 0) + 1)
    # the neratinib genes first, then the rest; within a gene by position
    first = {"ERBB2": 0, "PIK3CA": 1}
    return sorted(sites.values(), key=lambda s: (first.get(s.gene, 2), s.gene, s.contig, s.pos, s.ref, s.alt))


__all__ = ["Contig", "HotspotSite", "Target", "hotspots_on", "normalise", "place_contig", "read_bed", "read_fai",
           "shift_for", "targets_on", "vcf_allele"]
