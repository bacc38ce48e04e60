"""The external programs of ``nerasense call``: ``bwa mem`` aligns, ``samtools`` sorts, marks duplicates
and indexes. Each runs as a subprocess whose stderr is kept in ``OUT/logs/``; their versions are
recorded in every output.

Why bwa mem and not minimap2: the reads are short (2x91-151 bp) Illumina reads, where bwa mem is the
aligner that ctDNA pipelines (MSK-ACCESS among them) and the GATK best practices are validated with,
and it reports insertions of 12 bases (the ERBB2 exon 20 duplications) as one CIGAR insertion.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from nerasense.errors import AnalysisError, InputError, Problem

_BWA_VERSION = re.compile(r"Version:\s*(\S+)")
_INDEX_SUFFIXES = (".amb", ".ann", ".bwt", ".pac", ".sa")


@dataclass(frozen=True)
class Tools:
    """Paths and versions of the programs found on PATH."""

    bwa: str
    samtools: str
    bwa_version: str
    samtools_version: str

    def as_dict(self) -> dict[str, str]:
        return {"bwa": self.bwa_version, "samtools": self.samtools_version}


def find_tools() -> Tools:
    """Locate bwa and samtools; a missing one is an error that says how to install it."""
    missing = [name for name in ("bwa", "samtools") if shutil.which(name) is None]
    if missing:
        raise AnalysisError(f"nerasense call needs {' and '.join(missing)} on PATH; "
                            f"install with `apt-get install -y {' '.join(missing)}` (Debian) or conda")
    bwa, samtools = str(shutil.which("bwa")), str(shutil.which("samtools"))
    bwa_out = subprocess.run([bwa], capture_output=True, text=True, errors="replace", check=False)
    m = _BWA_VERSION.search(bwa_out.stderr + bwa_out.stdout)
    st = subprocess.run([samtools, "--version"], capture_output=True, text=True, errors="replace", check=False)
    return Tools(bwa, samtools, m.group(1) if m else "unknown",
                 st.stdout.splitlines()[0].split()[-1] if st.stdout else "unknown")


@dataclass
class StepLog:
    """Every command run, in order, with the log file that holds its stderr."""

    folder: Path
    steps: list[dict[str, str]] = field(default_factory=list)

    def run(self, name: str, argv: list[str], *, stdout: Path | None = None,
            pipe_to: list[str] | None = None) -> None:
        """Run ``argv`` (optionally piped into ``pipe_to``); stderr of both goes to ``logs/<name>.log``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / f"{name}.log"
        self.steps.append({"step": name, "command": " ".join(argv) + (" | " + " ".join(pipe_to) if pipe_to else ""),
                           "log": str(log)})
        with log.open("wb") as err:
            out = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
            try:
                if pipe_to is None:
                    rc = subprocess.run(argv, stdout=out, stderr=err, check=False).returncode
                    rcs = [rc]
                else:
                    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
                    second = subprocess.Popen(pipe_to, stdin=first.stdout, stdout=out, stderr=err)
                    assert first.stdout is not None
                    first.stdout.close()
                    rcs = [second.wait(), first.wait()]
            finally:
                if stdout is not None and hasattr(out, "close"):
                    out.close()
        if any(rcs):
            tail = " ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            raise AnalysisError(f"step {name} failed (exit {max(rcs)}): {tail} [log: {log}]")


def reference_ready(fasta: Path, work: Path, tools: Tools, log: StepLog) -> Path:
    """The FASTA to align against, with its bwa and faidx indexes.

    An index beside the FASTA is used as it is (a whole genome takes an hour to index); otherwise the
    FASTA is copied into ``work`` and indexed there, so a read-only reference folder is never written.
    """
    if all(Path(str(fasta) + s).is_file() for s in _INDEX_SUFFIXES) and Path(str(fasta) + ".fai").is_file():
        return fasta
    work.mkdir(parents=True, exist_ok=True)
    local = work / fasta.name.removesuffix(".gz")
    if not local.is_file() or local.stat().st_mtime < fasta.stat().st_mtime:
        opener = gzip.open if fasta.suffix == ".gz" else open
        with opener(fasta, "rb") as src, local.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    if not all(Path(str(local) + s).is_file() for s in _INDEX_SUFFIXES):
        log.run("bwa-index", [tools.bwa, "index", str(local)])
    if not Path(str(local) + ".fai").is_file():
        log.run("faidx", [tools.samtools, "faidx", str(local)])
    return local


