"""Turn pydantic validation failures into one :class:`InputError` that lists every problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from nerasense.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)


def problems_from(err: ValidationError, where: str = "", prefix: str = "") -> list[Problem]:
    """One Problem per pydantic error, naming the field path, the value and what is allowed."""
    out = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"] if x != "__root__")
        field = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "(input)")
        msg = str(e["msg"])
        if e["type"] == "extra_forbidden":
            msg = "no such field; check the spelling against the documented schema"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        elif msg.startswith("Input should be "):
            msg = msg[len("Input should be ") :]
        out.append(Problem(field=field, value=e.get("input"), allowed=msg, where=where))
    return out


def split_valid(model: type[M], data: Mapping[str, Any], where: str = "") -> tuple[M, list[Problem]]:
    """Validate what can be validated: the model built from the good top-level fields, and the
    problems of the bad ones. Lets a caller run cross-field checks and report everything at once."""
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        problems = problems_from(err, where)
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
        raise InputError(problems_from(err, where, prefix)) from None
