"""``nerasense call`` as a library function: reads -> aligned BAM -> pileup -> calls -> VCF, hotspot table and
the numbers of the QC report. Nothing here prints; the CLI renders the result.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nerasense._version import software_version
from nerasense.calling import caller
from nerasense.calling.pileup import Pileup, pileup
from nerasense.calling.reference import (
    Contig,
    HotspotSite,
    Target,
    hotspots_on,
    place_contig,
    read_bed,
    read_fai,
    targets_on,
)
from nerasense.calling.tools import StepLog, Tools, align, bam_contigs, find_tools, reference_ready
from nerasense.errors import InputError, NerasenseWarning, Problem, ProblemCollector
from nerasense.knowledge.calling_schema import BuildShift, CallingParameter
from nerasense.knowledge.genomics import HotspotAllele, read_hotspot_tsv
from nerasense.knowledge.loader import KnowledgeBase

READ_SUFFIXES = (".fastq", ".fq", ".fastq.gz", ".fq.gz", ".bam", ".cram")


@dataclass
class CallInputs:
    reads: list[Path]
    reference: Path
    out: Path
    targets: Path | None = None
    normal: list[Path] | None = None
    build: str = "GRCh37"
    threads: int = 2
    sample: str | None = None
    realign: bool = False


def check_inputs(inp: CallInputs) -> None:
    """Every problem with the command's inputs at once."""
    problems = ProblemCollector()

    def reads_ok(files: list[Path], name: str) -> None:
        for f in files:
            if not f.is_file():
                problems.add(name, str(f), "an existing FASTQ (.fastq/.fq, gzipped allowed) or BAM/CRAM file")
            elif not f.name.lower().endswith(READ_SUFFIXES):
                problems.add(name, str(f), "a file ending " + ", ".join(READ_SUFFIXES))
        kinds = {f.suffix.lower() in (".bam", ".cram") for f in files}
        if len(kinds) > 1:
            problems.add(name, " ".join(str(f) for f in files), "FASTQ files or one BAM/CRAM, not both")
        elif kinds == {True} and len(files) != 1:
            problems.add(name, " ".join(str(f) for f in files), "one BAM or CRAM")
        elif len(files) > 2:
            problems.add(name, " ".join(str(f) for f in files), "one FASTQ (single-end) or two (R1 R2)")

    reads_ok(inp.reads, "READS")
    if inp.normal:
        reads_ok(inp.normal, "--normal")
    if not inp.reference.is_file():
        problems.add("--reference", str(inp.reference), "an existing FASTA file (plain or gzipped)")
    if inp.targets is not None and not inp.targets.is_file():
        problems.add("--targets", str(inp.targets), "an existing BED file")
    if inp.build not in ("GRCh37", "GRCh38"):
        problems.add("--build", inp.build, "GRCh37 or GRCh38")
    if inp.out.exists() and not inp.out.is_dir():
        problems.add("-o", str(inp.out), "a folder (created when absent)")
    problems.raise_if_any()


def settings(kb: KnowledgeBase) -> caller.Settings:
    values = {p.id: p.value for p in kb.of("calling_parameters", CallingParameter)}
    missing = [k for k in caller.PARAMETERS if k not in values]
    if missing:
        from nerasense.errors import KnowledgeError

        raise KnowledgeError(f"calling.yaml: missing parameters {', '.join(missing)}")
    return caller.Settings(values)


def sample_name(reads: list[Path]) -> str:
    name = reads[0].name
    for suffix in (".gz", ".fastq", ".fq", ".bam", ".cram"):
        name = name.removesuffix(suffix)
    for tail in ("_R1", "_1", ".R1", "_R1_001"):
        name = name.removesuffix(tail)
    return name or "sample"


def looks_consensus(path: Path, n: int = 500) -> bool:
    """True when the first reads are duplex/consensus reads (Marianas names or fgbio consensus tags)."""
    if path.suffix.lower() in (".bam", ".cram"):
        import pysam

        from nerasense.calling.pileup import read_type

        with pysam.AlignmentFile(str(path), "rb" if path.suffix.lower() == ".bam" else "rc") as fh:
            kinds = [read_type(r) for _, r in zip(range(n), fh.fetch(until_eof=True), strict=False)]
    else:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt") as fh:
            names = [line for i, line in zip(range(4 * n), fh, strict=False) if i % 4 == 0]
        kinds = ["duplex" if name.startswith("@Marianas:") else "raw" for name in names]
    return bool(kinds) and sum(k != "raw" for k in kinds) > len(kinds) / 2


