"""``nerasense annotate FILE``: read a MAF, VCF or copy-number table and classify every alteration."""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
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
from nerasense.knowledge.genomics import GenomicsKnowledge, HotspotLocus
from nerasense.safe_io import atomic_output, check_input, decode, output_error, read_input, split_lines

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


def _full_hotspots(path: Path) -> tuple[frozenset[tuple[str, str]], dict[HotspotLocus, tuple[str, str]]]:
    """(gene, change) pairs of a full cancerhotspots v2 table, read at run time (not copied into the repo), and
    the loci of its alleles: the table's own build (GRCh38 when its name says so, else GRCh37) and, when a sibling
    file of the other build sits beside it (``..._GRCh38.tsv``), that build's too."""
    frame = _hotspot_frame(path)
    pairs: set[tuple[str, str]] = set()
    loci: dict[HotspotLocus, tuple[str, str]] = {}
    builds = [("GRCh38" if "GRCh38" in path.name else "GRCh37", frame)]
    for a, b in (("GRCh37", "GRCh38"), ("GRCh38", "GRCh37")):
        sibling = path.with_name(path.name.replace(a, b))
        if a in path.name and sibling.is_file():
            builds.append((b, _hotspot_frame(sibling)))
    for build, table in builds:
        c = table.columns
        for chrom, pos, ref, alt, gene, change in table.select(c[0], c[1], c[2], c[3], c[4], c[6]).iter_rows():
            try:
                text = parse_protein_change(change).text
            except InputError:
                continue
            pairs.add((gene, text))
            if pos and pos.isdigit():
                loci.setdefault((build, chrom.removeprefix("chr"), int(pos), ref, alt), (gene, text))
    return frozenset(pairs), loci


def _hotspot_frame(path: Path) -> pl.DataFrame:
    check_input(path, "cancerhotspots table", field="--hotspots")
    try:
        frame = pl.read_csv(path, separator="\t", has_header=False, infer_schema=False, quote_char=None)
    except pl.exceptions.PolarsError as exc:
        raise InputError(Problem("--hotspots", str(path), "a tab-separated cancerhotspots v2 table (UTF-8)",
                                 " ".join(str(exc).split())[:160])) from None
    if frame.width < 7:
        raise InputError(Problem("--hotspots", str(path), "a cancerhotspots v2 table with 8 columns",
                                 "pass ../shared/data/cancerhotspots/cancerhotspots_v2_GRCh37.tsv"))
    return frame


def _genomics(hotspot_path: Path | None) -> GenomicsKnowledge:
    """The genomics knowledge, with the hotspots of a full cancerhotspots table when one is given."""
    if hotspot_path is None:
        return GenomicsKnowledge(default_knowledge())
    extra, loci = _full_hotspots(hotspot_path)
    return GenomicsKnowledge(default_knowledge(), extra_hotspots=extra, extra_hotspot_loci=loci)


def _default_hotspots() -> Path | None:
    for base in (Path.cwd(), Path(__file__).resolve().parents[4]):
        candidate = base.parent / "shared" / "data" / "cancerhotspots" / "cancerhotspots_v2_GRCh37.tsv"
        if candidate.is_file():
            return candidate
    return None


def _origins(path: Path) -> dict[str, str]:
    text = decode(read_input(path, "cBioPortal sample", field="--clinical-sample"), str(path), field="--clinical-sample")
    lines = [ln for ln in split_lines(text) if ln and not ln.startswith("#")]
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
        if fmt == "maf" and args.output is not None and path.stat().st_size > STREAM_BYTES:
            origins = _origins(args.clinical_sample) if args.clinical_sample else None
            return _streamed_maf(args, path, later.result, origins, hotspot_path, started, step)
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
    counts = _Counts.of(annotated)
    summary = _summary_of(counts, table.input_records, table.rejected.height, table.not_alterations, table.accounted,
                          elapsed)
    _reference_mismatch(summary, counts, gk, table.notes)
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


# a MAF larger than this, written with -o, is read and annotated in chunks of CHUNK_LINES data lines, so memory
# is set by the chunk, not by the file (issue 17: a 5M-line MAF under 1.5 GB); smaller files take the one-pass
# path of the benchmark
STREAM_BYTES = 192 * 1024 * 1024  # a 1,000,000-row MC3 MAF is 116 MB and peaks at about 620 MB in one pass
CHUNK_LINES = 250_000


