"""The per-partition function both engines run: read one part with the ``annotate`` readers, classify every row
with :func:`~nerasense.interpret.variants.annotate_frame`, and keep only what the cohort summary needs.

What a part hands back (:class:`PartResult`) is small next to its rows: the samples it saw, per-sample flags,
the rows of neratinib-relevant genes (ERBB2, ERBB3, the knowledge base's pathway and rule genes, and any row
whose effect is resistance), a 64-bit hash per accepted row (for counting duplicated rows across parts) and
the refused rows with their reasons. Nothing here depends on which engine runs it, so the engines agree row
for row.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from nerasense.ingest.cna import ANNOTATION_COLS, GENE_COLS, read_cna
from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.ingest.maf import OnShift, read_maf, read_maf_rows, read_maf_text
from nerasense.ingest.table import AlterationTable, resolve_gene_column
from nerasense.interpret.variants import annotate_frame
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
    flags: pl.DataFrame  # sample + FLAG_COLUMNS, for samples with at least one flag
    relevant: pl.DataFrame  # RELEVANT_COLUMNS rows
    keys: pl.Series  # UInt64 hash of (sample, gene, kind, chrom, pos, ref, alt) of each accepted row
    rejected: pl.DataFrame  # REJECTED_SCHEMA rows
    tumours: pl.DataFrame  # sample, tumour (from Options.tumour_column)
    cna_samples: pl.Series  # samples a copy-number part profiled
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def relevant_genes(gk: GenomicsKnowledge) -> list[str]:
    """ERBB2, ERBB3 and every gene the knowledge base has a rule, a protein region or a pathway entry for."""
    return sorted({"ERBB2", "ERBB3"} | set(gk.rules) | set(gk.regions) | set(gk.pathway_genes))


def _read(part: Part, gk: Knowledge, options: Options) -> tuple[AlterationTable, int, pl.DataFrame]:
    """The part's table, its line ends (maf-text) and its (sample, tumour) pairs."""
    name = Path(part.path).name
    empty = pl.DataFrame(schema={"sample": pl.String, "tumour": pl.String})
    column = options.tumour_column
    if part.kind == "maf-text":
        with open(part.path, "rb") as fh:
            fh.seek(part.start)
            body = fh.read(part.stop - part.start)
        data = part.header + body if part.header else body
        taken: list[pl.DataFrame] = []
        table = read_maf_text(data, name, gk, on_shift=options.on_shift,
                              seen=(lambda rows: taken.append(_tumours(rows, column))) if column else None)
        return table, body.count(b"\n"), taken[0] if taken else empty
    if part.kind == "parquet":
        frame = pl.scan_parquet(part.path).slice(part.start, part.stop - part.start).collect()
        tumours = _tumours(frame, column) if column is not None else empty
        table = read_maf_rows(frame, name, gk, first_line=part.start + 1, on_shift=options.on_shift)
        return table, 0, tumours
    if part.kind == "maf-file":
        table = read_maf(part.path, gk, on_shift=options.on_shift)
        return table, 0, empty
    table = read_cna(part.path)
    loaded = gk() if callable(gk) else gk
    if table.frame.height:  # the MAF reader resolves gene aliases (HER2) itself; annotate does this for CNA
        table.frame = table.frame.with_columns(resolve_gene_column(table.frame, "gene", loaded))
    return table, 0, empty


def _tumours(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    from nerasense.errors import InputError, Problem

    if column not in frame.columns or SAMPLE_COLUMN not in frame.columns:
        raise InputError(Problem("--tumour-column", column,
                                 f"a column of the mutation table ({', '.join(frame.columns[:8])}, ...)",
                                 "name the column that holds each sample's tumour type"))
    return frame.select(pl.col(SAMPLE_COLUMN).cast(pl.String).alias("sample"),
                        pl.col(column).cast(pl.String).alias("tumour")).unique().drop_nulls("sample")


def _cna_samples(part: Part, table: AlterationTable) -> pl.Series:
    """Samples a copy-number table profiled: its sample columns (matrix) or its sample values (long)."""
    seen = pl.concat([table.frame["sample"], table.rejected["sample"]]).drop_nulls()
    if table.flavour == "matrix":
        header = pl.read_csv(part.path, separator="\t", n_rows=0, comment_prefix="#", quote_char=None).columns
        seen = pl.concat([seen, pl.Series([h for h in header if h not in GENE_COLS and h not in ANNOTATION_COLS],
                                          dtype=pl.String)])
    return seen.unique().sort().alias("sample")


def screen_part(part: Part, knowledge: Knowledge, options: Options) -> PartResult:
    """Read, classify and reduce one part (see the module docstring). ``knowledge`` is the genomics knowledge
    or a function that returns it (called once the part's text is read, as ``read_maf`` does: the first parts
    are read while the knowledge loads)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table, newlines, tumours = _read(part, knowledge, options)
    gk = knowledge() if callable(knowledge) else knowledge
    genes = relevant_genes(gk)
    frame = table.frame
    # only the rows of genes the knowledge base says something about are classified: the rows of every other
    # gene can only be of unknown or likely-neutral effect, which no figure of the screen counts
    annotated = annotate_frame(frame.filter(pl.col("gene").is_in(genes)), gk, parse_protein_change) \
        if frame.height else None
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
    if annotated is not None:
        relevant = annotated.filter(called | (effect == "resistance")).select(RELEVANT_COLUMNS)
        flags = (relevant.group_by("sample").agg(**{k: v.fill_null(False).any() for k, v in flag_exprs.items()})
                 .filter(pl.any_horizontal(FLAG_COLUMNS)))
        keys = frame.select(pl.struct("sample", "gene", "kind", "chrom", "pos", "ref", "alt").hash(seed=0)).to_series()
        samples = frame["sample"]
    else:
        relevant = pl.DataFrame(schema=RELEVANT_SCHEMA)
        flags = pl.DataFrame(schema={"sample": pl.String, **dict.fromkeys(FLAG_COLUMNS, pl.Boolean)})
        keys = pl.Series("keys", [], dtype=pl.UInt64)
        samples = pl.Series("sample", [], dtype=pl.String)
    relevant = relevant.cast(RELEVANT_SCHEMA)  # type: ignore[arg-type]
    profiled = _cna_samples(part, table) if part.kind == "cna" else pl.Series("sample", [], dtype=pl.String)
    seen = pl.concat([samples, table.rejected["sample"], profiled]).drop_nulls().unique().sort().alias("sample")
    return PartResult(
        index=part.index, path=part.path, kind=part.kind, input_records=table.input_records,
        accepted=table.frame.height, no_call=table.not_alterations, newlines=newlines, samples=seen,
        flags=flags.sort("sample"), relevant=relevant, keys=keys, rejected=table.rejected, tumours=tumours,
        cna_samples=profiled,
        notes=list(table.notes), warnings=[str(w.message) for w in caught],
    )


__all__ = ["COPY_NUMBER_KINDS", "FLAG_COLUMNS", "RELEVANT_COLUMNS", "RELEVANT_SCHEMA", "Options", "PartResult", "relevant_genes",
           "screen_part"]
