"""``nerasense design single-arm | simon``: phase II sample sizes for a response endpoint."""

from __future__ import annotations

import argparse

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, nonnegative_int, stamp


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--p0", type=float, required=True, help="uninteresting response rate (H0)")
    p.add_argument("--p1", type=float, required=True, help="response rate worth pursuing (H1)")
    p.add_argument("--alpha", type=float, default=0.05, help="type I error (default 0.05)")
    p.add_argument("--power", type=float, default=0.8, help="power (default 0.80)")
    add_json_flag(p)


def register(sub: argparse._SubParsersAction) -> None:
    de = sub.add_parser("design", help="single-arm and Simon two-stage phase II sample sizes")
    de_sub = de.add_subparsers(dest="design_command", metavar="ACTION", parser_class=type(de))
    p = de_sub.add_parser("single-arm", help="single-stage design: normal approximation or exact binomial")
    _common(p)
    p.add_argument("--sides", type=int, default=2, choices=[1, 2], help="sides of alpha (default 2)")
    p.add_argument("--method", default="normal", choices=["normal", "exact"], help="normal (default) or exact (A'Hern)")
    p.add_argument("--dropout", type=float, default=0.0, help="fraction not evaluable, e.g. 0.1")
    p.set_defaults(handler=_single)
    p = de_sub.add_parser("simon", help="Simon (1989) optimal and minimax two-stage designs (one-sided alpha)")
    _common(p)
    p.add_argument("--nmax", type=nonnegative_int, default=100, help="largest total n searched (default 100)")
    p.set_defaults(handler=_simon)
    de.set_defaults(handler=_no_action)


def _no_action(args: argparse.Namespace) -> CommandResult:
    raise UsageError("nerasense design: choose an action: single-arm or simon")


def _single(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.designs import single_arm_exact, single_arm_normal

    fn = single_arm_exact if args.method == "exact" else single_arm_normal
    d = fn(args.p0, args.p1, args.alpha, args.power, sides=args.sides, dropout=args.dropout)
    text = (
        f"{d.method} single-arm design: {d.n_evaluable} evaluable, {d.n_enrolled} enrolled "
        f"(dropout {d.dropout:g}); promising if ≥ {d.min_responses} responses; "
        f"exact actual alpha {d.actual_alpha:.4f} ({d.sides}-sided nominal {d.alpha:g}), power {d.actual_power:.4f}"
    )
    return CommandResult(stamp(d.as_dict()), text)


def _simon(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.designs import simon_two_stage

    res = simon_two_stage(args.p0, args.p1, args.alpha, args.power, nmax=args.nmax)
    lines = [f"Simon two-stage, p0={args.p0:g} p1={args.p1:g} alpha={args.alpha:g} (one-sided) power={args.power:g}"]
    for name, d in (("optimal", res.optimal), ("minimax", res.minimax)):
        lines.append(
            f"  {name:<8} stage 1: stop if ≤ {d.r1}/{d.n1}; overall: promising if > {d.r}/{d.n}; "
            f"EN0 {d.en0:.1f}, PET0 {d.pet0:.2f}"
        )
    return CommandResult(stamp(res.as_dict()), "\n".join(lines))
