"""HER2 testing by tumour type. Breast: ASCO/CAP 2018 (affirmed 2023) with the HER2-low/-ultralow working
categories, H-score, HERmark, p95HER2 and genetic heterogeneity. Gastroesophageal: CAP/ASCP/ASCO 2016 with
the ToGA (Hofmann) scoring of surgical and biopsy specimens. Colorectal: the HERACLES criteria. Any other
tumour type: no scheme, so no result and no category — the raw results are reported as given.

Every rule lives in knowledge data (``her2_ihc.yaml``, ``her2_ish.yaml``, ``her2_single_probe.yaml``,
``her2_categories.yaml``, ``her2_thresholds.yaml``); this module only walks those tables and records
which rows it used, with their sources, so a reader can trace every word of the answer.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nerasense.domain.her2 import IHC_ALIASES, Her2Tests, IhcScore
from nerasense.domain.validation import split_valid
from nerasense.errors import NerasenseWarning, ProblemCollector, UnverifiedKnowledgeWarning
from nerasense.knowledge import KnowledgeBase, default_knowledge
from nerasense.knowledge.schema import (
    CategoryRule,
    Cited,
    Her2TumourRule,
    Her2TumourScheme,
    IhcScoreRule,
    IshGroupRule,
    SingleProbeRule,
)


@dataclass
class Her2Interpretation:
    """The reading of one patient's HER2 tests, with the rule rows that produced it."""

    result: str | None
    ish_group: int | None
    category: str | None
    h_score: float | None = None
    h_score_high: bool | None = None
    hermark: dict[str, Any] | None = None
    p95: dict[str, Any] | None = None
    heterogeneity: dict[str, Any] | None = None
    ish_ratio: float | None = None
    workup: list[str] = field(default_factory=list)
    comment: str | None = None
    rules: list[dict[str, str]] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scheme: dict[str, Any] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    amplified: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "inputs": dict(self.inputs),
            "amplified": self.amplified,
            "result": self.result,
            "ish_group": self.ish_group,
            "category": self.category,
            "h_score": self.h_score,
            "h_score_high": self.h_score_high,
            "hermark": self.hermark,
            "p95": self.p95,
            "heterogeneity": self.heterogeneity,
            "ish_ratio": self.ish_ratio,
            "workup": list(self.workup),
            "comment": self.comment,
            "rules": list(self.rules),
            "unverified": list(self.unverified),
            "warnings": list(self.warnings),
        }


class _Trace:
    """Collects the rule rows used, unverified facts and warnings while interpreting."""

    def __init__(self, out: Her2Interpretation) -> None:
        self.out = out

    def used(self, rule: str, fact: Cited, why: str) -> None:
        self.out.rules.append(
            {"rule": rule, "why": why, "source": fact.source, "verification": fact.verification.value}
        )
        if fact.unverified:
            self.out.unverified.append(f"{rule}: {why}")
            warnings.warn(
                f"{rule} rests on a fact not verified against its source ({fact.source})",
                UnverifiedKnowledgeWarning,
                stacklevel=3,
            )

    def warn(self, message: str) -> None:
        self.out.warnings.append(message)
        warnings.warn(message, NerasenseWarning, stacklevel=3)

    def workup(self, items: list[str]) -> None:
        for item in items:
            if item not in self.out.workup:
                self.out.workup.append(item)


def parse_her2_tests(data: Mapping[str, Any], where: str = "", breast: bool = True) -> Her2Tests:
    """Validate raw HER2 test fields (from the CLI or a patient file); every problem at once. ``breast``
    False relaxes the ASCO/CAP dual-probe bookkeeping (gastroesophageal and colorectal ISH is read on the
    ratio alone)."""
    raw = dict(data)
    ihc = raw.get("ihc")
    if isinstance(ihc, int | float) and not isinstance(ihc, bool):
        raw["ihc"] = "0" if ihc == 0 else f"{int(ihc)}+"
    elif isinstance(ihc, str):
        raw["ihc"] = IHC_ALIASES.get(ihc.strip().lower(), ihc.strip().lower())
    tests, problems = split_valid(Her2Tests, raw, where=where)
    collector = ProblemCollector()
    collector.problems.extend(problems)
    _check_consistency(tests, where, collector, breast)
    collector.raise_if_any()
    return tests


