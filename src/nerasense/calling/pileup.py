"""Our own pileup: per-position, per-allele read counts over the target intervals of an aligned BAM.

What is counted, and why:

* reads: primary alignments only; unmapped, secondary, supplementary, QC-failed and duplicate-flagged reads
  are skipped, and so are reads below the mapping-quality floor and reads with more events than
  ``max-read-events`` — mismatches at or above the base-quality floor, plus indels counted once — (reads of a
  paralogue that found no better home in a windows reference);
* bases: only those at or above the base-quality floor; each counted once per molecule — where the two
  mates of a pair overlap, the bases of the mate that starts later are not counted again;
* per allele: forward and reverse strand counts, how many were near a read end (``read-end-distance``),
  and how many came from duplex consensus reads;
* insertions and deletions: from the CIGAR, anchored on the base before them and left-aligned, so one
  event is one allele however the aligner placed it;
* read types: duplex consensus (both strands of the molecule seen: fgbio ``aD``/``bD`` tags, or a
  Marianas read name ``Marianas:UMI:contig:pos:plus:minus:...`` with both counts above zero), simplex
  consensus (fgbio ``cD``, or a Marianas name with one strand), or raw reads.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nerasense.calling.reference import Target, normalise

BASES = "ACGTN"
_LOOKUP = np.full(256, 4, dtype=np.int8)
for _i, _b in enumerate("ACGT"):
    _LOOKUP[ord(_b)] = _i
    _LOOKUP[ord(_b.lower())] = _i
_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800


@dataclass
class IndelCounts:
    forward: int = 0
    reverse: int = 0
    near_end: int = 0
    duplex: int = 0

    @property
    def total(self) -> int:
        return self.forward + self.reverse


@dataclass
class ContigPileup:
    """Counts over one contig's span of targets, positions ``offset+1 .. offset+length`` (1-based)."""

    contig: str
    offset: int
    length: int
    sequence: str  # reference bases of the span
    counts: np.ndarray = field(init=False)  # [strand 0 fwd / 1 rev, base 0..4, i]
    near_end: np.ndarray = field(init=False)  # [base, i]
    duplex: np.ndarray = field(init=False)  # [base, i]
    span: np.ndarray = field(init=False)  # reads whose alignment covers i (deletions included), before BQ
    dropped: np.ndarray = field(init=False)  # [base, i] bases of reads dropped for too many events
    indels: dict[tuple[int, str, str], IndelCounts] = field(default_factory=dict)  # (pos, ref, alt) VCF style

    def __post_init__(self) -> None:
        self.counts = np.zeros((2, 5, self.length), dtype=np.int64)
        self.near_end = np.zeros((5, self.length), dtype=np.int64)
        self.duplex = np.zeros((5, self.length), dtype=np.int64)
        self.span = np.zeros(self.length, dtype=np.int64)
        self.dropped = np.zeros((5, self.length), dtype=np.int64)

    @property
    def depth(self) -> np.ndarray:
        """Bases passing the quality floor at each position (A, C, G, T; N not counted)."""
        return np.asarray(self.counts[:, :4, :].sum(axis=(0, 1)))

    def ref_index(self) -> np.ndarray:
        return np.asarray(_LOOKUP[np.frombuffer(self.sequence.upper().encode(), dtype=np.uint8)])


@dataclass
class Pileup:
    contigs: dict[str, ContigPileup]
    reads_total: int = 0
    reads_mapped: int = 0
    reads_on_target: int = 0
    reads_counted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    read_types: Counter[str] = field(default_factory=Counter)
    insert_sizes: list[int] = field(default_factory=list)
    strands: Counter[str] = field(default_factory=Counter)


