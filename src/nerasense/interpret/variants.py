"""Classify an alteration against the curated knowledge: domain, exon, hotspot, effect, lower benefit.

How a call is made (all facts come from ``knowledge/data``; nothing here is a literal threshold):

1. **Domain and exon** — the finest ``domain``-level region of ``protein_regions.yaml`` that holds the
   first changed residue; the exon from ``exon``-level regions (ERBB2 exon 20 = 770–831 only). A region
   tagged U is still reported, and named in ``unverified``.
2. **Hotspot** — the (gene, protein change) pair is in a hotspot table (cancerhotspots v2 subset, or a
   full table passed at run time).
3. **Effect** — the most specific matching rule of ``variant_rules.yaml`` that sets an effect (exact
   change > codon > region > copy-number kind). Rules tagged U never set the effect; their statement is
   listed in ``unverified``. ``lower_benefit`` is set by any matching verified rule that says so
   (MutHER: L755 alterations).
4. No rule: the effect is ``unknown`` and the reason says so — hotspot status is reported but is not
   turned into a functional call. Synonymous changes are ``likely-neutral`` (the protein is unchanged).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from nerasense.domain.alterations import (
    Alteration,
    AlterationKind,
    Effect,
    ProteinChange,
    ProteinChangeType,
    VariantInterpretation,
)
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.genomics_schema import ProteinRegion, RuleMatch, VariantRule

_NO_POSITION = {ProteinChangeType.UNKNOWN_EFFECT}


def _rule_matches(match: RuleMatch, kind: AlterationKind, change: ProteinChange | None) -> bool:
    if match.kinds is not None and match.start is None:
        return kind in match.kinds
    if change is None or change.start is None or change.type in _NO_POSITION:
        return False
    if match.protein_changes is not None:
        return change.text in match.protein_changes
    if match.codon is not None:
        return change.start == match.codon and change.type is not ProteinChangeType.SYNONYMOUS
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
    callers = sorted((r for r in verified if r.effect is not None), key=lambda r: -r.match.specificity)
    effect = Effect.UNKNOWN
    used: list[VariantRule] = []
    if callers:
        best = callers[0]
        effect = best.effect or Effect.UNKNOWN
        used.append(best)
        reasons.append(f"{best.label}: {best.reason}")
    lower = [r for r in verified if r.lower_benefit]
    for r in lower:
        if r not in used:
            used.append(r)
            reasons.append(f"{r.label}: {r.reason}")
    for r in used:
        evidence.extend(r.sources)

    if not callers:
        subject = f"{gene} {text}" if text else f"{gene} {kind.value}"
        if change is not None and change.type is ProteinChangeType.SYNONYMOUS:
            effect = Effect.LIKELY_NEUTRAL
            reasons.insert(0, f"{subject} is synonymous: the protein is unchanged (splicing effects not assessed).")
        elif gene not in gk.known_genes():
            reasons.insert(0, f"{subject}: the knowledge base holds nothing on {gene}; effect unknown.")
        else:
            reasons.insert(0, f"{subject}: no curated rule matches this alteration; "
                              "effect unknown, not guessed.")
    if hotspot:
        reasons.append("Recurrent hotspot allele in cancerhotspots v2 (Chang 2018); "
                       "hotspot status alone does not set the effect.")
        evidence.extend(gk.hotspot_source_ids)
    pathway = gk.pathway_genes.get(gene)
    if pathway is not None and not callers:
        reasons.append(f"{gene} ({pathway.pathway}): {pathway.role}.")
        evidence.extend(t.source for t in pathway.ties if not t.unverified)

    return VariantInterpretation(
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
    )




ANNOTATION_COLUMNS = ("domain", "exon", "hotspot", "effect", "lower_benefit", "evidence", "reason", "unverified")
_ANSWER_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "gene": pl.String, "kind": pl.String, "protein_change": pl.String, "domain": pl.String,
    "exon": pl.Int64, "hotspot": pl.Boolean, "effect": pl.String, "lower_benefit": pl.Boolean,
    "evidence": pl.List(pl.String), "reason": pl.String, "unverified": pl.List(pl.String),
}
_SYNONYMOUS = r"^p\.[A-Z*]\d+=$"


def annotate_frame(
    frame: pl.DataFrame, gk: GenomicsKnowledge, parse: Callable[[str], ProteinChange]
) -> pl.DataFrame:
    """Add the interpretation columns to a table of alterations (``ALTERATION_SCHEMA`` columns).

    Each distinct (gene, kind, protein_change) of a *curated* gene (one with rules, regions or a
    pathway entry) goes through :func:`interpret_parts`. Alleles of every other gene can only be
    ``unknown`` (or ``likely-neutral`` when synonymous), flagged as hotspots or not; they are answered
    with column expressions that produce the same values :func:`interpret_parts` would (a test holds
    the two paths equal), so a GENIE-scale table costs little more than reading it.

    ``parse`` turns a normalised protein change back into a :class:`ProteinChange` (the ingest layer's
    :func:`~nerasense.ingest.hgvs_protein.parse_protein_change`; passed in so this layer does not import
    the readers).
    """
    curated = list(set(gk.rules) | set(gk.regions) | set(gk.pathway_genes))
    mask = pl.col("gene").is_in(curated)
    rows: dict[str, list[object]] = {k: [] for k in _ANSWER_SCHEMA}
    for gene, kind, text in frame.filter(mask).select("gene", "kind", "protein_change").unique().iter_rows():
        change = parse(text) if text else None
        vi = interpret_parts(gene, AlterationKind(kind), change, gk)
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
    answers = pl.DataFrame(rows, schema=_ANSWER_SCHEMA).rename({c: f"_{c}" for c in ANNOTATION_COLUMNS})
    # every row gets the uncurated answer by expression; curated rows then take theirs from the small join
    out = _uncurated_answers(frame, gk)
    out = out.join(answers, on=["gene", "kind", "protein_change"], how="left", nulls_equal=True,
                   maintain_order="left")
    return out.with_columns(
        [pl.when(mask).then(pl.col(f"_{c}")).otherwise(pl.col(c)).alias(c) for c in ANNOTATION_COLUMNS]
    ).drop([f"_{c}" for c in ANNOTATION_COLUMNS])


def _uncurated_answers(fast: pl.DataFrame, gk: GenomicsKnowledge) -> pl.DataFrame:
    """The answers of :func:`interpret_parts` for genes with no rule, region or pathway entry, as expressions."""
    hot_keys = [f"{g}\t{c}" for g, c in gk.hotspots]
    key = pl.col("gene") + pl.lit("\t") + pl.col("protein_change")
    fast = fast.with_columns(key.is_in(hot_keys).fill_null(False).alias("hotspot"))
    known = list(gk.known_genes())
    subject = pl.col("gene") + pl.lit(" ") + pl.coalesce(pl.col("protein_change"), pl.col("kind"))
    synonymous = pl.col("protein_change").is_not_null() & pl.col("protein_change").str.contains(_SYNONYMOUS)
    first = (
        pl.when(synonymous).then(subject + pl.lit(" is synonymous: the protein is unchanged (splicing effects not assessed)."))
        .when(~pl.col("gene").is_in(known)).then(
            subject + pl.lit(": the knowledge base holds nothing on ") + pl.col("gene") + pl.lit("; effect unknown."))
        .otherwise(subject + pl.lit(": no curated rule matches this alteration; effect unknown, not guessed."))
    )
    hot_text = (" Recurrent hotspot allele in cancerhotspots v2 (Chang 2018); "
                "hotspot status alone does not set the effect.")
    return fast.with_columns(
        pl.lit(None, dtype=pl.String).alias("domain"),
        pl.lit(None, dtype=pl.Int64).alias("exon"),
        "hotspot",
        pl.when(synonymous).then(pl.lit(Effect.LIKELY_NEUTRAL.value)).otherwise(pl.lit(Effect.UNKNOWN.value)).alias("effect"),
        pl.lit(False).alias("lower_benefit"),
        pl.when(pl.col("hotspot")).then(pl.lit(list(gk.hotspot_source_ids), dtype=pl.List(pl.String)))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))).alias("evidence"),
        pl.when(pl.col("hotspot")).then(first + pl.lit(hot_text)).otherwise(first).alias("reason"),
        pl.lit([], dtype=pl.List(pl.String)).alias("unverified"),
    ).cast(_ANSWER_SCHEMA)  # type: ignore[arg-type]


__all__ = ["ANNOTATION_COLUMNS", "annotate_frame", "interpret", "interpret_parts"]