def _maf_chunks(path: Path, folder: Path, lines: int) -> Iterator[tuple[Path, int]]:
    """The MAF cut into files of ``lines`` data lines, each with the original comment and header lines and the
    original file name; yields (chunk file, data lines before the chunk). Plain or gzipped input."""
    import gzip

    with path.open("rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    opener: Any = gzip.open if gz else open
    with opener(path, "rb") as fh:
        head = b""
        for line in fh:
            head += line
            if not line.startswith(b"#"):
                break
        done = 0
        for k in itertools.count():
            block = list(itertools.islice(fh, lines))
            if not block and k:
                return
            part = folder / str(k) / path.name.removesuffix(".gz")
            part.parent.mkdir()
            with part.open("wb") as out:
                out.write(head)
                out.writelines(block)
            yield part, done
            done += len(block)
            part.unlink()
            if len(block) < lines:
                return


def _streamed_maf(args: argparse.Namespace, path: Path, knowledge: Callable[[], GenomicsKnowledge],
                  origins: dict[str, str] | None, hotspot_path: Path | None, started: float,
                  step: Callable[[str], None]) -> CommandResult:
    """``annotate`` of a large MAF to -o, chunk by chunk: each chunk's rows are annotated and written to a
    part file, the parts joined into the output by a streaming sink; the summary adds up per-chunk counts."""
    import tempfile
    import warnings

    from nerasense.errors import NerasenseWarning

    counts: _Counts | None = None
    rejected: list[pl.DataFrame] = []
    notes: list[str] = []
    records = no_call = 0
    flavours: set[str] = set()
    out: Path = args.output
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out, exc) from None
    with tempfile.TemporaryDirectory(prefix=".nerasense-chunks-", dir=out.parent) as tmp:
        parts: list[Path] = []
        for k, (chunk, before) in enumerate(_maf_chunks(path, Path(tmp), CHUNK_LINES)):
            step(f"reading {path.name}: lines from {before + 1:,}")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", NerasenseWarning)
                table = read_maf(chunk, knowledge, on_shift=args.on_shift, origin_by_sample=origins)
            for w in caught:  # line numbers in a chunk's message count from the chunk's first line
                warnings.warn(f"{w.message} (line numbers counted from data line {before + 1:,} of {path.name}, "
                              f"the first of a chunk of {CHUNK_LINES:,} read on its own)", NerasenseWarning, stacklevel=2)
            gk = knowledge()
            annotated = annotate_frame(table.frame, gk, parse_protein_change).select(OUTPUT_COLUMNS)
            annotated = annotated.with_columns(pl.col("line") + before)
            piece = Path(tmp) / f"part-{k:05d}.parquet"
            annotated.write_parquet(piece)
            parts.append(piece)
            chunk_counts = _Counts.of(annotated)
            if counts is None:
                counts = chunk_counts
            else:
                counts.add(chunk_counts)
            if table.rejected.height:  # file:line texts shifted to the line in the whole file
                fixed = table.rejected.with_columns(
                    (pl.col("record").str.extract(r"^(.*):\d+$") + ":"
                     + (pl.col("record").str.extract(r":(\d+)$").cast(pl.Int64) + before).cast(pl.String)).alias("record"))
                rejected.append(fixed)
            records += table.input_records
            no_call += table.not_alterations
            flavours.add(table.flavour)
            notes += [n for n in table.notes if n not in notes]
        step(f"writing {out.name}")
        joined = pl.concat([pl.scan_parquet(p) for p in parts], how="vertical_relaxed")
        with atomic_output(out) as partial:
            if out.suffix == ".parquet":
                joined.sink_parquet(partial)
            else:
                joined.with_columns(*_TSV_LISTS).sink_csv(partial, separator="\t")
    rej = pl.concat(rejected, how="vertical_relaxed") if rejected else pl.DataFrame()
    assert counts is not None
    alterations = int(counts.alleles["len"].sum())
    accounted = alterations + rej.height + no_call == records
    summary = _summary_of(counts, records, rej.height, no_call, accounted, time.perf_counter() - started)
    _reference_mismatch(summary, counts, knowledge(), notes)
    kb = knowledge().kb
    notes.append(f"{path.name}: read in {len(parts)} chunks of up to {CHUNK_LINES:,} data lines (memory bounded by the chunk)")
    payload: dict[str, Any] = {
        "file": str(path),
        "format": "maf",
        "flavour": "+".join(sorted(f for f in flavours if f)),
        "hotspot_table": str(hotspot_path) if hotspot_path else "bundled subset (hotspots_cancerhotspots_v2.tsv)",
        "summary": summary,
        "notes": notes,
        "rejected": rej.to_dicts(),
        "output": str(out),
    }
    return CommandResult(stamp(payload, kb.kb_version), _text(payload, pl.DataFrame(), False))


# list columns as TSV text (the one-pass and the streamed writer alike)
_TSV_LISTS = (pl.col("evidence").list.join(";"), pl.col("unverified").list.join(" | "))


def _write(frame: pl.DataFrame, out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out, exc) from None
    with atomic_output(out) as partial:
        if out.suffix == ".parquet":
            frame.write_parquet(partial)
        else:
            frame.with_columns(*_TSV_LISTS).write_csv(partial, separator="\t")