def _check_consistency(t: Her2Tests, where: str, p: ProblemCollector, breast: bool = True) -> None:
    if not breast:
        if t.her2_signals is not None and t.ish_ratio is None and t.cep17_signals is None:
            p.add("ish_ratio", None, "a number > 0 (HER2/CEP17), or cep17_signals to compute it",
                  "outside breast, ISH is read on the HER2/CEP17 ratio", where)
        return
    if not t.single_probe:
        if (t.ish_ratio is not None or t.cep17_signals is not None) and t.her2_signals is None:
            p.add("her2_signals", None, "a number >= 0 whenever an ISH ratio or CEP17 count is given",
                  "give the average HER2 signals per cell (ASCO/CAP groups need both ratio and signals)", where)
        if t.her2_signals is not None and t.ish_ratio is None and t.cep17_signals is None:
            p.add("ish_ratio", None, "a number > 0, or cep17_signals to compute it, for dual-probe ISH",
                  "give the HER2/CEP17 ratio or the CEP17 count, or mark the test single-probe", where)
    else:
        if t.ish_ratio is not None or t.cep17_signals is not None:
            p.add("ish_ratio" if t.ish_ratio is not None else "cep17_signals",
                  t.ish_ratio if t.ish_ratio is not None else t.cep17_signals,
                  "nothing for single-probe ISH (it has no CEP17 probe)",
                  "drop --single-probe for a dual-probe assay", where)
        if t.her2_signals is None:
            p.add("her2_signals", None, "a number >= 0 for single-probe ISH",
                  "give average HER2 copies per cell", where)
    if t.has_recount and not t.has_ish:
        p.add("recount_her2_signals", t.recount_her2_signals, "a recount only after an initial ISH result",
              "give the initial ISH ratio and signals too", where)
    if t.has_recount and t.recount_her2_signals is None:
        p.add("recount_her2_signals", None, "a number >= 0 when a recount is given",
              "give the recount's average HER2 signals per cell", where)
    if t.has_recount and not t.single_probe and t.recount_ratio is None and t.recount_cep17_signals is None:
        p.add("recount_ratio", None, "a number > 0, or recount_cep17_signals, for a dual-probe recount",
              "give the recount's HER2/CEP17 ratio", where)
    if t.has_percentages:
        total = sum(v or 0.0 for v in (t.pct_1plus, t.pct_2plus, t.pct_3plus))
        if total > 100 + 1e-9:
            p.add("pct_1plus+pct_2plus+pct_3plus", round(total, 6),
                  "a sum of at most 100 (percent of tumour cells at each intensity)",
                  "check the three percentages; cells with no staining make up the rest", where)


def _ratio(t: Her2Tests, recount: bool, trace: _Trace, kb: KnowledgeBase) -> float:
    ratio = t.recount_ratio if recount else t.ish_ratio
    her2 = t.recount_her2_signals if recount else t.her2_signals
    cep17 = t.recount_cep17_signals if recount else t.cep17_signals
    if cep17 is not None and her2 is not None:
        computed = her2 / cep17
        if ratio is None:
            return computed
        tolerance = kb.threshold("ish-ratio-consistency").value or 0.0
        if abs(computed - ratio) > tolerance * max(ratio, 1.0):
            trace.warn(
                f"the reported {'recount ' if recount else ''}HER2/CEP17 ratio {ratio:g} differs from "
                f"{her2:g}/{cep17:g} = {computed:.2f}; the reported ratio was used — check the ISH report"
            )
    assert ratio is not None  # guaranteed by _check_consistency
    return ratio


def _dual_probe_group(kb: KnowledgeBase, ratio: float, signals: float) -> IshGroupRule:
    for rule in kb.of("her2_ish_dual_probe", IshGroupRule):
        if rule.ratio.contains(ratio) and rule.her2_signals.contains(signals):
            return rule
    raise AssertionError(f"ISH groups in knowledge do not cover ratio={ratio}, signals={signals}")


def _single_probe_row(kb: KnowledgeBase, signals: float) -> SingleProbeRule:
    for rule in kb.of("her2_ish_single_probe", SingleProbeRule):
        if rule.her2_signals.contains(signals):
            return rule
    raise AssertionError(f"single-probe rules in knowledge do not cover signals={signals}")


def her2_scheme(kb: KnowledgeBase, tumour_path: tuple[str, ...] | None) -> Her2TumourScheme | None:
    """The scheme for a tumour (its OncoTree code and ancestors); breast when no tumour type is given (the
    ``nerasense her2`` default), None for a tumour type no scheme covers."""
    schemes = kb.of("her2_tumour_schemes", Her2TumourScheme)
    if tumour_path is None:
        return next(s for s in schemes if s.id == "breast")
    return next((s for s in schemes if set(s.codes) & set(tumour_path)), None)