def bam_contigs(path: Path, tools: Tools) -> dict[str, int]:
    """Contig names and lengths of a BAM/CRAM header."""
    out = subprocess.run([tools.samtools, "view", "-H", str(path)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise InputError(Problem("reads", str(path), "a readable BAM or CRAM",
                                 f"samtools could not read its header: {out.stderr.strip()[:200]}"))
    contigs: dict[str, int] = {}
    for line in out.stdout.splitlines():
        if line.startswith("@SQ"):
            tags = dict(t.split(":", 1) for t in line.split("\t")[1:] if ":" in t)
            contigs[tags.get("SN", "")] = int(tags.get("LN", "0"))
    return contigs


def align(reads: list[Path], reference: Path, sample: str, out_bam: Path, tools: Tools, log: StepLog,
          *, threads: int = 2, mark_duplicates: bool = True) -> list[str]:
    """Align FASTQ (one file single-end, two paired) or re-align BAM/CRAM reads; write a sorted, indexed BAM.

    BAM/CRAM reads are collated by name and written back to FASTQ with their qualities and names
    (which carry duplex/consensus family sizes), pairs and singletons apart, then aligned like FASTQ.
    Returns notes on what was done.
    """
    work = out_bam.parent / f".{out_bam.stem}-work"
    work.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    rg = f"@RG\\tID:{sample}\\tSM:{sample}\\tPL:ILLUMINA"
    bwa = [tools.bwa, "mem", "-t", str(threads), "-R", rg, str(reference)]
    parts: list[Path] = []
    if reads[0].suffix.lower() in (".bam", ".cram"):
        r1, r2, single = work / "r1.fq", work / "r2.fq", work / "single.fq"
        collated = work / "collated.bam"
        log.run(f"{out_bam.stem}-collate", [tools.samtools, "collate", "-u", "-o", str(collated), str(reads[0]),
                                            str(work / "collate-tmp")])
        log.run(f"{out_bam.stem}-fastq", [tools.samtools, "fastq", "-n", "-F", "0x900", "-1", str(r1), "-2", str(r2),
                                          "-s", str(single), "-0", str(single.with_suffix(".other.fq")), str(collated)])
        collated.unlink()
        inputs = [[r1, r2], [single], [single.with_suffix(".other.fq")]]
        notes.append(f"{reads[0].name}: reads re-aligned from the BAM/CRAM (pairs as pairs, reads whose mate is absent "
                     "as single-end)")
    else:
        inputs = [reads]
    for i, files in enumerate(inputs):
        if not all(f.is_file() and f.stat().st_size > 0 for f in files):
            continue
        part = work / f"part{i}.bam"
        sam_sorted = work / f"part{i}.name.bam"
        log.run(f"{out_bam.stem}-bwa-mem{i}", bwa + [str(f) for f in files],
                pipe_to=[tools.samtools, "fixmate", "-m", "-u", "-", str(sam_sorted)])
        log.run(f"{out_bam.stem}-sort{i}", [tools.samtools, "sort", "-@", str(threads), "-o", str(part),
                                            str(sam_sorted)])
        sam_sorted.unlink()
        parts.append(part)
    if not parts:
        raise InputError(Problem("reads", ", ".join(str(r) for r in reads), "FASTQ or BAM/CRAM holding reads",
                                 "no reads were found to align"))
    merged = work / "merged.bam"
    if len(parts) > 1:
        log.run(f"{out_bam.stem}-merge", [tools.samtools, "merge", "-f", "-o", str(merged)] + [str(p) for p in parts])
    else:
        parts[0].rename(merged)
    if mark_duplicates:
        log.run(f"{out_bam.stem}-markdup", [tools.samtools, "markdup", str(merged), str(out_bam)])
        notes.append(f"{out_bam.name}: duplicates marked by samtools markdup (position and orientation) and not counted")
    else:
        merged.rename(out_bam)
        notes.append(f"{out_bam.name}: reads are consensus reads (one per molecule); duplicates were not marked")
    log.run(f"{out_bam.stem}-index", [tools.samtools, "index", str(out_bam)])
    shutil.rmtree(work, ignore_errors=True)
    return notes


__all__ = ["StepLog", "Tools", "align", "bam_contigs", "find_tools", "reference_ready"]