@dataclass
class Sample:
    role: str
    name: str
    bam: Path
    notes: list[str]
    consensus: bool
    pile: Pileup | None = None
    remap: dict[str, tuple[str, int]] | None = None  # window contig -> (BAM contig, shift): BAM used as aligned


def prepare(role: str, reads: list[Path], ref: Path, contigs: list[Contig], out: Path, tools: Tools, log: StepLog,
            threads: int, name: str, realign: bool = False) -> Sample:
    """A coordinate-sorted, indexed BAM against ``ref``: the input itself when it already is one, else aligned.

    A BAM aligned to whole chromosomes of the same build, called against window contigs, is used as aligned
    (its coordinates mapped onto the windows) unless ``realign``: re-aligning to windows loses reads whose
    alignment runs past a window's end (an insertion 35 bases inside a window is then often soft-clipped).
    """
    consensus = looks_consensus(reads[0])
    target = out / f"{role}.bam"
    if reads[0].suffix.lower() in (".bam", ".cram"):
        header = bam_contigs(reads[0], tools)
        ours = {c.name: c.length for c in contigs}
        if header and all(ours.get(k) == v for k, v in header.items() if v) and set(header) <= set(ours):
            log.run(f"{role}-sort", [tools.samtools, "sort", "-o", str(target), str(reads[0])])
            log.run(f"{role}-index", [tools.samtools, "index", str(target)])
            return Sample(role, name, target, [f"{reads[0].name}: already aligned to this reference; sorted and indexed"],
                          consensus)
        by_chrom = {place_contig(k, v).chrom: k for k, v in header.items() if place_contig(k, v).chrom}
        windows = [c for c in contigs if c.is_window and c.chrom in by_chrom]
        if not realign and windows:
            index = [Path(str(reads[0]) + ".bai"), reads[0].with_suffix(".bai"), Path(str(reads[0]) + ".crai")]
            if any(i.is_file() for i in index):
                target = reads[0]
            else:
                log.run(f"{role}-sort", [tools.samtools, "sort", "-o", str(target), str(reads[0])])
                log.run(f"{role}-index", [tools.samtools, "index", str(target)])
            remap = {c.name: (by_chrom[str(c.chrom)], c.start - 1) for c in windows}
            return Sample(role, name, target, [f"{reads[0].name}: aligned to whole chromosomes; used as aligned, "
                                               "positions mapped onto the reference windows (--realign aligns again)"],
                          consensus, remap=remap)
    notes = align(reads, ref, name, target, tools, log, threads=threads, mark_duplicates=not consensus)
    return Sample(role, name, target, notes, consensus)


@dataclass
class CallResult:
    inputs: CallInputs
    tools: Tools
    kb_version: str
    contigs: dict[str, Contig]
    targets: list[Target]
    hotspots: list[HotspotSite]
    tumour: Sample
    normal: Sample | None
    callset: caller.CallSet
    shifts: tuple[BuildShift, ...]
    steps: list[dict[str, str]]
    outputs: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def verdict_dict(self, v: caller.Verdict) -> dict[str, Any]:
        ev = v.evidence
        d: dict[str, Any] = caller.coordinates(v, self.contigs, self.shifts)
        d.update({"ref": ev.ref, "alt": ev.alt, "kind": ev.kind,
                  "gene": v.hotspot.gene if v.hotspot else None,
                  "protein_change": v.hotspot.protein_change if v.hotspot else None,
                  "hotspot": v.hotspot is not None, "depth": ev.depth, "alt_count": ev.alt_count,
                  "alt_forward": ev.forward, "alt_reverse": ev.reverse, "alt_duplex": ev.duplex,
                  "vaf": ev.vaf, "vaf_ci_low": v.interval[0], "vaf_ci_high": v.interval[1],
                  "p_value": v.p_value, "threshold": v.threshold, "min_alt_reads": v.k_min,
                  "error_class": ev.error_class, "error_rate": v.error_rate, "lod": v.lod,
                  "status": caller.status(v), "filters": v.filters or (["PASS"] if v.called else [])})
        if ev.normal_depth is not None:
            d.update({"normal_depth": ev.normal_depth, "normal_alt": ev.normal_alt})
        return d

    def hotspot_dict(self, v: caller.Verdict) -> dict[str, Any]:
        d = self.verdict_dict(v)
        d["verdict"] = caller.verdict_text(v, self.callset.settings)
        return d

    def to_dict(self) -> dict[str, Any]:
        cs = self.callset
        return {
            "software_version": software_version(), "kb_version": self.kb_version,
            "sample": self.tumour.name, "normal": self.normal.name if self.normal else None,
            "build": self.inputs.build, "tools": self.tools.as_dict(),
            "reference": str(self.inputs.reference), "targets": len(self.targets),
            "target_bases": sum(t.end - t.start + 1 for t in self.targets),
            "test": {"model": "beta-binomial per substitution class, fitted on this sample"
                     + (" and updated per position with the normal" if self.normal else ""),
                     "alleles_tested": cs.tests, "family_alpha": cs.settings["family-alpha"],
                     "threshold": cs.threshold, "hotspot_threshold": cs.hotspot_threshold,
                     "min_alt_reads": cs.settings.int("min-alt-reads"),
                     "lod_probability": cs.settings["lod-detection-probability"]},
            "error_model": [e.as_dict() for e in cs.error_model.values()],
            "calls": [self.verdict_dict(v) for v in cs.calls],
            "hotspots": [self.hotspot_dict(v) for v in cs.hotspot_lines],
            "qc": qc_numbers(self),
            "steps": self.steps, "notes": self.tumour.notes + (self.normal.notes if self.normal else []),
            "outputs": self.outputs, "warnings": self.warnings,
            "research_use_only": True,
        }


