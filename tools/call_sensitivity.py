"""Sensitivity of `nerasense call`, measured: simulated variant reads spiked into the GIAB normal reads.

For each depth and allele fraction, read pairs are simulated from the GRCh37 panel windows (2x151 bp;
fragment lengths around 300 bp; base qualities copied from real GIAB reads and base errors drawn at the
rate those qualities state); in each fragment that covers a spiked variant, the variant is put in with
probability equal to the allele fraction. The real GIAB reads (about 25x on the windows, carrying their
germline variants and the PIK3CA paralogue reads) are added to every sample. Every spiked variant is a
cancerhotspots v2 allele: PIK3CA H1047R and E545K, ERBB2 Y772_A775dup (12-bp insertion) and V777L,
KRAS G12D, BRAF V600E.

Printed: detection rate (called and passing filters) by allele fraction and depth over the spiked
variants and replicates; false positives per kilobase of target in the unspiked samples (simulated at
each depth, and the real GIAB reads alone), and which hotspots they hit. Deterministic (seed below).
Not part of CI: about ten minutes on two cores.

    .venv/bin/python tools/call_sensitivity.py [--depths 250,500,1000,2000] [--vafs 0.0025,...] [--replicates 2]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

PANEL = Path(__file__).resolve().parents[2] / "shared" / "data" / "ngs-panel"
SEED = 22
GERMLINE_VAF = 0.2  # calls at or above this fraction in the unspiked normal are its germline variants
# (gene, protein change, chromosome, GRCh37 position, ref, alt) in VCF style, as the caller reports them
SPIKES = [
    ("PIK3CA", "p.H1047R", "3", 178952085, "A", "G"),
    ("PIK3CA", "p.E545K", "3", 178936091, "G", "A"),
    ("ERBB2", "p.Y772_A775dup", "17", 37880981, "A", "AGCATACGTGATG"),
    ("ERBB2", "p.V777L", "17", 37881000, "G", "T"),
    ("KRAS", "p.G12D", "12", 25398284, "C", "T"),
    ("BRAF", "p.V600E", "7", 140453136, "A", "T"),
]
_COMP = str.maketrans("ACGTN", "TGCAN")


def read_windows(path: Path) -> dict[str, tuple[str, int, str]]:
    """contig name -> (chromosome, first position, sequence)."""
    out: dict[str, tuple[str, int, str]] = {}
    name, seq = None, []
    for line in [*path.read_text().splitlines(), ">"]:
        if line.startswith(">"):
            if name:
                chrom, span = name.removeprefix("chr").split(":")
                out[name] = (chrom, int(span.split("-")[0]), "".join(seq).upper())
            name, seq = line[1:].strip(), []
        else:
            seq.append(line.strip())
    return out


def real_qualities(path: Path, n: int = 4000) -> list[str]:
    with gzip.open(path, "rt") as fh:
        quals = [line.strip() for i, line in enumerate(fh) if i % 4 == 3]
    return [q for q in quals if len(q) == 151][:n]


def _errors(seq: str, qual: str, rng: random.Random) -> str:
    out = list(seq)
    for i, q in enumerate(qual[: len(seq)]):
        if rng.random() < 10 ** (-(ord(q) - 33) / 10):
            out[i] = rng.choice([b for b in "ACGT" if b != out[i]])
    return "".join(out)


def simulate(windows: dict[str, tuple[str, int, str]], depth: int, vaf: float, rng: random.Random,
             quals: list[str], r1: Path, r2: Path, tag: str) -> int:
    """Write simulated pairs over the spiked windows; returns the number of pairs."""
    pairs = 0
    with r1.open("w") as f1, r2.open("w") as f2:
        for chrom, start, seq in windows.values():
            spikes = [s for s in SPIKES if s[2] == chrom and start <= s[3] < start + len(seq)]
            if not spikes:
                continue
            # the windows end where the shipped reference ends; fragments reach past them into flanks of random
            # sequence (one per window), which bwa clips, as capture fragments reach past the bait
            pad = 400
            padded = "".join(rng.choice("ACGT") for _ in range(pad)) + seq + "".join(rng.choice("ACGT") for _ in range(pad))
            length = len(seq)
            n = int(depth * (length + 300) / 302) + 1
            for _ in range(n):
                frag = min(max(int(rng.gauss(300, 60)), 160), length + 2 * pad)
                s0 = rng.randrange(pad - frag + 60, pad + length - 60)  # at least 60 bases of the window
                s0 = max(0, min(s0, len(padded) - frag))
                fragment = padded[s0: s0 + frag]
                # variants from the right so earlier offsets stay valid
                for _gene, _change, _c, pos, ref, alt in sorted(spikes, key=lambda s: -s[3]):
                    off = pos - start + pad - s0
                    if off >= 0 and off + len(ref) <= frag and rng.random() < vaf:
                        fragment = fragment[:off] + alt + fragment[off + len(ref):]
                rl = min(151, len(fragment))
                q1, q2 = rng.choice(quals)[:rl], rng.choice(quals)[:rl]
                a = _errors(fragment[:rl], q1, rng)
                b = _errors(fragment[-rl:].translate(_COMP)[::-1], q2, rng)
                name = f"sim{tag}:{pairs}"
                f1.write(f"@{name}/1\n{a}\n+\n{q1}\n")
                f2.write(f"@{name}/2\n{b}\n+\n{q2}\n")
                pairs += 1
    return pairs


def with_giab(sim1: Path, sim2: Path, out1: Path, out2: Path) -> None:
    for sim, real, out in ((sim1, PANEL / "giab_normal_R1.fastq.gz", out1), (sim2, PANEL / "giab_normal_R2.fastq.gz", out2)):
        with out.open("w") as fh:
            fh.write(sim.read_text())
            with gzip.open(real, "rt") as g:
                fh.write(g.read())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", default="250,500,1000,2000")
    ap.add_argument("--vafs", default="0.0025,0.005,0.01,0.02,0.05,0.1,0.2")
    ap.add_argument("--replicates", type=int, default=2)
    args = ap.parse_args()
    if not PANEL.is_dir():
        sys.exit(f"needs {PANEL}")
    from nerasense.calling.run import CallInputs, run_call
    from nerasense.knowledge import default_knowledge

    kb = default_knowledge()
    depths = [int(x) for x in args.depths.split(",")]
    vafs = [float(x) for x in args.vafs.split(",")]
    windows = read_windows(PANEL / "grch37_panel_windows.fa")
    quals = real_qualities(PANEL / "giab_normal_R1.fastq.gz")
    rng = random.Random(SEED)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}; seed {SEED}")
    print(f"spiked: {', '.join(f'{g} {c}' for g, c, *_ in SPIKES)}; replicates {args.replicates}; "
          "real GIAB reads added to every sample")
    t0 = time.perf_counter()
    hits: dict[tuple[int, float], list[int]] = {}
    measured: dict[int, list[int]] = {}
    fp: dict[int, tuple[int, float, list[str]]] = {}
    fp_low: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        work = Path(tmp)

        def one(depth: int, vaf: float, rep: int) -> dict:
            s1, s2 = work / "s1.fq", work / "s2.fq"
            simulate(windows, depth, vaf, rng, quals, s1, s2, f"{depth}_{vaf}_{rep}")
            m1, m2 = work / "m_R1.fastq", work / "m_R2.fastq"
            with_giab(s1, s2, m1, m2)
            out = work / f"out_{depth}_{vaf}_{rep}"
            return run_call(CallInputs([m1, m2], PANEL / "grch37_panel_windows.fa", out), kb).to_dict()

        for depth in depths:
            calls, kb_total, where = 0, 0.0, []
            for rep in range(args.replicates):  # unspiked: every passing call is a false positive for a normal
                d = one(depth, 0.0, rep)
                passing = [c for c in d["calls"] if c["status"] == "detected"]
                calls += len(passing)
                kb_total += sum(t["end"] - t["start"] + 1 for t in d["qc"]["tumour"]["targets"]
                                if t["mean_depth"] > 0) / 1000
                where += [f"{c['chrom']}:{c['pos']} {c['ref']}>{c['alt']} ({100 * c['vaf']:.0f} %)" for c in passing]
            fp[depth] = (calls, kb_total, sorted(set(where)))
            somatic_like = [w for w in set(where) if float(w.rsplit("(", 1)[1].split(" ")[0]) < 100 * GERMLINE_VAF]
            fp_low[depth] = len(somatic_like)
            for vaf in vafs:
                for rep in range(args.replicates):
                    d = one(depth, vaf, rep)
                    lines = {(h["chrom"], h["pos"], h["ref"], h["alt"]): h for h in d["hotspots"]}
                    for _g, _c, chrom, pos, ref, alt in SPIKES:
                        h = lines[(chrom, pos, ref, alt)]
                        hits.setdefault((depth, vaf), []).append(int(h["status"] == "detected"))
                        measured.setdefault(depth, []).append(h["depth"])
            print(f"  depth {depth} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    print("\ndetection rate (called and passing filters) by VAF and target depth; median measured depth at the spikes")
    print("| VAF | " + " | ".join(f"{d}x (measured {sorted(measured[d])[len(measured[d]) // 2]})" for d in depths) + " |")
    print("|---|" + "---|" * len(depths))
    for vaf in vafs:
        cells = [f"{sum(hits[(d, vaf)])}/{len(hits[(d, vaf)])}" for d in depths]
        print(f"| {100 * vaf:g} % | " + " | ".join(cells) + " |")
    print("\nunspiked samples (simulated reads + GIAB): passing calls per kb of covered target")
    for d in depths:
        calls, kbs, where = fp[d]
        print(f"  {d}x: {calls} call(s) in {kbs:.1f} kb = {calls / kbs:.2f}/kb; below {100 * GERMLINE_VAF:g} % VAF "
              f"(not germline): {fp_low[d]} distinct = {fp_low[d] / (kbs / args.replicates):.2f}/kb"
              + (f"  [{'; '.join(where)}]" if where else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tempfile.TemporaryDirectory() as tmp:
            d = run_call(CallInputs([PANEL / "giab_normal_R1.fastq.gz", PANEL / "giab_normal_R2.fastq.gz"],
                                    PANEL / "grch37_panel_windows.fa", Path(tmp) / "giab"), kb).to_dict()
    passing = [c for c in d["calls"] if c["status"] == "detected"]
    covered = sum(t["end"] - t["start"] + 1 for t in d["qc"]["tumour"]["targets"] if t["mean_depth"] > 0) / 1000
    print(f"real GIAB reads alone: {len(passing)} passing call(s) in {covered:.1f} kb covered "
          f"({len(passing) / covered:.2f}/kb), all at VAF >= "
          f"{min((c['vaf'] for c in passing), default=0) * 100:.0f} % (germline); hotspot calls: "
          f"{sum(h['status'] == 'detected' for h in d['hotspots'])}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
