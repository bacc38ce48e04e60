"""``nerasense discover TABLE --response COL -o OUT/``: screen, penalised model, composite rules, report."""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from nerasense.cli._common import CommandResult, UsageError, add_json_flag, stamp

KINDS = ("continuous", "binary", "survival")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("discover", help="find features that predict a response; model, rules, HTML report")
    p.add_argument("table", type=Path, help="feature × response table (CSV, TSV or Parquet), one row per sample")
    p.add_argument("--response", required=True, help="response column (survival: the time column)")
    p.add_argument("--kind", choices=KINDS, default="continuous", help="kind of response (default continuous)")
    p.add_argument("--event", help="event column (0/1) of a survival response")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--features", help="comma-separated feature columns (shell patterns allowed, e.g. '*_mut')")
    g.add_argument("--all", action="store_true", help="every other column is a feature (the default)")
    p.add_argument("--ignore", default="", help="comma-separated columns (or patterns) that are not features")
    p.add_argument("--id", dest="id_column", help="row id column (names rows in the report)")
    p.add_argument("--adjust", help="categorical column (e.g. tissue) the screen adjusts for (regression on feature + "
                   "categories; Cox stratified); rules and model stay unadjusted")
    p.add_argument("--test", choices=("mannwhitney", "t"), default="mannwhitney",
                   help="two-group test of the screen: Mann–Whitney (default) or Welch t")
    p.add_argument("--min-count", type=int, default=5, help="binary features need this many carriers and non-carriers (5)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same run (0)")
    p.add_argument("--bootstrap", type=int, default=50, help="bootstrap resamples for optimism correction (50)")
    p.add_argument("--permutations", type=int, default=20, help="shuffles for the permutation test (20)")
    p.add_argument("--outer-folds", type=int, default=5, help="outer cross-validation folds (5)")
    p.add_argument("--inner-folds", type=int, default=5, help="inner (tuning) cross-validation folds (5)")
    p.add_argument("--no-model", action="store_true", help="screen and rules only, no penalised model")
    p.add_argument("--top-rules", type=int, default=8, help="binary features paired into two-term rules (8)")
    p.add_argument("--title", default=None, help="report title")
    p.add_argument("-o", "--output", type=Path, required=True, help="folder for report.html, screen.tsv, model.json, rule.json")
    add_json_flag(p)
    p.set_defaults(handler=_discover)


def select_columns(columns: list[str], spec: str) -> list[str]:
    """Columns named in a comma-separated list; an item with * ? [ is a shell pattern. Unknown names stay
    in the list (the table check names them)."""
    out: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if any(ch in item for ch in "*?["):
            out += [c for c in columns if fnmatch.fnmatchcase(c, item) and c not in out]
        elif item not in out:
            out.append(item)
    return out


@contextlib.contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr (only on a terminal); yields the library's progress callback."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        yield tick


