"""The per-partition function both engines run: read one part with the ``annotate`` readers and keep only what
the cohort summary needs; and :func:`classify`, which the summary runs once over every part's candidate rows.

A plain-MAF part goes through the plain-row reader (:func:`~nerasense.ingest.maf.read_maf_text_plain`: annotate's
pass over every row, annotate's last step for the rows the plain-row rule does not accept), else through
``read_maf_text``; Parquet row ranges, gzipped MAFs and copy-number tables through ``read_maf_rows``, ``read_maf``
and ``read_cna``. What a part hands back (:class:`PartResult`) is small next to its rows: the samples it saw, the
accepted rows of neratinib-relevant genes (ERBB2, ERBB3, the knowledge base's pathway, rule and region genes: the
candidates :func:`classify` gives effects to), a 64-bit hash per accepted row (for counting duplicated rows
across parts) and the refused rows with their reasons. Nothing here depends on which engine runs it, so the
engines agree row for row.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import polars as pl

from nerasense.ingest.cna import ANNOTATION_COLS, GENE_COLS, read_cna
from nerasense.ingest.maf import OnShift, count_byte, read_maf, read_maf_rows, read_maf_text, read_maf_text_plain
from nerasense.ingest.table import AlterationTable, resolve_gene_column
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.screen.inputs import Part

COPY_NUMBER_KINDS = ("amplification", "gain", "loss", "deletion")
# per-sample flags a part reports; summary.FLAGS names them for the tables
FLAG_COLUMNS = ("erbb2_mutation", "erbb2_activating", "erbb2_unknown", "erbb2_resistance", "erbb2_amplified",
                "erbb2_kinase", "erbb2_lower_benefit", "erbb3_mutation", "erbb3_activating", "resistance")
RELEVANT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "sample": pl.String, "gene": pl.String, "protein_change": pl.String, "kind": pl.String, "effect": pl.String,
    "oncogenicity": pl.String, "domain": pl.String, "exon": pl.Int64, "hotspot": pl.Boolean,
    "lower_benefit": pl.Boolean, "vaf": pl.Float64}
RELEVANT_COLUMNS = tuple(RELEVANT_SCHEMA)
SAMPLE_COLUMN = "Tumor_Sample_Barcode"
Knowledge = GenomicsKnowledge | Callable[[], GenomicsKnowledge]


@dataclass(frozen=True)
class Options:
    """What every part needs besides its knowledge (picklable; sent to every worker)."""

    on_shift: OnShift = "repair"
    tumour_column: str | None = None  # a column of the mutation table naming each sample's tumour type


@dataclass
class PartResult:
    index: int
    path: str
    kind: str
    input_records: int
    accepted: int
    no_call: int
    newlines: int  # line ends in the part's own bytes (maf-text): renumbers later parts' refused lines
    samples: pl.Series  # every sample named by a row of the part (accepted or refused)
    candidates: pl.DataFrame  # CANDIDATE_COLUMNS of the accepted rows of relevant genes, in line order
    keys: pl.Series  # UInt64 hash of (sample, gene, kind, chrom, pos, ref, alt) of each accepted row
    rejected: pl.DataFrame  # REJECTED_SCHEMA rows
    tumours: pl.DataFrame  # sample, tumour (from Options.tumour_column)
    cna_samples: pl.Series  # samples a copy-number part profiled
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def relevant_genes(gk: GenomicsKnowledge) -> list[str]:
    """ERBB2, ERBB3 and every gene the knowledge base has a rule, a protein region or a pathway entry for."""
    return sorted({"ERBB2", "ERBB3"} | set(gk.rules) | set(gk.regions) | set(gk.pathway_genes))


def _part_text(part: Part) -> bytes:
    """A maf-text part's own bytes (later parts: data lines only; ``part.header`` is the file's header line)."""
    with open(part.path, "rb") as fh:
        fh.seek(part.start)
        return fh.read(part.stop - part.start)


def _read(part: Part, gk: Knowledge, options: Options, text: bytes | None = None
          ) -> tuple[AlterationTable, pl.DataFrame]:
    """The part's table through the annotate readers, and its (sample, tumour) pairs."""
    name = Path(part.path).name
    empty = pl.DataFrame(schema={"sample": pl.String, "tumour": pl.String})
    column = options.tumour_column
    if part.kind == "maf-text":
        assert text is not None
        taken: list[pl.DataFrame] = []
        table = read_maf_text(text, name, gk, on_shift=options.on_shift,
                              seen=(lambda rows: taken.append(_tumours(rows, column))) if column else None)
        return table, taken[0] if taken else empty
    if part.kind == "parquet":
        frame = pl.scan_parquet(part.path).slice(part.start, part.stop - part.start).collect()
        tumours = _tumours(frame, column) if column is not None else empty
        table = read_maf_rows(frame, name, gk, first_line=part.start + 1, on_shift=options.on_shift)
        return table, tumours
    if part.kind == "maf-file":
        table = read_maf(part.path, gk, on_shift=options.on_shift)
        return table, empty
    table = read_cna(part.path)
    loaded = gk() if callable(gk) else gk
    if table.frame.height:  # the MAF reader resolves gene aliases (HER2) itself; annotate does this for CNA
        table.frame = table.frame.with_columns(resolve_gene_column(table.frame, "gene", loaded))
    return table, empty