def _inputs(tests: Her2Tests) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in tests.model_dump().items()
            if v is not None and v is not False}


def interpret_her2(
    tests: Her2Tests, kb: KnowledgeBase | None = None, tumour_path: tuple[str, ...] | None = None
) -> Her2Interpretation:
    """Read one set of HER2 tests by the scheme of the tumour type (``tumour_path``: the OncoTree code and
    its ancestors; None reads them as breast). Raises nothing for missing tests: they become work-up items."""
    kb = kb or default_knowledge()
    scheme = her2_scheme(kb, tumour_path)
    out = Her2Interpretation(result=None, ish_group=None, category=None, inputs=_inputs(tests))
    trace = _Trace(out)
    if scheme is None:
        code = tumour_path[0] if tumour_path else "?"
        out.scheme = {"id": None, "name": "no HER2 scoring scheme for this tumour type", "source": None}
        out.comment = (f"No HER2 scoring scheme for {code} is in the knowledge base: the results are reported as "
                       "given, with no positive/negative reading and no breast category (HER2-low, -ultralow, -0).")
        return out
    out.scheme = {"id": scheme.id, "name": scheme.name, "source": scheme.source}
    if scheme.id != "breast":
        _interpret_other(tests, kb, scheme, trace)
        return out
    ihc = _resolve_ihc(tests, kb, trace)
    ihc_key = ihc.asco_cap if ihc is not None else None

    if ihc is not None:
        ihc_rule = next(r for r in kb.of("her2_ihc_scores", IhcScoreRule) if r.score == ihc.value)
        trace.used(f"ihc {ihc.value}", ihc_rule, ihc_rule.definition)
        out.result = ihc_rule.result
        if not tests.has_ish or ihc is IhcScore.ZERO:
            trace.workup(ihc_rule.workup)

    if tests.has_ish and not tests.single_probe:
        _apply_dual_probe(tests, kb, ihc_key, trace)
    elif tests.has_ish:
        _apply_single_probe(tests, kb, ihc_key, trace)
    elif ihc is None:
        trace.workup(["HER2 IHC (and reflex ISH if IHC 2+) is needed for a HER2 result"])

    _apply_category(kb, ihc, trace)
    _apply_quantitative(tests, kb, trace)
    if out.ish_group is not None:
        out.amplified = out.ish_group == 1
    return out


def _interpret_other(tests: Her2Tests, kb: KnowledgeBase, scheme: Her2TumourScheme, trace: _Trace) -> None:
    """Gastroesophageal or colorectal HER2: the IHC row of the scheme, then ISH on the ratio. No category."""
    out = trace.out
    ihc = tests.ihc.asco_cap if tests.ihc is not None else None
    if ihc is not None:
        pct = {"3+": tests.pct_3plus, "2+": tests.pct_2plus}.get(ihc)
        specimens = [tests.specimen] if tests.specimen else (["surgical", "biopsy"] if scheme.specimen_matters else ["any"])
        rows = [_tumour_rule(kb, scheme.id, specimen, ihc, pct) for specimen in specimens]
        if len({r.result for r in rows}) == 1:
            for r in rows:
                trace.used(f"{scheme.id} ihc {ihc} ({r.specimen}) [{r.id}]", r, r.definition)
            out.result = rows[0].result
            if not (tests.has_ish and rows[0].result == "equivocal"):  # the ISH asked for is already here
                trace.workup(rows[0].workup)
        if scheme.specimen_matters and tests.specimen is None:
            trace.workup(["say whether the IHC was read on a surgical (resection) or a biopsy specimen: "
                          "the scoring rules differ"])
    ratio = tests.ish_ratio
    if ratio is None and tests.her2_signals is not None and tests.cep17_signals:
        ratio = tests.her2_signals / tests.cep17_signals
    if ratio is not None and scheme.ish_ratio_positive is not None:
        out.ish_ratio = round(ratio, 4)
        out.amplified = scheme.ish_ratio_positive.contains(ratio)
        trace.used(f"{scheme.id} ish", scheme, f"HER2/CEP17 {ratio:.2f} ({scheme.ish_ratio_positive.describe()} is "
                   f"amplified): {'amplified' if out.amplified else 'not amplified'}"
                   + (f"; {scheme.ish_cells_note}" if scheme.ish_cells_note else ""))
        if out.result in (None, "equivocal"):
            out.result = "positive" if out.amplified else "negative"
        elif out.result == "negative" and out.amplified:
            trace.warn(f"IHC {ihc} with ISH amplification is discordant; IHC 0/1+ reads as HER2-negative under "
                       f"{scheme.name} — review both assays")
    elif out.result == "equivocal" and not out.workup:
        trace.workup(["ISH on the same specimen (HER2/CEP17 ratio) for the final result"])
    if ihc is None and ratio is None:
        trace.workup([f"HER2 IHC ({scheme.name}), with ISH if IHC 2+"])


