"""The tabular form every genomic reader returns: accepted alterations and rejected rows.

Large files stay columnar (a polars DataFrame with :data:`ALTERATION_SCHEMA`); :meth:`AlterationTable.
alterations` turns rows into :class:`~nerasense.domain.alterations.Alteration` models on demand. Every
input record ends up either in ``frame`` or in ``rejected`` (with its reason); ``input_records`` says how
many there were, so callers can check nothing went missing.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from nerasense.domain.alterations import Alteration
from nerasense.errors import InputError, Problem
from nerasense.ingest.hgvs_protein import apply_alias, parse_protein_change
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
    "record": pl.String,
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

    def alterations(self) -> Iterator[Alteration]:
        for row in self.frame.iter_rows(named=True):
            change = parse_protein_change(row["protein_change"]) if row["protein_change"] else None
            data = {k: v for k, v in row.items() if v is not None and k != "legacy_name"}
            yield Alteration.model_validate({**data, "protein": change})


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType | type[pl.DataType]]) -> pl.DataFrame:
    """Select the schema's columns in order, adding missing ones as nulls and casting types."""
    cols = []
    for name, dtype in schema.items():
        if name in frame.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(cols) if frame.width or frame.height else pl.DataFrame(schema=schema)


def normalise_changes(
    genes_changes: pl.DataFrame, gk: GenomicsKnowledge
) -> pl.DataFrame:
    """For distinct (gene, raw change) pairs, return protein_change, legacy_name and a parse error.

    Parsing is cached per distinct string, so a million-row file with a few thousand distinct changes
    parses a few thousand strings.
    """
    aliases = alias_map(gk)
    out_change: list[str | None] = []
    out_legacy: list[str | None] = []
    out_error: list[str | None] = []
    for gene, raw in genes_changes.select("gene", "raw_change").iter_rows():
        if raw is None or raw == "":
            out_change.append(None)
            out_legacy.append(None)
            out_error.append(None)
            continue
        try:
            change = parse_protein_change(raw)
        except InputError as exc:
            out_change.append(None)
            out_legacy.append(None)
            out_error.append(exc.problems[0].fix)
            continue
        change, legacy = apply_alias(change, aliases.get(gene or "", {}))
        out_change.append(change.text)
        out_legacy.append(legacy)
        out_error.append(None)
    return genes_changes.with_columns(
        pl.Series("protein_change", out_change, dtype=pl.String),
        pl.Series("legacy_name", out_legacy, dtype=pl.String),
        pl.Series("change_error", out_error, dtype=pl.String),
    )


def alias_map(gk: GenomicsKnowledge) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for (gene, legacy), alias in gk.variant_aliases.items():
        if alias.unverified:
            continue  # [U] equivalences are not applied
        out.setdefault(gene, {})[parse_protein_change(legacy).text] = alias.hgvs
    return out


def resolve_gene_column(frame: pl.DataFrame, column: str, gk: GenomicsKnowledge) -> pl.Expr:
    """An expression mapping a gene column through the knowledge base's aliases (HER2 -> ERBB2)."""
    mapping = gk.gene_aliases
    return (
        pl.col(column).str.strip_chars().str.to_uppercase()
        .replace(mapping)
        .alias("gene")
    )


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(Problem("file", str(path), "a complete gzip file", f"the gzip stream is damaged ({exc})")) from None
    return data


def require_file(path: Path, fmt: str) -> None:
    if not path.exists():
        raise InputError(Problem("file", str(path), f"an existing {fmt} file", "check the path"))
    if path.is_dir():
        raise InputError(Problem("file", str(path), f"a {fmt} file, not a folder", "name the file itself"))


__all__ = [
    "ALTERATION_SCHEMA",
    "REJECTED_SCHEMA",
    "AlterationTable",
    "alias_map",
    "conform",
    "normalise_changes",
    "read_bytes",
    "require_file",
    "resolve_gene_column",
]
