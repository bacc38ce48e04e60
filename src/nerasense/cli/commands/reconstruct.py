"""``nerasense reconstruct CURVE.csv``: patient-level data rebuilt from a digitised KM curve (Guyot 2012)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, stamp


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reconstruct", help="rebuild patient-level survival data from a digitised Kaplan–Meier curve")
    p.add_argument("curve", type=Path, help="digitiser export: two columns (time, survival) in any order, 0–1 or %%")
    p.add_argument("--at-risk", type=Path, default=None, help="numbers at risk: columns trisk/time and nrisk/n_risk")
    p.add_argument("--n", type=int, default=None, help="patients at time 0 when there is no at-risk table")
    p.add_argument("--total-events", type=int, default=None, help="total number of events, when reported")
    p.add_argument("-o", "--output", type=Path, default=None, help="write the patients (time, event) as CSV or Parquet")
    p.add_argument("--arm", default=None, help="label written in an 'arm' column of the output")
    add_json_flag(p)
    p.set_defaults(handler=_reconstruct)


def _digitiser_table(path: Path) -> Any:
    """A digitiser export with or without a header line, separated by commas, tabs or semicolons."""
    import pandas as pd

    from nerasense.errors import InputError, Problem
    from nerasense.stats.tables import read_table

    if path.suffix.lower() in (".parquet", ".pq") or not path.is_file():
        return read_table(path)
    try:
        head = path.read_text(encoding="utf-8", errors="replace").splitlines()[:1] or [""]
        sep = "\t" if "\t" in head[0] else ";" if ";" in head[0] else ","
        raw = pd.read_csv(path, header=None, sep=sep, skipinitialspace=True)
    except (ValueError, OSError) as exc:
        raise InputError(Problem("curve", str(path), "a readable two-column table", f"the reader said: {exc}")) from exc
    first = pd.to_numeric(raw.iloc[0], errors="coerce")
    if first.isna().any():  # a header line
        raw.columns = [str(c).strip() for c in raw.iloc[0]]
        raw = raw.iloc[1:].reset_index(drop=True)
    return raw


def _reconstruct(args: argparse.Namespace) -> CommandResult:
    import pandas as pd

    from nerasense.stats.reconstruct import guyot, read_at_risk, read_curve
    from nerasense.stats.survival import kaplan_meier
    from nerasense.stats.tables import read_table

    if args.at_risk is None and args.n is None:
        raise UsageError("nerasense reconstruct: give --at-risk RISK.csv, or --n N (with --total-events if reported)")
    t, s, how = read_curve(_digitiser_table(args.curve))
    rt = nr = None
    if args.at_risk is not None:
        rt, nr = read_at_risk(read_table(args.at_risk))
    rec = guyot(t, s, rt, nr, args.total_events, args.n)
    report = rec.report()
    report["notes"] = how + report["notes"]
    km = kaplan_meier(rec.time, rec.event)
    report["median"] = km.median
    report["median_ci_low"], report["median_ci_high"] = km.median_ci_low, km.median_ci_high
    payload: dict[str, Any] = {"curve": str(args.curve), "at_risk": str(args.at_risk) if args.at_risk else None,
               "method": "Guyot et al., BMC Med Res Methodol 2012;12:9", "fit": report, "research_use_only": True}
    if args.output:
        out = pd.DataFrame({"time": rec.time, "event": rec.event})
        if args.arm:
            out.insert(0, "arm", args.arm)
        if args.output.suffix.lower() in (".parquet", ".pq"):
            out.to_parquet(args.output, index=False)
        else:
            out.to_csv(args.output, index=False)
        payload["output"] = str(args.output)
    else:
        payload["patients"] = [{"time": float(a), "event": int(b)} for a, b in zip(rec.time, rec.event, strict=True)]
    worst = max((abs(r["published"] - r["rebuilt"]) for r in report["at_risk"]), default=0)
    text = (
        f"rebuilt {report['n']} patients ({report['events']} events, {report['censored']} censored) from "
        f"{report['points']} curve points; RMSE {report['rmse']:.4f}, max |error| {report['max_abs_error']:.4f}; "
        f"numbers at risk within {worst} of the table; median {km.median if km.median is not None else 'not reached'}"
        + (f"; wrote {args.output}" if args.output else "")
        + "; research use only"
    )
    return CommandResult(stamp(payload), text)
