"""ASCO/CAP 2018 (affirmed 2023) HER2 interpretation, driven by tests/data/her2_guideline_cases.tsv.

Each row's expected result, ISH group and category were written from the guideline figures
(Wolff et al. J Clin Oncol 2018 Figures 1-6; shared/reference/domain-facts.md §1), not from our output.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pytest

from nerasense.errors import InputError, NerasenseWarning, UnverifiedKnowledgeWarning
from nerasense.interpret.her2_testing import interpret_her2, parse_her2_tests
from nerasense.knowledge.schema import CategoryRule, IhcScoreRule, IshGroupRule, SingleProbeRule

CASES_FILE = Path(__file__).parent / "data" / "her2_guideline_cases.tsv"
INPUT_FIELDS = (
    "ihc", "ish_ratio", "her2_signals", "cep17_signals", "recount_ratio", "recount_her2_signals",
    "pct_1plus", "pct_2plus", "pct_3plus",
)


def _cases() -> list[dict[str, str]]:
    lines = [ln for ln in CASES_FILE.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


CASES = _cases()


def _inputs(row: dict[str, str]) -> dict[str, object]:
    raw: dict[str, object] = {k: row[k] for k in INPUT_FIELDS if row[k]}
    raw["single_probe"] = row["single_probe"] == "yes"
    return raw


def _interpret(row: dict[str, str]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        return interpret_her2(parse_her2_tests(_inputs(row)))


@pytest.mark.parametrize("row", CASES, ids=[c["id"] for c in CASES])
def test_guideline_case(row: dict[str, str]) -> None:
    out = _interpret(row)
    assert out.result == row["expected_result"]
    assert out.ish_group == (int(row["expected_group"]) if row["expected_group"] else None)
    assert out.category == (row["expected_category"] or None)
    if out.result == "negative-with-comment":
        assert out.comment, "negative with comment must carry its comment"
    if row["rule"].startswith("category:"):
        assert f"category {row['rule'].split(':', 1)[1]}" in {r["rule"] for r in out.rules}


def test_every_rule_row_has_a_case(kb) -> None:
    """Completeness: a knowledge rule row without a guideline case fails here."""
    needed = {f"ihc:{r.score}" for r in kb.of("her2_ihc_scores", IhcScoreRule)}
    for g in kb.of("her2_ish_dual_probe", IshGroupRule):
        needed |= {f"ish:g{g.group}:{k}" for k in g.result_by_ihc} | {f"ish:g{g.group}:none"}
        needed.add(f"recount:g{g.group}")
    for s in kb.of("her2_ish_single_probe", SingleProbeRule):
        needed |= {f"sp:{s.id}:{k}" for k in s.result_by_ihc} | {f"sp:{s.id}:none"}
    for c in kb.of("her2_categories", CategoryRule):
        needed.add(f"category:{c.id}")
    covered = {c["rule"] for c in CASES}
    # Category rows are also covered by any case whose trace uses them.
    for row in CASES:
        covered |= {f"category:{r['rule'].split(' ', 1)[1]}" for r in _interpret(row).rules
                    if r["rule"].startswith("category ")}
    assert needed - covered == set(), "rule rows with no test case"


def test_recount_needed_is_a_workup_item() -> None:
    out = _interpret({**{k: "" for k in INPUT_FIELDS}, "single_probe": "", "ihc": "2+",
                      "ish_ratio": "1.6", "her2_signals": "4.8"})
    assert any("blinded recount" in w and "20 cells" in w for w in out.workup)


def test_group4_comment_says_benefit_is_uncertain() -> None:
    out = _interpret({**{k: "" for k in INPUT_FIELDS}, "single_probe": "", "ihc": "1+",
                      "ish_ratio": "1.6", "her2_signals": "4.8"})
    assert out.comment is not None and "uncertain" in out.comment


def test_discordance_is_warned() -> None:
    with pytest.warns(NerasenseWarning, match="discordant"):
        interpret_her2(parse_her2_tests({"ihc": "3+", "ish_ratio": 1.2, "her2_signals": 2.4}))


# ------------------------------------------------------------------ quantitative markers


@pytest.mark.parametrize(
    ("pcts", "h_score", "high"),
    [
        # H = 1x%1+ + 2x%2+ + 3x%3+; NALA's high-expression cut-off is the median, 240 (Saura 2021).
        ((0, 0, 80), 240, True),
        ((10, 10, 70), 240, True),
        ((0, 1, 79), 239, False),
        ((0, 0, 100), 300, True),
        ((100, 0, 0), 100, False),
        ((20, 30, 10), 110, False),
    ],
)
def test_h_score(pcts: tuple[float, float, float], h_score: float, high: bool) -> None:
    out = interpret_her2(parse_her2_tests(dict(zip(("pct_1plus", "pct_2plus", "pct_3plus"), pcts, strict=True))))
    assert out.h_score == h_score
    assert out.h_score_high is high


@pytest.mark.parametrize(("value", "high"), [(2.8, True), (2.79, False), (10.0, True), (0.0, False)])
def test_p95_cutoff_is_nala(value: float, high: bool) -> None:
    out = interpret_her2(parse_her2_tests({"p95": value}))
    assert out.p95 is not None and out.p95["high"] is high and out.p95["cutoff"] == 2.8


@pytest.mark.parametrize(
    ("h2t", "category"),
    [(10.5, "negative"), (10.6, "equivocal"), (17.79, "equivocal"), (17.8, "positive"), (0.3, "negative")],
)
def test_hermark_categories_are_marked_unverified(h2t: float, category: str) -> None:
    with pytest.warns(UnverifiedKnowledgeWarning):
        out = interpret_her2(parse_her2_tests({"hermark_h2t": h2t}))
    assert out.hermark is not None
    assert out.hermark["category"] == category
    assert out.hermark["unverified"] is True
    assert out.unverified, "an unverified cut-off must be listed in the output"


@pytest.mark.parametrize(("pct", "flag"), [(5, False), (5.1, True), (30, True), (49.9, True), (50, False)])
def test_heterogeneity_is_cap_2009(pct: float, flag: bool) -> None:
    # CAP 2009: heterogeneity = more than 5 % and less than 50 % of cells with HER2/CEP17 > 2.2.
    out = interpret_her2(parse_her2_tests({"pct_amplified_cells": pct}))
    assert out.heterogeneity is not None and out.heterogeneity["heterogeneous"] is flag


def test_nothing_given_asks_for_ihc() -> None:
    out = interpret_her2(parse_her2_tests({}))
    assert out.result is None and out.category is None
    assert any("IHC" in w for w in out.workup)


def test_input_order_does_not_matter() -> None:
    a = {"ihc": "2+", "ish_ratio": 2.2, "her2_signals": 3.0, "recount_ratio": 2.1, "recount_her2_signals": 3.2}
    b = dict(reversed(list(a.items())))
    assert interpret_her2(parse_her2_tests(a)).to_dict() == interpret_her2(parse_her2_tests(b)).to_dict()


# ------------------------------------------------------------------ bad input

BAD_INPUTS = [
    ("ihc-4plus", {"ihc": "4+"}, ["ihc='4+'", "'3+'"]),
    ("negative-ratio", {"ish_ratio": -1, "her2_signals": 3}, ["ish_ratio=-1", "greater than 0"]),
    ("pct-over-100", {"pct_1plus": 60, "pct_2plus": 30, "pct_3plus": 20}, ["110", "at most 100"]),
    ("pct-negative", {"pct_1plus": -5}, ["pct_1plus=-5"]),
    ("ish-without-signals", {"ish_ratio": 2.4}, ["her2_signals is missing"]),
    ("cep17-without-signals", {"cep17_signals": 2.0}, ["her2_signals is missing"]),
    ("signals-without-ratio", {"her2_signals": 5.0}, ["ish_ratio is missing"]),
    ("single-probe-with-ratio", {"single_probe": True, "her2_signals": 5, "ish_ratio": 2.0}, ["single-probe"]),
    ("recount-without-ish", {"ihc": "2+", "recount_her2_signals": 3.0, "recount_ratio": 2.1}, ["recount"]),
    ("not-a-number", {"ish_ratio": "two", "her2_signals": 3}, ["ish_ratio='two'", "valid number"]),
    ("unknown-field", {"ihc": "2+", "fish": 2.0}, ["fish", "no such field"]),
]


@pytest.mark.parametrize(("case", "raw", "fragments"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_names_field_value_and_allowed(case: str, raw: dict, fragments: list[str]) -> None:
    with pytest.raises(InputError) as info:
        parse_her2_tests(raw)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(InputError) as info:
        parse_her2_tests({"ihc": "4+", "ish_ratio": -1, "pct_1plus": 80, "pct_2plus": 30})
    fields = {p.field for p in info.value.problems}
    assert {"ihc", "ish_ratio", "pct_1plus+pct_2plus+pct_3plus"} <= fields


def test_ratio_that_disagrees_with_its_signals_is_flagged() -> None:
    # 4.0 / 2.0 = 2.0, reported as 2.5: beyond rounding, so the report is questioned (the reported ratio is used)
    with pytest.warns(NerasenseWarning, match="differs from"):
        out = interpret_her2(parse_her2_tests({"ish_ratio": 2.5, "her2_signals": 4.0, "cep17_signals": 2.0}))
    assert out.ish_group == 1
    # 2.04 reported for 4.1 / 2.0 = 2.05 is rounding, not an error
    with warnings.catch_warnings():
        warnings.simplefilter("error", NerasenseWarning)
        interpret_her2(parse_her2_tests({"ish_ratio": 2.04, "her2_signals": 4.1, "cep17_signals": 2.0}))
