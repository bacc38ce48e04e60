"""Turn a typed gene and change (``HER2 A775_G776insYVMA``, ``ERBB2 amplification``) into an Alteration."""

from __future__ import annotations

import re

from nerasense.domain.alterations import Alteration, AlterationKind, ProteinChangeType
from nerasense.errors import InputError, Problem, ProblemCollector
from nerasense.ingest.hgvs_protein import ALLOWED, apply_alias, parse_protein_change
from nerasense.ingest.table import alias_map
from nerasense.knowledge.genomics import GenomicsKnowledge, reference_mismatch

_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]*$")
# a substitution written with two or more new residues and no 'delins' or '>' (L755SS): read by the parser as a
# legacy delins, which a user typing one allele rarely means
_BARE_MULTI = re.compile(r"^(?:p\.)?\(?[A-Z]\d+[A-Z]{2,}\)?$")
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
    if not problems and symbol not in gk.known_genes():
        approved = gk.hgnc_symbols.get(symbol.upper())
        if approved is None:
            close = gk.closest_symbols(gene)
            problems.add("gene", gene, "an HGNC symbol of a protein-coding gene, or an alias such as HER2",
                         f"no gene is named {gene.strip()}" + (f"; closest: {', '.join(close)}" if close else ""))
        else:
            symbol = approved
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
    if parsed.type is ProteinChangeType.DELINS and legacy is None and _BARE_MULTI.match(change.strip()) \
            and not _named_by_a_rule(gk, symbol, parsed.text):
        head = parsed.text[2:].split("delins")[0]
        raise InputError(Problem("protein_change", change, ALLOWED,
                                 f"{change.strip()} is not a substitution (one new residue) nor a delins the knowledge "
                                 f"base names: write p.{head}{parsed.alt[:1] if parsed.alt else ''} for a substitution "
                                 f"or {parsed.text} for a delins"))
    protein = gk.sequences.get(symbol)
    if protein is not None:
        mismatch = reference_mismatch(parsed, protein)
        if mismatch is not None:
            raise InputError(Problem("protein_change", change, f"a change on {symbol}'s reference protein",
                                     mismatch.text))
    # a typed protein change says nothing of the DNA; substitutions are read as SNVs, the rest as indels
    kind = _KIND_BY_TYPE.get(parsed.type, AlterationKind.INDEL)
    return Alteration(gene=symbol, kind=kind, protein_change=parsed.text, protein=parsed), legacy


def _named_by_a_rule(gk: GenomicsKnowledge, gene: str, text: str) -> bool:
    return any(r.match.protein_changes and text in r.match.protein_changes for r in gk.rules.get(gene, ()))


__all__ = ["COPY_NUMBER_WORDS", "alteration_from_text"]