def read_type(read: Any) -> str:
    """duplex / simplex-consensus / raw, from fgbio tags or a Marianas read name."""
    if read.has_tag("aD") and read.has_tag("bD"):
        return "duplex" if int(read.get_tag("aD")) > 0 and int(read.get_tag("bD")) > 0 else "simplex-consensus"
    if read.has_tag("cD"):
        return "simplex-consensus"
    name = read.query_name or ""
    if name.startswith("Marianas:"):
        parts = name.split(":")
        try:
            plus, minus = int(parts[4]), int(parts[5])
        except (IndexError, ValueError):
            return "raw"
        return "duplex" if plus > 0 and minus > 0 else "simplex-consensus"
    return "raw"


def _mate_end(read: Any) -> int | None:
    """0-based exclusive end of the mate's alignment, from the MC tag (samtools fixmate adds it)."""
    if not read.has_tag("MC"):
        return None
    import re

    length = sum(int(n) for n, op in re.findall(r"(\d+)([MIDNSHP=X])", str(read.get_tag("MC"))) if op in "MDN=X")
    return int(read.next_reference_start) + length


def pileup(bam: Path, targets: list[Target], sequences: dict[str, str], *, min_bq: int, min_mq: int,
           end_distance: int, max_events: int, remap: dict[str, tuple[str, int]] | None = None) -> Pileup:
    """Count alleles over ``targets`` (see the module docstring).

    ``remap`` reads a BAM aligned to whole chromosomes against window contigs: contig -> (the BAM's contig,
    the BAM position of the window's base 0, i.e. window start - 1).
    """
    import pysam

    spans: dict[str, tuple[int, int]] = {}
    for t in targets:
        s, e = spans.get(t.contig, (t.start, t.end))
        spans[t.contig] = (min(s, t.start), max(e, t.end))
    result = Pileup({c: ContigPileup(c, s - 1, e - s + 1, sequences[c][s - 1: e]) for c, (s, e) in spans.items()})
    target_mask = {c: np.zeros(p.length, dtype=bool) for c, p in result.contigs.items()}
    for t in targets:
        cp = result.contigs[t.contig]
        target_mask[t.contig][t.start - 1 - cp.offset: t.end - cp.offset] = True
    with pysam.AlignmentFile(str(bam), "rb") as fh:
        stats = fh.get_index_statistics()
        result.reads_mapped = sum(s.mapped for s in stats)
        result.reads_total = result.reads_mapped + sum(s.unmapped for s in stats) + fh.unmapped
        for contig, cp in result.contigs.items():
            name, shift = (remap or {}).get(contig, (contig, 0))
            _count_contig(fh, cp, target_mask[contig], result, min_bq, min_mq, end_distance, max_events, name, shift)
    return result


