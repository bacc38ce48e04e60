"""The tabular form every genomic reader returns: accepted alterations and rejected rows.

Large files stay columnar (a polars DataFrame with :data:`ALTERATION_SCHEMA`); :meth:`AlterationTable.
alterations` turns rows into :class:`~nerasense.domain.alterations.Alteration` models on demand. Every
input record ends up either in ``frame`` or in ``rejected`` (with its reason); ``input_records`` says how
many there were, so callers can check nothing went missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from nerasense.domain.alterations import Alteration, RejectedRecord
from nerasense.errors import InputError, Problem
from nerasense.ingest.files import read_bytes as read_bytes
from nerasense.ingest.files import read_head
from nerasense.ingest.files import require_file as require_file
from nerasense.ingest.hgvs_protein import apply_alias, parse_protein_change
from nerasense.ingest.normal_form import already_normalised, fast_change
from nerasense.knowledge.genomics import GenomicsKnowledge

ALTERATION_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "gene": pl.String,
    "kind": pl.String,
    "protein_change": pl.String,
    "legacy_name": pl.String,
    "consequence": pl.String,
    "hgvs_c": pl.String,
    "transcript": pl.String,
    "chrom": pl.String,
    "pos": pl.Int64,
    "ref": pl.String,
    "alt": pl.String,
    "genome_build": pl.String,
    "vaf": pl.Float64,
    "depth": pl.Int64,
    "alt_count": pl.Int64,
    "copy_number": pl.Float64,
    "cna_call": pl.Int64,
    "sample": pl.String,
    "origin": pl.String,
    # the 1-based line of the input file the alteration was read from (with ``sample``, a cell of a copy-number
    # matrix): a number, not "file:line" text, so a large table does not repeat its file name on every row;
    # AlterationTable.record writes the text where one row is shown
    "line": pl.Int64,
}
REJECTED_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "record": pl.String,
    "reason": pl.String,
    "gene": pl.String,
    "value": pl.String,
    "sample": pl.String,
}


@dataclass
class AlterationTable:
    """Accepted alterations and rejected records read from one file."""

    path: str
    format: str
    frame: pl.DataFrame
    rejected: pl.DataFrame
    input_records: int
    flavour: str = ""
    notes: list[str] = field(default_factory=list)
    not_alterations: int = 0  # records that are valid but carry no alteration (copy-number 0 cells)

    def __post_init__(self) -> None:
        self.frame = conform(self.frame, ALTERATION_SCHEMA)
        self.rejected = conform(self.rejected, REJECTED_SCHEMA)

    @property
    def accounted(self) -> bool:
        """True when every input record is an alteration, a rejection or a valid no-call."""
        return self.frame.height + self.rejected.height + self.not_alterations == self.input_records

    def rejected_records(self) -> Iterator[RejectedRecord]:
        for row in self.rejected.iter_rows(named=True):
            yield RejectedRecord.model_validate(row)

    def record(self, line: int | None, sample: str | None = None) -> str:
        """Where a row was read, as text: ``file:line``, and ``file:line:sample`` for a copy-number matrix cell
        (the form the rejected rows use)."""
        where = f"{Path(self.path).name}:{line}"
        return f"{where}:{sample}" if self.format == "cna" and self.flavour == "matrix" else where

    def alterations(self) -> Iterator[Alteration]:
        for row in self.frame.iter_rows(named=True):
            change = parse_protein_change(row["protein_change"]) if row["protein_change"] else None
            data = {k: v for k, v in row.items() if v is not None and k not in ("legacy_name", "line")}
            yield Alteration.model_validate({**data, "protein": change, "record": self.record(row["line"], row["sample"])})


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType | type[pl.DataType]]) -> pl.DataFrame:
    """Select the schema's columns in order, adding missing ones as nulls and casting types."""
    if frame.schema == pl.Schema(schema):
        return frame  # already in shape: no select, which would copy a frame of many chunks
    cols = []
    for name, dtype in schema.items():
        if name in frame.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(cols) if frame.width or frame.height else pl.DataFrame(schema=schema)


