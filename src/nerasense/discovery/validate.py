"""Validation of a locked model or rule on a second data set.

What is reported (Steyerberg & Vergouwe, Eur Heart J 2014, "ABCD" of validation; TRIPOD item 10d/16):

* **discrimination** — continuous response: Harrell's C (the share of pairs of rows, untied in the
  response, that the prediction orders correctly; ties in the prediction count ½) and R²; binary: ROC
  AUC; survival: Harrell's C. A rule's prediction is its two groups, so its C is the probability of
  superiority of its stated direction;
* **calibration** — calibration-in-the-large and slope (:func:`nerasense.discovery.model.calibration`),
  for models and for discovered rules (a discovered rule predicts each side's discovery mean, or
  proportion); a rule taken from the knowledge base states a direction only, so its calibration is
  *not applicable* and said so;
* **the rule's effect** in the new data (as the screen tests it), and whether it keeps its direction;
* **the drop from discovery** — discovery cross-validated (and optimism-corrected) performance minus the
  validation performance, on the same metric.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nerasense.discovery.data import AnalysisData, prepare, to_pandas
from nerasense.discovery.model import CHANCE, LockedModel, calibration, performance
from nerasense.discovery.rules import Rule, check_rule_columns, evaluate_rule, parse_rule
from nerasense.errors import AnalysisError, InputError, Problem

DIRECTIONS = ("lower", "higher")


@dataclass
class LockedRule:
    """A rule frozen for validation. ``direction``: whether rule-positive rows have a ``lower`` or
    ``higher`` response (continuous), outcome probability (binary) or hazard (survival)."""

    expression: str
    direction: str
    kind: str | None = None
    response: str | None = None
    event: str | None = None
    name: str | None = None
    statement: str | None = None
    source: dict[str, Any] = field(default_factory=dict)  # e.g. knowledge-base evidence ids
    discovery: dict[str, Any] = field(default_factory=dict)  # mean_positive, mean_negative, effect, n, c
    within: str | None = None  # a rule restricting the rows compared (e.g. the ERBB2-amplified lines)

    @property
    def rule(self) -> Rule:
        return parse_rule(self.expression)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "rule", "expression": self.expression, "label": self.rule.label, "direction": self.direction,
                "within": self.within,
                "kind": self.kind, "response": self.response, "event": self.event, "name": self.name,
                "statement": self.statement, "source": self.source, "discovery": self.discovery}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LockedRule:
        problems = []
        if not isinstance(d.get("expression"), str):
            problems.append(Problem("rule.expression", d.get("expression"), "a rule such as 'A AND NOT B'"))
        if d.get("direction") not in DIRECTIONS:
            problems.append(Problem("rule.direction", d.get("direction"), " / ".join(DIRECTIONS)))
        unknown = sorted(set(d) - {"type", "expression", "label", "direction", "kind", "response", "event", "name",
                                   "statement", "source", "discovery", "software_version", "kb_version", "within"})
        if unknown:
            problems.append(Problem("rule", ", ".join(unknown), "known keys only"))
        if problems:
            raise InputError(problems)
        return cls(expression=d["expression"], direction=d["direction"], kind=d.get("kind"), response=d.get("response"),
                   event=d.get("event"), name=d.get("name"), statement=d.get("statement"), source=d.get("source") or {},
                   discovery=d.get("discovery") or {}, within=d.get("within"))


def load_locked(spec: str) -> LockedModel | LockedRule | list[LockedRule]:
    """A model or rule JSON written by ``discover``, a YAML/JSON list of rules (``rules:``), or a rule
    expression given inline (``"A AND NOT B"``, direction ``lower``)."""
    p = Path(spec)
    if p.suffix.lower() in (".json", ".yaml", ".yml"):
        if not p.is_file():
            raise InputError(Problem("model or rule file", spec, "an existing .json / .yaml file, or a rule expression"))
        text = p.read_text(encoding="utf-8")
        try:
            if p.suffix.lower() == ".json":
                d = json.loads(text)
            else:
                import yaml

                d = yaml.safe_load(text)
        except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError are ValueErrors / YAMLErrors
            raise InputError(Problem("model or rule file", spec, "valid JSON or YAML", str(exc).splitlines()[0])) from exc
        except Exception as exc:  # yaml.YAMLError
            raise InputError(Problem("model or rule file", spec, "valid YAML", str(exc).splitlines()[0])) from exc
        if isinstance(d, dict) and "rules" in d:
            return [LockedRule.from_dict(r) for r in d["rules"]]
        if isinstance(d, dict) and d.get("type") == "model":
            return LockedModel.from_dict(d)
        if isinstance(d, dict):
            return LockedRule.from_dict(d)
        raise InputError(Problem("model or rule file", spec, "a JSON/YAML object"))
    return LockedRule(expression=spec, direction="lower")


def concordance_continuous(y: np.ndarray, pred: np.ndarray) -> float:
    """Harrell's C for a continuous outcome: pairs untied in y, ordered the same way by the prediction."""
    from sksurv.metrics import concordance_index_censored

    # sksurv orders by "time" and expects higher risk → shorter time; a higher prediction should mean higher y
    return float(concordance_index_censored(np.ones(len(y), dtype=bool), y, -pred)[0])


