"""Turn a typed gene and change (``HER2 A775_G776insYVMA``, ``ERBB2 amplification``) into an Alteration."""

from __future__ import annotations

import re

from nerasense.domain.alterations import Alteration, AlterationKind, ProteinChangeType
from nerasense.errors import InputError, Problem, ProblemCollector
from nerasense.ingest.hgvs_protein import ALLOWED, apply_alias, parse_protein_change
from nerasense.ingest.table import alias_map
from nerasense.knowledge.genomics import GenomicsKnowledge

_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]*$")
COPY_NUMBER_WORDS = {
    "amplification": AlterationKind.AMPLIFICATION, "amp": AlterationKind.AMPLIFICATION,
    "gain": AlterationKind.GAIN, "loss": AlterationKind.LOSS, "hetloss": AlterationKind.LOSS,
    "deletion": AlterationKind.DELETION, "deepdel": AlterationKind.DELETION, "homdel": AlterationKind.DELETION,
}
_KIND_BY_TYPE = {
    ProteinChangeType.MISSENSE: AlterationKind.SNV, ProteinChangeType.NONSENSE: AlterationKind.SNV,
    ProteinChangeType.SYNONYMOUS: AlterationKind.SNV, ProteinChangeType.START_LOSS: AlterationKind.SNV,
}


def alteration_from_text(gene: str, change: str, gk: GenomicsKnowledge) -> tuple[Alteration, str | None]:
    """The alteration a user means, and the legacy name that was rewritten (or None).

    Raises :class:`InputError` naming the gene and/or the change when either is malformed.
    """
    problems = ProblemCollector()
    if not _SYMBOL.match(gene.strip()) or gene.strip().upper() == "UNKNOWN":
        problems.add("gene", gene, "an HGNC symbol or alias such as ERBB2, HER2, PIK3CA",
                     "give the gene symbol, letters, digits and '-' only")
    symbol = gk.symbol(gene) if not problems else gene
    word = change.strip().lower()
    if word in COPY_NUMBER_WORDS:
        problems.raise_if_any()
        return Alteration(gene=symbol, kind=COPY_NUMBER_WORDS[word]), None
    try:
        parsed = parse_protein_change(change)
    except InputError as exc:
        problems.problems.extend(exc.problems)
        parsed = None
    problems.raise_if_any()
    if parsed is None:  # pragma: no cover - raise_if_any raised
        raise InputError(Problem("protein_change", change, ALLOWED))
    parsed, legacy = apply_alias(parsed, alias_map(gk).get(symbol, {}))
    # a typed protein change says nothing of the DNA; substitutions are read as SNVs, the rest as indels
    kind = _KIND_BY_TYPE.get(parsed.type, AlterationKind.INDEL)
    return Alteration(gene=symbol, kind=kind, protein_change=parsed.text, protein=parsed), legacy


__all__ = ["COPY_NUMBER_WORDS", "alteration_from_text"]
