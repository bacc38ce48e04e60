"""Three-valued evaluation of knowledge conditions over a patient's facts.

``True``/``False`` when the facts decide it, ``None`` when a needed fact is unknown (Kleene logic:
``all`` is False as soon as one part is False, ``any`` True as soon as one part is True).
"""

from __future__ import annotations

from collections.abc import Mapping

from nerasense.engine.facts import FactValue
from nerasense.knowledge.conditions import Condition, Leaf


def evaluate(cond: Condition | Leaf, facts: Mapping[str, FactValue]) -> bool | None:
    if isinstance(cond, Leaf):
        return _leaf(cond, facts.get(cond.fact))
    if cond.all is not None:
        results = [evaluate(c, facts) for c in cond.all]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if cond.any is not None:
        results = [evaluate(c, facts) for c in cond.any]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    assert cond.not_ is not None
    inner = evaluate(cond.not_, facts)
    return None if inner is None else not inner


def _leaf(leaf: Leaf, value: FactValue) -> bool | None:
    if leaf.present is not None:
        return (value is not None) == leaf.present
    if value is None:
        return None
    if leaf.is_ is not None:
        return bool(value) is leaf.is_
    if leaf.in_ is not None:
        return value in leaf.in_ or str(value) in {str(v) for v in leaf.in_}
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # a number was asked of a non-number: cannot decide
    for bound, test in ((leaf.gte, value >= (leaf.gte or 0)), (leaf.gt, value > (leaf.gt or 0)),
                        (leaf.lte, value <= (leaf.lte or 0)), (leaf.lt, value < (leaf.lt or 0))):
        if bound is not None:
            return test
    return None  # pragma: no cover - the Leaf validator guarantees one operator


def unknown_facts(cond: Condition | Leaf, facts: Mapping[str, FactValue]) -> set[str]:
    """Facts whose absence leaves the condition undecided (only meaningful when evaluate() is None)."""
    if isinstance(cond, Leaf):
        return {cond.fact} if _leaf(cond, facts.get(cond.fact)) is None else set()
    children = (cond.all or []) + (cond.any or []) + ([cond.not_] if cond.not_ is not None else [])
    out: set[str] = set()
    for child in children:
        if evaluate(child, facts) is None:
            out |= unknown_facts(child, facts)
    return out
