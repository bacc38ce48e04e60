"""``nerasense annotate FILE``: read a MAF, VCF or copy-number table and classify every alteration."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, stamp
from nerasense.errors import InputError, Problem
from nerasense.ingest.cna import read_cna
from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.ingest.maf import read_maf
from nerasense.ingest.table import FORMATS, AlterationTable, guess_format, resolve_gene_column
from nerasense.ingest.vcf import read_vcf
from nerasense.interpret.variants import annotate_frame, reference_mismatches
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.safe_io import atomic_output, output_error

OUTPUT_COLUMNS = (
    "sample", "gene", "protein_change", "kind", "domain", "exon", "hotspot", "effect", "lower_benefit",
    "oncogenicity", "mutation_effect", "classification_level", "evidence", "vaf", "depth", "alt_count",
    "copy_number", "cna_call", "consequence", "hgvs_c", "transcript",
    "chrom", "pos", "ref", "alt", "genome_build", "origin", "legacy_name", "line", "reason", "unverified",
)
LARGE_FILE = 20 * 1024 * 1024  # bytes above which a progress display is worth showing on a terminal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "annotate",
        help="classify every alteration in a MAF, VCF or copy-number table",
        description="Reads MAF (GDC or cBioPortal, optionally gzipped), VCF (VEP CSQ, snpEff ANN or bcftools "
        "BCSQ; bgzipped allowed) or copy-number tables (cBioPortal/GISTIC matrix or long gene-call table). "
        "Every input record becomes an annotated alteration or a rejected record with its reason.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--format", choices=FORMATS, default=None, help="input format (default: guessed from name and header)")
    p.add_argument("--sample", default=None, help="VCF: the tumour sample of a multi-sample VCF")
    p.add_argument("-o", "--output", type=Path, default=None, help="write the annotated table (.tsv or .parquet)")
    p.add_argument("--on-shift", choices=("repair", "refuse"), default="repair",
                   help="MAF: what to do with rows whose columns are shifted (default: repair, with a warning)")
    p.add_argument("--hotspots", type=Path, default=None,
                   help="a full cancerhotspots v2 table (no header: chrom, pos, ref, alt, gene, class, change, ...) "
                   "to flag hotspots in all genes; default: ../shared/data/cancerhotspots/ when present, "
                   "else the bundled ERBB2/ERBB3/PIK3CA/AKT1/KRAS/BRAF subset")
    p.add_argument("--origin", choices=("tissue", "plasma", "unknown"), default="unknown",
                   help="where the DNA came from (VCF and copy-number input)")
    p.add_argument("--clinical-sample", type=Path, default=None,
                   help="MAF: a cBioPortal data_clinical_sample file whose SAMPLE_CLASS gives each sample's origin")
    add_json_flag(p)
    p.set_defaults(handler=_annotate)


def _full_hotspots(path: Path) -> frozenset[tuple[str, str]]:
    """(gene, change) pairs of a full cancerhotspots v2 table, read at run time (not copied into the repo)."""
    frame = pl.read_csv(path, separator="\t", has_header=False, infer_schema=False, quote_char=None)
    if frame.width < 7:
        raise InputError(Problem("--hotspots", str(path), "a cancerhotspots v2 table with 8 columns",
                                 "pass ../shared/data/cancerhotspots/cancerhotspots_v2_GRCh37.tsv"))
    pairs = set()
    for gene, change in frame.select(frame.columns[4], frame.columns[6]).iter_rows():
        try:
            pairs.add((gene, parse_protein_change(change).text))
        except InputError:
            continue
    return frozenset(pairs)


def _genomics(hotspot_path: Path | None) -> GenomicsKnowledge:
    """The genomics knowledge, with the hotspots of a full cancerhotspots table when one is given."""
    extra = _full_hotspots(hotspot_path) if hotspot_path else frozenset()
    return GenomicsKnowledge(default_knowledge(), extra_hotspots=extra)


def _default_hotspots() -> Path | None:
    for base in (Path.cwd(), Path(__file__).resolve().parents[4]):
        candidate = base.parent / "shared" / "data" / "cancerhotspots" / "cancerhotspots_v2_GRCh37.tsv"
        if candidate.is_file():
            return candidate
    return None


def _origins(path: Path) -> dict[str, str]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    if not lines:
        return {}
    header = lines[0].split("\t")
    if "SAMPLE_ID" not in header or "SAMPLE_CLASS" not in header:
        raise InputError(Problem("--clinical-sample", str(path), "a cBioPortal sample file with SAMPLE_ID and SAMPLE_CLASS",
                                 "pass data_clinical_sample.txt"))
    si, ci = header.index("SAMPLE_ID"), header.index("SAMPLE_CLASS")
    out = {}
    for ln in lines[1:]:
        f = ln.split("\t")
        if len(f) > max(si, ci):
            cls = f[ci].lower()
            if "cfdna" in cls or "plasma" in cls:
                out[f[si]] = "plasma"
            elif cls in {"ffpe", "tissue", "fresh frozen"}:
                out[f[si]] = "tissue"
            else:
                out[f[si]] = "unknown"
    return out


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A rich status line on stderr (only on a terminal); yields a function that names the current step."""
    if not enabled:
        yield lambda _step: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("annotate", total=None)
        yield lambda step: bar.update(task, description=step)