def discrimination(kind: str, y: np.ndarray, pred: np.ndarray, event: np.ndarray | None) -> dict[str, Any]:
    if kind == "continuous":
        return {"metric": "Harrell's C", "value": concordance_continuous(y, pred), "chance": 0.5}
    name = "ROC AUC" if kind == "binary" else "Harrell's C"
    return {"metric": name, "value": performance(kind, y, pred, event), "chance": CHANCE[kind]}


def _fin(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _fin(x) for k, x in v.items()}
    return v


def validate_model(model: LockedModel, frame: Any, response: str | None = None, event: str | None = None) -> dict[str, Any]:
    """Apply a locked model: discrimination, calibration, and the drop from discovery."""
    df = to_pandas(frame)
    missing = [f for f in model.features if f not in df.columns]
    if missing:
        raise InputError(Problem("model features", ", ".join(missing[:20]) + (" …" if len(missing) > 20 else ""),
                                 "columns of the validation table (every feature of the locked model)"))
    data = _response_rows(df, model, response, event)
    x = data.x(model.features)
    complete = ~np.isnan(x).any(axis=1)
    x, y = x[complete], data.y[complete]
    e = None if data.event_array is None else data.event_array[complete]
    pred = model.predict(x)
    disc = discrimination(model.kind, y, pred, e)
    out: dict[str, Any] = {
        "type": "model",
        "kind": model.kind,
        "response": data.response,
        "n": len(y),
        "n_incomplete": int((~complete).sum()),
        "discrimination": disc,
        "calibration": calibration(model.kind, y, pred, e),
    }
    metric = model.discovery.get("metric")
    if metric:
        val = performance(model.kind, y, pred, e)
        out["performance"] = {"metric": metric, "value": val, "discovery_cv": model.discovery.get("cv_mean"),
                              "discovery_optimism_corrected": model.discovery.get("optimism_corrected"),
                              "drop_from_cv": None if model.discovery.get("cv_mean") is None
                              else model.discovery["cv_mean"] - val}
    if model.kind == "continuous":
        out["r2"] = performance("continuous", y, pred)
    return _fin(out)


def _response_rows(df: Any, model: LockedModel, response: str | None, event: str | None) -> AnalysisData:
    """The validation rows with their response (and event) checked as ``prepare`` checks them, and the
    model's features as they are (a feature constant in the new data is still a feature of the model)."""
    import pandas as pd

    resp, ev = response or model.response, event or model.event
    checked = prepare(df.assign(__probe=np.arange(len(df)) % 2), resp, model.kind, features=["__probe"], event=ev,
                      min_count=1)
    left_out = {r["row"] - 1 for r in checked.excluded_rows}
    sub = df.iloc[[i for i in range(len(df)) if i not in left_out]].reset_index(drop=True)
    cols: dict[str, Any] = {resp: checked.y}
    if ev is not None:
        cols[ev] = checked.event_array
    for f in model.features:
        cols[f] = pd.to_numeric(sub[f], errors="coerce").to_numpy(dtype=float)
    return AnalysisData(checked.kind, resp, ev, pd.DataFrame(cols), checked.features,
                        excluded_rows=checked.excluded_rows, n_input_rows=len(df))


