"""Concomitant medications against the neratinib interaction classes of ``interactions.yaml``.

Names are matched case-insensitively on the generic name or a brand alias, after dropping punctuation and
any trailing dose ("omeprazole 20 mg" → "omeprazole"). A name that matches nothing is reported in
``not_found`` — it is never dropped silently, and "not found" does not mean "safe".
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass
from typing import Any

from nerasense.engine import _kb
from nerasense.errors import ProblemCollector, UnverifiedKnowledgeWarning
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.dosing_schema import InteractionClass, Member, Region, Severity
from nerasense.knowledge.schema import Verification

_SEVERITY_ORDER = [Severity.CONTRAINDICATED, Severity.AVOID, Severity.SEPARATE, Severity.MONITOR]


def normalise(name: str) -> str:
    """Lower case, curly quotes straightened, dots dropped, spaces collapsed."""
    text = name.lower().replace("\u2019", "'").replace(".", " ")
    return " ".join(text.split())


def _strip_dose(name: str) -> str:
    words = name.split()
    while words and (re.search(r"\d", words[-1]) or words[-1] in {"mg", "g", "mcg", "ml", "iu"}):
        words.pop()
    return " ".join(words)


@dataclass
class InteractionFinding:
    query: str
    drug: str
    class_id: str
    class_name: str
    severity: str
    regions: list[str]
    recommendation: str
    timing: dict[str, float | None] | None
    pk_effects: list[dict[str, Any]]
    source: str
    verification: str
    member_verification: str
    unverified: bool
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class InteractionReport:
    medications: list[str]
    findings: list[InteractionFinding]
    not_found: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "medications": list(self.medications),
            "findings": [f.to_dict() for f in self.findings],
            "not_found": list(self.not_found),
            "note": "a drug in not_found is not in the knowledge base; that does not mean it is safe with neratinib",
        }


def _index(kb: KnowledgeBase) -> dict[str, list[tuple[InteractionClass, Member]]]:
    out: dict[str, list[tuple[InteractionClass, Member]]] = {}
    for cls in _kb.interaction_classes(kb):
        for m in cls.members:
            for key in {normalise(m.name), *(normalise(a) for a in m.aliases)}:
                out.setdefault(key, []).append((cls, m))
    return out


def known_drugs(kb: KnowledgeBase) -> list[str]:
    """Every generic name in the interaction classes, sorted."""
    return sorted({m.name for cls in _kb.interaction_classes(kb) for m in cls.members})


def check(medications: list[str] | tuple[str, ...], kb: KnowledgeBase, region: str | None = None) -> InteractionReport:
    """Findings for each medication (a drug may fall in several classes); unknown names in ``not_found``.

    ``region`` (US or EU) keeps only rules of that region; by default both regions' rules are returned,
    each finding naming its regions.
    """
    problems = ProblemCollector()
    if isinstance(medications, str):
        problems.add("medications", medications, "a list of drug names")
    elif not medications:
        problems.add("medications", None, "at least one drug name")
    else:
        for i, med in enumerate(medications):
            if not isinstance(med, str) or not normalise(med):
                problems.add(f"medications[{i}]", med, "a non-empty drug name")
    if region is not None and region not in {r.value for r in Region}:
        problems.add("region", region, "US or EU")
    problems.raise_if_any()

    index = _index(kb)
    findings: list[InteractionFinding] = []
    not_found: list[str] = []
    for med in medications:
        key = normalise(med)
        hits = index.get(key) or index.get(_strip_dose(key)) or []
        if region is not None:
            hits = [(c, m) for c, m in hits if Region(region) in c.regions]
        if not hits:
            if not (index.get(key) or index.get(_strip_dose(key))):
                not_found.append(med)
            continue
        for cls, member in hits:
            member_tag = member.verification or cls.verification
            unverified = cls.verification is Verification.U or member_tag is Verification.U
            findings.append(InteractionFinding(
                query=med, drug=member.name, class_id=cls.id, class_name=cls.name, severity=cls.severity.value,
                regions=[r.value for r in cls.regions], recommendation=cls.recommendation,
                timing=cls.timing.model_dump() if cls.timing else None,
                pk_effects=[p.model_dump(mode="json") for p in cls.pk_effects],
                source=cls.source, verification=cls.verification.value, member_verification=member_tag.value,
                unverified=unverified, note=member.note or cls.note,
            ))
    findings.sort(key=lambda f: (_SEVERITY_ORDER.index(Severity(f.severity)), f.query, f.class_id))
    flagged = sorted({f.drug for f in findings if f.unverified})
    if flagged:
        warnings.warn(
            f"interaction class membership not verified (tag U) for: {', '.join(flagged)}",
            UnverifiedKnowledgeWarning,
            stacklevel=2,
        )
    return InteractionReport(medications=list(medications), findings=findings, not_found=not_found)


__all__ = ["InteractionFinding", "InteractionReport", "check", "known_drugs", "normalise"]
