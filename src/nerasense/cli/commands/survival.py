"""``nerasense survival km | cox``: Kaplan–Meier with R's median CI, log-rank, Cox (Efron)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, positive_float, stamp


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from exc


def _file_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="CSV, TSV or Parquet table, read by column name")
    p.add_argument("--time", required=True, help="column with follow-up time (≥ 0)")
    p.add_argument("--event", required=True, help="column with 1 = event, 0 = censored")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    add_json_flag(p)


def register(sub: argparse._SubParsersAction) -> None:
    sv = sub.add_parser("survival", help="Kaplan–Meier, log-rank and Cox models that match R survival")
    sv_sub = sv.add_subparsers(dest="survival_command", metavar="ACTION", parser_class=type(sv))
    p = sv_sub.add_parser("km", help="KM per group with median and CI; log-rank test between groups")
    _file_args(p)
    p.add_argument("--group", default=None, help="column defining the groups")
    p.add_argument("--strata", default=None, help="column to stratify the log-rank test by")
    p.add_argument("--ci", default="log", choices=["log", "log-log", "plain"], help="pointwise CI (default log, as R)")
    p.add_argument("--times", type=_floats, default=None, help="landmark times, e.g. 365,730 (survival + CI + at risk)")
    p.add_argument("--tau", type=positive_float, default=None, help="restriction time for RMST (R's SE)")
    p.set_defaults(handler=_km)
    p = sv_sub.add_parser("cox", help="Cox proportional hazards model (Efron ties, as R coxph)")
    _file_args(p)
    p.add_argument("--covariates", required=True, help="comma-separated numeric columns, e.g. age,treated")
    p.add_argument("--strata", default=None, help="column to stratify the baseline hazard by")
    p.add_argument("--robust", action="store_true", help="robust (sandwich) SEs, as R coxph(robust=TRUE)")
    p.add_argument("--cluster", default=None, help="column of cluster ids: robust SEs summed by cluster (R cluster())")
    p.set_defaults(handler=_cox)
    sv.set_defaults(handler=_no_action)


def _no_action(args: argparse.Namespace) -> CommandResult:
    raise UsageError("nerasense survival: choose an action: km or cox")


def _fmt(x: float | None) -> str:
    return "NA" if x is None else f"{x:g}"


def _km(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.survival import km_by_group, logrank, rmst
    from nerasense.stats.tables import read_table, survival_columns

    if args.strata and not args.group:
        raise UsageError("nerasense survival km: --strata stratifies the log-rank test between --group levels; give --group too")
    if args.strata and args.strata == args.group:
        raise UsageError(f"nerasense survival km: --strata {args.strata!r} is also --group; allowed: a stratum column other "
                         "than the group column (within one stratum the groups cannot be compared)")
    df = survival_columns(read_table(args.file), args.time, args.event, group=args.group, strata=args.strata)
    fits = km_by_group(df, "group" if args.group else None, args.ci, args.level)
    groups: dict[str, Any] = {}
    lines = [f"Kaplan–Meier ({args.ci} CI, level {args.level:g}; median CI = where the bands cross 0.5, as R)"]
    for name, km in fits.items():
        g = km.summary()
        if args.times:
            g["landmarks"] = km.at(args.times)
        if args.tau is not None:
            g["rmst"] = rmst(km, args.tau)
        groups[name] = g
        lines.append(
            f"  {name}: n={g['n']} events={g['events']} median {_fmt(g['median'])} "
            f"({_fmt(g['median_ci_low'])}–{_fmt(g['median_ci_high'])})"
        )
    payload: dict[str, Any] = {"ci": args.ci, "level": args.level, "groups": groups}
    if args.tau is not None and len(fits) == 2:
        from nerasense.stats.survival import rmst_difference

        (na, a), (nb, b) = list(groups.items())
        payload["rmst_difference"] = {"groups": f"{nb} - {na}", **rmst_difference(b["rmst"], a["rmst"], args.level)}
    if args.group:
        lr = logrank(df["time"], df["event"], df["group"], df["strata"] if args.strata else None, args.strata)
        payload.update(lr.as_dict())
        lines.append(
            f"  log-rank chi2 {lr.chi2:.4f} on {lr.df} df, p = {lr.p:.4g}"
            + (f" (stratified by {args.strata})" if args.strata else "")
        )
    return CommandResult(stamp(payload), "\n".join(lines))


def _cox(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.survival import cox
    from nerasense.stats.tables import read_table, survival_columns

    covs = [c.strip() for c in args.covariates.split(",") if c.strip()]
    df = survival_columns(
        read_table(args.file), args.time, args.event, covariates=covs, strata=args.strata, cluster=args.cluster
    )
    res = cox(df, covs, "strata" if args.strata else None, args.level, args.robust, "cluster" if args.cluster else None)
    payload = res.as_dict()
    payload["strata"] = args.strata
    payload["cluster"] = args.cluster
    lines = [
        f"Cox PH (ties {res.ties}; n={res.n}, events={res.events}"
        + (f"; stratified by {args.strata}" if args.strata else "")
        + ("; robust SEs" if res.robust else "")
        + (f" by {args.cluster}" if args.cluster else "")
        + ")"
    ]
    for name, c in res.coefficients.items():
        lines.append(f"  {name}: HR {c['hr']:.3f} ({c['hr_ci_low']:.3f}–{c['hr_ci_high']:.3f}), p = {c['p']:.4g}")
    return CommandResult(stamp(payload), "\n".join(lines))
