"""``nerasense stats orr``: a response rate with its confidence interval (exact by default)."""

from __future__ import annotations

import argparse

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, nonnegative_int, stamp


def register(sub: argparse._SubParsersAction) -> None:
    st = sub.add_parser("stats", help="response rates with exact confidence intervals")
    st_sub = st.add_subparsers(dest="stats_command", metavar="ACTION", parser_class=type(st))
    p = st_sub.add_parser("orr", help="objective response rate with a binomial confidence interval")
    p.add_argument("--responders", type=nonnegative_int, required=True, help="number of responders (CR+PR)")
    p.add_argument("--evaluable", type=nonnegative_int, required=True, help="number of response-evaluable patients")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument(
        "--method",
        default="exact",
        choices=["exact", "wilson", "jeffreys", "agresti-coull"],
        help="interval: exact = Clopper–Pearson (R binom.test; default), wilson, jeffreys, agresti-coull",
    )
    p.add_argument("--p0", type=float, default=None, help="also give the one-sided exact binomial p vs p0")
    add_json_flag(p)
    p.set_defaults(handler=_orr)
    st.set_defaults(handler=_no_action)


def _no_action(args: argparse.Namespace) -> CommandResult:
    raise UsageError("nerasense stats: choose an action: orr")


def _orr(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.response import binomial_test, response_rate

    est = response_rate(args.responders, args.evaluable, args.level, args.method)
    payload = est.as_dict()
    text = (
        f"ORR {est.responders}/{est.evaluable} = {100 * est.rate:.1f}% "
        f"({100 * est.level:g}% CI {100 * est.ci_low:.1f}–{100 * est.ci_high:.1f}%, {est.method})"
    )
    if args.p0 is not None:
        p = binomial_test(args.responders, args.evaluable, args.p0, "greater")
        payload.update(p0=args.p0, p_one_sided=p)
        text += f"; exact one-sided p vs p0={args.p0:g}: {p:.4g}"
    return CommandResult(stamp(payload), text)