def run_call(inp: CallInputs, kb: KnowledgeBase, hotspot_rows: list[HotspotAllele] | None = None) -> CallResult:
    """The whole of ``nerasense call`` (see the README): raises InputError / AnalysisError, writes into ``inp.out``."""
    import warnings

    check_inputs(inp)
    s = settings(kb)
    shifts = kb.of("grch38_shifts", BuildShift)
    tools = find_tools()
    inp.out.mkdir(parents=True, exist_ok=True)
    log = StepLog(inp.out / "logs")
    ref = reference_ready(inp.reference, inp.out / "reference", tools, log)
    contigs = read_fai(ref)
    bed = read_bed(inp.targets) if inp.targets is not None else None
    targets = targets_on(contigs, bed)
    if not targets:
        raise InputError(Problem("--targets", str(inp.targets), "regions that overlap the reference's contigs",
                                 "the BED and the reference share no positions; check chromosome names and build"))
    sequences = _sequences(ref, {t.contig for t in targets})
    if hotspot_rows is None:
        hotspot_rows = read_hotspot_tsv(Path(str(kb.data_dir)) / "hotspots_cancerhotspots_v2.tsv")
    hotspots = hotspots_on(contigs, targets, hotspot_rows, sequences, inp.build)
    name = inp.sample or sample_name(inp.reads)
    tumour = prepare("tumour", inp.reads, ref, contigs, inp.out, tools, log, inp.threads, name, inp.realign)
    normal = prepare("normal", inp.normal, ref, contigs, inp.out, tools, log, inp.threads,
                     sample_name(inp.normal), inp.realign) if inp.normal else None
    opts = {"min_bq": s.int("min-base-quality"), "min_mq": s.int("min-mapping-quality"),
            "end_distance": s.int("read-end-distance"), "max_events": s.int("max-read-events")}
    for sample in (tumour, normal):
        if sample is not None:
            sample.pile = pileup(sample.bam, targets, sequences, remap=sample.remap, **opts)
            if sample.remap is not None:
                _check_same_build(sample, s["remap-min-reference-match"], inp.build)
    assert tumour.pile is not None
    callset = caller.call(tumour.pile, targets, hotspots, s, normal=normal.pile if normal else None, bam=tumour.bam,
                          remap=tumour.remap)
    result = CallResult(inp, tools, kb.kb_version, {c.name: c for c in contigs}, targets, hotspots, tumour, normal,
                        callset, shifts, log.steps)
    if tumour.pile.reads_on_target == 0:
        msg = f"{name}: no reads on the targets; every hotspot is reported as not adequate"
        result.warnings.append(msg)
        warnings.warn(msg, NerasenseWarning, stacklevel=2)
    write_outputs(result)
    return result