def _fast_mask(alias_genes: list[str]) -> pl.Expr:
    """Rows whose change is already normalised and whose gene has no legacy aliases."""
    return (fast_change() & ~pl.col("gene").is_in(alias_genes)).fill_null(False)


def slow_changes(raw: pl.Expr) -> pl.Expr:
    """The distinct raw change strings the parser must see (those not already in normalised form)."""
    return raw.filter(~fast_change(raw).fill_null(False)).unique()


@dataclass(frozen=True)
class ChangeAnswers:
    """What the parser says of the raw change strings that are not already normalised, as column expressions.

    Built once per file from the distinct slow strings (:func:`slow_changes`); applied to every row by
    hash look-ups, so no row is parsed twice and no column is rewritten by position.
    """

    changed: dict[str, str | None]  # raw text -> normalised text (None when it does not parse)
    errors: dict[str, str]  # raw text -> why it does not parse
    aliases: dict[str, dict[str, str]]  # gene -> normalised legacy name -> HGVS, for legacy names the rows hold

    @classmethod
    def of(cls, slow: Iterable[str], gk: GenomicsKnowledge, fast_present: Iterable[str] = ()) -> ChangeAnswers:
        """Answers for the distinct ``slow`` strings; ``fast_present`` lists any already-normalised strings
        in the rows that a knowledge alias names (so its rewrite is applied too)."""
        changed: dict[str, str | None] = {}
        errors: dict[str, str] = {}
        present = set(fast_present)
        texts = pl.Series(list(slow), dtype=pl.String)
        done = already_normalised(texts)
        present.update(texts.filter(done).to_list())
        for text in texts.filter(~done).to_list():
            change, _, error = normalise_change(text, {})
            if change != text:
                changed[text] = change
            if error is not None:
                errors[text] = error
            elif change is not None:
                present.add(change)
        used = {gene: {k: v for k, v in by.items() if k in present} for gene, by in alias_map(gk).items()}
        return cls(changed, errors, {gene: by for gene, by in used.items() if by})

    def columns(self, raw: pl.Expr, gene: pl.Expr) -> list[pl.Expr]:
        """protein_change, legacy_name and change_error for every row, from its raw text and gene."""
        change = raw.replace(self.changed) if self.changed else raw
        legacy: pl.Expr = pl.lit(None, dtype=pl.String)
        for symbol, by in self.aliases.items():  # legacy names a knowledge entry maps to HGVS (a handful)
            hit = (gene == symbol) & change.is_in(list(by))
            legacy = pl.when(hit).then(change).otherwise(legacy)
            change = pl.when(hit).then(change.replace(by)).otherwise(change)
        error = (raw.replace_strict(self.errors, default=None, return_dtype=pl.String) if self.errors
                 else pl.lit(None, dtype=pl.String))
        return [change.alias("protein_change"), legacy.alias("legacy_name"), error.alias("change_error")]


def fast_alias_keys(gk: GenomicsKnowledge) -> list[str]:
    """Legacy names a knowledge alias maps that are already in normalised form (the rows may hold them as is).
    Worked out once per knowledge object (kept beside its cached properties: a screen asks once per part)."""
    cached = gk.__dict__.get("_fast_alias_keys")
    if cached is None:
        keys = sorted({k for by in alias_map(gk).values() for k in by})
        frame = pl.DataFrame({"raw_change": keys}, schema={"raw_change": pl.String})
        cached = gk.__dict__["_fast_alias_keys"] = frame.filter(fast_change()).to_series().to_list()
    return list(cached)


def attach_changes(frame: pl.DataFrame, gk: GenomicsKnowledge) -> pl.DataFrame:
    """Add protein_change, legacy_name and change_error to a frame with gene and raw_change columns.

    A change already in normalised form (most rows of a real MAF) passes through; the other strings are
    parsed once per distinct value (:class:`ChangeAnswers`). Genes with legacy aliases get their
    knowledge-base rewrite (``A775_G776insYVMA`` -> ``p.Y772_A775dup``).
    """
    raw, keys = pl.col("raw_change"), fast_alias_keys(gk)
    slow, present = frame.select(slow_changes(raw).implode().alias("slow"),
                                 raw.filter(raw.is_in(keys)).unique().implode().alias("present")).row(0)
    answers = ChangeAnswers.of(slow, gk, present)
    return frame.with_columns(answers.columns(raw, pl.col("gene")))