def _tumours(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """(sample, tumour) pairs in the order rows first name them (a sample's rows are usually together, so only
    the rows where the pair changes are compared)."""
    from nerasense.errors import InputError, Problem

    if column not in frame.columns or SAMPLE_COLUMN not in frame.columns:
        raise InputError(Problem("--tumour-column", column,
                                 f"a column of the mutation table ({', '.join(frame.columns[:8])}, ...)",
                                 "name the column that holds each sample's tumour type"))
    sample, tumour = frame[SAMPLE_COLUMN].cast(pl.String), frame[column].cast(pl.String)
    changed = (sample.ne_missing(sample.shift(1)) | tumour.ne_missing(tumour.shift(1))).fill_null(True)
    pairs = pl.DataFrame([sample.filter(changed).alias("sample"), tumour.filter(changed).alias("tumour")])
    return pairs.unique(maintain_order=True).drop_nulls("sample")


def _cna_samples(part: Part, table: AlterationTable) -> pl.Series:
    """Samples a copy-number table profiled: its sample columns (matrix) or its sample values (long)."""
    seen = pl.concat([table.frame["sample"], table.rejected["sample"]]).drop_nulls()
    if table.flavour == "matrix":
        header = pl.read_csv(part.path, separator="\t", n_rows=0, comment_prefix="#", quote_char=None).columns
        seen = pl.concat([seen, pl.Series([h for h in header if h not in GENE_COLS and h not in ANNOTATION_COLS],
                                          dtype=pl.String)])
    return seen.unique().sort().alias("sample")


_local = threading.local()  # .caught: the warnings of the part this thread runs (under threads_recording)
_recording = threading.Event()


@contextmanager
def threads_recording() -> Iterator[None]:
    """Record the warnings of parts run in several threads, each part its own. ``warnings.catch_warnings`` is
    process-wide state: one thread leaving it while another is inside would restore the other's filters (a
    warning could then be raised as an error, or lost). The engine enters this once around its threads; each
    part then collects into its thread's own list."""
    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        caught = getattr(_local, "caught", None)
        if caught is not None:
            caught.append(str(message))
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        shown = warnings.showwarning
        warnings.showwarning = show
        _recording.set()
        try:
            yield
        finally:
            _recording.clear()


@contextmanager
def _part_warnings() -> Iterator[list[str]]:
    """The warnings raised while this part is read, as text."""
    if _recording.is_set():
        caught: list[str] = []
        _local.caught = caught
        try:
            yield caught
        finally:
            _local.caught = None
        return
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        texts: list[str] = []
        yield texts
    texts.extend(str(w.message) for w in recorded)


# the 64-bit hash of an accepted row that says which rows are duplicates (the same in every process and engine:
# polars' row hash with a fixed seed, over these columns with these types)
KEY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "sample": pl.String, "gene": pl.String, "kind": pl.String, "chrom": pl.String, "pos": pl.Int64,
    "ref": pl.String, "alt": pl.String}