def _check_same_build(sample: Sample, minimum: float, build: str) -> None:
    """A BAM used as aligned must match the windows base for base, nearly everywhere."""
    from nerasense.errors import AnalysisError

    assert sample.pile is not None
    match = total = 0
    for cp in sample.pile.contigs.values():
        ref = cp.ref_index()
        counts = cp.counts.sum(axis=0)[:4]
        ok = ref < 4
        match += int(counts[ref[ok], np.nonzero(ok)[0]].sum())
        total += int(counts.sum())
    if total and match / total < minimum:
        raise AnalysisError(f"{sample.bam.name}: only {100 * match / total:.1f} % of its bases match the reference "
                            f"windows; it is not aligned to {build} (give --build, or --realign to align it again)")


def _sequences(fasta: Path, names: set[str]) -> dict[str, str]:
    import pysam

    with pysam.FastaFile(str(fasta)) as fa:
        return {n: fa.fetch(n).upper() for n in names}


# --------------------------------------------------------------------------- outputs

_VCF_INFO = [
    ('GENE', '1', 'String', 'Gene of the hotspot allele (cancerhotspots v2), when the allele is one'),
    ('HOTSPOT', '0', 'Flag', 'The allele is a cancerhotspots v2 hotspot allele'),
    ('CONTIG', '1', 'String', 'Reference contig and position the call was made on'),
    ('PVAL', '1', 'Float', 'One-sided beta-binomial p of the alt reads under the background error model'),
    ('THRESH', '1', 'Float', 'p threshold (family alpha divided over the alleles tested)'),
    ('ERR', '1', 'Float', 'Background error rate of the allele at this site'),
    ('ECLASS', '1', 'String', 'Error-model class'),
    ('KMIN', '1', 'Integer', 'Fewest alt reads that make a call at this depth'),
    ('SB', '4', 'Integer', 'Alt forward, alt reverse, other forward, other reverse reads'),
    ('DUPLEX', '1', 'Integer', 'Alt reads from duplex consensus reads'),
    ('NDP', '1', 'Integer', 'Depth in the normal'),
    ('NAD', '1', 'Integer', 'Alt reads in the normal'),
    ('CSQ', '.', 'String', 'Hotspot consequence from cancerhotspots v2. Format: Allele|SYMBOL|HGVSp|Consequence'),
]
_VCF_FILTERS = [
    ("strand_bias", "Alt reads on one strand far more than the site's other reads (Fisher p below strand-bias-p)"),
    ("read_end", "Alt reads near read ends more than the site's other reads (binomial p below read-end-p)"),
    ("paralogue", "Allele carried by most reads dropped for too many mismatches (a paralogue's signature)"),
    ("normal", "Allele seen in the normal (at least normal-min-alt-reads reads)"),
    ("germline", "Allele in the normal at or above germline-min-vaf"),
]


def _vcf_lines(result: CallResult, build: str) -> tuple[list[str], int]:
    cs = result.callset
    skipped = 0
    chrom_prefix = "chr" if any(c.name.startswith("chr") for c in result.contigs.values()) else ""
    lines = ["##fileformat=VCFv4.2", f"##source=nerasense {software_version()} call (kb {result.kb_version})",
             f"##reference={result.inputs.reference} ({build})",
             f"##nerasense_tools=bwa {result.tools.bwa_version}; samtools {result.tools.samtools_version}",
             "##nerasense_note=research use only; low-fraction caller, beta-binomial test per allele"]
    for c in sorted({c.chrom for c in result.contigs.values() if c.chrom}, key=_chrom_key):
        lines.append(f"##contig=<ID={chrom_prefix}{c}>")
    lines += [f'##INFO=<ID={i},Number={n},Type={t},Description="{d}">' for i, n, t, d in _VCF_INFO]
    lines += [f'##FILTER=<ID={i},Description="{d}">' for i, d in _VCF_FILTERS]
    lines += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype (0/1 for every call: fractions are not ploidy)">',
              '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Reads for ref and alt">',
              '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth (bases passing the quality floors)">',
              '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Alt allele fraction">',
              '##FORMAT=<ID=AFCI,Number=2,Type=Float,Description="Exact 95% interval of AF">',
              '##FORMAT=<ID=LOD,Number=1,Type=Float,Description="Smallest AF called with 95% probability at this depth">']
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", result.tumour.name]))
    records = []
    for v in cs.calls:
        co = caller.coordinates(v, result.contigs, result.shifts)
        pos = co["pos"] if build == result.inputs.build else co["pos_grch38"]
        if co["chrom"] is None or pos is None:
            skipped += 1
            continue
        ev = v.evidence
        info = [f"CONTIG={co['contig']}:{co['contig_pos']}", f"PVAL={v.p_value:.3g}", f"THRESH={v.threshold:.3g}",
                f"ERR={v.error_rate:.3g}", f"ECLASS={ev.error_class}", f"KMIN={v.k_min if v.k_min is not None else '.'}",
                f"SB={ev.forward},{ev.reverse},{ev.other_forward},{ev.other_reverse}", f"DUPLEX={ev.duplex}"]
        if ev.normal_depth is not None:
            info += [f"NDP={ev.normal_depth}", f"NAD={ev.normal_alt or 0}"]
        if v.hotspot:
            info = [f"GENE={v.hotspot.gene}", "HOTSPOT", *info,
                    f"CSQ={ev.alt}|{v.hotspot.gene}|{v.hotspot.protein_change}|hotspot_allele"]
        ci = v.interval
        fmt = (f"0/1:{ev.depth - ev.alt_count},{ev.alt_count}:{ev.depth}:{ev.vaf or 0:.5f}:"
               f"{ci[0] or 0:.5f},{ci[1] or 0:.5f}:{'.' if v.lod is None else f'{v.lod:.5f}'}")
        records.append((_chrom_key(co["chrom"]), pos, "\t".join([
            f"{chrom_prefix}{co['chrom']}", str(pos), ".", ev.ref, ev.alt, ".",
            "PASS" if v.called else ";".join(v.filters), ";".join(info), "GT:AD:DP:AF:AFCI:LOD", fmt])))
    lines += [r[2] for r in sorted(records)]
    return lines, skipped


