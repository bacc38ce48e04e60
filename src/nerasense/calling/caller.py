"""From pileup counts to calls: the error model fitted on the sample, every allele tested, filters applied,
and one line for every hotspot allele in the targets whether it was called or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nerasense.calling import model
from nerasense.calling.pileup import BASES, ContigPileup, IndelCounts, Pileup, mnv_counts
from nerasense.calling.reference import Contig, HotspotSite, Target, shift_for
from nerasense.knowledge.calling_schema import BuildShift

PARAMETERS = ("min-base-quality", "min-mapping-quality", "min-alt-reads", "family-alpha", "lod-detection-probability",
              "vaf-interval-level", "read-end-distance", "read-end-p", "strand-bias-p", "strand-min-fraction",
              "error-fit-max-vaf", "error-fit-min-depth", "error-rate-floor", "normal-min-alt-reads",
              "germline-min-vaf", "verdict-vaf", "max-read-events", "error-fit-min-sites",
              "paralogue-min-fraction", "paralogue-fold",
              "remap-min-reference-match")


@dataclass(frozen=True)
class Settings:
    """The caller's thresholds, each read from ``calling.yaml`` (ids in :data:`PARAMETERS`)."""

    values: dict[str, float]

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def int(self, key: str) -> int:
        return int(self.values[key])


@dataclass
class AlleleEvidence:
    """Counts of one allele at one site, in the tumour (and the normal where given)."""

    contig: str
    pos: int  # 1-based contig coordinate (VCF POS)
    ref: str
    alt: str
    depth: int
    alt_count: int
    forward: int
    reverse: int
    near_end: int
    duplex: int
    other_forward: int
    other_reverse: int
    other_near_fraction: float
    error_class: str
    normal_depth: int | None = None
    normal_alt: int | None = None
    dropped_depth: int = 0  # reads dropped for too many events that cover the site (SNVs)
    dropped_alt: int = 0

    @property
    def vaf(self) -> float | None:
        return self.alt_count / self.depth if self.depth else None

    @property
    def kind(self) -> str:
        if len(self.ref) == len(self.alt):
            return "snv" if len(self.ref) == 1 else "mnv"
        return "insertion" if len(self.alt) > len(self.ref) else "deletion"


@dataclass
class Verdict:
    """The test and filters applied to one allele."""

    evidence: AlleleEvidence
    p_value: float
    threshold: float
    k_min: int | None
    error_rate: float
    lod: float | None
    interval: tuple[float | None, float | None]
    significant: bool
    filters: list[str] = field(default_factory=list)
    hotspot: HotspotSite | None = None

    @property
    def called(self) -> bool:
        return self.significant and not self.filters


def class_of(ref: str, alt: str) -> str:
    if len(ref) == len(alt):
        return f"{ref[0]}>{alt[0]}" if len(ref) == 1 else "mnv"
    return "insertion" if len(alt) > len(ref) else "deletion"


@dataclass
class CallSet:
    """Everything the caller decided, for the VCF, the hotspot table, the JSON and the QC report."""

    verdicts: list[Verdict]
    hotspot_lines: list[Verdict]
    error_model: dict[str, model.ErrorClass]
    tests: int
    threshold: float
    hotspot_threshold: float
    settings: Settings

    @property
    def calls(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.significant]


MIN_OTHER_READS = 10  # below this many other reads at a site, the sample-wide near-end share is the expectation


def _snv_evidence(cp: ContigPileup, i: int, b: int, ref_b: int, normal: ContigPileup | None,
                  near_fallback: float = 0.0) -> AlleleEvidence:
    fwd, rev = int(cp.counts[0, b, i]), int(cp.counts[1, b, i])
    depth = int(cp.counts[:, :4, i].sum())
    of, orv = int(cp.counts[0, :4, i].sum()) - fwd, int(cp.counts[1, :4, i].sum()) - rev
    others = of + orv
    other_near = int(cp.near_end[:4, i].sum()) - int(cp.near_end[b, i])
    ev = AlleleEvidence(cp.contig, cp.offset + i + 1, BASES[ref_b], BASES[b], depth, fwd + rev, fwd, rev,
                        int(cp.near_end[b, i]), int(cp.duplex[b, i]), of, orv,
                        other_near / others if others >= MIN_OTHER_READS else near_fallback,
                        class_of(BASES[ref_b], BASES[b]),
                        dropped_depth=int(cp.dropped[:4, i].sum()), dropped_alt=int(cp.dropped[b, i]))
    if normal is not None:
        j = cp.offset + i - normal.offset
        if 0 <= j < normal.length:
            ev.normal_depth = int(normal.counts[:, :4, j].sum())
            ev.normal_alt = int(normal.counts[:, b, j].sum())
    return ev


