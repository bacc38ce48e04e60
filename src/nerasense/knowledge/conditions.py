"""The declarative condition language of evidence items, regimens and eligibility (no code in data).

A condition is a leaf ``{fact: NAME, <op>: VALUE}`` with one operator — ``is`` (true/false), ``in``
(a list), ``gte``/``gt``/``lte``/``lt`` (a number) or ``present`` — or a combination ``{all: [...]}``,
``{any: [...]}``, ``{not: ...}``. Fact names are defined by the engine's profile
(:mod:`nerasense.engine.facts`); the loader checks every name used in data exists there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class KBModel(BaseModel):
    """Same contract as :class:`nerasense.knowledge.schema.KBModel` (kept here to avoid an import cycle)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

OPERATORS = ("is_", "in_", "gte", "gt", "lte", "lt", "present")


class Leaf(KBModel):
    fact: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
    is_: bool | None = Field(default=None, alias="is")
    in_: list[str | int] | None = Field(default=None, alias="in")
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None
    present: bool | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Leaf:
        used = [op for op in OPERATORS if getattr(self, op) is not None]
        if len(used) != 1:
            raise ValueError(f"a condition on {self.fact!r} needs exactly one of is, in, gte, gt, lte, lt, present")
        return self

    def describe(self) -> str:
        for op, word in (("is_", "is"), ("in_", "in"), ("gte", ">="), ("gt", ">"), ("lte", "<="),
                         ("lt", "<"), ("present", "present:")):
            value = getattr(self, op)
            if value is not None:
                return f"{self.fact} {word} {value}"
        return self.fact  # pragma: no cover


class Condition(KBModel):
    """A combination of conditions, or a single leaf under ``leaf``-style keys."""

    all: list[Condition | Leaf] | None = None
    any: list[Condition | Leaf] | None = None
    not_: Condition | Leaf | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_combinator(self) -> Condition:
        used = [k for k in ("all", "any", "not_") if getattr(self, k) is not None]
        if len(used) != 1:
            raise ValueError("a combined condition needs exactly one of all, any, not")
        return self


def parse_condition(raw: Any) -> Condition | Leaf:
    """Leaf when ``fact`` is a key, else a combination."""
    if isinstance(raw, dict) and "fact" in raw:
        return Leaf.model_validate(raw)
    return Condition.model_validate(raw)


def leaves(cond: Condition | Leaf) -> list[Leaf]:
    """Every leaf of a condition, in order."""
    if isinstance(cond, Leaf):
        return [cond]
    out: list[Leaf] = []
    for child in (cond.all or []) + (cond.any or []) + ([cond.not_] if cond.not_ is not None else []):
        out.extend(leaves(child))
    return out


Condition.model_rebuild()
