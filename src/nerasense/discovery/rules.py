"""Composite biomarkers as rules a person can read, tested against their parts.

A rule is a conjunction of binary features, each present or absent:
``gain_cnaPANCAN301_(CDK12,ERBB2,MED24) AND NOT PIK3CA_mut``, read as
"gain of CDK12/ERBB2/MED24 (PANCAN301) AND PIK3CA wild-type". Terms are joined by ``AND`` (upper case,
spaces around it); ``NOT`` before a feature means the feature absent (0).

:func:`composite_rules` pairs the strongest binary features of the screen (A AND B, A AND NOT B) and, for
each rule, reports the rule's own test (as the screen's), the effects of its two parts alone, and the
**interaction test** of the second term within the first: the product term of
``y ~ a + b + a·b`` (OLS for a continuous response, logistic regression for binary, Cox for survival;
statsmodels / :func:`nerasense.stats.survival.cox`). A rule whose interaction is not significant is no
better supported than its parts added up: stratified p-values alone do not show that a combination
matters (Altman & Bland, BMJ 2003, "Interaction revisited").
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nerasense.discovery.data import AnalysisData, feature_label
from nerasense.discovery.screen import ScreenRow, _test_one, bh_qvalues
from nerasense.errors import InputError, Problem

_AND = re.compile(r"(?:^|\s+)AND(?:\s+|$)")


@dataclass(frozen=True)
class Term:
    feature: str
    present: bool = True

    @property
    def text(self) -> str:
        return self.feature if self.present else f"NOT {self.feature}"

    @property
    def label(self) -> str:
        return feature_label(self.feature, self.present)


@dataclass(frozen=True)
class Rule:
    terms: tuple[Term, ...]

    @property
    def expression(self) -> str:
        return " AND ".join(t.text for t in self.terms)

    @property
    def label(self) -> str:
        return " AND ".join(t.label for t in self.terms)

    @property
    def features(self) -> list[str]:
        return [t.feature for t in self.terms]

    def evaluate(self, frame: Any) -> np.ndarray:
        """1 where every term holds, 0 where one fails, NaN where a value needed is missing."""
        check_rule_columns(self, frame)
        false = np.zeros(len(frame), dtype=bool)
        unknown = np.zeros(len(frame), dtype=bool)
        for t in self.terms:
            v = np.asarray(frame[t.feature].to_numpy(dtype=float))
            unknown |= np.isnan(v)
            false |= (v == 0) if t.present else (v == 1)
        out = np.where(false, 0.0, 1.0)
        out[unknown & ~false] = np.nan  # a term unknown and none false: the rule is unknown
        return out


def parse_rule(text: str) -> Rule:
    """``"A AND NOT B"`` → Rule((Term("A"), Term("B", present=False)))."""
    parts = [p.strip() for p in _AND.split(text.strip())]
    if not text.strip() or any(not p or re.search(r"(^|\s)AND(\s|$)", p) for p in parts):
        raise InputError(Problem("rule", text, 'features joined by " AND ", each optionally preceded by "NOT "'))
    terms = []
    for p in parts:
        negated = p.startswith("NOT ")
        name = p[4:].strip() if negated else p
        terms.append(Term(name, not negated))
    return Rule(tuple(terms))


def check_rule_columns(rule: Rule, frame: Any) -> None:
    """Every feature of the rule is a column holding only 0, 1 or missing; all problems at once."""
    problems = []
    for f in rule.features:
        if f not in frame.columns:
            problems.append(Problem("rule feature", f, "a column of the table"))
            continue
        v = np.asarray(frame[f].to_numpy(dtype=float))
        bad = ~np.isnan(v) & ~np.isin(v, (0.0, 1.0))
        if bad.any():
            problems.append(Problem(f"rule feature {f}", float(v[bad][0]), "0, 1 or missing (a binary feature)"))
    if problems:
        raise InputError(problems)


def interaction_test(kind: str, y: np.ndarray, a: np.ndarray, b: np.ndarray, event: np.ndarray | None = None,
                     level: float = 0.95) -> dict[str, Any]:
    """Coefficient of a·b in ``y ~ a + b + a·b`` with its Wald CI and p (ratio scale for binary and survival)."""
    import statsmodels.api as sm

    x = np.column_stack([a, b, a * b])
    if np.linalg.matrix_rank(np.column_stack([np.ones(len(a)), x])) < 4:
        return {"scale": None, "estimate": None, "ci_low": None, "ci_high": None, "p": None,
                "note": "not estimable: some combination of the two terms has no rows"}
    try:
        if kind == "survival":
            import pandas as pd

            from nerasense.stats.survival import cox

            assert event is not None
            res = cox(pd.DataFrame({"time": y, "event": event, "a": a, "b": b, "ab": a * b}), ["a", "b", "ab"], level=level)
            c = res.coefficients["ab"]
            return {"scale": "hazard ratio", "estimate": c["hr"], "ci_low": c["hr_ci_low"], "ci_high": c["hr_ci_high"],
                    "p": c["p"]}
        if kind == "binary":
            fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit()
            lo, hi = fit.conf_int(alpha=1 - level)[3]
            return {"scale": "odds ratio", "estimate": math.exp(fit.params[3]), "ci_low": math.exp(lo),
                    "ci_high": math.exp(hi), "p": float(fit.pvalues[3])}
        fit = sm.OLS(y, sm.add_constant(x)).fit()
        lo, hi = fit.conf_int(alpha=1 - level)[3]
        return {"scale": "difference", "estimate": float(fit.params[3]), "ci_low": float(lo), "ci_high": float(hi),
                "p": float(fit.pvalues[3])}
    except Exception as exc:  # separation or a singular fit: reported as not estimable, never hidden
        return {"scale": None, "estimate": None, "ci_low": None, "ci_high": None, "p": None,
                "note": f"not estimable: {str(exc).splitlines()[0][:120]}"}


@dataclass
class RuleResult:
    rule: Rule
    n: int
    n_positive: int
    effect: ScreenRow  # the rule's own test, as the screen's
    parts: tuple[ScreenRow | None, ScreenRow | None]  # each term alone
    interaction: dict[str, Any]
    q: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "expression": self.rule.expression,
            "label": self.rule.label,
            "n": self.n,
            "n_positive": self.n_positive,
            "effect": self.effect.to_dict(),
            "parts": [None if p is None else p.to_dict() for p in self.parts],
            "interaction": {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                            for k, v in self.interaction.items()},
            "q": self.q,
        }


def evaluate_rule(data: AnalysisData, rule: Rule, test: str = "mannwhitney", level: float = 0.95) -> RuleResult:
    """The rule against the response: its effect, each part alone, and (two terms) the interaction."""
    frame = data.frame
    r = rule.evaluate(frame)
    tmp = data.frame.assign(_rule=r)
    sub = AnalysisData(data.kind, data.response, data.event, tmp, data.features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eff = _test_one(sub, "_rule", "binary", test, level)
    ok = ~np.isnan(r)
    row = ScreenRow(feature=rule.expression, label=rule.label, type="binary", n=int(ok.sum()),
                    n_carriers=int(np.nansum(r)), **eff)
    parts: list[ScreenRow | None] = []
    for t in rule.terms[:2]:
        v = np.asarray(frame[t.feature].to_numpy(dtype=float))
        col = v if t.present else 1 - v
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pe = _test_one(AnalysisData(data.kind, data.response, data.event, data.frame.assign(_t=col), data.features),
                           "_t", "binary", test, level)
        parts.append(ScreenRow(feature=t.text, label=t.label, type="binary", n=int((~np.isnan(col)).sum()),
                               n_carriers=int(np.nansum(col)), **pe))
    inter: dict[str, Any] = {"scale": None, "estimate": None, "ci_low": None, "ci_high": None, "p": None}
    if len(rule.terms) == 2:
        a = np.asarray(frame[rule.terms[0].feature].to_numpy(dtype=float))
        b = np.asarray(frame[rule.terms[1].feature].to_numpy(dtype=float))
        a = a if rule.terms[0].present else 1 - a
        b = b if rule.terms[1].present else 1 - b
        okk = ~np.isnan(a) & ~np.isnan(b)
        e = data.event_array
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inter = interaction_test(data.kind, data.y[okk], a[okk], b[okk], None if e is None else e[okk], level)
    return RuleResult(rule, int(ok.sum()), int(np.nansum(r)), row, (parts[0], parts[1] if len(parts) > 1 else None), inter)


def composite_rules(
    data: AnalysisData,
    screen: Sequence[ScreenRow],
    top: int = 8,
    min_count: int = 5,
    test: str = "mannwhitney",
    level: float = 0.95,
) -> list[RuleResult]:
    """Two-term rules over the ``top`` binary features of the screen, sorted by the rule's p.

    Pairs A AND B (unordered) and A AND NOT B (ordered); a rule with fewer than ``min_count`` rows on
    either side, or positive in exactly the rows of one of its terms alone, is skipped. q-values are
    Benjamini–Hochberg over the rules tried. The rules are chosen in the same data they are tested on:
    their p-values are optimistic, and a rule is only a candidate until it holds in a second data set
    (:func:`nerasense.discovery.validate.validate`).
    """
    binaries = [r.feature for r in screen if r.type == "binary"][:top]
    rules: list[Rule] = []
    for i, a in enumerate(binaries):
        for j, b in enumerate(binaries):
            if i == j:
                continue
            if i < j:
                rules.append(Rule((Term(a), Term(b))))
            rules.append(Rule((Term(a), Term(b, present=False))))
    out = []
    for rule in rules:
        r = rule.evaluate(data.frame)
        pos = int(np.nansum(r))
        if min(pos, int(np.sum(r == 0))) < min_count:
            continue
        if any(np.array_equal(r, Rule((t,)).evaluate(data.frame), equal_nan=True) for t in rule.terms):
            continue  # the same rows as one of its terms alone: the second term adds nothing
        out.append(evaluate_rule(data, rule, test, level))
    q = bh_qvalues([o.effect.p for o in out])
    for o, qq in zip(out, q, strict=True):
        o.q = float(qq)
    out.sort(key=lambda o: (o.effect.p, o.rule.expression))
    return out


__all__ = [
    "Rule", "RuleResult", "Term", "check_rule_columns", "composite_rules", "evaluate_rule", "interaction_test", "parse_rule",
]
