"""``nerasense screen INPUT... -o OUT/``: screen a cohort's mutation tables for neratinib-relevant alterations."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from nerasense.cli._common import CommandResult, add_json_flag, stamp
from nerasense.cli.commands.annotate import _default_hotspots, _genomics
from nerasense.errors import InputError, Problem
from nerasense.safe_io import atomic_output, output_error
from nerasense.screen.engines import run_dask, run_local
from nerasense.screen.inputs import DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS, plan, read_clinical
from nerasense.screen.partition import Options

if TYPE_CHECKING:
    from nerasense.screen.summary import Screen


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screen",
        help="screen cohort mutation tables (GENIE/cBioPortal studies, MAFs, Parquet) for neratinib-relevant alterations",
        description="Reads every row with the annotate readers and knowledge, on this machine (streaming, both cores) "
        "or on a Dask cluster, and writes per-sample, per-tumour-type and per-allele tables, the refused rows with "
        "their reasons, and an HTML summary. Research use only.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="MAF files (plain or gzipped), globs, Parquet tables with MAF columns, or study folders")
    p.add_argument("--clinical", action="append", default=None, metavar="SAMPLE_FILE",
                   help="cBioPortal/GENIE data_clinical_sample.txt (SAMPLE_ID, ONCOTREE_CODE); repeatable")
    p.add_argument("--cna", action="append", default=None, metavar="CNA_FILE",
                   help="copy-number table (cBioPortal data_CNA.txt or long table); repeatable")
    p.add_argument("--tumour-column", default=None, metavar="COLUMN",
                   help="a column of the mutation table naming each sample's tumour type (e.g. Cohort in MC3)")
    p.add_argument("--tumour-vocabulary", choices=("oncotree", "tcga", "label"), default="oncotree",
                   help="tumour values are OncoTree codes rolled up to the main type (default), TCGA study "
                   "abbreviations (e.g. MC3's Cohort) mapped to OncoTree codes first, or labels kept as is")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="output folder")
    p.add_argument("--engine", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="dask: scheduler address (tcp://host:8786); default a LocalCluster on this machine")
    p.add_argument("--workers", type=int, default=2, help="parts in flight (local) or LocalCluster processes (dask)")
    p.add_argument("--chunk-mb", type=float, default=DEFAULT_CHUNK_BYTES / 2**20,
                   help="size of a plain-MAF partition in MB (memory per part grows with it)")
    p.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows of a Parquet partition")
    p.add_argument("--on-shift", choices=("repair", "refuse"), default="repair",
                   help="MAF rows whose columns are shifted: repair with a warning (default) or refuse")
    p.add_argument("--hotspots", type=Path, default=None, help="a full cancerhotspots v2 table (as annotate)")
    p.add_argument("--no-html", action="store_true", help="write the tables only")
    add_json_flag(p)
    p.set_defaults(handler=_screen)


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (only on a terminal), advanced by the bytes of each finished part."""
    if not enabled:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("screen"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("screen", total=total)
        yield lambda n: bar.advance(task, n)


def _check(args: argparse.Namespace) -> None:
    problems = []
    if args.workers < 1:
        problems.append(Problem("--workers", args.workers, "an integer >= 1"))
    if not args.chunk_mb > 0:
        problems.append(Problem("--chunk-mb", args.chunk_mb, "a number > 0"))
    if args.chunk_rows < 1:
        problems.append(Problem("--chunk-rows", args.chunk_rows, "an integer >= 1"))
    if args.scheduler is not None and args.engine != "dask":
        problems.append(Problem("--scheduler", args.scheduler, "only with --engine dask"))
    if args.output.exists() and not args.output.is_dir():
        problems.append(Problem("-o", str(args.output), "a folder (it is created when missing)", "it is a file"))
    if problems:
        raise InputError(problems)


def _screen(args: argparse.Namespace) -> CommandResult:
    _check(args)
    started = time.perf_counter()
    the_plan = plan(args.inputs, cna=args.cna, clinical=args.clinical, chunk_bytes=int(args.chunk_mb * 2**20),
                    chunk_rows=args.chunk_rows)
    clinical = read_clinical(the_plan.clinical) if the_plan.clinical else None
    hotspot_path = args.hotspots or _default_hotspots()
    options = Options(on_shift=args.on_shift, tumour_column=args.tumour_column)
    with _progress(sys.stderr.isatty(), the_plan.total) as advance, ThreadPoolExecutor(2) as pool:
        # the knowledge and the hotspot table load while the first parts are read (as in annotate), and the
        # summary's modules (the engine's criteria, the intervals' scipy.special) while the parts run
        later = pool.submit(_genomics, hotspot_path)
        for module in ("nerasense.screen.summary", "scipy.special",
                       *(() if args.no_html else ("nerasense.report.screen_report",))):
            pool.submit(importlib.import_module, module)
        if args.engine == "dask":
            results = run_dask(the_plan.parts, later.result(), options, scheduler=args.scheduler,
                               workers=args.workers, progress=advance)
        else:
            results = run_local(the_plan.parts, later.result, options, workers=args.workers, progress=advance)
        gk = later.result()
    from nerasense.screen.summary import combine

    screen = combine(results, gk, clinical=clinical, vocabulary=args.tumour_vocabulary, files=the_plan.files)
    screen.notes[:0] = list(the_plan.notes)
    seconds = time.perf_counter() - started
    written = write_screen(screen, args.output, gk.kb.kb_version, html=not args.no_html)
    payload: dict[str, Any] = {
        "output_dir": str(args.output),
        "engine": args.engine if args.scheduler is None else f"dask ({args.scheduler})",
        "accounting": screen.accounting,
        "samples": screen.samples.height,
        "tumour_types": _wide(screen.tumour_types).to_dicts(),
        "criteria": screen.criteria,
        "tumour_vocabulary": screen.vocabulary,
        "files_written": written,
        "notes": screen.notes,
        "warnings": screen.warnings,
        "seconds": round(seconds, 3),
        "research_use_only": True,
    }
    return CommandResult(stamp(payload, gk.kb.kb_version), _text(payload), warnings=list(screen.warnings))


def _wide(tumour_types: pl.DataFrame) -> pl.DataFrame:
    """One row per tumour type: screened and the count of each measure (for the JSON and the text)."""
    return tumour_types.pivot(on="measure", index="tumour_type", values="count", aggregate_function="first",
                              maintain_order=True)


def _write(frame: pl.DataFrame, path: Path) -> None:
    with atomic_output(path) as partial:
        if path.suffix == ".parquet":
            frame.write_parquet(partial)
        else:
            frame.write_csv(partial, separator="\t")


def write_screen(screen: Screen, out: Path, kb_version: str, *, html: bool = True) -> list[str]:
    """samples, tumour_types, alleles (Parquet and TSV), refused.tsv and summary.html in ``out``."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out, exc) from None
    written = []
    for name, frame in (("samples", screen.samples), ("tumour_types", screen.tumour_types),
                        ("alleles", screen.alleles)):
        for suffix in (".parquet", ".tsv"):
            _write(frame, out / f"{name}{suffix}")
            written.append(f"{name}{suffix}")
    _write(screen.rejected, out / "refused.tsv")
    written.append("refused.tsv")
    if html:
        from nerasense.report.screen_report import render_screen

        with atomic_output(out / "summary.html") as partial:
            partial.write_text(render_screen(screen, kb_version), encoding="utf-8")
        written.append("summary.html")
    return written


def _text(payload: dict[str, Any]) -> str:
    a = payload["accounting"]
    lines = [
        f"screened {a['input_records']} input rows from {len(a['files'])} file(s) in {a['parts']} parts "
        f"({payload['engine']}, {payload['seconds']} s): {a['alterations']} alterations, {a['no_call']} no-calls, "
        f"{a['refused']} refused; all accounted for: {'yes' if a['accounted'] else 'NO'}; "
        f"{a['duplicate_rows']} duplicated rows (counted once per sample)",
        f"{payload['samples']} samples; research use only",
        "",
        f"  {'tumour type':<40} {'screened':>9} {'ERBB2':>7} {'activ.':>7} {'amp':>6} {'ERBB3':>6} {'resist.':>8}",
    ]
    for row in payload["tumour_types"][:40]:
        amp = row.get("erbb2_amplified")
        lines.append(f"  {row['tumour_type'][:40]:<40} {row['screened']:>9} {row['erbb2_any']:>7} "
                     f"{row['erbb2_activating']:>7} {'-' if amp is None else amp:>6} {row['erbb3_any']:>6} "
                     f"{row['resistance']:>8}")
    lines += [f"  note: {n}" for n in payload["notes"]]
    lines.append(f"  written to {payload['output_dir']}: {', '.join(payload['files_written'])}")
    return "\n".join(lines)