def _indel_evidence(cp: ContigPileup, key: tuple[int, str, str], c: IndelCounts,
                    normal: ContigPileup | None, near_fallback: float = 0.0) -> AlleleEvidence:
    local, ref, alt = key
    i = local - 1
    depth = max(int(cp.span[i]), c.total)
    ref_b = "ACGT".find(cp.sequence[i].upper())
    if ref_b >= 0:
        ref_fwd, ref_rev = int(cp.counts[0, ref_b, i]), int(cp.counts[1, ref_b, i])
        near = int(cp.near_end[ref_b, i]) / (ref_fwd + ref_rev) if ref_fwd + ref_rev >= MIN_OTHER_READS else near_fallback
    else:
        ref_fwd = ref_rev = 0
        near = near_fallback
    ev = AlleleEvidence(cp.contig, cp.offset + local, ref, alt, depth, c.total, c.forward, c.reverse, c.near_end,
                        c.duplex, ref_fwd, ref_rev, near, class_of(ref, alt))
    if normal is not None:
        j = cp.offset + i - normal.offset
        if 0 <= j < normal.length:
            nkey = (cp.offset + local - normal.offset, ref, alt)
            nc = normal.indels.get(nkey)
            ev.normal_depth = int(normal.span[j])
            ev.normal_alt = nc.total if nc else 0
    return ev


def fit_error_model(pile: Pileup, targets: list[Target], s: Settings) -> dict[str, model.ErrorClass]:
    """One beta-binomial per class over the target sites of ``pile`` (see :mod:`nerasense.calling.model`)."""
    min_depth, max_vaf, floor = s.int("error-fit-min-depth"), s["error-fit-max-vaf"], s["error-rate-floor"]
    ks: dict[str, list[np.ndarray]] = {}
    ns: dict[str, list[np.ndarray]] = {}
    for cp in pile.contigs.values():
        mask = _mask(cp, targets)
        ref = cp.ref_index()
        alts = cp.counts.sum(axis=0)  # [base, i]
        depth = alts[:4].sum(axis=0)
        use = mask & (depth >= min_depth) & (ref < 4)
        for rb in range(4):
            sites = use & (ref == rb)
            for ab in range(4):
                if ab == rb:
                    continue
                k, n = alts[ab, sites], depth[sites]
                ok = (k <= 1) | (k <= max_vaf * n)  # one read at a shallow site is still an error read
                name = f"{BASES[rb]}>{BASES[ab]}"
                ks.setdefault(name, []).append(k[ok])
                ns.setdefault(name, []).append(n[ok])
        span = cp.span
        for kind in ("insertion", "deletion"):
            per_site = np.zeros(cp.length, dtype=np.int64)
            for (pos, r, a), c in cp.indels.items():
                if class_of(r, a) == kind and (c.total <= 1 or c.total <= max_vaf * max(int(span[pos - 1]), 1)):
                    per_site[pos - 1] += c.total
            sites = mask & (span >= min_depth)
            ks.setdefault(kind, []).append(per_site[sites])
            ns.setdefault(kind, []).append(span[sites])
    if min(sum(len(x) for x in v) for v in ns.values()) < s.int("error-fit-min-sites") and min_depth > 1:
        # a shallow sample: fit on every covered site rather than on a handful
        return fit_error_model(pile, targets, Settings({**s.values, "error-fit-min-depth": 1}))
    out = {}
    for name in sorted(ks):
        out[name] = model.fit_beta_binomial(np.concatenate(ks[name]), np.concatenate(ns[name]), name, floor)
    conc = model.BINOMIAL_CONCENTRATION
    out["mnv"] = model.ErrorClass("mnv", floor * conc, (1 - floor) * conc, 0, 0)  # two errors in one read: floor
    return out


