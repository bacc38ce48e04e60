"""The analysis table of a discovery run: response, kind, features, and every row or column left out.

A feature whose non-missing values are all 0 or 1 is *binary* (a mutation, an amplification); any other
numeric feature is *continuous*. Nothing is dropped silently: rows without a response and features that
cannot be tested (constant, not numeric, fewer than ``min_count`` carriers or non-carriers) are listed
with their reason in :attr:`AnalysisData.excluded_rows` and :attr:`AnalysisData.excluded_features`.
Both pandas and polars frames are accepted (polars is converted with ``to_pandas``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from nerasense.errors import ProblemCollector

Kind = Literal["continuous", "binary", "survival"]
KINDS: tuple[str, ...] = ("continuous", "binary", "survival")
_MAX_ROWS_LISTED = 10


@dataclass(frozen=True)
class Feature:
    name: str
    type: Literal["binary", "continuous"]
    n: int  # rows with a value
    n_missing: int
    n_carriers: int | None  # binary features: rows with 1


@dataclass
class AnalysisData:
    """A checked discovery table. ``y`` is the response (continuous value, 0/1, or survival time)."""

    kind: Kind
    response: str
    event: str | None
    frame: Any  # pandas DataFrame of the kept rows: response (+ event) and the tested features
    features: list[Feature]
    excluded_features: list[dict[str, str]] = field(default_factory=list)
    excluded_rows: list[dict[str, Any]] = field(default_factory=list)
    n_input_rows: int = 0
    ids: list[str] = field(default_factory=list)
    adjust: str | None = None  # categorical column the adjusted tests condition on

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.frame[self.response].to_numpy(dtype=float))

    @property
    def event_array(self) -> np.ndarray | None:
        return None if self.event is None else np.asarray(self.frame[self.event].to_numpy(dtype=float))

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def x(self, names: Sequence[str] | None = None) -> np.ndarray:
        return np.asarray(self.frame[list(names or self.feature_names)].to_numpy(dtype=float))

    def missingness(self) -> dict[str, Any]:
        """TRIPOD item 13b/9: rows and features left out and why, and features with missing values."""
        return {
            "n_input_rows": self.n_input_rows,
            "n_analysed": len(self.frame),
            "excluded_rows": len(self.excluded_rows),
            "excluded_rows_by_reason": _count(r["reason"] for r in self.excluded_rows),
            "features_tested": len(self.features),
            "features_excluded": len(self.excluded_features),
            "features_excluded_by_reason": _count(_reason_key(e["reason"]) for e in self.excluded_features),
            "features_with_missing_values": sum(1 for f in self.features if f.n_missing),
        }


def _reason_key(reason: str) -> str:
    return re.sub(r" \(.*\)$", "", reason)


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def to_pandas(frame: Any) -> Any:
    """A pandas DataFrame from a pandas or polars frame."""
    import pandas as pd

    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "to_pandas"):
        return frame.to_pandas()
    raise TypeError(f"expected a pandas or polars DataFrame, got {type(frame).__name__}")


def _rows(mask: np.ndarray) -> str:
    idx = np.nonzero(mask)[0] + 1
    shown = ", ".join(str(i) for i in idx[:_MAX_ROWS_LISTED])
    more = f" and {len(idx) - _MAX_ROWS_LISTED} more" if len(idx) > _MAX_ROWS_LISTED else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


def prepare(
    frame: Any,
    response: str,
    kind: str = "continuous",
    features: Sequence[str] | None = None,
    event: str | None = None,
    id_column: str | None = None,
    ignore: Sequence[str] = (),
    min_count: int = 3,
    adjust: str | None = None,
) -> AnalysisData:
    """Check a feature × response table and return the analysis data.

    ``features=None`` takes every other column (except ``event``, ``id_column`` and ``ignore``);
    non-numeric columns are then left out with a reason. Named features must exist and be numeric.
    ``kind``: ``continuous`` (a number per row), ``binary`` (0/1) or ``survival`` (``response`` is the time,
    ``event`` the 0/1 event indicator). ``adjust``: a categorical column (e.g. tissue) kept beside the
    features for adjusted tests, not a feature itself; rows without a value there are left out and listed.
    Rows without a response are left out and listed; every other problem (missing columns, unknown kind,
    values outside what the kind allows) is raised together.
    """
    import pandas as pd

    df = to_pandas(frame).reset_index(drop=True)
    bad = ProblemCollector()
    if kind not in KINDS:
        bad.add("kind", kind, " / ".join(KINDS))
    if min_count < 1:
        bad.add("min_count", min_count, "an integer ≥ 1")
    for name, value in (("response", response), ("event", event), ("id column", id_column), ("adjust", adjust)):
        if value is not None and value not in df.columns:
            bad.add(name, value, f"a column of the table ({_some(df.columns)})")
    if kind == "survival" and event is None:
        bad.add("event", None, "the 0/1 event column of a survival response (--event)")
    if kind != "survival" and event is not None:
        bad.add("event", event, "only with kind survival")
    named = features is not None
    candidates = list(features) if features is not None else [
        c for c in df.columns if c not in {response, event, id_column, adjust, *ignore}
    ]
    if named:
        missing = [c for c in candidates if c not in df.columns]
        if missing:
            bad.add("features", ", ".join(missing), f"columns of the table ({_some(df.columns)})")
        dup = sorted({c for c in candidates if candidates.count(c) > 1})
        if dup:
            bad.add("features", ", ".join(dup), "each feature once")
        for c in (response, event, adjust):
            if c is not None and c in candidates:
                bad.add("features", c, "columns other than the response and event")
    bad.raise_if_any()

    excluded_rows: list[dict[str, Any]] = []
    y_raw = pd.to_numeric(df[response], errors="coerce")
    not_number = y_raw.isna() & df[response].notna() & (df[response].astype(str).str.strip() != "")
    if not_number.any():
        first = df[response][not_number].iloc[0]
        bad.add(f"response column {response}", first, f"numbers ({_rows(not_number.to_numpy())})")
    y_missing = y_raw.isna() & ~not_number
    y = y_raw.to_numpy(dtype=float)
    if kind == "binary":
        wrong = ~y_missing.to_numpy() & ~np.isin(y, (0.0, 1.0)) & ~not_number.to_numpy()
        if wrong.any():
            bad.add(f"response column {response}", y[wrong][0], f"0 or 1 for a binary response ({_rows(wrong)})")
    if kind == "survival":
        wrong = ~np.isnan(y) & (y < 0)
        if wrong.any():
            bad.add(f"time column {response}", y[wrong][0], f"times ≥ 0 ({_rows(wrong)})")
    keep = ~y_missing.to_numpy()
    if adjust is not None:
        a_missing = (df[adjust].isna() | (df[adjust].astype(str).str.strip() == "")).to_numpy()
        for i in np.nonzero(a_missing & keep)[0]:
            excluded_rows.append({"row": int(i) + 1, "reason": f"no value of {adjust}"})
        keep &= ~a_missing
    if kind == "survival" and event is not None:
        e = pd.to_numeric(df[event], errors="coerce").to_numpy(dtype=float)
        e_missing = np.isnan(e) & df[event].isna().to_numpy()
        wrong = ~np.isin(e, (0.0, 1.0)) & ~e_missing
        if wrong.any():
            bad.add(f"event column {event}", df[event][wrong].iloc[0], f"0 or 1 ({_rows(wrong)})")
        for i in np.nonzero(e_missing & keep)[0]:
            excluded_rows.append({"row": int(i) + 1, "reason": f"no value of {event}"})
        keep &= ~e_missing
    bad.raise_if_any()
    for i in np.nonzero(y_missing.to_numpy())[0]:
        excluded_rows.append({"row": int(i) + 1, "reason": f"no value of {response}"})
    ids = df[id_column].astype(str) if id_column else pd.Series([str(i + 1) for i in range(len(df))])
    for r in excluded_rows:
        r["id"] = ids.iloc[r["row"] - 1]

    kept = df[keep].reset_index(drop=True)
    feats: list[Feature] = []
    excluded_features: list[dict[str, str]] = []
    columns: dict[str, Any] = {response: y[keep]}
    if event is not None:
        columns[event] = pd.to_numeric(kept[event]).to_numpy(dtype=float)
    if adjust is not None:
        columns[adjust] = kept[adjust].astype(str).to_numpy()
    for c in candidates:
        values = pd.to_numeric(kept[c], errors="coerce")
        text_values = values.isna() & kept[c].notna() & (kept[c].astype(str).str.strip() != "")
        if text_values.any():
            if named:
                bad.add(f"feature {c}", kept[c][text_values].iloc[0], f"numbers ({_rows(text_values.to_numpy())})")
            else:
                excluded_features.append({"feature": c, "reason": "not numeric"})
            continue
        v = values.to_numpy(dtype=float)
        present = v[~np.isnan(v)]
        n_missing = int(np.isnan(v).sum())
        if present.size == 0 or np.all(present == present[0]):
            excluded_features.append({"feature": c, "reason": "constant (one value in the analysed rows)"})
            continue
        if np.isin(present, (0.0, 1.0)).all():
            carriers = int(present.sum())
            smaller = min(carriers, present.size - carriers)
            if smaller < min_count:
                excluded_features.append(
                    {"feature": c, "reason": f"fewer than {min_count} carriers or non-carriers ({carriers} of {present.size})"}
                )
                continue
            feats.append(Feature(c, "binary", int(present.size), n_missing, carriers))
        else:
            feats.append(Feature(c, "continuous", int(present.size), n_missing, None))
        columns[c] = v
    bad.raise_if_any()
    if not feats:
        bad.add("features", ", ".join(candidates[:5]) or "(none)", "at least one testable feature",
                "every candidate was constant, not numeric or too rare; see the excluded features")
        bad.raise_if_any()
    out = pd.DataFrame(columns)
    return AnalysisData(
        kind=kind,  # type: ignore[arg-type]
        response=response,
        event=event,
        frame=out,
        features=feats,
        excluded_features=excluded_features,
        excluded_rows=excluded_rows,
        n_input_rows=len(df),
        ids=list(ids[keep]),
        adjust=adjust,
    )


def _some(columns: Any) -> str:
    cols = [str(c) for c in columns]
    return ", ".join(cols[:8]) + (f", … {len(cols) - 8} more" if len(cols) > 8 else "")


_CNA = re.compile(r"^(gain|loss)_cna(\w+?)(?:_\((.*)\))?$")


def feature_label(name: str, present: bool = True) -> str:
    """A reader's wording of a binary feature being present (1) or absent (0).

    GDSC names: ``PIK3CA_mut`` → "PIK3CA mutant" / "PIK3CA wild-type";
    ``gain_cnaPANCAN301_(CDK12,ERBB2,MED24)`` → "gain of CDK12/ERBB2/MED24 (PANCAN301)" / "no gain of …".
    Other names read "NAME" / "not NAME".
    """
    if name.endswith("_mut"):
        gene = name[: -len("_mut")]
        return f"{gene} mutant" if present else f"{gene} wild-type"
    m = _CNA.match(name)
    if m:
        what, region, genes = m.groups()
        place = f"{genes.replace(',', '/')} ({region})" if genes else region
        return f"{what} of {place}" if present else f"no {what} of {place}"
    return name if present else f"not {name}"


__all__ = ["KINDS", "AnalysisData", "Feature", "Kind", "feature_label", "prepare", "to_pandas"]