def _discover(args: argparse.Namespace) -> CommandResult:
    from nerasense.discovery.model import ModelSettings
    from nerasense.discovery.workflow import discover
    from nerasense.errors import InputError, Problem
    from nerasense.knowledge import default_knowledge
    from nerasense.report.discovery import discovery_report
    from nerasense.stats.tables import read_table

    problems = []
    for name in ("bootstrap", "permutations", "min_count", "top_rules"):
        if getattr(args, name) < 0:
            problems.append(Problem(f"--{name.replace('_', '-')}", getattr(args, name), "an integer ≥ 0"))
    if problems:
        raise InputError(problems)
    kb_version = default_knowledge().kb_version  # stamped on every output (the run itself reads no knowledge)
    df = read_table(args.table)
    cols = [str(c) for c in df.columns]
    features = select_columns(cols, args.features) if args.features else None
    if args.features and not features:
        raise UsageError(f"--features {args.features!r} names no column")
    ignore = select_columns(cols, args.ignore)
    settings = ModelSettings(outer_folds=args.outer_folds, inner_folds=args.inner_folds, n_bootstrap=args.bootstrap,
                             n_permutations=args.permutations, seed=args.seed)
    with progress_bar(sys.stderr.isatty()) as tick:
        result = discover(df, args.response, args.kind, features, args.event, args.id_column, ignore, settings,
                          args.test, args.min_count, args.top_rules, model=not args.no_model, progress=tick,
                          adjust=args.adjust)
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    payload = result.to_dict(screen_rows=None)
    screen_path = out / "screen.tsv"
    _write_screen(result, screen_path)
    files = {"report": str(out / "report.html"), "screen": str(screen_path), "result": str(out / "discovery.json")}
    if result.model is not None:
        model_json = json.dumps(stamp(result.model.locked.to_dict(), kb_version), indent=2, allow_nan=False)
        (out / "model.json").write_text(model_json + "\n", encoding="utf-8")
        files["model"] = str(out / "model.json")
    if result.locked_rule is not None:
        rule_json = json.dumps(stamp(result.locked_rule.to_dict(), kb_version), indent=2)
        (out / "rule.json").write_text(rule_json + "\n", encoding="utf-8")
        files["rule"] = str(out / "rule.json")
    command = "nerasense " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["discover"] else ""
    meta = {"title": args.title or f"Biomarker discovery: {args.response} in {args.table.name}",
            "data": f"Table {args.table} ({len(df)} rows, {len(cols)} columns).", "command": command or _command(args),
            "kb_version": kb_version}
    join = _join_report_beside(args.table)
    if join is not None:
        meta["join"] = join
        meta["data"] += (" Built by `nerasense celllines` from CTRP v2 (drug AUC; lower = more sensitive) and GDSC v17 "
                         "binary genomic features.")
    (out / "report.html").write_text(discovery_report(result, meta), encoding="utf-8")
    full = stamp(payload, kb_version)
    full["files"] = files
    (out / "discovery.json").write_text(json.dumps(full, indent=2, default=str, allow_nan=False) + "\n", encoding="utf-8")

    summary = stamp({
        "response": args.response, "kind": args.kind, "adjust": args.adjust, "n": payload["n"], "seed": args.seed,
        "features_tested": payload["missingness"]["features_tested"],
        "top": payload["screen"][:10], "significant_q05": payload["significant_q05"],
        "model": None if payload["model"] is None else {k: payload["model"][k] for k in
                                                        ("metric", "chance", "apparent", "cv", "optimism_corrected",
                                                         "calibration", "permutation", "selected", "tuning")},
        "locked_rule": payload["locked_rule"], "rule_choice": payload["rule_choice"],
        "rules": payload["rules"][:5], "missingness": payload["missingness"], "files": files,
    }, kb_version)
    return CommandResult(summary, _text(result, files))


def _command(args: argparse.Namespace) -> str:
    return f"nerasense discover {args.table} --response {args.response} --kind {args.kind} --seed {args.seed} -o {args.output}"


def _join_report_beside(table: Path) -> dict[str, Any] | None:
    p = table.parent / "join.json"
    if p.is_file():
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
            return d if "matched_by_rule" in d else None
        except ValueError:
            return None
    return None


def _write_screen(result: Any, path: Path) -> None:
    import csv

    rows = [r.to_dict() for r in result.screen]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["feature"], delimiter="\t")
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in r.items()})


def _text(result: Any, files: dict[str, str]) -> str:
    lines = [f"{len(result.data.frame)} rows, {len(result.data.features)} features; response {result.data.response}"]
    for r in result.screen[:10]:
        lines.append(f"  {r.label:<50} {r.effect_name} {r.effect:+.3g} ({r.ci_low if r.ci_low is None else round(r.ci_low, 3)}"
                     f" to {r.ci_high if r.ci_high is None else round(r.ci_high, 3)})  p={r.p:.3g} q={r.q:.3g}")
    m = result.model
    if m is not None:
        lines.append(f"model: CV {m.metric} {m.cv_mean:.3f} (SD {m.cv_sd:.3f}), optimism-corrected "
                     f"{m.optimism_corrected if m.optimism_corrected is None else round(m.optimism_corrected, 3)}, "
                     f"permutation p {m.permutation_p}")
    if result.locked_rule is not None:
        lines.append(f"locked rule: {result.locked_rule.rule.label} ({result.locked_rule.direction})")
    lines += [f"  {k}: {v}" for k, v in files.items()]
    return "\n".join(lines)