def _tumour_rule(kb: KnowledgeBase, scheme: str, specimen: str, ihc: str, pct: float | None) -> Her2TumourRule:
    for rule in kb.of("her2_tumour_rules", Her2TumourRule):
        if rule.scheme != scheme or rule.ihc != ihc or rule.specimen not in (specimen, "any"):
            continue
        if rule.pct is None or (pct is not None and rule.pct.contains(pct)):
            return rule
    raise AssertionError(f"her2_tumour_rules has no row for {scheme} IHC {ihc} ({specimen}, pct {pct})")


def _resolve_ihc(tests: Her2Tests, kb: KnowledgeBase, trace: _Trace) -> IhcScore | None:
    """IHC 0 with staining percentages can be split into null and ultralow (DESTINY-Breast06)."""
    ihc = tests.ihc
    if ihc is not IhcScore.ZERO or not tests.has_percentages:
        return ihc
    limit = kb.threshold("ihc-cell-fraction")
    p1, p2, p3 = (v or 0.0 for v in (tests.pct_1plus, tests.pct_2plus, tests.pct_3plus))
    stained = p1 + p2 + p3
    if stained == 0:
        trace.used("ihc 0 -> null", limit, "no stained cells recorded")
        return IhcScore.NULL
    if limit.value is not None and stained <= limit.value and p2 == 0 and p3 == 0:
        trace.used("ihc 0 -> ultralow", limit, f"faint staining in {stained:g}% of cells (at most {limit.value:g}%)")
        return IhcScore.ULTRALOW
    trace.warn(
        f"IHC 0 was reported with {stained:g}% of cells stained ({p1:g}/{p2:g}/{p3:g}% at 1+/2+/3+); "
        "that pattern fits IHC 1+ or more — review the IHC score"
    )
    return ihc


def _apply_dual_probe(tests: Her2Tests, kb: KnowledgeBase, ihc_key: str | None, trace: _Trace) -> None:
    out = trace.out
    assert tests.her2_signals is not None
    ratio = _ratio(tests, recount=False, trace=trace, kb=kb)
    out.ish_ratio = round(ratio, 4)
    group = _dual_probe_group(kb, ratio, tests.her2_signals)
    out.ish_group = group.group
    trace.used(
        f"ish group {group.group}", group,
        f"ratio {ratio:.2f} ({group.ratio.describe()}), {tests.her2_signals:g} HER2 signals/cell "
        f"({group.her2_signals.describe()}): {group.initial_call}",
    )
    if ihc_key is None:
        out.result = group.result_without_ihc
        trace.workup(group.workup_without_ihc)
        return
    step = group.result_by_ihc[ihc_key]  # type: ignore[index]
    if ihc_key in group.discordance:
        trace.warn(group.discordance[ihc_key])
    if step != "recount":
        out.result = step
        trace.used(f"ish group {group.group} with ihc {ihc_key}", group, f"final result {step}")
    elif not tests.has_recount:
        out.result = "equivocal"
        minimum = kb.threshold("ish-min-cells").value
        trace.workup([
            f"blinded recount by an additional observer of at least {minimum:g} cells in the area of IHC 2+ "
            "staining, then re-run with the recount"
        ])
    else:
        assert tests.recount_her2_signals is not None
        rratio = _ratio(tests, recount=True, trace=trace, kb=kb)
        regroup = _dual_probe_group(kb, rratio, tests.recount_her2_signals)
        out.result = regroup.result_after_recount
        trace.used(
            f"recount: ish group {regroup.group}", regroup,
            f"recount ratio {rratio:.2f}, {tests.recount_her2_signals:g} signals/cell: final result "
            f"{regroup.result_after_recount}",
        )
        group = regroup
    if out.result == "negative-with-comment":
        out.comment = " ".join((group.comment or "").split()) or None