def validate_rule(
    rule: LockedRule, frame: Any, response: str | None = None, kind: str | None = None, event: str | None = None,
    test: str = "mannwhitney",
) -> dict[str, Any]:
    """Apply a locked rule: its effect, direction kept or not, discrimination, calibration, drop."""
    df = to_pandas(frame)
    resp = response or rule.response
    knd = kind or rule.kind or "continuous"
    ev = event or rule.event
    if resp is None:
        raise InputError(Problem("response", None, "the response column of the validation table (--response)"))
    r = rule.rule
    check_rule_columns(r, df)
    within_label = None
    if rule.within:
        population = parse_rule(rule.within)
        inside = population.evaluate(df) == 1
        within_label = population.label
        df = df[inside].reset_index(drop=True)
    rule_values = r.evaluate(df)
    if np.nansum(rule_values) == 0 or np.nansum(1 - rule_values) == 0:
        raise AnalysisError(f"rule {rule.expression!r} is {'positive' if np.nansum(rule_values) else 'negative'} in every "
                            "row of the table: nothing to compare")
    tmp = df.assign(__rule=rule_values)
    data = prepare(tmp, resp, knd, features=["__rule"], event=ev, min_count=1)
    left_out = {x["row"] - 1 for x in data.excluded_rows}
    kept = tmp.iloc[[i for i in range(len(tmp)) if i not in left_out]].reset_index(drop=True)
    for f in r.features:
        data.frame[f] = kept[f].to_numpy(dtype=float)
    res = evaluate_rule(data, r, test)
    rr = data.frame["__rule"].to_numpy(dtype=float)
    ok = ~np.isnan(rr)
    y, rr = data.y[ok], rr[ok]
    e = None if data.event_array is None else data.event_array[ok]
    sign = 1.0 if rule.direction == "higher" else -1.0
    disc = discrimination(knd, y, sign * rr, e)
    eff = res.effect
    effect_sign = None
    if eff.effect is not None:
        null = 1.0 if eff.effect_name in ("odds ratio", "hazard ratio") else 0.0
        effect_sign = "higher" if eff.effect > null else "lower" if eff.effect < null else "none"
    out: dict[str, Any] = {
        "type": "rule",
        "expression": rule.expression,
        "label": r.label if within_label is None else f"{r.label} (within {within_label})",
        "within": rule.within,
        "name": rule.name,
        "statement": rule.statement,
        "source": rule.source,
        "direction": rule.direction,
        "kind": knd,
        "response": resp,
        "n": int(ok.sum()),
        "n_positive": int(rr.sum()),
        "effect": eff.to_dict(),
        "direction_observed": effect_sign,
        "direction_holds": effect_sign == rule.direction,
        "significant": eff.p < 0.05 and effect_sign == rule.direction,
        "discrimination": disc,
    }
    d = rule.discovery
    if {"mean_positive", "mean_negative"} <= set(d) and knd != "survival":
        pred = np.where(rr == 1, d["mean_positive"], d["mean_negative"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal = calibration(knd, y, pred, e) if d["mean_positive"] != d["mean_negative"] else {}
        out["calibration"] = cal or {"note": "the discovered rule predicts one value for both sides"}
        if "c" in d:
            out["discovery_c"] = d["c"]
            out["drop_from_discovery"] = d["c"] - disc["value"]
    else:
        out["calibration"] = {"note": "not applicable: the rule states a direction only, no predicted values"}
    return _fin(out)


def validate(locked: LockedModel | LockedRule, frame: Any, response: str | None = None, kind: str | None = None,
             event: str | None = None) -> dict[str, Any]:
    """Validate a locked model or rule on ``frame`` (pandas or polars)."""
    if isinstance(locked, LockedModel):
        return validate_model(locked, frame, response, event)
    return validate_rule(locked, frame, response, kind, event)


__all__ = [
    "DIRECTIONS", "LockedRule", "concordance_continuous", "discrimination", "load_locked", "validate", "validate_model",
    "validate_rule",
]
