"""Trial eligibility read over a profile's facts: every criterion met / not met / unknown.

Kept apart from :mod:`nerasense.engine.assess` (which imports it from here) so that a caller that needs only
this, such as ``nerasense screen``, does not import the assessment's statistics stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nerasense.engine.facts import FactValue
from nerasense.knowledge import KnowledgeBase


def assess_eligibility(facts: Mapping[str, FactValue], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Each trial with eligibility criteria: every criterion met / not met / unknown."""
    out = []
    for trial in kb.trials.values():
        if not trial.eligibility:
            continue
        rows = []
        for c in trial.eligibility:
            value = facts.get(c.attribute)
            status: str
            if value is None:
                status = "unknown"
            elif c.any_of is not None:
                status = "met" if str(value) in c.any_of else "not met"
            elif c.equals is not None:
                status = "met" if value == c.equals else "not met"
            else:
                number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
                ok = number is not None and (c.minimum is None or number >= c.minimum) and (
                    c.maximum is None or number <= c.maximum)
                status = "met" if ok else "not met"
            rows.append({"criterion": c.id, "text": c.text, "value": value, "status": status, "source": c.source})
        statuses = {r["status"] for r in rows}
        overall = "not eligible" if "not met" in statuses else ("eligible" if statuses == {"met"} else
                                                                  "possibly eligible")
        out.append({"trial": trial.id, "name": trial.name, "nct": trial.nct, "overall": overall, "criteria": rows})
    return out


__all__ = ["assess_eligibility"]
