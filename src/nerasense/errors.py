"""The one exception root of nerasense, and the warnings it emits.

::

    NerasenseError                 every error nerasense raises on purpose
    ├── InputError                 the caller's input is wrong (lists every problem at once)
    ├── KnowledgeError             a knowledge-base file is missing, malformed or inconsistent
    └── AnalysisError              valid input on which a computation cannot be done

    NerasenseWarning (UserWarning) valid but suspicious input or a caveat worth reading
    └── UnverifiedKnowledgeWarning a fact tagged [U] in the reference was used

Library code raises these; only :mod:`nerasense.cli` turns them into exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, what was given, what is allowed, how to fix it."""

    field: str
    value: object
    allowed: str
    fix: str = ""
    where: str = ""

    def __str__(self) -> str:
        head = f"{self.where}: " if self.where else ""
        if self.value is None:
            text = f"{head}{self.field} is missing; needed: {self.allowed}"
        else:
            text = f"{head}{self.field}={_shown(self.value)} is not allowed; allowed: {self.allowed}"
        if self.fix:
            text += f" ({self.fix})"
        return text


_MAX_SHOWN = 200


def _shown(value: object) -> str:
    """The value as written in a message; a very long one (hostile input) is cut, with its length."""
    text = repr(value)
    if len(text) <= _MAX_SHOWN:
        return text
    return f"{text[:80]}… ({len(str(value)):,} characters)"


class NerasenseError(Exception):
    """Root of every error raised by nerasense."""


class InputError(NerasenseError, ValueError):
    """Bad input. Carries every problem found, not only the first."""

    def __init__(self, problems: Problem | Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = (
            (problems,) if isinstance(problems, Problem) else tuple(problems)
        )
        if not self.problems:
            raise ValueError("InputError needs at least one Problem")
        super().__init__("; ".join(str(p) for p in self.problems))


class KnowledgeError(NerasenseError):
    """The knowledge base is broken: each message names the file, the entry and the field."""

    def __init__(self, messages: str | Iterable[str]) -> None:
        self.messages: tuple[str, ...] = (messages,) if isinstance(messages, str) else tuple(messages)
        super().__init__("; ".join(self.messages))


class AnalysisError(NerasenseError):
    """Valid input on which the requested computation cannot be carried out."""


class NerasenseWarning(UserWarning):
    """Valid but suspicious input, or a caveat the reader should see."""


class UnverifiedKnowledgeWarning(NerasenseWarning):
    """A knowledge entry tagged unverified ([U]) was used; outputs mark it as such."""


class ProblemCollector:
    """Collect problems while validating, then raise them all together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str, value: object, allowed: str, fix: str = "", where: str = "") -> None:
        self.problems.append(Problem(field, value, allowed, fix, where))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)


__all__ = [
    "AnalysisError",
    "InputError",
    "KnowledgeError",
    "NerasenseError",
    "NerasenseWarning",
    "Problem",
    "ProblemCollector",
    "UnverifiedKnowledgeWarning",
]
