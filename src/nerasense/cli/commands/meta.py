"""``nerasense meta TABLE``: random-effects meta-analysis of proportions or hazard ratios (metafor's conventions)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, stamp

MEASURE_HELP = ("PLO logit proportion, PFT Freeman–Tukey double arcsine, GLMM binomial-normal model (ML), "
                "HR log hazard ratio from HR and CI, GEN effect and SE as given (default: PLO with events/n "
                "columns, HR with hr/lower/upper)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("meta", help="pool response rates or hazard ratios across studies (DL, REML, PM; HKSJ)")
    p.add_argument("file", type=Path, help="CSV, TSV or Parquet: one row per study")
    p.add_argument("--measure", choices=["PLO", "PFT", "GLMM", "HR", "GEN"], default=None, help=MEASURE_HELP)
    p.add_argument("--method", choices=["REML", "DL", "PM"], default="REML", help="τ² estimator (default REML, as metafor)")
    p.add_argument("--hksj", action="store_true", help="Hartung–Knapp–Sidik–Jonkman CI and test (t, k−1 df)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--study", default="study", help="column with study labels (default study)")
    for name, default in (("events", "events"), ("n", "n"), ("hr", "hr"), ("lower", "lower"), ("upper", "upper"),
                          ("yi", "yi"), ("sei", "sei")):
        p.add_argument(f"--{name}", default=default, help=f"column name (default {default})")
    p.add_argument("--subgroup", default=None, help="column: pool within each level and test the difference")
    p.add_argument("--leave-one-out", action="store_true", dest="loo", help="re-pool without each study in turn")
    p.add_argument("--egger", action="store_true", help="Egger's regression test for funnel asymmetry")
    p.add_argument("--forest", type=Path, default=None, help="write a forest plot (.png, .svg or .pdf)")
    p.add_argument("--funnel", type=Path, default=None, help="write a funnel plot (.png, .svg or .pdf)")
    add_json_flag(p)
    p.set_defaults(handler=_meta)


def _measure(args: argparse.Namespace, columns: Any) -> str:
    if args.measure:
        return str(args.measure)
    if args.events in columns and args.n in columns:
        return "PLO"
    if args.hr in columns:
        return "HR"
    if args.yi in columns and args.sei in columns:
        return "GEN"
    raise UsageError(
        f"nerasense meta: --measure not given and the table has neither {args.events}/{args.n}, {args.hr}/{args.lower}/"
        f"{args.upper} nor {args.yi}/{args.sei} columns (columns: {', '.join(map(str, columns))})"
    )


def _meta(args: argparse.Namespace) -> CommandResult:
    from nerasense.stats.meta import effects_from_table, meta_analysis
    from nerasense.stats.tables import read_table

    df = read_table(args.file)
    measure = _measure(args, df.columns)
    eff = effects_from_table(df, measure, args.events, args.n, args.hr, args.lower, args.upper, args.yi, args.sei,
                             args.level)
    labels = [str(s) for s in df[args.study]] if args.study in df.columns else [f"study {i + 1}" for i in range(len(df))]
    if args.subgroup and args.subgroup not in df.columns:
        raise UsageError(f"nerasense meta: --subgroup {args.subgroup!r} is not a column ({', '.join(map(str, df.columns))})")
    subgroups = [str(s) for s in df[args.subgroup]] if args.subgroup else None
    res = meta_analysis(eff, labels, args.method, args.hksj, args.level, subgroups, args.loo, args.egger)
    res["file"] = str(args.file)
    figures: dict[str, str] = {}
    if args.forest or args.funnel:
        from nerasense.report.figures import save
        from nerasense.report.meta_figures import funnel_figure, meta_forest_figure

        if args.forest:
            figures["forest"] = str(save(meta_forest_figure(res), args.forest))
        if args.funnel:
            egger_p = res["egger"]["p"] if "egger" in res else None
            figures["funnel"] = str(save(funnel_figure(eff.y, eff.v**0.5, res["overall"]["estimate"], measure, egger_p),
                                         args.funnel))
    res["figures"] = figures
    res["research_use_only"] = True
    o = res["overall"]
    pooled = o["pooled"]
    pct = measure in ("PLO", "PFT", "GLMM")
    f = (lambda v: f"{100 * v:.1f}%") if pct else (lambda v: f"{v:.3f}")
    lines = [
        f"{measure} random-effects meta-analysis of {res['k']} studies ({o['method']}, "
        f"{'HKSJ t' if o['test'] == 'knha' else 'Wald z'}); research use only",
        f"  pooled {f(pooled['estimate'])} ({f(pooled['ci_low'])}–{f(pooled['ci_high'])}), p = {o['p']:.3g}; "
        f"prediction interval {f(pooled['pi_low'])}–{f(pooled['pi_high'])}",
        f"  tau² {o['tau2']:.4g}, I² {o['i2']:.1f}%, Q {o['q']:.3f} on {o['q_df']} df (p = {o['q_p']:.3g})",
    ]
    for name, sub in (res.get("subgroups") or {}).items():
        if sub is not None:
            sp = sub["pooled"]
            lines.append(f"  subgroup {name}: {f(sp['estimate'])} ({f(sp['ci_low'])}–{f(sp['ci_high'])}), k = {sub['k']}")
        else:
            lines.append(f"  subgroup {name}: one study, not pooled")
    if res.get("subgroup_test"):
        st = res["subgroup_test"]
        lines.append(f"  subgroup difference Q = {st['q_between']:.3f} on {st['df']} df, p = {st['p']:.3g}")
    if "egger" in res:
        lines.append(f"  Egger's test t = {res['egger']['t']:.3f} on {res['egger']['df']} df, p = {res['egger']['p']:.3g}")
    lines += [f"  wrote {k}: {v}" for k, v in figures.items()]
    return CommandResult(stamp(res), "\n".join(lines))
