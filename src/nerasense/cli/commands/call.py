"""``nerasense call READS... --reference FASTA -o OUT/``: align reads and call low-fraction variants, with the
limit of detection at every hotspot, a VCF and a QC page."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, add_json_flag


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "call",
        help="align reads (bwa mem, samtools) and call low-fraction variants with the LOD at every hotspot",
        description="FASTQ (one file single-end, two paired) or one BAM/CRAM -> sorted BAM -> pileup -> calls. "
        "Writes OUT/calls.grch37.vcf (and .grch38.vcf where the shift is known), OUT/hotspots.tsv, OUT/qc.html, "
        "OUT/call.json and the BAM(s). Needs bwa and samtools on PATH. Research use only.",
    )
    p.add_argument("reads", nargs="+", type=Path, metavar="READS", help="FASTQ R1 [R2], or one BAM/CRAM")
    p.add_argument("--reference", required=True, type=Path, metavar="FASTA",
                   help="reference FASTA: whole chromosomes, or windows named chrN:start-end")
    p.add_argument("--targets", type=Path, metavar="BED", help="target regions (BED); default: every window contig")
    p.add_argument("--normal", nargs="+", type=Path, metavar="READS", help="matched normal reads (FASTQ R1 [R2] or BAM)")
    p.add_argument("--build", default="GRCh37", help="build of the reference: GRCh37 (default) or GRCh38")
    p.add_argument("--sample", help="sample name (default: from the first reads file)")
    p.add_argument("--realign", action="store_true",
                   help="align a BAM/CRAM again even when its chromosomes can be mapped onto the reference windows")
    p.add_argument("--threads", type=int, default=2, help="threads for bwa mem and samtools sort (default 2)")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT", help="output folder (created)")
    add_json_flag(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    from nerasense.calling.run import CallInputs, run_call
    from nerasense.knowledge import default_knowledge
    from nerasense.report.calling_qc import qc_page

    inp = CallInputs(reads=args.reads, reference=args.reference, out=args.output, targets=args.targets,
                     normal=args.normal, build=args.build, threads=max(1, args.threads), sample=args.sample,
                     realign=args.realign)
    result = run_call(inp, default_knowledge())
    result.outputs["qc"] = str(args.output / "qc.html")
    result.outputs["json"] = str(args.output / "call.json")
    payload = result.to_dict()
    (args.output / "qc.html").write_text(qc_page(result, payload), encoding="utf-8")
    (args.output / "call.json").write_text(json.dumps(payload, indent=2, default=str, allow_nan=False) + "\n",
                                           encoding="utf-8")
    return CommandResult(payload, _text(payload))


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f} %"


def _text(d: dict[str, Any]) -> str:
    lines = [f"sample {d['sample']}" + (f" (normal {d['normal']})" if d["normal"] else "")
             + f": {len(d['calls'])} call(s), {sum(c['status'] == 'detected' for c in d['calls'])} passing filters"]
    for c in d["calls"]:
        name = f"{c['gene']} {c['protein_change']}" if c["gene"] else ""
        lines.append(f"  {c['chrom']}:{c['pos']} {c['ref']}>{c['alt']} {name} VAF {_pct(c['vaf'])} "
                     f"({c['alt_count']}/{c['depth']}) {c['status']}")
    lines.append("hotspots:")
    for h in d["hotspots"]:
        lod = "LOD not reachable" if h["lod"] is None else f"LOD {_pct(h['lod'])}"
        lines.append(f"  {h['gene']} {h['protein_change']} depth {h['depth']}, {h['alt_count']} alt, "
                     f"VAF {_pct(h['vaf'])}, {lod}: {h['status']}; {h['verdict']}")
    lines.append("outputs: " + ", ".join(f"{k} {v}" for k, v in d["outputs"].items()))
    lines.append(f"(research use only; nerasense {d['software_version']}, knowledge {d['kb_version']}; "
                 + ", ".join(f"{k} {v}" for k, v in d["tools"].items()) + ")")
    return "\n".join(lines)