def row_keys(frame: pl.DataFrame) -> pl.Series:
    """The row hash of every row of ``frame`` (accepted rows: the reader's column names)."""
    return frame.select(pl.col(k).cast(v) for k, v in KEY_SCHEMA.items()).hash_rows(seed=0).alias("key")


# what annotate_frame and the part's reduction read of an accepted row
ROW_COLUMNS = ("sample", "gene", "kind", "protein_change", "vaf", "line")
CANDIDATE_COLUMNS = ROW_COLUMNS[:-1]


@dataclass
class _Rows:
    """A part read and checked: what the reduction needs of it."""

    accepted: int
    input_records: int
    no_call: int
    candidates: pl.DataFrame  # ROW_COLUMNS of accepted rows of relevant genes, in line order
    keys: pl.Series  # row_keys of every accepted row
    samples: pl.Series  # every sample a row names (accepted or refused)
    table: AlterationTable  # refused rows, notes (and, for copy number, the profiled samples)
    tumours: pl.DataFrame
    line_ends: int = 0  # newlines in a maf-text part's own bytes


def _plain_read(part: Part, text: bytes, gk: Knowledge, options: Options, genes: Callable[[], list[str]]
                ) -> _Rows | None:
    """A maf-text part through :func:`~nerasense.ingest.maf.read_maf_text_plain` (None: it needs the full
    reader). The plain rows are reduced in polars; the other rows come back finished by the annotate reader."""
    column = options.tumour_column
    read = read_maf_text_plain(text, Path(part.path).name, gk, keep=(column,) if column else (), header=part.header)
    if read is None:
        return None
    tumours = _tumours(read.rows, column) if column else pl.DataFrame(schema={"sample": pl.String, "tumour": pl.String})
    rest = read.rest.frame
    relevant = pl.col("gene").is_in(genes())
    candidate = read.plain & read.passed["gene"].is_in(genes())
    plain_candidates = read.passed.filter(candidate).with_columns(
        pl.col("raw_change").alias("protein_change"))  # a plain row's change is as written
    candidates = pl.concat([plain_candidates.select(ROW_COLUMNS), rest.filter(relevant).select(ROW_COLUMNS)]).sort("line")
    keys = pl.concat([row_keys(read.passed).filter(read.plain), row_keys(rest)])
    if column:  # the pairs name every sample
        samples = tumours["sample"]
    else:
        names = read.rows.get_column(SAMPLE_COLUMN)
        samples = names.filter(names.ne_missing(names.shift(1)).fill_null(True))
    return _Rows(accepted=read.accepted, input_records=read.input_records, no_call=0, candidates=candidates,
                 keys=keys, samples=samples, table=read.rest, tumours=tumours, line_ends=read.line_ends)


def _full_read(part: Part, text: bytes | None, gk: Knowledge, options: Options, genes: Callable[[], list[str]]
               ) -> _Rows:
    table, tumours = _read(part, gk, options, text)
    frame = table.frame
    return _Rows(accepted=frame.height, input_records=table.input_records, no_call=table.not_alterations,
                 candidates=frame.filter(pl.col("gene").is_in(genes())).select(ROW_COLUMNS),
                 keys=row_keys(frame), samples=frame["sample"], table=table, tumours=tumours)