def _annotate(args: argparse.Namespace) -> CommandResult:
    path: Path = args.file
    if not path.exists():
        raise InputError(Problem("FILE", str(path), "an existing MAF, VCF or copy-number file", "check the path"))
    fmt = args.format or guess_format(path)
    if args.sample and fmt != "vcf":
        raise UsageError("nerasense annotate: --sample applies to VCF input only")
    if args.output is not None and args.output.suffix not in {".tsv", ".parquet"}:
        raise InputError(Problem("--output", str(args.output), "a path ending in .tsv or .parquet", "rename the output"))
    hotspot_path = args.hotspots or _default_hotspots()
    show = sys.stderr.isatty() and path.stat().st_size > LARGE_FILE
    started = time.perf_counter()
    with _progress(show) as step, ThreadPoolExecutor(1, thread_name_prefix="knowledge") as pool:
        # the knowledge base and the hotspot table load in a second thread while a MAF is read (the MAF
        # reader needs them only once the rows are read and checked); on the main thread they load first
        later = pool.submit(_genomics, hotspot_path)
        step(f"reading {path.name}")
        table: AlterationTable
        if fmt == "maf":
            origins = _origins(args.clinical_sample) if args.clinical_sample else None
            table = read_maf(path, later.result, on_shift=args.on_shift, origin_by_sample=origins)
        elif fmt == "vcf":
            table = read_vcf(path, later.result(), sample=args.sample, origin=args.origin)
        else:
            table = read_cna(path, origin=args.origin)
        gk = later.result()
        kb = gk.kb
        step("interpreting")
        frame = table.frame
        if fmt == "cna" and frame.height:  # the MAF and VCF readers resolve gene aliases (HER2) themselves
            frame = frame.with_columns(resolve_gene_column(frame, "gene", gk))
        annotated = annotate_frame(frame, gk, parse_protein_change).select(OUTPUT_COLUMNS)
        if args.output is not None:
            step(f"writing {args.output.name}")
            _write(annotated, args.output)
    elapsed = time.perf_counter() - started
    summary = _summary(table, annotated, elapsed)
    summary["reference_mismatch"] = mismatched = reference_mismatches(annotated, gk, parse_protein_change)
    if mismatched:
        rows = sum(int(m["rows"]) for m in mismatched)  # type: ignore[call-overload]
        table.notes.append(
            f"{rows} rows ({len(mismatched)} distinct changes) name a residue that is not on the gene's reference "
            "protein (another transcript's numbering, or a damaged row); kept, and listed in summary.reference_mismatch")
    payload: dict[str, Any] = {
        "file": str(path),
        "format": fmt,
        "flavour": table.flavour,
        "hotspot_table": str(hotspot_path) if hotspot_path else "bundled subset (hotspots_cancerhotspots_v2.tsv)",
        "summary": summary,
        "notes": table.notes,
        "rejected": table.rejected.to_dicts(),
    }
    if args.output is not None:
        payload["output"] = str(args.output)
    else:
        payload["alterations"] = annotated.to_dicts()
    return CommandResult(stamp(payload, kb.kb_version), _text(payload, annotated, args.output is None))


def _write(frame: pl.DataFrame, out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out, exc) from None
    with atomic_output(out) as partial:
        if out.suffix == ".parquet":
            frame.write_parquet(partial)
        else:
            frame.with_columns(pl.col("evidence").list.join(";"), pl.col("unverified").list.join(" | ")).write_csv(
                partial, separator="\t")