def _count_contig(fh: Any, cp: ContigPileup, mask: np.ndarray, result: Pileup, min_bq: int, min_mq: int,
                  end_distance: int, max_events: int, name: str, shift: int) -> None:
    base = cp.offset + shift  # BAM position of the span's first base
    ref_codes = cp.ref_index()
    idx_parts: list[np.ndarray] = []
    near_parts: list[np.ndarray] = []
    duplex_parts: list[np.ndarray] = []
    span_starts: list[int] = []
    span_ends: list[int] = []
    dropped_parts: list[np.ndarray] = []
    seen: set[str] = set()
    for read in fh.fetch(name, base, base + cp.length):
        flag = read.flag
        if flag & _SKIP_FLAGS:
            result.skipped["duplicate" if flag & 0x400 else "secondary/supplementary/QC-fail/unmapped"] += 1
            continue
        if read.mapping_quality < min_mq:
            result.skipped["mapping quality"] += 1
            continue
        r0, r1 = read.reference_start - base, read.reference_end - base
        if r1 <= 0 or r0 >= cp.length:
            continue
        if not mask[max(r0, 0): min(r1, cp.length)].any():
            continue
        key = f"{read.query_name}/{1 if read.is_read1 else 2}"
        if key in seen:
            continue
        seen.add(key)
        result.reads_on_target += 1
        seq = read.query_sequence or ""
        codes = _LOOKUP[np.frombuffer(seq.encode(), dtype=np.uint8)]
        quals = np.asarray(read.query_qualities if read.query_qualities is not None else [0] * len(seq))
        events = _events(read, codes, quals, ref_codes, base, min_bq)
        if events > max_events:
            result.skipped["mismatch events"] += 1
            dropped_parts.append(_aligned_bases(read, cp, min_bq, base))
            continue
        result.reads_counted += 1
        kind = read_type(read)
        result.read_types[kind] += 1
        strand = 1 if read.is_reverse else 0
        result.strands["reverse" if strand else "forward"] += 1
        if read.is_paired and read.is_proper_pair and read.is_read1 and read.template_length > 0:
            result.insert_sizes.append(int(read.template_length))
        # where the mates overlap, count the later-starting mate's bases only beyond the mate's end
        skip_before = -1
        if read.is_paired and not read.mate_is_unmapped and read.next_reference_id == read.reference_id:
            mate_start = read.next_reference_start
            if read.reference_start > mate_start or (read.reference_start == mate_start and read.is_read2):
                end = _mate_end(read)
                if end is not None:
                    skip_before = end - base
        span_starts.append(max(r0, skip_before, 0))
        span_ends.append(min(r1, cp.length))
        q_first, q_last = read.query_alignment_start, read.query_alignment_end - 1
        duplex = kind == "duplex"
        qpos, rpos = 0, read.reference_start - base
        for op, n in read.cigartuples or ():
            if op in (0, 7, 8):  # M, =, X
                q = np.arange(qpos, qpos + n)
                r = np.arange(rpos, rpos + n)
                ok = (r >= 0) & (r < cp.length) & (r >= skip_before) & (quals[q] >= min_bq)
                if ok.any():
                    q, r = q[ok], r[ok]
                    b = codes[q].astype(np.int64)
                    idx_parts.append((strand * 5 + b) * cp.length + r)
                    near = np.minimum(q - q_first, q_last - q) < end_distance
                    near_parts.append(b[near] * cp.length + r[near])
                    if duplex:
                        duplex_parts.append(b * cp.length + r)
                qpos += n
                rpos += n
            elif op == 1:  # insertion after reference position rpos - 1 (0-based)
                anchor = rpos - 1
                if 0 <= anchor < cp.length and anchor >= skip_before and qpos > 0 and \
                        np.mean(quals[qpos: qpos + n]) >= min_bq:
                    ref_base = cp.sequence[anchor]
                    _add_indel(cp, anchor + 1, ref_base, ref_base + seq[qpos: qpos + n], strand,
                               min(qpos - q_first, q_last - qpos - n + 1) < end_distance, duplex)
                qpos += n
            elif op in (2, 3):  # deletion / skip of n reference bases after rpos - 1
                anchor = rpos - 1
                if op == 2 and anchor >= 0 and rpos + n <= cp.length and anchor >= skip_before:
                    flank = quals[max(qpos - 1, 0): qpos + 1]
                    if len(flank) and np.min(flank) >= min_bq:
                        _add_indel(cp, anchor + 1, cp.sequence[anchor: rpos + n], cp.sequence[anchor], strand,
                                   min(qpos - q_first, q_last - qpos) < end_distance, duplex)
                rpos += n
            elif op == 4:  # soft clip
                qpos += n
    size = cp.length
    if idx_parts:
        cp.counts += np.bincount(np.concatenate(idx_parts), minlength=10 * size).reshape(2, 5, size)
    if near_parts:
        cp.near_end += np.bincount(np.concatenate(near_parts), minlength=5 * size).reshape(5, size)
    if duplex_parts:
        cp.duplex += np.bincount(np.concatenate(duplex_parts), minlength=5 * size).reshape(5, size)
    if dropped_parts:
        cp.dropped += np.bincount(np.concatenate(dropped_parts), minlength=5 * size).reshape(5, size)
    if span_starts:
        delta = np.zeros(size + 1, dtype=np.int64)
        starts, ends = np.asarray(span_starts), np.asarray(span_ends)
        keep = ends > starts
        np.add.at(delta, starts[keep], 1)
        np.add.at(delta, ends[keep], -1)
        cp.span += np.cumsum(delta)[:size]