def _chrom_key(c: str) -> tuple[int, str]:
    return (int(c), "") if c.isdigit() else (100, c)


HOTSPOT_COLUMNS = ("gene", "protein_change", "chrom", "pos", "pos_grch38", "ref", "alt", "depth", "alt_count",
                   "vaf", "vaf_ci_low", "vaf_ci_high", "lod", "min_alt_reads", "p_value", "status", "verdict")


def write_outputs(result: CallResult) -> None:
    out = result.inputs.out
    for build in ("GRCh37", "GRCh38"):
        if build != result.inputs.build and result.inputs.build == "GRCh38":
            continue
        lines, skipped = _vcf_lines(result, build)
        path = out / f"calls.{build.lower()}.vcf"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result.outputs[f"vcf_{build.lower()}"] = str(path)
        if skipped and build == "GRCh38":
            result.warnings.append(f"{skipped} call(s) lie where no GRCh38 shift is known and are only in the "
                                   f"{result.inputs.build} VCF")
    rows = ["\t".join(HOTSPOT_COLUMNS)]
    for v in result.callset.hotspot_lines:
        d = result.hotspot_dict(v)
        rows.append("\t".join("" if d[c] is None else (f"{d[c]:.6g}" if isinstance(d[c], float) else str(d[c]))
                              for c in HOTSPOT_COLUMNS))
    (out / "hotspots.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result.outputs["hotspots"] = str(out / "hotspots.tsv")
    result.outputs["bam"] = str(result.tumour.bam)
    if result.normal is not None:
        result.outputs["normal_bam"] = str(result.normal.bam)


def qc_numbers(result: CallResult) -> dict[str, Any]:
    """On-target fraction, insert sizes, coverage per target, strand balance and read types."""
    def sample_qc(sample: Sample) -> dict[str, Any]:
        p = sample.pile
        assert p is not None
        ins = np.asarray(p.insert_sizes) if p.insert_sizes else np.zeros(0)
        per_target = []
        for t in result.targets:
            cp = p.contigs[t.contig]
            d = cp.depth[t.start - 1 - cp.offset: t.end - cp.offset]
            per_target.append({"target": f"{result.contigs[t.contig].label}" if t.name == "" else t.name,
                               "contig": t.contig, "start": result.contigs[t.contig].to_chrom(t.start),
                               "end": result.contigs[t.contig].to_chrom(t.end),
                               "mean_depth": float(d.mean()) if d.size else 0.0,
                               "min_depth": int(d.min()) if d.size else 0,
                               "median_depth": float(np.median(d)) if d.size else 0.0})
        fwd, rev = p.strands.get("forward", 0), p.strands.get("reverse", 0)
        return {"reads_total": p.reads_total, "reads_mapped": p.reads_mapped, "reads_on_target": p.reads_on_target,
                "on_target_fraction": p.reads_on_target / p.reads_mapped if p.reads_mapped else None,
                "on_target_of_all": p.reads_on_target / p.reads_total if p.reads_total else None,
                "read_types": dict(p.read_types), "skipped": dict(p.skipped),
                "forward_fraction": fwd / (fwd + rev) if fwd + rev else None,
                "insert_size": {"n": int(ins.size), "median": float(np.median(ins)) if ins.size else None,
                                "q1": float(np.percentile(ins, 25)) if ins.size else None,
                                "q3": float(np.percentile(ins, 75)) if ins.size else None},
                "targets": per_target, "consensus": sample.consensus}
    out = {"tumour": sample_qc(result.tumour)}
    if result.normal is not None:
        out["normal"] = sample_qc(result.normal)
    return out





# --------------------------------------------------------------------------- reads named in a patient file


def call_reads_cached(reads: list[Path], reference: Path, kb: KnowledgeBase, *, targets: Path | None = None,
                      build: str = "GRCh37", sample: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Call a patient file's reads once: the outputs are kept under the nerasense cache folder
    (``calls/<hash>``, the hash over the input files' paths, sizes and times, the build, the software and
    knowledge versions) and read back on the next assessment. Returns the GRCh37/GRCh38 VCF and the payload.
    """
    import hashlib
    import json
    import tempfile

    from nerasense.knowledge.loader import cache_dir

    h = hashlib.sha256(f"{software_version()}|{kb.kb_version}|{build}|{sample}".encode())
    for f in [*reads, reference, *([targets] if targets else [])]:
        st = f.resolve().stat()
        h.update(f"|{f.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    root = cache_dir() or Path(tempfile.gettempdir()) / "nerasense"
    out = root / "calls" / h.hexdigest()[:20]
    vcf = out / f"calls.{build.lower()}.vcf"
    saved = out / "call.json"
    if saved.is_file() and vcf.is_file():
        return vcf, json.loads(saved.read_text(encoding="utf-8"))
    result = run_call(CallInputs(list(reads), reference, out, targets=targets, build=build, sample=sample), kb)
    payload = result.to_dict()
    saved.write_text(json.dumps(payload, default=str, allow_nan=False), encoding="utf-8")
    return vcf, payload


def hotspot_summary(payload: dict[str, Any], genes: tuple[str, ...] = ("ERBB2", "PIK3CA")) -> dict[str, Any]:
    """The hotspot lines a patient report shows: one per protein change of ``genes`` (and every detected one),
    the detected allele where there is one, else the allele with the lowest LOD; each with a plain text such as
    ``not detected (LOD 0.8 %)``."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for h in payload["hotspots"]:
        if h["gene"] not in genes and h["status"] != "detected":
            continue
        key = (h["gene"], h["protein_change"])
        old = best.get(key)
        rank = (h["status"] != "detected", h["lod"] is None, h["lod"] or 0.0)
        if old is None or rank < (old["status"] != "detected", old["lod"] is None, old["lod"] or 0.0):
            best[key] = h
    lines = []
    for h in best.values():
        if h["status"] == "detected":
            text = (f"detected, VAF {100 * h['vaf']:.2f} % ({100 * h['vaf_ci_low']:.2f}–{100 * h['vaf_ci_high']:.2f} %), "
                    f"{h['alt_count']} of {h['depth']} reads")
        elif not h["depth"]:
            text = "not tested (no reads)"
        elif h["lod"] is None:
            text = f"not detected (no LOD: depth {h['depth']} too low for a call)"
        else:
            text = f"not detected (LOD {100 * h['lod']:.2g} %)"
            if h["status"].startswith("filtered"):
                text = f"{h['status']}; not called (LOD {100 * h['lod']:.2g} %)"
        lines.append({"gene": h["gene"], "protein_change": h["protein_change"], "status": h["status"],
                      "depth": h["depth"], "vaf": h["vaf"], "lod": h["lod"], "text": text, "verdict": h["verdict"]})
    return {"sample": payload["sample"], "build": payload["build"], "tools": payload["tools"],
            "reference": payload["reference"], "hotspots": lines,
            "note": "Research use only. LOD: the smallest VAF called with "
                    f"{100 * payload['test']['lod_probability']:g} % probability at the site's depth."}
__all__ = ["CallInputs", "CallResult", "call_reads_cached", "check_inputs", "hotspot_summary", "run_call", "settings"]