def _reference_mismatch(summary: dict[str, Any], counts: _Counts, gk: GenomicsKnowledge, notes: list[str]) -> None:
    """Changes whose residue is not on the gene's reference protein, into the summary and a note."""
    summary["reference_mismatch"] = mismatched = reference_mismatches(counts.alleles, gk, parse_protein_change,
                                                                      count="len")
    if mismatched:
        rows = sum(int(m["rows"]) for m in mismatched)  # type: ignore[call-overload]
        notes.append(
            f"{rows} rows ({len(mismatched)} distinct changes) name a residue that is not on the gene's reference "
            "protein (another transcript's numbering, or a damaged row); kept, and listed in summary.reference_mismatch")


_COUNT_KEYS = ["gene", "protein_change", "change", "kind", "effect", "oncogenicity"]


@dataclass
class _Counts:
    """What the summary needs of the annotated rows: rows counted by allele and call (a few thousand rows for a
    GENIE-scale table), hotspot and lower-benefit counts, and the samples. Chunks of a streamed file add up."""

    alleles: pl.DataFrame  # _COUNT_KEYS, len, hotspot, lower_benefit
    samples: set[str]

    @classmethod
    def of(cls, annotated: pl.DataFrame) -> _Counts:
        # a row without a protein change is named by its locus (17:37880221 T>C), else by its kind
        locus = [pl.col("chrom") + pl.lit(":") + pl.col("pos").cast(pl.String) + pl.lit(" ") + pl.col("ref")
                 + pl.lit(">") + pl.col("alt")] if {"chrom", "pos", "ref", "alt"} <= set(annotated.columns) else []
        annotated = annotated.with_columns(pl.coalesce(pl.col("protein_change"), *locus, pl.col("kind")).alias("change"))
        alleles = annotated.group_by(_COUNT_KEYS).agg(pl.len().alias("len"), pl.col("hotspot").cast(pl.Int64).sum(),
                                               pl.col("lower_benefit").cast(pl.Int64).sum())
        return cls(alleles, set(annotated["sample"].drop_nulls().unique().to_list()) if annotated.height else set())

    def add(self, other: _Counts) -> None:
        both = pl.concat([self.alleles, other.alleles], how="vertical_relaxed")
        self.alleles = both.group_by(_COUNT_KEYS).agg(pl.col("len", "hotspot", "lower_benefit").sum())
        self.samples |= other.samples


def _summary_of(counts: _Counts, input_records: int, rejected: int, no_call: int, accounted: bool,
                elapsed: float) -> dict[str, Any]:
    a = counts.alleles

    def tally(column: str) -> dict[str, int]:
        return dict(a.group_by(column).agg(pl.col("len").sum()).sort(column).iter_rows())

    erbb2 = a.filter(pl.col("gene") == "ERBB2")
    return {
        "input_records": input_records,
        "alterations": int(a["len"].sum()),
        "rejected": rejected,
        "no_call": no_call,
        "accounted": accounted,
        "samples": len(counts.samples),
        "by_effect": tally("effect"),
        "erbb2": {
            "alterations": int(erbb2["len"].sum()),
            "alleles": sorted({c or k for c, k in erbb2.select("protein_change", "kind").iter_rows()}),
            "unknown_effect": int(erbb2.filter(pl.col("effect") == "unknown")["len"].sum()),
            "unknown_oncogenicity": int(erbb2.filter(pl.col("oncogenicity") == "unknown")["len"].sum()),
        },
        "by_oncogenicity": tally("oncogenicity"),
        "unclassified": _unclassified(a),
        "hotspots": int(a["hotspot"].sum()),
        "lower_benefit": int(a["lower_benefit"].sum()),
        "seconds": round(elapsed, 3),
    }


UNCLASSIFIED_LISTED = 50  # distinct unclassified alleles named in the summary (most frequent first)


def _unclassified(annotated: pl.DataFrame) -> dict[str, Any]:
    """Rows of ERBB2 and ERBB3 (the genes curated allele by allele) whose oncogenicity is unknown, counted,
    and the alleles named (most frequent first); rows of any gene without a protein change, counted.
    ``annotated`` holds rows counted by allele (:class:`_Counts`, column ``len``)."""
    curated = annotated.filter(pl.col("gene").is_in(["ERBB2", "ERBB3"]) & (pl.col("oncogenicity") == "unknown"))
    named = (curated.group_by("gene", "change").agg(pl.col("len").sum())
             .sort("len", "gene", "change", descending=[True, False, False])
             .head(UNCLASSIFIED_LISTED))
    return {
        "erbb2_erbb3_rows": int(curated["len"].sum()),
        "erbb2_erbb3_alleles": [{"gene": g, "change": c, "rows": n} for g, c, n in named.iter_rows()],
        "no_protein_change_rows": int(annotated.filter(
            pl.col("protein_change").is_null()
            & ~pl.col("kind").is_in(["amplification", "gain", "loss", "deletion"]))["len"].sum()),
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
