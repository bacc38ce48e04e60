"""Protein changes already in normalised form, recognised by polars expressions without parsing.

Most rows of a real MAF hold a change exactly as the HGVS parser (:mod:`nerasense.ingest.hgvs_protein`)
would write it; those rows pass through, and only the other distinct strings are parsed. The parser is the
reference: tests hold both tiers equal to it on every form. This module imports nothing but polars, so a
reader can start its streaming pass before the domain models and the knowledge base are imported.
"""

from __future__ import annotations

import polars as pl

# Already-normalised 1-letter forms that need no Python parsing (most rows of a real MAF). The slow
# parser is the reference: tests hold the fast path equal to it on every form.
_AA1 = "ACDEFGHIKLMNPQRSTVWY"
_N = r"[1-9]\d*"
# a substitution to a different residue or a stop, one branch per reference residue (p.L755L is synonymous,
# which the parser writes p.L755=); the regex has no back-references, so the residue is spelled out
_FAST_SUB = "|".join(rf"{aa}{_N}[{_AA1.replace(aa, '')}*]" for aa in _AA1)
_FAST_OTHER = rf"[{_AA1}]{_N}[{_AA1}]?fs(?:\*{_N})?|[{_AA1}X*]{_N}_splice|[{_AA1}]{_N}(?:del|dup)"
_FAST = rf"^p\.(?:{_FAST_SUB}|{_FAST_OTHER})$"  # every fast form, one regex pass


# Second tier, run on the distinct strings the regex above left (a few thousand): ranges, insertions, delins,
# extensions and fs*? already in normalised form. A regex cannot compare the two positions, so they are
# extracted and compared here: a range must end after it starts, an insertion sits between neighbours.
_POS = r"([1-9]\d*)"
_TIER2_RANGE = rf"^p\.[{_AA1}]{_POS}_[{_AA1}]{_POS}(del|dup|delins[{_AA1}]+|ins[{_AA1}]+)$"
_TIER2_OTHER = rf"^p\.(?:[{_AA1}]{_N}delins[{_AA1}]+|\*{_N}[{_AA1}]ext\*(?:{_N}|\?)|[{_AA1}]{_N}[{_AA1}]?fs\*\?)$"


def already_normalised(texts: pl.Series) -> pl.Series:
    """True for strings of the second tier that the parser would write back unchanged (a mask on ``texts``)."""
    text = pl.col("text")
    start, end = (text.str.extract(_TIER2_RANGE, k).cast(pl.Int64) for k in (1, 2))
    is_ins = text.str.extract(_TIER2_RANGE, 3).str.starts_with("ins")
    in_order = pl.when(is_ins).then(end == start + 1).otherwise(end > start)
    return pl.DataFrame({"text": texts}).select(
        (in_order.fill_null(False) | text.str.contains(_TIER2_OTHER)).fill_null(False)).to_series()


def fast_change(raw: pl.Expr | None = None) -> pl.Expr:
    """Changes already in normalised form: a substitution (not synonymous), fs, splice, or one-residue
    del/dup, found in one regex pass. Ranges and everything else go to the parser."""
    raw = pl.col("raw_change") if raw is None else raw
    return raw.is_null() | raw.str.contains(_FAST)


__all__ = ["already_normalised", "fast_change"]
