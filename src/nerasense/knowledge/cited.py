"""The base of every knowledge model: strict, immutable, and (for facts) cited with a verification tag.

Kept apart from :mod:`nerasense.knowledge.schema` so a command that needs only one part of the knowledge
base (``annotate`` needs the genomics models) imports only that part's models.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class KBModel(BaseModel):
    """Base of every knowledge model: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Verification(StrEnum):
    """How well a fact was checked against its source (domain-facts.md legend)."""

    V = "V"  # verified against the text of the cited source
    P = "P"  # partially verified, or seen only in a secondary source
    U = "U"  # not verified: must not drive a call unless marked unverified in the output


class Cited(KBModel):
    """A fact with its source id and verification tag."""

    source: str
    verification: Verification = Verification.V

    @property
    def unverified(self) -> bool:
        return self.verification is Verification.U


__all__ = ["Cited", "KBModel", "Verification"]
