"""One discovery run: screen → penalised model → composite rules → the rule to lock. Reproducible from a seed.

The rule locked for validation is the strongest two-term rule whose interaction test is significant
(p < 0.05) and whose own p beats the best single feature's; otherwise the best single binary feature.
Which one was chosen, and why, is part of the result.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nerasense.discovery.data import AnalysisData, prepare
from nerasense.discovery.model import ModelResult, ModelSettings, fit_penalised
from nerasense.discovery.rules import Rule, RuleResult, Term, composite_rules, evaluate_rule
from nerasense.discovery.screen import ScreenRow, univariate_screen
from nerasense.discovery.validate import LockedRule, discrimination

Progress = Callable[[str, int, int], None]
INTERACTION_ALPHA = 0.05


@dataclass
class DiscoveryResult:
    data: AnalysisData
    screen: list[ScreenRow]
    model: ModelResult | None
    rules: list[RuleResult]
    locked_rule: LockedRule | None
    rule_choice: str
    settings: ModelSettings
    test: str
    min_count: int

    def top(self, n: int = 10) -> list[ScreenRow]:
        return self.screen[:n]

    def to_dict(self, screen_rows: int | None = None) -> dict[str, Any]:
        return {
            "kind": self.data.kind,
            "response": self.data.response,
            "adjust": self.data.adjust,
            "event": self.data.event,
            "n": len(self.data.frame),
            "missingness": self.data.missingness(),
            "excluded_features": self.data.excluded_features,
            "excluded_rows": self.data.excluded_rows,
            "test": self.test,
            "min_count": self.min_count,
            "seed": self.settings.seed,
            "screen": [r.to_dict() for r in self.screen[:screen_rows]],
            "significant_q05": [r.feature for r in self.screen if r.q < 0.05],
            "model": None if self.model is None else self.model.to_dict(),
            "rules": [r.to_dict() for r in self.rules],
            "locked_rule": None if self.locked_rule is None else self.locked_rule.to_dict(),
            "rule_choice": self.rule_choice,
        }


def _direction(row: ScreenRow) -> str:
    null = 1.0 if row.effect_name in ("odds ratio", "hazard ratio") else 0.0
    return "higher" if (row.effect or null) > null else "lower"


def lock_rule(data: AnalysisData, result: RuleResult) -> LockedRule:
    """Freeze a rule with what discovery saw: each side's mean response, the effect, its discrimination."""
    r = result.rule.evaluate(data.frame)
    ok = ~np.isnan(r)
    y = data.y[ok]
    direction = _direction(result.effect)
    sign = 1.0 if direction == "higher" else -1.0
    e = data.event_array
    disc = discrimination(data.kind, y, sign * r[ok], None if e is None else e[ok])
    eff = result.effect
    discovery: dict[str, Any] = {
        "n": int(ok.sum()), "n_positive": int(r[ok].sum()), "effect_name": eff.effect_name, "effect": eff.effect,
        "ci_low": eff.ci_low, "ci_high": eff.ci_high, "p": eff.p, "c": disc["value"],
        "interaction_p": result.interaction.get("p"),
    }
    if data.kind != "survival":
        discovery["mean_positive"] = float(y[r[ok] == 1].mean())
        discovery["mean_negative"] = float(y[r[ok] == 0].mean())
    return LockedRule(
        expression=result.rule.expression, direction=direction, kind=data.kind, response=data.response,
        event=data.event, name="discovered rule", statement=f"{result.rule.label} → {direction} {data.response}",
        discovery={k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in discovery.items()},
    )


def discover(
    frame: Any,
    response: str,
    kind: str = "continuous",
    features: Sequence[str] | None = None,
    event: str | None = None,
    id_column: str | None = None,
    ignore: Sequence[str] = (),
    settings: ModelSettings | None = None,
    test: str = "mannwhitney",
    min_count: int = 5,
    top_rules: int = 8,
    model: bool = True,
    progress: Progress | None = None,
    adjust: str | None = None,
) -> DiscoveryResult:
    """The whole discovery workflow on a pandas or polars frame (see :mod:`nerasense.discovery`)."""
    s = settings or ModelSettings()
    data = prepare(frame, response, kind, features, event, id_column, ignore, min_count, adjust)
    screen = univariate_screen(data, test, progress=progress)
    fit = fit_penalised(data, s, progress=progress) if model else None
    rules = composite_rules(data, screen, top=top_rules, min_count=min_count, test=test)
    best_single = next((r for r in screen if r.type == "binary"), None)
    chosen: RuleResult | None = None
    why = "no binary feature was tested: no rule to lock"
    if best_single is not None:
        for r in rules:
            p_int = r.interaction.get("p")
            if p_int is not None and p_int < INTERACTION_ALPHA and r.effect.p < best_single.p:
                chosen = r
                why = (f"two-term rule: interaction p = {p_int:.3g} < {INTERACTION_ALPHA} and rule p = {r.effect.p:.3g} "
                       f"below the best single feature's {best_single.p:.3g}")
                break
        if chosen is None:
            chosen = evaluate_rule(data, Rule((Term(best_single.feature),)), test)
            why = ("best single binary feature: no two-term rule had both a significant interaction "
                   f"(p < {INTERACTION_ALPHA}) and a smaller p than it")
    locked = None if chosen is None else lock_rule(data, chosen)
    return DiscoveryResult(data, screen, fit, rules, locked, why, s, test, min_count)


__all__ = ["DiscoveryResult", "discover", "lock_rule"]
