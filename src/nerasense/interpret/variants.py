"""Classify an alteration against the curated knowledge: domain, exon, hotspot, effect, lower benefit.

How a call is made (all facts come from ``knowledge/data``; nothing here is a literal threshold):

1. **Domain and exon** — the finest ``domain``-level region of ``protein_regions.yaml`` that holds the
   first changed residue; the exon from ``exon``-level regions (ERBB2 exon 20 = 770–831 only). A region
   tagged U is still reported, and named in ``unverified``.
2. **Hotspot** — the (gene, protein change) pair is in a hotspot table (cancerhotspots v2 subset, or a
   full table passed at run time).
3. **Effect** — the most specific matching rule of ``variant_rules.yaml`` that sets an effect (exact
   change > codon > region > copy-number kind): its explicit effect, else the one its classification maps
   to (``oncogenicity_effects.yaml``). Rules tagged U never set the effect; their statement is listed in
   ``unverified``. ``lower_benefit`` is set by any matching verified rule that says so (MutHER: L755
   alterations).
4. **Classification** — oncogenicity and mutation effect (OncoKB's vocabulary) from the most specific
   matching verified rule that gives them, with its level (allele or class) and its evidence statements.
5. No rule: effect, oncogenicity and mutation effect are ``unknown`` and the reason says so — hotspot status
   is reported but is not turned into a functional call (every cancerhotspots allele of ERBB2 and ERBB3 has
   its own rule). Synonymous changes are ``likely-neutral`` (the protein is unchanged).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from nerasense._frames import aligned
from nerasense.domain.alterations import (
    Alteration,
    AlterationKind,
    ClassificationLevel,
    Effect,
    MutationEffect,
    Oncogenicity,
    ProteinChange,
    ProteinChangeType,
    VariantInterpretation,
)
from nerasense.knowledge.genomics import GenomicsKnowledge, reference_mismatch
from nerasense.knowledge.genomics_schema import ProteinRegion, RuleMatch, VariantRule

_NO_POSITION = {ProteinChangeType.UNKNOWN_EFFECT}
_SYNONYMOUS_TEXT = "Synonymous: the protein is unchanged (splicing effects not assessed)."
_NOTHING_TEXT = "The knowledge base holds nothing on this gene; effect unknown, not guessed."
_NO_RULE_TEXT = "No curated rule matches this alteration; effect unknown, not guessed."
_HOTSPOT_TEXT = ("Recurrent hotspot allele in cancerhotspots v2 (Chang 2018); "
                 "hotspot status alone does not set the effect.")


def _answer(*, gene: str, protein_change: str | None, kind: AlterationKind, domain: str | None, exon: int | None,
            hotspot: bool, effect: Effect, lower_benefit: bool, evidence: list[str], rules: list[str], reason: str,
            unverified: list[str], oncogenicity: Oncogenicity, mutation_effect: MutationEffect,
            classification_level: ClassificationLevel | None,
            classification_evidence: list[str]) -> VariantInterpretation:
    """A :class:`VariantInterpretation` from values this module built with their types (mypy checks them here),
    without pydantic's validation pass: the first validation builds the model's validator and scans the
    installed packages for pydantic plugins, about 0.04 s of every ``annotate`` run, and ``model_construct``
    costs 27 us a model. ``tests/genomics/test_knowledge_genomics.py`` holds the result equal to a validated
    model for every knowledge-base case."""
    return VariantInterpretation._checked({
        "gene": gene, "protein_change": protein_change, "kind": kind, "domain": domain, "exon": exon,
        "hotspot": hotspot, "effect": effect, "lower_benefit": lower_benefit, "evidence": evidence, "rules": rules,
        "reason": reason, "unverified": unverified, "oncogenicity": oncogenicity, "mutation_effect": mutation_effect,
        "classification_level": classification_level, "classification_evidence": classification_evidence})


def _rule_matches(match: RuleMatch, kind: AlterationKind, change: ProteinChange | None) -> bool:
    if match.kinds is not None and match.start is None:
        return kind in match.kinds
    if change is None or change.start is None or change.type in _NO_POSITION:
        return False
    if match.protein_changes is not None:
        return change.text in match.protein_changes
    if match.codon is not None:
        return change.start == match.codon and change.type is not ProteinChangeType.SYNONYMOUS and (
            match.change_types is None or change.type in match.change_types)
    if match.start is not None and match.end is not None:
        in_range = match.start <= change.start <= match.end
        return in_range and (match.change_types is None or change.type in match.change_types)
    return False


def _region_for(regions: tuple[ProteinRegion, ...], level: str, position: int) -> ProteinRegion | None:
    hits = [r for r in regions if r.level == level and r.start <= position <= r.end]
    return min(hits, key=lambda r: r.end - r.start) if hits else None


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def interpret(alteration: Alteration, gk: GenomicsKnowledge) -> VariantInterpretation:
    """Interpret one alteration; never guesses: without a matching rule the effect is ``unknown``."""
    return interpret_parts(alteration.gene, alteration.kind, alteration.protein, gk)


def interpret_parts(
    gene: str, kind: AlterationKind, change: ProteinChange | None, gk: GenomicsKnowledge
) -> VariantInterpretation:
    """Interpret by gene, kind and parsed protein change (what the columnar annotator calls per distinct allele)."""
    unverified: list[str] = []
    reasons: list[str] = []
    evidence: list[str] = []
    domain = exon = None
    position = change.start if change is not None and change.type not in _NO_POSITION else None
    regions = gk.regions.get(gene, ())
    if position is not None and regions:
        region = _region_for(regions, "domain", position) or _region_for(regions, "topology", position)
        if region is not None:
            domain = region.name
            if region.unverified:
                unverified.append(f"domain boundary {region.name} {region.start}-{region.end} [U] ({region.source})")
        exon_region = _region_for(regions, "exon", position)
        if exon_region is not None:
            exon = exon_region.exon
            evidence.append(exon_region.source)

    text = change.text if change is not None else None
    hotspot = text is not None and (gene, text) in gk.hotspots

    matched = [r for r in gk.rules.get(gene, ()) if _rule_matches(r.match, kind, change)]
    verified = [r for r in matched if not r.unverified]
    for r in matched:
        if r.unverified:
            unverified.append(f"{r.id}: {r.reason} [U] ({', '.join(r.sources)}); not used in the call")
    callers = sorted((r for r in verified if gk.effect_of(r) is not None), key=lambda r: -r.match.specificity)
    effect = Effect.UNKNOWN
    used: list[VariantRule] = []
    if callers:
        best = callers[0]
        effect = gk.effect_of(best) or Effect.UNKNOWN
        used.append(best)
        reasons.append(f"{best.label}: {best.reason}")
    oncogenicity, mutation_effect = Oncogenicity.UNKNOWN, MutationEffect.UNKNOWN
    level: ClassificationLevel | None = None
    classification: list[str] = []
    classifiers = sorted((r for r in verified if r.oncogenicity is not None), key=lambda r: -r.match.specificity)
    if classifiers:
        top = classifiers[0]
        oncogenicity = top.oncogenicity or Oncogenicity.UNKNOWN
        mutation_effect = top.mutation_effect or MutationEffect.UNKNOWN
        level = top.level
        classification = [f"{e.source} [{e.verification.value}]: {e.statement}" for e in top.evidence]
        if top not in used:
            used.append(top)
            reasons.append(f"{top.label}: {top.reason}")
    lower = [r for r in verified if r.lower_benefit]
    for r in lower:
        if r not in used:
            used.append(r)
            reasons.append(f"{r.label}: {r.reason}")
    for r in used:
        evidence.extend(r.sources)

    if not callers:
        if change is not None and change.type is ProteinChangeType.SYNONYMOUS:
            effect = Effect.LIKELY_NEUTRAL
            if not classifiers:
                oncogenicity, mutation_effect = Oncogenicity.LIKELY_NEUTRAL, MutationEffect.LIKELY_NEUTRAL
            reasons.insert(0, _SYNONYMOUS_TEXT)
        elif gene not in gk.known_genes():
            reasons.insert(0, _NOTHING_TEXT)
        else:
            reasons.insert(0, _NO_RULE_TEXT)
    if hotspot:
        reasons.append(_HOTSPOT_TEXT)
        evidence.extend(gk.hotspot_source_ids)
    pathway = gk.pathway_genes.get(gene)
    if pathway is not None and not callers:
        reasons.append(f"{gene} ({pathway.pathway}): {pathway.role}.")
        evidence.extend(t.source for t in pathway.ties if not t.unverified)

    return _answer(
        gene=gene,
        protein_change=text,
        kind=kind,
        domain=domain,
        exon=exon,
        hotspot=hotspot,
        effect=effect,
        lower_benefit=bool(lower),
        evidence=_dedupe(evidence),
        rules=[r.id for r in matched],
        reason=" ".join(reasons),
        unverified=unverified,
        oncogenicity=oncogenicity,
        mutation_effect=mutation_effect,
        classification_level=level,
        classification_evidence=classification,
    )



ANNOTATION_COLUMNS = ("domain", "exon", "hotspot", "effect", "lower_benefit", "evidence", "reason", "unverified",
                      "oncogenicity", "mutation_effect", "classification_level")
_ANSWER_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "gene": pl.String, "kind": pl.String, "protein_change": pl.String, "domain": pl.String,
    "exon": pl.Int64, "hotspot": pl.Boolean, "effect": pl.String, "lower_benefit": pl.Boolean,
    "evidence": pl.List(pl.String), "reason": pl.String, "unverified": pl.List(pl.String),
    # enums: a gather moves a 1-byte category number per row, not a string view
    "oncogenicity": pl.Enum([o.value for o in Oncogenicity]),
    "mutation_effect": pl.Enum([m.value for m in MutationEffect]),
    "classification_level": pl.Enum([c.value for c in ClassificationLevel]),
}

def _synonymous(column: str = "protein_change") -> pl.Expr:
    """A normalised synonymous change (``p.L755=``): the only normalised form ending in ``=`` besides
    ``p.=`` (whole protein unchanged, which the parser types as unknown effect). A suffix test, not a regex."""
    change = pl.col(column)
    return (change.str.ends_with("=") & (change != "p.=")).fill_null(False)


def _templated_genes(gk: GenomicsKnowledge) -> list[str]:
    """Genes with a pathway entry but no rule and no protein region: what :func:`interpret_parts` says of
    their alleles depends only on the gene, on being synonymous and on being a hotspot."""
    return sorted(set(gk.pathway_genes) - set(gk.rules) - set(gk.regions))


def annotate_frame(
    frame: pl.DataFrame, gk: GenomicsKnowledge, parse: Callable[[str], ProteinChange]
) -> pl.DataFrame:
    """Add the interpretation columns to a table of alterations (``ALTERATION_SCHEMA`` columns).

    Each distinct (gene, kind, protein_change) of a gene with rules or protein regions goes through
    :func:`interpret_parts`. For every other gene the answer can only depend on the gene, on the change
    being synonymous and on it being a hotspot, so the answers are built per gene in blocks of four
    (synonymous x hotspot): block 0 for genes the knowledge base does not know, block 1 for known genes
    without a pathway entry, then one block per gene that has only a pathway entry (TP53, KRAS, ...). They
    use the same texts as :func:`interpret_parts`, and a test holds the two paths equal. Every row then
    gets the number of its answer (cheap column expressions, plus a join over the few rule-bearing rows)
    and the answer columns are gathered from the small answer table, so a GENIE-scale table costs little
    more than reading it, however many distinct TP53 alleles it holds.

    ``parse`` turns a normalised protein change back into a :class:`ProteinChange` (the ingest layer's
    :func:`~nerasense.ingest.hgvs_protein.parse_protein_change`; passed in so this layer does not import
    the readers).
    """
    curated = sorted(set(gk.rules) | set(gk.regions))
    templated = _templated_genes(gk)
    first_curated = 4 * (2 + len(templated))  # answers before this number are the blocks of four
    # the block of each gene, or the marker of a curated gene, and whether the gene has uncurated hotspot
    # alleles, in one hash look-up per row: the number is block * 2 + (hotspot gene)
    blocks = dict.fromkeys(gk.known_genes(), 1) | {g: 2 + i for i, g in enumerate(templated)}
    blocks |= dict.fromkeys(curated, first_curated)
    hot = _uncurated_hotspots(gk)
    hot_genes = {g for g, _ in hot}
    numbers = {g: b * 2 + (g in hot_genes) for g, b in blocks.items()}  # every hotspot gene is a known gene
    per_gene = pl.col("gene").replace_strict(numbers, default=0, return_dtype=pl.UInt32)
    # the look-up runs once per row (the in-memory engine on the reader's chunks); the block arithmetic
    # works on its result
    number, synonymous = pl.col("_number"), pl.col("_synonymous")
    block = number // 2
    found = frame.lazy().select(per_gene.alias("_number"), _synonymous().cast(pl.UInt32).alias("_synonymous")).select(
        pl.when(block == first_curated).then(block).otherwise(block * 4 + synonymous * 2).alias("index"),
        (number % 2 == 1).alias("hot_gene"),
    ).collect(engine="in-memory")
    index = found["index"].rechunk()
    hot_rows = _hotspot_rows(frame, found["hot_gene"].arg_true(), hot)  # never a curated gene's row
    if hot_rows.len():
        index = index.scatter(hot_rows, index.gather(hot_rows) + 1)
    at = (index == first_curated).arg_true()

    rows: dict[str, list[object]] = {k: [] for k in _ANSWER_SCHEMA}

    def add(gene: str | None, kind: str | None, text: str | None, vi: VariantInterpretation) -> None:
        rows["gene"].append(gene)
        rows["kind"].append(kind)
        rows["protein_change"].append(text)
        rows["domain"].append(vi.domain)
        rows["exon"].append(vi.exon)
        rows["hotspot"].append(vi.hotspot)
        rows["effect"].append(vi.effect.value)
        rows["lower_benefit"].append(vi.lower_benefit)
        rows["evidence"].append(vi.evidence)
        rows["reason"].append(vi.reason)
        rows["unverified"].append(vi.unverified)
        rows["oncogenicity"].append(vi.oncogenicity.value)
        rows["mutation_effect"].append(vi.mutation_effect.value)
        rows["classification_level"].append(vi.classification_level.value if vi.classification_level else None)

    # block 0: unknown genes; block 1: known genes without a pathway entry; then one per pathway-only gene
    for block_gene, known_gene in [(None, False), (None, True), *((g, True) for g in templated)]:
        for in_block in range(4):
            synonymous_, hotspot = bool(in_block & 2), bool(in_block & 1)
            add(None, None, None, _uncurated_answer(gk, synonymous_, known_gene, hotspot, block_gene))
    keys = frame.select("gene", "kind", "protein_change").gather(at)
    distinct = keys.unique(maintain_order=True)
    for gene, kind, text in distinct.iter_rows():
        change = parse(text) if text else None
        add(gene, kind, text, interpret_parts(gene, AlterationKind(kind), change, gk))
    # hotspot first: the column order the row-expression version of this function produced
    answers = _answer_frame(rows).select("hotspot", *(c for c in ANNOTATION_COLUMNS if c != "hotspot"))
    if at.len():
        which = keys.join(distinct.with_row_index("_a", offset=first_curated), on=["gene", "kind", "protein_change"],
                          how="left", nulls_equal=True, maintain_order="left")["_a"]
        index = index.scatter(at, which)
    # the answer columns come in one chunk: cut them like the frame's, so the result is not re-copied later
    return aligned(pl.concat([frame, answers.gather(index)], how="horizontal"))


def _answer_frame(rows: dict[str, list[object]]) -> pl.DataFrame:
    """The answer table. A list column is built as joined text split by polars: building it from Python
    lists makes one polars Series per row (a third of this function's time on a GENIE-scale table)."""
    columns = []
    for name, dtype in _ANSWER_SCHEMA.items():
        if isinstance(dtype, pl.List):
            joined = pl.Series(name, [_UNIT.join(v) if v else None for v in rows[name]], dtype=pl.String)  # type: ignore[arg-type]
            columns.append(joined.str.split(_UNIT).fill_null(pl.lit([], dtype=dtype)))
        else:
            columns.append(pl.Series(name, rows[name], dtype=dtype))
    return pl.DataFrame(columns)


_UNIT = "\x1f"  # the ASCII unit separator: never inside a source id or a rule id


def _uncurated_hotspots(gk: GenomicsKnowledge) -> list[tuple[str, str]]:
    """(gene, change) hotspot pairs of genes without rules or regions (KRAS p.G12D)."""
    curated = set(gk.rules) | set(gk.regions)
    return [(g, c) for g, c in gk.hotspots if g not in curated]


def _hotspot_rows(frame: pl.DataFrame, rows: pl.Series, hot: list[tuple[str, str]]) -> pl.Series:
    """Of ``rows`` (row numbers whose gene has uncurated hotspots: KRAS, BRAF, ...), those whose (gene, change)
    pair is one of ``hot``. The changes are looked up on those rows alone, the exact pair on the few that match."""
    if not rows.len() or not hot:
        return rows.clear()
    candidates = rows.filter(frame["protein_change"].gather(rows).is_in(sorted({c for _, c in hot})).fill_null(False))
    if not candidates.len():
        return candidates
    key = pl.col("gene") + pl.lit("\t") + pl.col("protein_change")
    pairs = frame.select("gene", "protein_change").gather(candidates)
    return candidates.filter(pairs.select(key.is_in([f"{g}\t{c}" for g, c in hot])).to_series())


def _uncurated_answer(gk: GenomicsKnowledge, synonymous: bool, known: bool, hotspot: bool,
                      gene: str | None = None) -> VariantInterpretation:
    """What :func:`interpret_parts` says of an allele of a gene with no rule and no protein region; ``gene``
    names a gene with a pathway entry (its role and the verified trial ties are added), None any other."""
    first = _SYNONYMOUS_TEXT if synonymous else _NO_RULE_TEXT if known else _NOTHING_TEXT
    reasons, evidence = [first], list[str]()
    if hotspot:
        reasons.append(_HOTSPOT_TEXT)
        evidence.extend(gk.hotspot_source_ids)
    pathway = gk.pathway_genes.get(gene) if gene is not None else None
    if pathway is not None:
        reasons.append(f"{gene} ({pathway.pathway}): {pathway.role}.")
        evidence.extend(t.source for t in pathway.ties if not t.unverified)
    neutral = Oncogenicity.LIKELY_NEUTRAL if synonymous else Oncogenicity.UNKNOWN
    return _answer(
        gene=gene or "-", protein_change=None, kind=AlterationKind.SNV, domain=None, exon=None, hotspot=hotspot,
        effect=Effect.LIKELY_NEUTRAL if synonymous else Effect.UNKNOWN, lower_benefit=False,
        evidence=_dedupe(evidence), rules=[], reason=" ".join(reasons), unverified=[], oncogenicity=neutral,
        mutation_effect=MutationEffect.LIKELY_NEUTRAL if synonymous else MutationEffect.UNKNOWN,
        classification_level=None, classification_evidence=[],
    )


def reference_mismatches(frame: pl.DataFrame, gk: GenomicsKnowledge,
                         parse: Callable[[str], ProteinChange], count: str | None = None) -> list[dict[str, object]]:
    """Distinct (gene, protein change) of a table whose residues do not match the gene's reference protein
    (another transcript's numbering, or a damaged row), each with its row count and what is there. Only the
    genes with a shipped sequence are checked, once per distinct change. ``count`` names a column of row
    counts when ``frame`` holds rows already counted; otherwise each row counts once."""
    genes = sorted(gk.sequences)
    rows = frame.filter(pl.col("gene").is_in(genes) & pl.col("protein_change").is_not_null())
    if not rows.height:
        return []
    out: list[dict[str, object]] = []
    n_rows = pl.col(count).sum().alias("len") if count else pl.len()
    for gene, change, n in rows.group_by("gene", "protein_change").agg(n_rows).sort("gene", "protein_change").iter_rows():
        mismatch = reference_mismatch(parse(change), gk.sequences[gene])
        if mismatch is not None:
            out.append({"gene": gene, "protein_change": change, "rows": n, "why": mismatch.text})
    return out


__all__ = ["ANNOTATION_COLUMNS", "annotate_frame", "interpret", "interpret_parts", "reference_mismatches"]