def normalise_change(text: str | None, aliases: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """(protein_change, legacy_name, parse error) of one raw change string, the reference path."""
    if text is None or text == "":
        return None, None, None
    try:
        change = parse_protein_change(text)
    except InputError as exc:
        return None, None, exc.problems[0].fix
    change, legacy = apply_alias(change, aliases)
    return change.text, legacy, None


def normalise_changes(genes_changes: pl.DataFrame, gk: GenomicsKnowledge) -> pl.DataFrame:
    """For distinct (gene, raw_change) pairs, return protein_change, legacy_name and a parse error.

    Strings already in normalised form pass through as column expressions; the rest (3-letter, bare,
    legacy, insertions, genes with legacy aliases) are parsed one distinct string at a time.
    """
    aliases = alias_map(gk)
    raw = pl.col("raw_change")
    marked = genes_changes.with_columns(_fast_mask(list(aliases)).alias("_fast"))
    fast = marked.filter(pl.col("_fast")).drop("_fast").with_columns(
        raw.alias("protein_change"), pl.lit(None, dtype=pl.String).alias("legacy_name"),
        pl.lit(None, dtype=pl.String).alias("change_error"))
    slow = marked.filter(~pl.col("_fast")).drop("_fast")
    answers = [normalise_change(text, aliases.get(gene or "", {}))
               for gene, text in slow.select("gene", "raw_change").iter_rows()]
    slow = slow.with_columns(
        pl.Series(name, [a[k] for a in answers], dtype=pl.String)
        for k, name in enumerate(("protein_change", "legacy_name", "change_error")))
    return pl.concat([fast, slow], how="vertical_relaxed")


def alias_map(gk: GenomicsKnowledge) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for (gene, legacy), alias in gk.variant_aliases.items():
        if alias.unverified:
            continue  # [U] equivalences are not applied
        out.setdefault(gene, {})[parse_protein_change(legacy).text] = alias.hgvs
    return out


def resolve_gene_column(frame: pl.DataFrame, column: str, gk: GenomicsKnowledge) -> pl.Expr:
    """An expression mapping a gene column through the knowledge base's aliases (HER2 -> ERBB2).

    The mapping is worked out on the distinct values (a few thousand), so only symbols that change are
    replaced row by row.
    """
    values = frame[column].drop_nulls().unique().to_list()
    mapping = {v: gk.symbol(v) for v in values if gk.symbol(v) != v}
    expr = pl.col(column).replace(mapping) if mapping else pl.col(column)
    return expr.alias("gene")


__all__ = [
    "ALTERATION_SCHEMA",
    "REJECTED_SCHEMA",
    "AlterationTable",
    "ChangeAnswers",
    "alias_map",
    "attach_changes",
    "conform",
    "fast_alias_keys",
    "fast_change",
    "normalise_change",
    "normalise_changes",
    "read_bytes",
    "require_file",
    "resolve_gene_column",
    "slow_changes",
]


FORMATS = ("maf", "vcf", "cna")


def guess_format(path: Path, field: str = "--format") -> str:
    """maf, vcf or cna, from the file name and then its first lines."""
    name = path.name.lower()
    for suffix in (".gz", ".bgz"):
        name = name.removesuffix(suffix)
    if name.endswith((".vcf", ".bcf")):
        return "vcf"
    if name.endswith(".maf") or "mutations" in name:
        return "maf"
    if "cna" in name or "gistic" in name or "thresholded" in name or "copy" in name:
        return "cna"
    head = read_head(path).decode("utf-8", "replace")
    if head.startswith("##fileformat=VCF"):
        return "vcf"
    first = next((ln for ln in head.splitlines() if not ln.startswith("#")), "")
    if "Hugo_Symbol" in first and "Tumor_Sample_Barcode" in first:
        return "maf"
    if "Hugo_Symbol" in first or "Gene Symbol" in first or "Gene" in first.split("\t"):
        return "cna"
    raise InputError(Problem(field, None, ", ".join(FORMATS),
                             f"cannot tell the format of {path.name}; pass --format"))
