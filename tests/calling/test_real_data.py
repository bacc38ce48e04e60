"""Done-when checks of issue 22 on the real reads in ../shared/data/ngs-panel.

Allele counts are checked against an independent count of the same BAM by samtools (mpileup for the
substitution, CIGAR strings for the insertion), never against our own earlier output.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

H1047R = ("3", 178952085, "A", "G")  # PIK3CA p.H1047R, GRCh37 (cancerhotspots v2)
Y772_DUP = ("17", 37880981, "A", "AGCATACGTGATG")  # ERBB2 p.Y772_A775dup (A775_G776insYVMA), left-aligned


def _hotspot(d: dict[str, Any], chrom: str, pos: int, ref: str, alt: str) -> dict[str, Any]:
    hits = [h for h in d["hotspots"] if (h["chrom"], h["pos"], h["ref"], h["alt"]) == (chrom, pos, ref, alt)]
    assert len(hits) == 1, f"no hotspot line for {chrom}:{pos} {ref}>{alt}"
    return hits[0]


def _samtools_base_counts(bam: Path, region: str) -> dict[str, int]:
    """A, C, G, T counts at one position by samtools mpileup at the same quality floors (Q20, MQ20); -A keeps
    reads whose mate is absent (the shipped BAM is cut to the spiked regions), as our pileup does."""
    out = subprocess.run(["samtools", "mpileup", "-A", "-Q", "20", "-q", "20", "-B", "-d", "100000", "-r", region, str(bam)],
                         capture_output=True, text=True, check=True).stdout.split("\t")
    bases = re.sub(r"\^.|\$", "", out[4])
    bases = re.sub(r"[+-](\d+)", lambda m: f"<{m.group(1)}>", bases)
    clean, i = [], 0
    while i < len(bases):  # drop indel sequences that follow +n / -n
        if bases[i] == "<":
            j = bases.index(">", i)
            i = j + 1 + int(bases[i + 1: j])
            continue
        clean.append(bases[i])
        i += 1
    text = "".join(clean).upper()
    return {b: text.count(b) for b in "ACGT"}  # without -f, samtools prints every base as a letter


def test_seracare_pik3ca_h1047r_found_with_its_fraction(seracare: tuple[dict[str, Any], Path]) -> None:
    d, _ = seracare
    h = _hotspot(d, *H1047R)
    assert h["gene"] == "PIK3CA" and h["protein_change"] == "p.H1047R"
    assert h["status"] == "detected"
    assert h["pos_grch38"] == H1047R[1] + 282212  # GRCh38 179234297 (cancerhotspots v2)
    # the BAM is aligned to GRCh37 chromosomes and used as aligned (positions mapped onto the windows)
    assert any("used as aligned" in n for n in d["notes"])
    counts = _samtools_base_counts(Path(d["outputs"]["bam"]), "3:178952085-178952085")
    # both count overlapping mates once; ours also drops reads with more than two mismatch/indel events
    assert counts["G"] * 0.9 <= h["alt_count"] <= counts["G"]
    assert h["vaf"] == pytest.approx(counts["G"] / sum(counts.values()), rel=0.25)
    assert 0.02 < h["vaf"] < 0.10  # a 5 % reference material (file name), duplex reads
    assert h["vaf_ci_low"] < h["vaf"] < h["vaf_ci_high"]


def test_seracare_erbb2_exon20_insertion_found(seracare: tuple[dict[str, Any], Path]) -> None:
    d, _ = seracare
    h = _hotspot(d, *Y772_DUP)
    assert (h["gene"], h["protein_change"], h["kind"]) == ("ERBB2", "p.Y772_A775dup", "insertion")
    assert h["status"] == "detected"
    assert h["pos_grch38"] == Y772_DUP[1] + 1843747
    sam = subprocess.run(["samtools", "view", "-F", "0xD04", d["outputs"]["bam"], "17:37880946-37881250"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    with_ins = 0
    for line in sam:
        f = line.split("\t")
        ref_pos = int(f[3])
        for n, op in re.findall(r"(\d+)([MIDNS=X])", f[5]):
            if op == "I" and n == "12" and 37880976 <= ref_pos - 1 <= 37880986:
                with_ins += 1
            if op in "MDN=X":
                ref_pos += int(n)
    assert with_ins * 0.8 <= h["alt_count"] <= with_ins
    assert 0.01 < h["vaf"] < 0.10


def test_seracare_vcf_carries_both_with_counts(seracare: tuple[dict[str, Any], Path]) -> None:
    _, out = seracare
    for build, shift in (("grch37", {"3": 0, "17": 0}), ("grch38", {"3": 282212, "17": 1843747})):
        records = [line.split("\t") for line in (out / f"calls.{build}.vcf").read_text().splitlines()
                   if not line.startswith("#")]
        for chrom, pos, ref, alt in (H1047R, Y772_DUP):
            rec = [r for r in records if r[0] == f"chr{chrom}" and int(r[1]) == pos + shift[chrom]
                   and r[3] == ref and r[4] == alt]
            assert len(rec) == 1 and rec[0][6] == "PASS"
            fmt = dict(zip(rec[0][8].split(":"), rec[0][9].split(":"), strict=True))
            ref_n, alt_n = map(int, fmt["AD"].split(","))
            assert ref_n + alt_n == int(fmt["DP"]) and float(fmt["AF"]) == pytest.approx(alt_n / int(fmt["DP"]), abs=1e-5)


def test_every_hotspot_in_the_targets_has_a_line(seracare: tuple[dict[str, Any], Path]) -> None:
    d, _ = seracare
    assert len(d["hotspots"]) > 50
    for h in d["hotspots"]:
        assert h["verdict"]
        assert h["status"] in ("detected", "not detected") or h["status"].startswith("filtered")
        assert h["depth"] == 0 or h["lod"] is None or 0 < h["lod"] < 1
    assert d["tools"]["bwa"] and d["tools"]["samtools"]


def test_giab_normal_has_nothing_at_the_hotspots(giab: tuple[dict[str, Any], Path]) -> None:
    d, _ = giab
    assert d["hotspots"]
    detected = [(h["gene"], h["protein_change"]) for h in d["hotspots"] if h["status"] == "detected"]
    assert detected == []
    # the paralogue reads at PIK3CA exon 9 are seen and named, not silently dropped
    e545 = [h for h in d["hotspots"] if h["protein_change"] == "p.E545A"]
    assert e545 and e545[0]["status"] == "filtered (paralogue)"
