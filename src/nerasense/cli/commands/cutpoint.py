"""``nerasense cutpoint``: maximally selected log-rank cut-point with Lau92/Lau94 (and permutation) p."""

from __future__ import annotations

import argparse
from pathlib import Path

from nerasense.cli._common import CommandResult, add_json_flag, nonnegative_int, seed, stamp


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cutpoint", help="optimal biomarker cut-point for survival with selection-adjusted p-values")
    p.add_argument("file", type=Path, help="CSV, TSV or Parquet table, read by column name")
    p.add_argument("--time", required=True, help="column with follow-up time (≥ 0)")
    p.add_argument("--event", required=True, help="column with 1 = event, 0 = censored")
    p.add_argument("--marker", required=True, help="numeric biomarker column")
    p.add_argument("--minprop", type=float, default=0.1, help="smallest group fraction (default 0.1; maxprop = 1 − minprop)")
    p.add_argument("--permutations", type=nonnegative_int, default=0, help="add a permutation p with this many permutations")
    p.add_argument("--seed", type=seed, default=0, help="seed for the permutations (default 0)")
    p.add_argument("--profile", action="store_true", help="include every candidate cut and its statistic")
    add_json_flag(p)
    p.set_defaults(handler=_cutpoint)


def _cutpoint(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.cutpoint import maxstat_logrank
    from nerasense.stats.tables import read_table, survival_columns

    df = survival_columns(read_table(args.file), args.time, args.event, marker=args.marker)
    res = maxstat_logrank(df["time"], df["event"], df["marker"], args.minprop, n_perm=args.permutations, seed=args.seed)
    payload = res.as_dict(with_profile=args.profile)
    payload["marker"] = args.marker
    payload["rule"] = f"low if {args.marker} <= cutpoint, high otherwise"
    text = (
        f"cut-point {args.marker} <= {res.cutpoint:g} (low n={res.n_low}, high n={res.n_high}); "
        f"max standardised log-rank {res.statistic:.4f} over {res.n_splits} splits; "
        f"p Lau94 {res.p_lau94:.4g}, Lau92 {res.p_lau92:.4g}"
        + (f", permutation {res.p_perm:.4g} (B={res.n_perm})" if res.p_perm is not None else "")
        + f"; naive p {res.p_naive:.4g} (not valid after selection)"
    )
    return CommandResult(stamp(payload), text)