def _events(read: Any, codes: np.ndarray, quals: np.ndarray, ref_codes: np.ndarray, base: int, min_bq: int) -> int:
    """Mismatches at or above the base-quality floor (within the span; sequencing errors at low quality do not
    count) plus indel events (each once, whatever its length)."""
    events = 0
    for q0, q1, r0, r1 in _blocks(read):
        q, r = np.arange(q0, q1), np.arange(r0, r1) - base
        ok = (r >= 0) & (r < ref_codes.size)
        q, r = q[ok], r[ok]
        ref = ref_codes[r]
        events += int(((codes[q] != ref) & (ref < 4) & (codes[q] < 4) & (quals[q] >= min_bq)).sum())
    events += sum(1 for op, _n in read.cigartuples or () if op in (1, 2))
    return events


def _aligned_bases(read: Any, cp: ContigPileup, min_bq: int, base: int) -> np.ndarray:
    """Flat [base, i] indices of a read's aligned bases at or above the quality floor."""
    seq = read.query_sequence or ""
    codes = _LOOKUP[np.frombuffer(seq.encode(), dtype=np.uint8)]
    quals = np.asarray(read.query_qualities if read.query_qualities is not None else [0] * len(seq))
    out = []
    for q0, q1, r0, r1 in _blocks(read):
        q, r = np.arange(q0, q1), np.arange(r0, r1) - base
        ok = (r >= 0) & (r < cp.length) & (quals[q] >= min_bq)
        out.append(codes[q[ok]].astype(np.int64) * cp.length + r[ok])
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _blocks(read: Any) -> list[tuple[int, int, int, int]]:
    """(query start, query end, reference start, reference end) of each aligned (M/=/X) block."""
    out = []
    qpos, rpos = 0, read.reference_start
    for op, n in read.cigartuples or ():
        if op in (0, 7, 8):
            out.append((qpos, qpos + n, rpos, rpos + n))
            qpos += n
            rpos += n
        elif op in (1, 4):
            qpos += n
        elif op in (2, 3):
            rpos += n
    return out


def _add_indel(cp: ContigPileup, local_pos: int, ref: str, alt: str, strand: int, near: bool, duplex: bool) -> None:
    """Record one indel; ``local_pos`` is 1-based within the span, the key is left-aligned VCF style."""
    pos, ref, alt = normalise(cp.sequence, local_pos, ref, alt)
    c = cp.indels.setdefault((pos, ref, alt), IndelCounts())
    if strand:
        c.reverse += 1
    else:
        c.forward += 1
    c.near_end += int(near)
    c.duplex += int(duplex)


def mnv_counts(bam: Path, contig: str, pos: int, ref: str, alt: str, *, min_bq: int, min_mq: int,
               remap: dict[str, tuple[str, int]] | None = None) -> tuple[int, int]:
    """(reads carrying the whole ``alt``, reads covering every base of the site) for a multi-base substitution."""
    import pysam

    alt_n = depth = 0
    contig, shift = (remap or {}).get(contig, (contig, 0))
    first = pos - 1 + shift
    with pysam.AlignmentFile(str(bam), "rb") as fh:
        for read in fh.fetch(contig, first, first + len(ref)):
            if read.flag & _SKIP_FLAGS or read.mapping_quality < min_mq:
                continue
            qs: list[int | None] = []
            for i in range(len(ref)):
                hit = [q0 + first + i - r0 for q0, _q1, r0, r1 in _blocks(read) if r0 <= first + i < r1]
                qs.append(hit[0] if hit else None)
            if any(q is None for q in qs):
                continue
            seq, quals = read.query_sequence or "", read.query_qualities
            if quals is not None and min(quals[q] for q in qs if q is not None) < min_bq:
                continue
            depth += 1
            alt_n += int("".join(seq[q] for q in qs if q is not None).upper() == alt)
    return alt_n, depth


__all__ = ["BASES", "ContigPileup", "IndelCounts", "Pileup", "mnv_counts", "pileup", "read_type"]
