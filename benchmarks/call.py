"""Benchmark: `nerasense call` against `bcftools mpileup | bcftools call` on the same reads, in the same run.

Reads: the SeraCare duplex ctDNA BAM re-aligned to the GRCh37 panel windows (so both callers read one BAM
against one FASTA), and the GIAB normal FASTQ pair aligned the same way. Timed, five alternating runs each:
our pileup + caller (the part that replaces bcftools; alignment is shared and timed once apart), and
bcftools mpileup | bcftools call -mv with its defaults. Printed: reads per second (reads in the BAM /
seconds), and what each found at the spiked hotspots (PIK3CA H1047R, ERBB2 Y772_A775dup) and in total.
Asserts nothing. Needs ../shared/data/ngs-panel, bwa, samtools and bcftools.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from _machine import cpu_name

PANEL = Path(__file__).resolve().parents[2] / "shared" / "data" / "ngs-panel"
HOTSPOTS = {("chr3:178951772-178952568", 314): "PIK3CA H1047R (A>G)",
            ("chr17:37880946-37881250", 36): "ERBB2 Y772_A775dup (A>AGCATACGTGATG)"}
RUNS = 5


def bcftools(bam: Path, ref: Path) -> tuple[float, list[str]]:
    t = time.perf_counter()
    mp = subprocess.Popen(["bcftools", "mpileup", "-f", str(ref), str(bam)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    out = subprocess.run(["bcftools", "call", "-mv"], stdin=mp.stdout, capture_output=True, text=True, check=True)
    mp.wait()
    return time.perf_counter() - t, [line for line in out.stdout.splitlines() if not line.startswith("#")]


def main() -> None:
    if not PANEL.is_dir() or not all(shutil.which(t) for t in ("bwa", "samtools", "bcftools")):
        sys.exit(f"needs {PANEL} and bwa, samtools, bcftools on PATH")
    from nerasense.calling import caller
    from nerasense.calling.pileup import pileup
    from nerasense.calling.run import CallInputs, _sequences, run_call, settings
    from nerasense.knowledge import default_knowledge

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu_name()}; Python {platform.python_version()}")
    bcf_version = subprocess.run(["bcftools", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    kb = default_knowledge()
    s = settings(kb)
    opts = {"min_bq": s.int("min-base-quality"), "min_mq": s.int("min-mapping-quality"),
            "end_distance": s.int("read-end-distance"), "max_events": s.int("max-read-events")}
    cases = [("SeraCare duplex ctDNA (BAM, re-aligned)", [PANEL / "seracare_ctdna_5pct_duplex.bam"]),
             ("GIAB normal (FASTQ pair)", [PANEL / "giab_normal_R1.fastq.gz", PANEL / "giab_normal_R2.fastq.gz"])]
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, reads in cases:
            out = Path(tmp) / label.split()[0]
            t = time.perf_counter()
            result = run_call(CallInputs(reads, PANEL / "grch37_panel_windows.fa", out, realign=True), kb)
            whole = time.perf_counter() - t
            bam, ref = result.tumour.bam, out / "reference" / "grch37_panel_windows.fa"
            n_reads = int(subprocess.run(["samtools", "view", "-c", "-F", "0x900", str(bam)], capture_output=True,
                                         text=True, check=True).stdout)
            sequences = _sequences(ref, {t.contig for t in result.targets})
            ours, theirs = [], []
            for _ in range(RUNS):
                t = time.perf_counter()
                pile = pileup(bam, result.targets, sequences, **opts)
                cs = caller.call(pile, result.targets, result.hotspots, s, bam=bam)
                ours.append(time.perf_counter() - t)
                sec, records = bcftools(bam, ref)
                theirs.append(sec)
            print(f"\n== {label}: {n_reads:,} reads; whole `nerasense call` (alignment included) {whole:.2f} s")
            print(f"  nerasense pileup + caller: best {min(ours):.2f} s, median {statistics.median(ours):.2f} s "
                  f"= {n_reads / statistics.median(ours):,.0f} reads/s")
            print(f"  {bcf_version} mpileup | call -mv (defaults): best {min(theirs):.2f} s, median "
                  f"{statistics.median(theirs):.2f} s = {n_reads / statistics.median(theirs):,.0f} reads/s")
            found_bcf = {(r.split("\t")[0], int(r.split("\t")[1])) for r in records}
            passing = [v for v in cs.verdicts if v.called]
            for key, name in HOTSPOTS.items():
                ours_hit = [v for v in passing if (v.evidence.contig, v.evidence.pos) == key]
                text = (f"called, VAF {100 * ours_hit[0].evidence.vaf:.2f} % ({ours_hit[0].evidence.alt_count} reads)"
                        if ours_hit and ours_hit[0].evidence.vaf is not None else "not called")
                print(f"  {name}: nerasense {text}; bcftools {'called' if key in found_bcf else 'not called'}")
            print(f"  all calls: nerasense {len(passing)} passing ({len(cs.calls)} incl. filtered); bcftools {len(records)}")
            for r in records:
                f = r.split("\t")
                print(f"    bcftools: {f[0]} {f[1]} {f[3]}>{f[4]} QUAL {float(f[5]):.0f}")


if __name__ == "__main__":
    main()
