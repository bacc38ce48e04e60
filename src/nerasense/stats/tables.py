"""Read cohort tables (CSV, TSV, Parquet) by column name and check them, listing every problem at once.

Row numbers in messages are 1-based data rows (the header is not counted), so "row 3" is the third
record of the file. Nothing is dropped silently: a missing value in a used column is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nerasense.errors import InputError, Problem, ProblemCollector
from nerasense.safe_io import check_input, read_delimited, read_parquet_checked

_MAX_ROWS_LISTED = 20


def read_table(path: str | Path, comment: str | None = None) -> Any:
    """A pandas DataFrame from ``.csv``, ``.tsv``/``.txt``/``.tab`` (tab) or ``.parquet``/``.pq``.

    ``comment``: lines starting with this character are skipped (cBioPortal files start with '#'). The file
    is checked first (:mod:`nerasense.safe_io`): a regular file, UTF-8, each column named once.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return _finite(read_parquet_checked(p, "table"), p.name)
    if suffix in (".tsv", ".txt", ".tab", ".csv"):
        return _finite(read_delimited(p, "table", sep="," if suffix == ".csv" else "\t", comment=comment), p.name)
    check_input(p, "CSV, TSV or Parquet")
    raise InputError(Problem("file", str(p), "a file ending .csv, .tsv, .txt, .tab, .parquet or .pq"))


def _finite(df: Any, name: str) -> Any:
    """Refuse infinite values (``inf``, or a number too large for a float) in any numeric column."""
    problems = ProblemCollector()
    for col in df.columns:
        values = df[col].to_numpy()
        if values.dtype.kind == "f":
            bad = np.isinf(values)
            if bad.any():
                problems.add(str(col), _first_bad(values, bad), "a finite number", f"{name}: {_rows(bad)}")
    problems.raise_if_any()
    return df


def _rows(mask: np.ndarray) -> str:
    idx = np.nonzero(mask)[0] + 1
    shown = ", ".join(str(i) for i in idx[:_MAX_ROWS_LISTED])
    more = f" and {len(idx) - _MAX_ROWS_LISTED} more" if len(idx) > _MAX_ROWS_LISTED else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


def _first_bad(values: Any, mask: np.ndarray) -> object:
    v = values[np.nonzero(mask)[0][0]]
    return v.item() if hasattr(v, "item") else v


def survival_columns(
    df: Any,
    time: str,
    event: str,
    group: str | None = None,
    covariates: Sequence[str] = (),
    strata: str | None = None,
    marker: str | None = None,
    cluster: str | None = None,
) -> Any:
    """Check and return the used columns as a new DataFrame with float ``time``, int ``event``.

    Problems collected (all at once): missing columns; non-numeric, missing or negative times; events
    other than 0/1; missing groups/strata/clusters; non-numeric or missing covariates and markers.
    """
    import pandas as pd

    bad = ProblemCollector()
    wanted = [("time", time), ("event", event)]
    wanted += [("group", group)] if group else []
    wanted += [("strata", strata)] if strata else []
    wanted += [("cluster", cluster)] if cluster else []
    wanted += [("marker", marker)] if marker else []
    wanted += [("covariates", c) for c in covariates]
    available = ", ".join(map(str, df.columns))
    for role, col in wanted:
        if col not in df.columns:
            bad.add(f"--{role}", col, f"a column of the table ({available})")
    bad.raise_if_any()

    out = pd.DataFrame(index=range(len(df)))
    t_raw = df[time].to_numpy()
    t = pd.to_numeric(df[time], errors="coerce").to_numpy(dtype=float)
    missing = pd.isna(df[time]).to_numpy()
    nonnum = np.isnan(t) & ~missing
    if missing.any():
        bad.add(f"time column {time!r}", "missing", "a number ≥ 0", where=_rows(missing))
    if nonnum.any():
        bad.add(f"time column {time!r}", _first_bad(t_raw, nonnum), "a number ≥ 0", where=_rows(nonnum))
    neg = ~np.isnan(t) & (t < 0)
    if neg.any():
        bad.add(f"time column {time!r}", _first_bad(t, neg), "a number ≥ 0", where=_rows(neg))
    inf = np.isinf(t)
    if inf.any():
        bad.add(f"time column {time!r}", "inf", "a finite number ≥ 0", where=_rows(inf))
    out["time"] = t

    e_raw = df[event].to_numpy()
    e = pd.to_numeric(df[event], errors="coerce").to_numpy(dtype=float)
    bad_e = ~np.isin(e, (0.0, 1.0))
    if bad_e.any():
        bad.add(
            f"event column {event!r}",
            _first_bad(e_raw, bad_e),
            "0 (censored) or 1 (event)",
            "recode e.g. R's 1/2 status as 0/1",
            where=_rows(bad_e),
        )
    out["event"] = np.where(bad_e, 0, e).astype(np.int64)

    for role, label in (("group", group), ("strata", strata), ("cluster", cluster)):
        if label:
            col = label
            miss = pd.isna(df[col]).to_numpy()
            if miss.any():
                bad.add(f"{role} column {col!r}", "missing", "a non-empty label", where=_rows(miss))
            out[role] = df[col].astype(str).to_numpy()
    numeric = [("marker", marker)] if marker else []
    for role, col in [*numeric, *(("covariate", c) for c in covariates)]:
        assert col is not None
        raw = df[col]
        if raw.dtype == bool:
            raw = raw.astype(int)
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        miss = pd.isna(df[col]).to_numpy()
        nonnum = np.isnan(num) & ~miss
        if miss.any():
            bad.add(f"{role} column {col!r}", "missing", "a number", where=_rows(miss))
        if nonnum.any():
            bad.add(
                f"{role} column {col!r}",
                _first_bad(df[col].to_numpy(), nonnum),
                "a number",
                "encode categories as 0/1 indicator columns",
                where=_rows(nonnum),
            )
        out[col if role == "covariate" else "marker"] = num
    bad.raise_if_any()
    return out


__all__ = ["read_table", "survival_columns"]
