"""Composite rules: parsing, wording, evaluation with missing values, and the interaction test against statsmodels' formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from nerasense.discovery.data import feature_label, prepare
from nerasense.discovery.rules import composite_rules, evaluate_rule, interaction_test, parse_rule
from nerasense.discovery.screen import univariate_screen
from nerasense.errors import InputError

LABELS = [
    ("PIK3CA_mut", True, "PIK3CA mutant"),
    ("PIK3CA_mut", False, "PIK3CA wild-type"),
    ("gain_cnaPANCAN301_(CDK12,ERBB2,MED24)", True, "gain of CDK12/ERBB2/MED24 (PANCAN301)"),
    ("loss_cnaPANCAN44_(BMPR1A,FAS,PTEN)", False, "no loss of BMPR1A/FAS/PTEN (PANCAN44)"),
    ("loss_cnaPANCAN136", True, "loss of PANCAN136"),
    ("MSI_FACTOR", False, "not MSI_FACTOR"),
]


@pytest.mark.parametrize(("name", "present", "text"), LABELS, ids=[f"{n}-{p}" for n, p, _ in LABELS])
def test_feature_label(name: str, present: bool, text: str) -> None:
    assert feature_label(name, present) == text


def test_rule_reads_like_a_sentence() -> None:
    rule = parse_rule("gain_cnaPANCAN301_(CDK12,ERBB2,MED24) AND NOT PIK3CA_mut")
    assert rule.label == "gain of CDK12/ERBB2/MED24 (PANCAN301) AND PIK3CA wild-type"
    assert rule.expression == "gain_cnaPANCAN301_(CDK12,ERBB2,MED24) AND NOT PIK3CA_mut"


@pytest.mark.parametrize("text", ["", "A AND", "AND B", "A AND  AND B"])
def test_malformed_rules_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_rule(text)


def test_evaluate_three_valued() -> None:
    df = pd.DataFrame({"a": [1, 1, 0, np.nan, np.nan, 1], "b": [0, 1, 1, 0, 1, np.nan]})
    r = parse_rule("a AND NOT b").evaluate(df)
    # a false term makes the rule false even beside a missing one; otherwise a missing term makes it unknown
    assert r[0] == 1 and r[1] == 0 and r[2] == 0 and r[4] == 0
    assert np.isnan(r[3]) and np.isnan(r[5])


def test_rule_columns_checked_together() -> None:
    df = pd.DataFrame({"a": [0, 2], "b": [1, 0]})
    with pytest.raises(InputError) as err:
        parse_rule("a AND c AND NOT d").evaluate(df)
    assert len(err.value.problems) == 3


def _xy(seed: int = 0, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = (rng.random(n) < 0.4).astype(float)
    b = (rng.random(n) < 0.5).astype(float)
    y = 1 + 0.5 * a - 0.3 * b - 1.2 * a * b + rng.normal(0, 1, n)
    yb = (rng.random(n) < 1 / (1 + np.exp(-(-0.2 + 0.8 * a - 1.5 * a * b)))).astype(float)
    return pd.DataFrame({"a": a, "b": b, "y": y, "yb": yb})


def test_interaction_matches_statsmodels_formula_ols() -> None:
    df = _xy()
    ref = smf.ols("y ~ a * b", df).fit()
    res = interaction_test("continuous", df["y"].to_numpy(), df["a"].to_numpy(), df["b"].to_numpy())
    assert res["estimate"] == pytest.approx(ref.params["a:b"])
    assert res["p"] == pytest.approx(ref.pvalues["a:b"])
    assert (res["ci_low"], res["ci_high"]) == pytest.approx(tuple(ref.conf_int().loc["a:b"]))


def test_interaction_matches_statsmodels_formula_logit() -> None:
    df = _xy(1)
    ref = smf.logit("yb ~ a * b", df).fit(disp=0)
    res = interaction_test("binary", df["yb"].to_numpy(), df["a"].to_numpy(), df["b"].to_numpy())
    assert res["estimate"] == pytest.approx(np.exp(ref.params["a:b"]), rel=1e-6)
    assert res["p"] == pytest.approx(ref.pvalues["a:b"], rel=1e-5)


def test_interaction_not_estimable_when_a_cell_is_empty() -> None:
    a = np.array([1, 1, 0, 0, 0, 0.0])
    b = np.array([0, 0, 1, 1, 0, 0.0])  # a and b never together
    res = interaction_test("continuous", np.arange(6.0), a, b)
    assert res["p"] is None and "not estimable" in res["note"]


def test_composite_rule_found_and_tested_against_parts() -> None:
    """A planted 'A AND NOT B' effect: the rule beats its parts and the interaction is significant."""
    rng = np.random.default_rng(21)
    n = 400
    x = (rng.random((n, 5)) < 0.35).astype(int)
    df = pd.DataFrame(x, columns=[f"g{i}" for i in range(5)])
    df["y"] = 10 - 2.5 * (x[:, 0] * (1 - x[:, 1])) + rng.normal(0, 1, n)
    data = prepare(df, "y")
    screen = univariate_screen(data)
    rules = composite_rules(data, screen, top=5)
    best = rules[0]
    assert best.rule.expression == "g0 AND NOT g1"
    assert best.effect.p < best.parts[0].p
    assert best.interaction["p"] < 1e-6
    # the rule evaluated alone gives the same effect as in the search
    again = evaluate_rule(data, best.rule)
    assert again.effect.effect == pytest.approx(best.effect.effect)
    assert all(0 <= r.q <= 1 for r in rules)