def classify(candidates: pl.DataFrame, gk: GenomicsKnowledge) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The candidate rows of every part classified by the annotate rules (:func:`annotate_frame`, once per
    distinct allele): the relevant rows (RELEVANT_COLUMNS: every row whose effect is not likely-neutral) and the
    per-sample flags (sample + FLAG_COLUMNS, samples with at least one flag)."""
    from nerasense.ingest.hgvs_protein import parse_protein_change
    from nerasense.interpret.variants import annotate_frame

    annotated = annotate_frame(candidates, gk, parse_protein_change)
    c = pl.col
    mutation = ~c("kind").is_in(COPY_NUMBER_KINDS)
    erbb2, erbb3 = c("gene") == "ERBB2", c("gene") == "ERBB3"
    effect = c("effect")
    called = effect != "likely-neutral"
    flag_exprs = {
        "erbb2_mutation": erbb2 & mutation & called,
        "erbb2_activating": erbb2 & mutation & (effect == "activating"),
        "erbb2_unknown": erbb2 & mutation & (effect == "unknown"),
        "erbb2_resistance": erbb2 & mutation & (effect == "resistance"),
        "erbb2_amplified": erbb2 & (c("kind") == "amplification"),
        "erbb2_kinase": erbb2 & mutation & (effect == "activating") & c("domain").str.to_lowercase().str.contains("kinase"),
        "erbb2_lower_benefit": erbb2 & mutation & c("lower_benefit"),
        "erbb3_mutation": erbb3 & mutation & called,
        "erbb3_activating": erbb3 & mutation & (effect == "activating"),
        "resistance": effect == "resistance",
    }
    relevant = annotated.filter(called | (effect == "resistance")).select(RELEVANT_COLUMNS)
    flags = (relevant.group_by("sample").agg(**{k: v.fill_null(False).any() for k, v in flag_exprs.items()})
             .filter(pl.any_horizontal(FLAG_COLUMNS)))
    return relevant.cast(RELEVANT_SCHEMA), flags.sort("sample")  # type: ignore[arg-type]


def _own(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of a small frame that holds its own strings. A filtered polars string column still points into the
    buffers of the column it came from (a whole part's), which would live as long as the part's result: over the
    97 parts of a 21-million-row file, several hundred MB. The frames a part hands back are small (a few thousand
    rows), so this costs milliseconds."""
    return pl.DataFrame([pl.Series(c.name, c.to_list(), dtype=c.dtype) for c in frame.get_columns()],
                        schema=frame.schema)


def screen_part(part: Part, knowledge: Knowledge, options: Options) -> PartResult:
    """Read, classify and reduce one part (see the module docstring). ``knowledge`` is the genomics knowledge
    or a function that returns it (called once the part's text is read, as ``read_maf`` does: the first parts
    are read while the knowledge loads).

    A plain-MAF part is read by the plain-row reader (:func:`~nerasense.ingest.maf.read_maf_text_plain`:
    the annotate reader's checks, with its own last step for every row the plain-row rule does not accept),
    or, when its text needs it, by the annotate reader itself; either gives the same rows and refusals."""
    def genes() -> list[str]:
        return relevant_genes(knowledge() if callable(knowledge) else knowledge)

    text = _part_text(part) if part.kind == "maf-text" else None
    with _part_warnings() as caught:
        rows = _plain_read(part, text, knowledge, options, genes) if text is not None else None
        if rows is None:
            rows = _full_read(part, part.header + text if text is not None else None, knowledge, options, genes)
            rows.line_ends = count_byte(text, b"\n") if text is not None else 0
    newlines = rows.line_ends
    table = rows.table
    profiled = _cna_samples(part, table) if part.kind == "cna" else pl.Series("sample", [], dtype=pl.String)
    seen = pl.concat([rows.samples.cast(pl.String), table.rejected["sample"], profiled]).drop_nulls().unique().sort()
    return PartResult(
        index=part.index, path=part.path, kind=part.kind, input_records=rows.input_records,
        accepted=rows.accepted, no_call=rows.no_call, newlines=newlines,
        samples=_own(pl.DataFrame([seen.alias("sample")]))["sample"],
        candidates=_own(rows.candidates.select(CANDIDATE_COLUMNS)), keys=rows.keys.alias("keys"),
        rejected=_own(table.rejected), tumours=_own(rows.tumours), cna_samples=_own(pl.DataFrame([profiled]))["sample"],
        notes=list(table.notes), warnings=list(caught),
    )


__all__ = ["COPY_NUMBER_KINDS", "FLAG_COLUMNS", "RELEVANT_COLUMNS", "RELEVANT_SCHEMA", "Options", "PartResult", "classify",
           "relevant_genes", "screen_part", "threads_recording"]