def _summary(table: AlterationTable, annotated: pl.DataFrame, elapsed: float) -> dict[str, Any]:
    by_effect = dict(annotated.group_by("effect").len().sort("effect").iter_rows())
    erbb2 = annotated.filter(pl.col("gene") == "ERBB2")
    return {
        "input_records": table.input_records,
        "alterations": annotated.height,
        "rejected": table.rejected.height,
        "no_call": table.not_alterations,
        "accounted": table.accounted,
        "samples": annotated["sample"].n_unique() if annotated.height else 0,
        "by_effect": by_effect,
        "erbb2": {
            "alterations": erbb2.height,
            "alleles": sorted({c or k for c, k in erbb2.select("protein_change", "kind").iter_rows()}),
            "unknown_effect": erbb2.filter(pl.col("effect") == "unknown").height,
            "unknown_oncogenicity": erbb2.filter(pl.col("oncogenicity") == "unknown").height,
        },
        "by_oncogenicity": dict(annotated.group_by("oncogenicity").len().sort("oncogenicity").iter_rows()),
        "unclassified": _unclassified(annotated),
        "hotspots": int(annotated["hotspot"].sum()) if annotated.height else 0,
        "lower_benefit": int(annotated["lower_benefit"].sum()) if annotated.height else 0,
        "seconds": round(elapsed, 3),
    }


UNCLASSIFIED_LISTED = 50  # distinct unclassified alleles named in the summary (most frequent first)


def _unclassified(annotated: pl.DataFrame) -> dict[str, Any]:
    """Rows of ERBB2 and ERBB3 (the genes curated allele by allele) whose oncogenicity is unknown, counted,
    and the alleles named (most frequent first); rows of any gene without a protein change, counted."""
    curated = annotated.filter(pl.col("gene").is_in(["ERBB2", "ERBB3"]) & (pl.col("oncogenicity") == "unknown"))
    named = (curated.group_by("gene", "protein_change", "kind").len().sort("len", "gene", "protein_change",
                                                                           descending=[True, False, False])
             .head(UNCLASSIFIED_LISTED))
    return {
        "erbb2_erbb3_rows": curated.height,
        "erbb2_erbb3_alleles": [{"gene": g, "change": c or k, "rows": n} for g, c, k, n in named.iter_rows()],
        "no_protein_change_rows": annotated.filter(
            pl.col("protein_change").is_null()
            & ~pl.col("kind").is_in(["amplification", "gain", "loss", "deletion"])).height,
    }


def _text(payload: dict[str, Any], annotated: pl.DataFrame, full: bool) -> str:
    s = payload["summary"]
    lines = [
        f"{payload['file']} ({payload['format']}{', ' + payload['flavour'] if payload['flavour'] else ''}): "
        f"{s['input_records']} records -> {s['alterations']} alterations, {s['rejected']} rejected, "
        f"{s['no_call']} no-calls; all accounted for: {'yes' if s['accounted'] else 'NO'}",
        f"  effects: {', '.join(f'{k} {v}' for k, v in s['by_effect'].items()) or '-'}; hotspots {s['hotspots']}; "
        f"lower benefit {s['lower_benefit']}",
        f"  ERBB2: {s['erbb2']['alterations']} alterations, alleles {', '.join(s['erbb2']['alleles']) or '-'}",
        f"  oncogenicity: {', '.join(f'{k} {v}' for k, v in s['by_oncogenicity'].items()) or '-'}",
    ]
    u = s["unclassified"]
    if u["erbb2_erbb3_rows"]:
        lines.append(f"  unclassified ERBB2/ERBB3 rows {u['erbb2_erbb3_rows']}: " + ", ".join(
            f"{a['gene']} {a['change']} ({a['rows']})" for a in u["erbb2_erbb3_alleles"]))
    if u["no_protein_change_rows"]:
        lines.append(f"  rows without a protein change: {u['no_protein_change_rows']}")
    lines += [f"  note: {n}" for n in payload["notes"]]
    if full and annotated.height:
        lines.append("")
        lines.append("  sample     gene     change                 effect          hotspot  domain / exon        VAF")
        for r in annotated.filter(pl.col("effect") != "unknown").head(200).iter_rows(named=True):
            where = (r["domain"] or "-") + (f" / exon {r['exon']}" if r["exon"] else "")
            vaf = f"{r['vaf']:.3f}" if r["vaf"] is not None else "-"
            change = r["protein_change"] or r["kind"]
            flag = " (lower benefit)" if r["lower_benefit"] else ""
            lines.append(f"  {r['sample'] or '-':<10} {r['gene']:<8} {change:<22} {r['effect'] + flag:<15} "
                         f"{'yes' if r['hotspot'] else 'no':<8} {where[:40]:<20} {vaf}")
    if payload["rejected"]:
        lines.append("")
        lines.append(f"  rejected ({len(payload['rejected'])}):")
        lines += [f"    {r['record']}: {r['reason']}" for r in payload["rejected"][:50]]
    if "output" in payload:
        lines.append(f"  written: {payload['output']}")
    return "\n".join(lines)