def _apply_single_probe(tests: Her2Tests, kb: KnowledgeBase, ihc_key: str | None, trace: _Trace) -> None:
    out = trace.out
    assert tests.her2_signals is not None
    signals = tests.recount_her2_signals if tests.recount_her2_signals is not None else tests.her2_signals
    row = _single_probe_row(kb, signals)
    trace.used(f"single-probe {row.id}", row, f"{signals:g} HER2 copies/cell ({row.her2_signals.describe()})")
    trace.warn("single-probe ISH: ASCO/CAP prefers dual-probe ISH and asks for concomitant IHC review")
    if ihc_key is None:
        out.result = row.result_without_ihc
        trace.workup(row.workup_without_ihc)
    else:
        out.result = row.result_by_ihc[ihc_key]  # type: ignore[index]
        trace.workup(row.workup_by_ihc.get(ihc_key, []))  # type: ignore[call-overload]


def _apply_category(kb: KnowledgeBase, ihc: IhcScore | None, trace: _Trace) -> None:
    out = trace.out
    if out.result is None:
        return
    ihc_value = ihc.value if ihc is not None else "missing"
    for rule in kb.of("her2_categories", CategoryRule):
        if out.result in rule.when_result and (rule.when_ihc is None or ihc_value in rule.when_ihc):
            out.category = rule.category
            trace.used(f"category {rule.id}", rule, rule.note or f"{out.result} with IHC {ihc_value}")
            if rule.id == "negative-no-ihc":
                trace.workup(["HER2 IHC to tell HER2-low from HER2-0"])
            return
    raise AssertionError(f"no category rule for result={out.result}, ihc={ihc_value}")


def _apply_quantitative(tests: Her2Tests, kb: KnowledgeBase, trace: _Trace) -> None:
    out = trace.out
    if tests.has_percentages:
        p1, p2, p3 = (v or 0.0 for v in (tests.pct_1plus, tests.pct_2plus, tests.pct_3plus))
        out.h_score = round(1 * p1 + 2 * p2 + 3 * p3, 6)  # H-score definition (hscore-def)
        high = kb.threshold("h-score-high")
        assert high.value is not None
        out.h_score_high = out.h_score >= high.value
        relation = ">=" if out.h_score_high else "<"
        trace.used("h-score", high, f"H-score {out.h_score:g} {relation} {high.value:g} (NALA median)")
    if tests.hermark_h2t is not None:
        t = kb.threshold("hermark-categories")
        assert t.bands is not None
        category = next((name for name, band in t.bands.items() if band.contains(tests.hermark_h2t)), None)
        out.hermark = {
            "h2t": tests.hermark_h2t,
            "unit": t.unit,
            "category": category,
            "cutoffs": {name: band.describe() for name, band in t.bands.items()},
            "source": t.source,
            "unverified": t.unverified,
        }
        trace.used("hermark", t, f"H2T {tests.hermark_h2t:g} RF/mm2 -> {category}")
    if tests.p95 is not None:
        t = kb.threshold("p95-high")
        assert t.value is not None
        out.p95 = {
            "value": tests.p95, "unit": t.unit, "high": tests.p95 >= t.value, "cutoff": t.value, "source": t.source
        }
        trace.used("p95", t, f"p95HER2 {tests.p95:g} {'>=' if tests.p95 >= t.value else '<'} {t.value:g} RF/mm2")
    if tests.pct_amplified_cells is not None:
        band_rule = kb.threshold("heterogeneity-band")
        ratio_rule = kb.threshold("heterogeneity-ratio")
        assert band_rule.bands is not None
        band = band_rule.bands["heterogeneous"]
        flag = band.contains(tests.pct_amplified_cells)
        out.heterogeneity = {
            "pct_amplified_cells": tests.pct_amplified_cells,
            "heterogeneous": flag,
            "definition": f"percent of cells with HER2/CEP17 > {ratio_rule.value:g} is {band.describe()}",
            "source": band_rule.source,
        }
        trace.used("heterogeneity", band_rule, f"{tests.pct_amplified_cells:g}% amplified cells -> "
                   f"{'heterogeneous' if flag else 'not heterogeneous'}")
        if flag:
            trace.workup(["genetic heterogeneity: report the amplified subpopulation separately; "
                          "interpret with IHC on the same block"])
