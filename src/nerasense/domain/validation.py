"""Turn pydantic validation failures into one :class:`InputError` that lists every problem."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from nerasense.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``list[X] | None`` -> [X])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _fields_at(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    """The field names of the (sub)model found by following ``path`` (field names and list indexes)."""
    current: list[type[BaseModel]] = [model]
    for step in path:
        if isinstance(step, int):
            continue
        nxt = [m for c in current if step in c.model_fields for m in _models_in(c.model_fields[step].annotation)]
        if not nxt:
            return []
        current = nxt
    return sorted({name for c in current for name in c.model_fields})


def closest(value: object, choices: Iterable[str]) -> str | None:
    """The choice nearest to ``value`` by spelling (difflib ratio >= 0.6), for "did you mean" hints."""
    if not isinstance(value, str) or not value:
        return None
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    hits = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[hits[0]] if hits else None


def problems_from(err: ValidationError, where: str = "", prefix: str = "",
                  model: type[BaseModel] | None = None) -> list[Problem]:
    """One Problem per pydantic error, naming the field path, the value and what is allowed; with ``model``,
    a misspelt key or choice gets the closest valid name ("did you mean 'ecog'?")."""
    out = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"] if x != "__root__")
        field = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "(input)")
        msg = str(e["msg"])
        fix = ""
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            msg = "no such field; check the spelling against the documented schema"
            guess = closest(e["loc"][-1], _fields_at(model, e["loc"][:-1])) if model is not None and e["loc"] else None
            fix = f"did you mean {guess!r}?" if guess else ""
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        elif msg.startswith("Input should be "):
            msg = msg[len("Input should be ") :]
            choices = re.findall(r"'([^']*)'", str((e.get("ctx") or {}).get("expected", "")))
            guess = closest(value, choices) if choices else None
            fix = f"did you mean {guess!r}?" if guess and guess != value else ""
        out.append(Problem(field=field, value=value, allowed=msg, fix=fix, where=where))
    return out


def split_valid(model: type[M], data: Mapping[str, Any], where: str = "") -> tuple[M, list[Problem]]:
    """Validate what can be validated: the model built from the good top-level fields, and the
    problems of the bad ones. Lets a caller run cross-field checks and report everything at once."""
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        problems = problems_from(err, where, model=model)
        bad = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
        good = {k: v for k, v in data.items() if k not in bad}
        try:
            return model.model_validate(good), problems
        except ValidationError:  # the remaining fields depend on the bad ones
            raise InputError(problems) from None


def validate_model(model: type[M], data: Mapping[str, Any], where: str = "", prefix: str = "") -> M:
    """Validate ``data`` into ``model``; raise InputError listing every problem at once."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise InputError(problems_from(err, where, prefix, model=model)) from None
