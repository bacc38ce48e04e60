"""HTML pages of ``nerasense discover`` and ``nerasense validate``, in the house style of the cohort report.

The discovery page follows the TRIPOD items a reader looks for (Collins et al., BMJ 2015;350:g7594):
source of data (4a), participants (5a), outcome (6a), predictors (7a), sample size (8), missing data
(9, 13b), statistical analysis (10a–d), model specification (15a), performance (16), limitations (18).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from nerasense._version import software_version

_STYLE = """body{font-family:sans-serif;max-width:62em;margin:2em auto;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
th{background:#f3f3f3}.num{text-align:right}.warn{background:#fff3cd;padding:.5em}.note{color:#555;font-size:.9em}
img{max-width:100%}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.tripod{color:#888;font-size:.75em;font-weight:normal}img.third{width:32%}img.half{width:48%}
.box{background:#f6f8fa;padding:.6em 1em;border-left:4px solid #1f77b4}"""


def _img(fig: Any, alt: str, css: str = "") -> str:
    from nerasense.report.figures import to_png

    data = base64.b64encode(to_png(fig)).decode("ascii")
    cls = f' class="{css}"' if css else ""
    return f'<img{cls} alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    h = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{html.escape(c)}</td>' if _numeric(c) else f"<td>{html.escape(str(c))}</td>"
                         for c in (_s(v) for v in r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _numeric(c: str) -> bool:
    return bool(c) and c.replace(".", "").replace("-", "").replace("−", "").replace("e", "").replace("+", "").isdigit()


def _s(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _g(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}g}"


def _ci(lo: float | None, hi: float | None) -> str:
    return "–" if lo is None or hi is None else f"{lo:.3g} to {hi:.3g}"


def _h(title: str, tripod: str = "") -> str:
    t = f' <span class="tripod">TRIPOD {html.escape(tripod)}</span>' if tripod else ""
    return f"<h2>{html.escape(title)}{t}</h2>"


def _page(title: str, body: str, kb_version: str | None) -> str:
    kb = f"; knowledge base {html.escape(kb_version)}" if kb_version else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>
<p><strong>Research use only.</strong> nerasense {html.escape(software_version())}{kb}.</p>
{body}</body></html>"""


def discovery_report(result: Any, meta: dict[str, Any]) -> str:
    """The discovery page. ``result``: a :class:`~nerasense.discovery.workflow.DiscoveryResult`; ``meta``:
    ``title``, ``data`` (what the table is and where it came from), ``command``, ``kb_version``, optional
    ``join`` (the cell-line join report) and ``extra_limitations``."""
    from nerasense.report.discovery_figures import (
        calibration_figure,
        decision_curve_figure,
        permutation_figure,
        volcano_figure,
    )

    d = result.data
    miss = d.missingness()
    screen = [r.to_dict() for r in result.screen]
    kind = d.kind
    n_sig = sum(1 for r in result.screen if r.q < 0.05)
    parts: list[str] = []
    m = result.model
    top = result.screen[:5]
    summary = [f"{len(d.frame)} rows, {len(d.features)} features tested against <em>{html.escape(d.response)}</em> "
               f"({kind}); {n_sig} with q &lt; 0.05."]
    if top:
        t0 = top[0]
        summary.append(f"Strongest: <strong>{html.escape(t0.label)}</strong> ({t0.effect_name} {_g(t0.effect)}, "
                       f"95% CI {_ci(t0.ci_low, t0.ci_high)}; p = {_g(t0.p)}, q = {_g(t0.q)}).")
    if m is not None:
        summary.append(f"Penalised model: cross-validated {m.metric} {m.cv_mean:.3f} (SD {m.cv_sd:.3f}); optimism-corrected "
                       f"{_g(m.optimism_corrected)}; permutation p = {_g(m.permutation_p)} "
                       f"({len(m.permutation_null)} shuffles).")
    if result.locked_rule is not None:
        summary.append(f"Rule locked for validation: <strong>{html.escape(result.locked_rule.rule.label)}</strong> "
                       f"({html.escape(result.locked_rule.direction)} {html.escape(d.response)}).")
    parts.append('<div class="box">' + "<br>".join(summary) + "</div>")

    parts.append(_h("Data", "4a, 5a, 6a, 7a, 8"))
    parts.append(f"<p>{html.escape(meta.get('data', ''))}</p>")
    parts.append(_table(["item", "value"], [
        ["response (outcome)", f"{d.response} ({kind})" + (f", event {d.event}" if d.event else "")],
        ["screen adjusted for", d.adjust or "nothing (univariate)"],
        ["rows in the table", miss["n_input_rows"]],
        ["rows analysed", miss["n_analysed"]],
        ["events" if kind != "continuous" else "response mean (SD)",
         _events(d) if kind != "continuous" else f"{np.mean(d.y):.3g} ({np.std(d.y, ddof=1):.3g})"],
        ["features tested", f"{miss['features_tested']} ({sum(f.type == 'binary' for f in d.features)} binary)"],
        ["features not tested", "; ".join(f"{k}: {v}" for k, v in miss["features_excluded_by_reason"].items()) or "none"],
        ["minimum carriers per side", result.min_count],
    ]))
    join = meta.get("join")
    if join:
        parts.append(_join_section(join))

    parts.append(_h("Missing data", "9, 13b"))
    rows_reason = "; ".join(f"{k}: {v}" for k, v in miss["excluded_rows_by_reason"].items()) or "none"
    parts.append(f"<p>Rows left out: {miss['excluded_rows']} ({html.escape(rows_reason)}). Features with missing "
                 f"values: {miss['features_with_missing_values']} (the screen uses the rows with a value; the model "
                 "needs complete rows). Nothing was imputed.</p>")
    if d.excluded_rows:
        names = ", ".join(str(r.get("id", r["row"])) for r in d.excluded_rows[:60])
        parts.append("<p class=\"note\">Left out: " + html.escape(names)
                     + (" …" if len(d.excluded_rows) > 60 else "") + "</p>")

    parts.append(_h("Statistical analysis", "10a–d"))
    n_rule_features = len({t.feature for r in result.rules for t in r.rule.terms})
    parts.append("<ul>"
                 f"<li>Univariate screen: {html.escape(_screen_text(d, kind, result.test))}. Effect sizes with 95% CIs; "
                 "Benjamini–Hochberg q-values over all features tested.</li>"
                 f"<li>Composite rules: two-term AND rules over the {n_rule_features} "
                 "strongest binary features, each tested against its parts by the interaction term of y ~ a + b + a·b.</li>"
                 + (f"<li>Model: {html.escape(_model_text(kind))}, all tested features standardised in each fit; penalty and "
                    f"L1 ratio (grid {html.escape(', '.join(f'{v:g}' for v in result.settings.l1_ratios))} × "
                    f"{result.settings.n_alphas} penalties) tuned by {result.settings.inner_folds}-fold inner CV inside "
                    f"{result.settings.outer_folds}-fold outer CV; Harrell bootstrap optimism correction "
                    f"({result.settings.n_bootstrap} resamples, penalty fixed at its full-data value); permutation test of "
                    f"the whole nested procedure ({result.settings.n_permutations} shuffles).</li>" if m is not None else "")
                 + f"<li>Seed {result.settings.seed}: the same command on the same table gives the same page.</li></ul>")

    parts.append(_h("Univariate screen", "14"))
    x_label = {"continuous": "difference in mean response (carriers − others) or correlation"
               if d.adjust is None else f"difference in mean response, adjusted for {d.adjust}",
               "binary": "log2 odds ratio (binary features) or mean difference",
               "survival": "log2 hazard ratio"}[kind]
    parts.append(_img(volcano_figure(screen, x_label), "volcano plot"))
    parts.append(_screen_table(result.screen[:25], kind))
    if len(result.screen) > 25:
        parts.append(f"<p class=\"note\">Top 25 of {len(result.screen)}; all rows are in screen.tsv.</p>")

    if m is not None:
        parts.append(_model_section(result, m, calibration_figure, permutation_figure, decision_curve_figure))

    parts.append(_h("Composite rules", "14"))
    parts.append(_rules_table(result.rules[:15]))
    parts.append(f"<p>{html.escape(result.rule_choice)}.</p>")

    parts.append(_h("Limitations", "18"))
    lim = [
        "Rules and features are chosen and tested in the same rows: their p-values and effects are optimistic until "
        "they hold in independent data (nerasense validate).",
        *(["Unadjusted screen: a feature tied to tissue of origin can look predictive because the tissue is "
           "(discover --adjust names a column to adjust for)."] if d.adjust is None else
          [f"The screen is adjusted for {d.adjust}; the composite rules and the model are not."]),
        *meta.get("extra_limitations", []),
    ]
    parts.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lim) + "</ul>")
    parts.append(_h("Reproducibility"))
    parts.append(f"<p><code>{html.escape(meta.get('command', ''))}</code></p>")
    return _page(meta.get("title", "Biomarker discovery"), "".join(parts), meta.get("kb_version"))


def _events(d: Any) -> str:
    if d.kind == "binary":
        return f"{int(d.y.sum())} of {len(d.y)}"
    e = d.event_array
    return f"{int(e.sum())} events of {len(e)}"


def _screen_text(d: Any, kind: str, test: str) -> str:
    if d.adjust is None:
        return _test_text(kind, test)
    how = {"continuous": "linear regression", "binary": "logistic regression",
           "survival": "Cox regression stratified by"}[kind]
    if kind == "survival":
        return f"{how} {d.adjust} per feature (HR with Wald CI); composite rules unadjusted"
    return f"{how} on each feature and {d.adjust} (dummy-coded); adjusted effect with its CI; composite rules unadjusted"


def _test_text(kind: str, test: str) -> str:
    two = "Welch t" if test == "t" else "Mann–Whitney U"
    return {
        "continuous": f"{two} for binary features (mean difference, Welch CI), "
                      f"{'Pearson' if test == 't' else 'Spearman'} correlation for continuous ones (Fisher-z CI)",
        "binary": f"Fisher's exact test for binary features (conditional odds ratio, exact CI), {two} for continuous ones",
        "survival": "Cox proportional hazards per feature (Efron ties; HR with Wald CI)",
    }[kind]


def _model_text(kind: str) -> str:
    return {"continuous": "elastic-net linear regression (scikit-learn ElasticNetCV)",
            "binary": "elastic-net logistic regression (scikit-learn LogisticRegressionCV, saga)",
            "survival": "elastic-net Cox regression (scikit-survival CoxNet)"}[kind]


def _screen_table(rows: Sequence[Any], kind: str) -> str:
    return _table(
        ["feature", "carriers", "test", "effect", "estimate", "95% CI", "p", "q"],
        [[r.label, r.n_carriers if r.n_carriers is not None else "–", r.test, r.effect_name, r.effect,
          _ci(r.ci_low, r.ci_high), _g(r.p), _g(r.q)] for r in rows],
    )


def _rules_table(rules: Sequence[Any]) -> str:
    if not rules:
        return "<p>No two-term rule had enough rows on both sides.</p>"
    rows = []
    for r in rules:
        a, b = r.parts
        i = r.interaction
        rows.append([
            r.rule.label, r.n_positive, f"{_g(r.effect.effect)} ({_ci(r.effect.ci_low, r.effect.ci_high)})",
            _g(r.effect.p), _g(r.q), "–" if a is None else f"{_g(a.effect)} (p {_g(a.p)})",
            "–" if b is None else f"{_g(b.effect)} (p {_g(b.p)})",
            (i.get("note") or "–") if i.get("estimate") is None
            else f"{_g(i['estimate'])} ({_ci(i['ci_low'], i['ci_high'])}), p {_g(i['p'])}",
        ])
    return _table(["rule", "positive", "rule effect (95% CI)", "p", "q", "first term alone", "second term alone",
                   "interaction (95% CI), p"], rows)


def _model_section(result: Any, m: Any, calibration_figure: Any, permutation_figure: Any, decision_curve_figure: Any) -> str:
    d = result.data
    parts = [_h("Penalised model", "15a, 16")]
    sel = m.selected()
    parts.append(f"<p>Tuning on all rows: {html.escape(', '.join(f'{k} = {v:.3g}' for k, v in m.locked.tuning.items()))}; "
                 f"{len(sel)} of {len(m.locked.features)} features kept (non-zero coefficient).</p>")
    parts.append(_table(["measure", m.metric, "note"], [
        ["apparent (fit and scored on all rows)", m.apparent, "optimistic"],
        [f"cross-validated, mean of {len(m.cv_folds)} outer folds", f"{m.cv_mean:.3f} (SD {m.cv_sd:.3f})",
         "nested: tuning inside"],
        ["cross-validated, pooled out-of-fold", m.cv_pooled, ""],
        ["bootstrap optimism", m.optimism, f"{m.settings.n_bootstrap} resamples"],
        ["optimism-corrected (Harrell)", m.optimism_corrected, ""],
        ["permutation p (whole procedure)", m.permutation_p,
         f"{len(m.permutation_null)} shuffles; null mean {np.nanmean(m.permutation_null):.3f}" if m.permutation_null else ""],
        ["chance level", {"continuous": 0.0, "binary": 0.5, "survival": 0.5}[m.kind], ""],
    ]))
    cal = m.calibration
    parts.append(f"<p>Calibration of the out-of-fold predictions ({html.escape(cal['method'])}): slope {_g(cal['slope'])}, "
                 f"intercept {_g(cal.get('intercept'))}, calibration-in-the-large {_g(cal.get('in_the_large'))}.</p>")
    if m.kind != "survival":
        parts.append(_img(calibration_figure(m.kind, d.y, m.oof, m.calibration_curve, cal, d.response), "calibration plot"))
    if m.permutation_null:
        parts.append(_img(permutation_figure(m.permutation_null, m.cv_mean, m.metric,
                                             {"continuous": 0.0, "binary": 0.5, "survival": 0.5}[m.kind]), "permutation test"))
    if m.decision_curve:
        parts.append("<h3>Decision curve</h3>" + _img(decision_curve_figure(m.decision_curve), "decision curve"))
    if sel:
        from nerasense.discovery.data import feature_label

        parts.append("<h3>Coefficients</h3>" + _table(
            ["feature", "coefficient", "standardised", "kept in bootstrap refits"],
            [[feature_label(r["feature"]) if r["feature"] in {f.name for f in d.features if f.type == "binary"} else r["feature"],
              r["coefficient"], r["standardised"],
              "–" if r["bootstrap_inclusion"] is None else f"{100 * r['bootstrap_inclusion']:.0f}%"] for r in sel[:30]],
        ))
    return "".join(parts)


def _join_section(join: dict[str, Any]) -> str:
    by_rule = "; ".join(f"{k}: {v}" for k, v in join["matched_by_rule"].items())
    unmatched = join["unmatched_ctrp"]
    rows = [[u["ctrp"], u.get("cancer_type") or "–", u["reason"]] for u in unmatched]
    return (
        "<h3>Cell-line join (CTRP names to GDSC features)</h3>"
        f"<p>{join['ctrp_lines']} CTRP lines, {join['gdsc_lines_with_features']} GDSC lines with features; "
        f"{join['matched']} joined ({html.escape(by_rule)}). Joined by a spelling rule: "
        + html.escape(", ".join(f"{m['ctrp']} = {m['gdsc']}" for m in join["matched_by_spelling_rule"]))
        + f". {len(unmatched)} CTRP lines have no GDSC partner and are listed here, not dropped silently:</p>"
        + "<details><summary>unmatched CTRP lines</summary>" + _table(["CTRP line", "cancer type", "reason"], rows)
        + "</details>"
    )


def validation_report(results: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The validation page: one section per locked model or rule applied to the table."""
    from nerasense.report.discovery_figures import group_figure

    parts = [f"<p>{html.escape(meta.get('data', ''))}</p>"]
    rule_rows = []
    for r in results:
        if r["type"] != "rule":
            continue
        e = r["effect"]
        rule_rows.append([
            r.get("name") or "–", r["label"], r["direction"], f"{r['n_positive']} / {r['n']}",
            f"{_g(e['effect'])} ({_ci(e['ci_low'], e['ci_high'])})", _g(e["p"]),
            ("yes, p < 0.05" if r["significant"] else "yes, not significant") if r["direction_holds"] else "no",
            _g(r["discrimination"]["value"]),
            _g(r.get("drop_from_discovery")),
        ])
    if rule_rows:
        parts.append(_h("Locked rules", "10d, 16"))
        parts.append(_table(["rule", "reads", "predicted response", "positive / n", "effect (95% CI)", "p",
                             "direction holds", "C (discrimination)", "drop from discovery C"], rule_rows))
        for r in results:
            if r["type"] == "rule" and r.get("statement"):
                src = r.get("source") or {}
                ev = ", ".join(src.get("evidence", [])) if isinstance(src, dict) else ""
                parts.append(f"<p class=\"note\"><strong>{html.escape(r.get('name') or r['label'])}</strong>: "
                             f"{html.escape(r['statement'])}" + (f" (knowledge base: {html.escape(ev)})" if ev else "")
                             + f". Calibration: {html.escape(_cal_text(r['calibration']))}.</p>")
        figs = meta.get("figures", [])
        for f in figs:
            y, groups, labels, resp = f["args"]
            parts.append(_img(group_figure(y, groups, labels, resp, title=f.get("title", "")), "rule groups", "third"))
    for r in results:
        if r["type"] != "model":
            continue
        parts.append(_h("Locked model", "10d, 16"))
        perf = r.get("performance", {})
        parts.append(_table(["measure", "value"], [
            ["rows", r["n"]], ["rows with a missing model feature", r["n_incomplete"]],
            [f"discrimination ({r['discrimination']['metric']})", r["discrimination"]["value"]],
            [f"{perf.get('metric', '')} in this table", perf.get("value")],
            [f"{perf.get('metric', '')}, discovery cross-validated", perf.get("discovery_cv")],
            [f"{perf.get('metric', '')}, discovery optimism-corrected", perf.get("discovery_optimism_corrected")],
            ["drop from discovery (CV − here)", perf.get("drop_from_cv")],
            ["calibration slope", r["calibration"].get("slope")],
            ["calibration-in-the-large", r["calibration"].get("in_the_large")],
        ]))
    lim = meta.get("limitations", [])
    if lim:
        parts.append(_h("Limitations", "18") + "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lim) + "</ul>")
    parts.append(_h("Reproducibility") + f"<p><code>{html.escape(meta.get('command', ''))}</code></p>")
    return _page(meta.get("title", "Validation"), "".join(parts), meta.get("kb_version"))


def _cal_text(cal: dict[str, Any]) -> str:
    if "note" in cal:
        return str(cal["note"])
    return f"slope {_g(cal.get('slope'))}, in-the-large {_g(cal.get('in_the_large'))}"


__all__ = ["discovery_report", "validation_report"]