def _mask(cp: ContigPileup, targets: list[Target]) -> np.ndarray:
    m = np.zeros(cp.length, dtype=bool)
    for t in targets:
        if t.contig == cp.contig:
            m[max(t.start - 1 - cp.offset, 0): max(t.end - cp.offset, 0)] = True
    return m


def call(pile: Pileup, targets: list[Target], hotspots: list[HotspotSite], s: Settings, *,
         normal: Pileup | None = None, bam: Path | None = None,
         remap: dict[str, tuple[str, int]] | None = None) -> CallSet:
    """Test every allele in the targets and every hotspot allele; see :mod:`nerasense.calling.model`."""
    errors = fit_error_model(pile, targets, s)
    floor_reads = s.int("min-alt-reads")
    positions = sum(int(((_mask(cp, targets)) & (cp.depth > 0)).sum()) for cp in pile.contigs.values())
    n_indels = sum(len(cp.indels) for cp in pile.contigs.values())
    tests = max(3 * positions + n_indels, 1)
    alpha = s["family-alpha"]
    threshold = alpha / tests
    hotspot_threshold = alpha / max(len(hotspots), 1)
    hot_keys = {(h.contig, h.pos, h.ref, h.alt): h for h in hotspots}
    counted = sum(int(cp.counts.sum()) for cp in pile.contigs.values())
    near = sum(int(cp.near_end.sum()) for cp in pile.contigs.values()) / counted if counted else 0.0
    verdicts: list[Verdict] = []
    for cp in pile.contigs.values():
        ncp = normal.contigs.get(cp.contig) if normal is not None else None
        mask = _mask(cp, targets)
        ref = cp.ref_index()
        alts = cp.counts.sum(axis=0)
        cand = np.argwhere((alts[:4] >= floor_reads) & mask[None, :])
        for b, i in cand:
            if b == ref[i] or ref[i] == 4:
                continue
            ev = _snv_evidence(cp, int(i), int(b), int(ref[i]), ncp, near)
            hs = hot_keys.get((ev.contig, ev.pos, ev.ref, ev.alt))
            verdicts.append(judge(ev, errors, s, hotspot_threshold if hs else threshold, hs))
        for key, c in cp.indels.items():
            if c.total < floor_reads or not mask[key[0] - 1]:
                continue
            ev = _indel_evidence(cp, key, c, ncp, near)
            hs = hot_keys.get((ev.contig, ev.pos, ev.ref, ev.alt))
            verdicts.append(judge(ev, errors, s, hotspot_threshold if hs else threshold, hs))
    lines = [hotspot_line(h, pile, errors, s, hotspot_threshold, normal, bam, near, remap) for h in hotspots]
    return CallSet(verdicts, lines, errors, tests, threshold, hotspot_threshold, s)


def _site_error(ev: AlleleEvidence, errors: dict[str, model.ErrorClass]) -> tuple[float, float]:
    ec = errors[ev.error_class]
    a, b = ec.a, ec.b
    if ev.normal_depth:
        na, nb = a + (ev.normal_alt or 0), b + ev.normal_depth - (ev.normal_alt or 0)
        if na / (na + nb) > a / (a + b):
            return na, nb
    return a, b


