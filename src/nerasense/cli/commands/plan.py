"""``nerasense plan ARM``: power by sample size against a published (reconstructed) control arm, by simulation."""

from __future__ import annotations

import argparse
from pathlib import Path

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, stamp


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from exc


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="simulated power by sample size against a reconstructed control arm")
    p.add_argument("file", type=Path, help="control-arm patients (e.g. from nerasense reconstruct): CSV, TSV or Parquet")
    p.add_argument("--time", default="time", help="time column (default time)")
    p.add_argument("--event", default="event", help="event column, 1 = event (default event)")
    p.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                   help="keep only rows where COL equals VALUE (repeatable), e.g. to pick one arm of a table")
    p.add_argument("--hr", type=float, required=True, help="alternative hazard ratio, experimental vs control")
    p.add_argument("--n", type=_ints, required=True, help="sample sizes to simulate (per arm for two-arm), e.g. 30,50,80")
    p.add_argument("--design", choices=["two-arm", "single-arm"], default="two-arm",
                   help="two-arm: log-rank vs a concurrent control drawn from the arm; single-arm: one-sample log-rank")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--sides", type=int, choices=[1, 2], default=2, help="1 or 2 sided (default 2)")
    p.add_argument("--simulations", type=int, default=1000, help="simulated trials per size (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    add_json_flag(p)
    p.set_defaults(handler=_plan)


def _plan(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.planning import as_dicts, simulate_power
    from nerasense.stats.tables import read_table, survival_columns

    df = read_table(args.file)
    for cond in args.where:
        col, sep, value = cond.partition("=")
        if not sep or col not in df.columns:
            cols = ", ".join(map(str, df.columns))
            raise UsageError(f"nerasense plan: --where {cond!r}: expected COL=VALUE with COL one of {cols}")
        df = df[df[col].astype(str) == value]
    if len(df) == 0:
        raise UsageError("nerasense plan: no rows left after --where")
    arm = survival_columns(df.reset_index(drop=True), args.time, args.event)
    rows = simulate_power(arm["time"], arm["event"], args.hr, args.n, args.design, args.alpha, args.sides,
                          args.simulations, args.seed)
    payload = {
        "file": str(args.file), "where": args.where, "design": args.design, "hr": args.hr, "alpha": args.alpha,
        "sides": args.sides, "simulations": args.simulations, "seed": args.seed,
        "control": {"n": len(arm), "events": int(arm["event"].sum())},
        "power": as_dicts(rows),
        "test": "log-rank" if args.design == "two-arm" else "one-sample log-rank against the control's Nelson–Aalen hazard",
        "research_use_only": True,
    }
    unit = "per arm" if args.design == "two-arm" else "patients"
    lines = [f"{args.design} design, HR {args.hr:g}, alpha {args.alpha:g} ({args.sides}-sided), "
             f"{args.simulations} simulated trials per size; control arm {len(arm)} patients; research use only"]
    lines += [f"  n = {r.n} {unit}: power {r.power:.3f} (MC SE {r.mc_se:.3f}), mean events {r.mean_events:.1f}" for r in rows]
    return CommandResult(stamp(payload), "\n".join(lines))