def judge(ev: AlleleEvidence, errors: dict[str, model.ErrorClass], s: Settings, threshold: float,
          hs: HotspotSite | None) -> Verdict:
    a, b = _site_error(ev, errors)
    p = model.p_value(ev.alt_count, ev.depth, a, b)
    k_min = model.min_alt_reads(ev.depth, a, b, threshold, s.int("min-alt-reads")) if ev.depth else None
    error_rate = a / (a + b)
    lod = model.limit_of_detection(ev.depth, k_min, error_rate, s["lod-detection-probability"])
    significant = p < threshold and ev.alt_count >= s.int("min-alt-reads")
    filters: list[str] = []
    if significant:
        if ev.alt_count and model.fisher_strand(ev.forward, ev.reverse, ev.other_forward, ev.other_reverse) < \
                s["strand-bias-p"] and min(ev.forward, ev.reverse) < s["strand-min-fraction"] * ev.alt_count:
            filters.append("strand_bias")
        if model.binomial_excess(ev.near_end, ev.alt_count, min(max(ev.other_near_fraction, 1e-3), 1.0)) < \
                s["read-end-p"]:
            filters.append("read_end")
        if ev.dropped_alt >= s.int("min-alt-reads") and ev.dropped_depth and \
                ev.dropped_alt / ev.dropped_depth >= max(s["paralogue-min-fraction"], s["paralogue-fold"] * (ev.vaf or 0)):
            filters.append("paralogue")
        if ev.normal_alt is not None and ev.normal_alt >= s.int("normal-min-alt-reads"):
            nvaf = ev.normal_alt / ev.normal_depth if ev.normal_depth else 0.0
            filters.append("germline" if nvaf >= s["germline-min-vaf"] else "normal")
    return Verdict(ev, p, threshold, k_min, error_rate, lod,
                   model.exact_interval(ev.alt_count, ev.depth, s["vaf-interval-level"]), significant, filters, hs)


def hotspot_line(h: HotspotSite, pile: Pileup, errors: dict[str, model.ErrorClass], s: Settings, threshold: float,
                 normal: Pileup | None, bam: Path | None, near: float = 0.0,
                 remap: dict[str, tuple[str, int]] | None = None) -> Verdict:
    cp = pile.contigs[h.contig]
    ncp = normal.contigs.get(h.contig) if normal is not None else None
    i = h.pos - 1 - cp.offset
    if len(h.ref) == len(h.alt) == 1:
        b = "ACGT".find(h.alt)
        ev = _snv_evidence(cp, i, b, "ACGT".find(h.ref), ncp, near)
    elif len(h.ref) == len(h.alt):
        alt_n, depth = mnv_counts(bam, h.contig, h.pos, h.ref, h.alt, min_bq=s.int("min-base-quality"),
                                  min_mq=s.int("min-mapping-quality"), remap=remap) if bam is not None else (0, 0)
        ev = AlleleEvidence(h.contig, h.pos, h.ref, h.alt, depth, alt_n, alt_n, 0, 0, 0, depth - alt_n, 0, 0.0, "mnv")
        ev.forward = alt_n  # strands are not split for multi-base alleles
    else:
        key = (i + 1, h.ref, h.alt)
        ev = _indel_evidence(cp, key, cp.indels.get(key, IndelCounts()), ncp, near)
    return judge(ev, errors, s, threshold, h)


def coordinates(v: Verdict, contigs: dict[str, Contig], shifts: tuple[BuildShift, ...]) -> dict[str, Any]:
    """Chromosome coordinates of a verdict's allele (GRCh37 and, where the shift is known, GRCh38)."""
    c = contigs[v.evidence.contig]
    return {"chrom": c.chrom, "pos": c.to_chrom(v.evidence.pos), "pos_grch38": shift_for(c, v.evidence.pos, shifts),
            "contig": c.name, "contig_pos": v.evidence.pos}


def verdict_text(v: Verdict, s: Settings) -> str:
    """The plain verdict of a hotspot line: adequate or not to exclude ``verdict-vaf``."""
    level = s["verdict-vaf"]
    if v.called:
        return "detected"
    if v.lod is None:
        reason = "no reads" if v.evidence.depth == 0 else f"depth {v.evidence.depth} cannot reach a call"
        return f"not adequate to exclude {100 * level:g} % VAF ({reason})"
    if v.lod <= level:
        return f"adequate to exclude {100 * level:g} % VAF"
    return f"not adequate to exclude {100 * level:g} % VAF"


def status(v: Verdict) -> str:
    if v.called:
        return "detected"
    if v.significant:
        return "filtered (" + ", ".join(v.filters) + ")"
    return "not detected"


__all__ = ["PARAMETERS", "AlleleEvidence", "CallSet", "Settings", "Verdict", "call", "class_of", "coordinates",
           "fit_error_model", "judge", "status", "verdict_text"]
