"""Combine the parts' results into the cohort screen: per sample, per tumour type, per allele.

Definitions (every count is of samples, never of rows, so duplicated rows change no count):

* **screened** — every sample named by an input row (accepted or refused) and, with a clinical sample file,
  every sample that file lists (GENIE lists each sequenced sample there, also those without a mutation);
* **any ERBB2** — an ERBB2 mutation whose effect is not likely-neutral, or an ERBB2 amplification;
  **activating ERBB2** — an ERBB2 mutation whose effect is activating (the knowledge base's variant rules);
  **ERBB2 amplified** — an ERBB2 amplification call, over the samples a copy-number table profiled;
  **ERBB3** — an ERBB3 mutation whose effect is not likely-neutral; **resistance** — any allele whose effect
  is resistance;
* **regimen / trial criteria** — each regimen's ``applies_when`` (``regimens.yaml``) and each trial's
  eligibility (``trials.yaml``), read over the facts a mutation table can give: tumour-type facts (OncoTree
  lineage, ``tumour_lineages.yaml``) and the HER2-alteration facts (``engine.facts.FACTS`` family). A
  criterion over any other fact (setting, hormone receptors, prior therapy, sex, age) is not assessed here and
  counts as met; HER2 protein status (IHC/ISH) is not in DNA data and stays unknown. ``met`` / ``not met`` /
  ``unknown`` are the three-valued answer (Kleene logic, as the engine evaluates conditions).

Proportions carry exact Clopper–Pearson 95% intervals (:func:`nerasense.stats.response.clopper_pearson`, the
bounds of :func:`~nerasense.stats.response.response_rate` for many proportions at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from nerasense.engine.conditions import evaluate
from nerasense.engine.eligibility import assess_eligibility
from nerasense.engine.facts import FACTS, FactValue
from nerasense.errors import InputError
from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.knowledge.conditions import Condition, Leaf, leaves
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.oncotree import oncotree, tcga_map
from nerasense.knowledge.schema import Regimen, TumourLineageRule
from nerasense.screen.inputs import read_clinical
from nerasense.screen.partition import CANDIDATE_COLUMNS, COPY_NUMBER_KINDS, FLAG_COLUMNS, RELEVANT_SCHEMA, PartResult, classify
from nerasense.stats.response import clopper_pearson

MOLECULAR_FAMILIES = ("tumour type", "HER2 alteration")
# the HER2-alteration facts a mutation / copy-number table gives (the rest of that family is IHC/ISH)
SCREEN_FACTS = ("erbb2.sequenced", "erbb2.activating_mutation", "erbb2.kinase_domain", "erbb2.l755",
                "erbb2.resistance_mutation", "erbb2.amplified", "erbb3.activating_mutation")
ALL_SAMPLES = "All samples"
NOT_ONCOTREE = " (not an OncoTree code)"
NOT_TCGA = " (not a TCGA study)"
NO_ONCOTREE_CODE = " (TCGA study without an OncoTree code)"
MEASURES = (  # (measure id, label, sample flag column, denominator column)
    ("screened", "samples screened", None, None),
    ("erbb2_any", "any ERBB2 alteration", "erbb2_any", "screened"),
    ("erbb2_activating", "activating ERBB2 mutation", "erbb2_activating", "screened"),
    ("erbb2_amplified", "ERBB2 amplification", "erbb2_amplified", "cna_profiled"),
    ("erbb3_any", "ERBB3 alteration", "erbb3_any", "screened"),
    ("erbb3_activating", "activating ERBB3 mutation", "erbb3_activating", "screened"),
    ("resistance", "resistance allele", "resistance", "screened"),
)
ONCOPRINT_GENES = 12  # genes shown in the oncoprint: ERBB2, ERBB3, then the most co-altered relevant genes


@dataclass
class Screen:
    """The combined screen (tables as polars frames, ready to write)."""

    samples: pl.DataFrame
    tumour_types: pl.DataFrame
    alleles: pl.DataFrame
    rejected: pl.DataFrame
    oncoprint: pl.DataFrame
    lollipop: pl.DataFrame
    accounting: dict[str, Any]
    criteria: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    protein_length: int | None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    vocabulary: dict[str, Any] = field(default_factory=dict)


def _renumbered(results: list[PartResult]) -> pl.DataFrame:
    """Refused rows of every part, with the lines of later parts of a cut MAF counted from the file's start."""
    frames, seen_lines = [], dict[str, int]()
    for r in results:
        rejected = r.rejected
        if r.kind == "maf-text":
            before = seen_lines.get(r.path)
            if before is not None and rejected.height:
                found = rejected["record"].str.extract_groups(r"^(.*):(\d+)$")
                line = found.struct.field("2").cast(pl.Int64) - 1 + before
                rejected = rejected.with_columns(
                    (found.struct.field("1") + pl.lit(":") + line.cast(pl.String)).alias("record"))
            seen_lines[r.path] = (before or 0) + r.newlines
        frames.append(rejected)
    return pl.concat(frames) if frames else pl.DataFrame(schema={"record": pl.String, "reason": pl.String})


def _duplicates(results: list[PartResult]) -> int:
    """Rows whose (sample, gene, kind, chromosome, position, alleles) hash repeats another row's, over all parts.

    The parts' hashes are gathered into one column (each part lets its own go), sorted (polars' radix sort:
    about three times numpy's for 64-bit keys) and compared with their neighbours; a hash table of 21 million
    keys would take several times their 8 bytes each. Two different rows share a 64-bit hash with probability
    about n^2 / 2^65 (1e-5 for 21 million rows)."""
    pieces = []
    for r in results:
        pieces.append(r.keys)
        r.keys = r.keys.clear()  # the summary consumes the hashes
    if not pieces:
        return 0
    keys = pl.concat(pieces)
    pieces.clear()
    keys = keys.sort()
    n = keys.len()
    return int((keys.slice(1) == keys.slice(0, n - 1)).sum()) if n > 1 else 0


def _tumour_frame(codes: pl.DataFrame, gk: GenomicsKnowledge, vocabulary: str) -> pl.DataFrame:
    """tumour code -> tumour type (OncoTree main type) and the tumour facts of its lineage; with the ``tcga``
    vocabulary a TCGA study abbreviation is first mapped to its OncoTree code (``tcga_oncotree.yaml``)."""
    tree = oncotree(gk.kb)
    rules = {r.fact: set(r.codes) for r in gk.kb.of("tumour_lineages", TumourLineageRule)}
    studies = tcga_map(gk.kb)[0] if vocabulary == "tcga" else {}
    rows = []
    for code in codes["tumour"].unique().sort().to_list():
        target = code
        if vocabulary == "tcga":
            target = studies[code].oncotree if code in studies else None
        if code is None:
            rows.append({"tumour": None, "tumour_type": "Unknown", **dict.fromkeys(rules)})
        elif vocabulary != "label" and target in tree:
            path = {target, *tree.ancestors(target)}
            # an unverified (U) mapping names the main type but sets no tumour fact: U never decides alone
            unverified = vocabulary == "tcga" and studies[code].unverified
            rows.append({"tumour": code, "tumour_type": tree.main_type[target],
                         **{fact: None if unverified else bool(path & cs) for fact, cs in rules.items()}})
        else:
            label = {"label": code, "oncotree": code + NOT_ONCOTREE}.get(
                vocabulary, code + (NO_ONCOTREE_CODE if code in studies else NOT_TCGA))
            rows.append({"tumour": code, "tumour_type": label, **dict.fromkeys(rules)})
    schema = {"tumour": pl.String, "tumour_type": pl.String, **dict.fromkeys(rules, pl.Boolean)}
    return pl.DataFrame(rows, schema=schema)


def _vocabulary(samples: pl.DataFrame, gk: GenomicsKnowledge, vocabulary: str) -> dict[str, Any]:
    """Which tumour vocabulary the screen read; for ``tcga`` the map's version and each study seen."""
    out: dict[str, Any] = {"name": vocabulary}
    if vocabulary != "tcga":
        return out
    studies, version = tcga_map(gk.kb)
    tree = oncotree(gk.kb)
    counts = dict(samples.group_by("tumour").len().iter_rows())
    out["map"] = version
    out["studies"] = [
        {"study": m.study, "name": m.name, "oncotree": m.oncotree,
         "oncotree_name": tree.name.get(m.oncotree) if m.oncotree else None,
         "main_type": tree.main_type.get(m.oncotree) if m.oncotree else None,
         "match": m.match, "verification": str(m.verification), "note": m.note, "source": m.source,
         "samples": counts[m.study]}
        for m in sorted(studies.values(), key=lambda m: m.study) if m.study in counts]
    return out


def _is_molecular(fact: str) -> bool:
    spec = FACTS.get(fact)
    return spec is not None and spec.family in MOLECULAR_FAMILIES


def molecular(cond: Condition | Leaf, facts: dict[str, FactValue]) -> bool | None:
    """A condition read over its molecular and tumour-type criteria alone: a part that names no such fact
    counts as met (the screen cannot see it); the rest is the engine's three-valued evaluation."""
    if not any(_is_molecular(leaf.fact) for leaf in leaves(cond)):
        return True
    if isinstance(cond, Leaf):
        return evaluate(cond, facts)
    if cond.all is not None:
        results = [molecular(c, facts) for c in cond.all]
        return False if False in results else (None if None in results else True)
    if cond.any is not None:
        results = [molecular(c, facts) for c in cond.any]
        return True if True in results else (None if None in results else False)
    assert cond.not_ is not None
    inner = molecular(cond.not_, facts)
    return None if inner is None else not inner


def _criteria(gk: GenomicsKnowledge) -> list[dict[str, Any]]:
    """The regimens and the trials with molecular eligibility criteria, each with what the screen reads."""
    out: list[dict[str, Any]] = []
    for r in gk.kb.of("regimens", Regimen):
        names = sorted({leaf.describe() for leaf in leaves(r.applies_when) if _is_molecular(leaf.fact)})
        rest = sorted({leaf.describe() for leaf in leaves(r.applies_when) if not _is_molecular(leaf.fact)})
        out.append({"id": f"regimen:{r.id}", "kind": "regimen", "name": r.name, "molecular": names,
                    "not_assessed": rest, "source": r.source, "_cond": r.applies_when})
    for t in gk.kb.trials.values():
        mol = [c for c in t.eligibility if _is_molecular(c.attribute)]
        if mol:
            out.append({"id": f"trial:{t.id}", "kind": "trial", "name": t.name, "nct": t.nct,
                        "molecular": [c.text for c in mol],
                        "not_assessed": [c.text for c in t.eligibility if not _is_molecular(c.attribute)],
                        "source": ", ".join(sorted({c.source for c in mol})), "_trial": t.id})
    return out


def _statuses(facts_frame: pl.DataFrame, criteria: list[dict[str, Any]], gk: GenomicsKnowledge) -> pl.DataFrame:
    """met / not met / unknown per criterion, for each distinct combination of facts (a few dozen)."""
    fact_names = [c for c in facts_frame.columns if c not in ("_combo",)]
    rows = []
    for values in facts_frame.iter_rows(named=True):
        facts: dict[str, FactValue] = {k: values[k] for k in fact_names}
        row: dict[str, Any] = dict(values)
        trials = {e["trial"]: e for e in assess_eligibility({k: v for k, v in facts.items() if _is_molecular(k)}, gk.kb)}
        for c in criteria:
            if c["kind"] == "regimen":
                result = molecular(c["_cond"], facts)
            else:
                mol = [x["status"] for x in trials[c["_trial"]]["criteria"]
                       if _is_molecular(next(e.attribute for e in gk.kb.trials[c["_trial"]].eligibility
                                             if e.id == x["criterion"]))]
                result = False if "not met" in mol else (None if "unknown" in mol else True)
            row[c["id"]] = {True: "met", False: "not met", None: "unknown"}[result]
        rows.append(row)
    schema: dict[str, Any] = {**facts_frame.schema, **{c["id"]: pl.String for c in criteria}}
    return pl.DataFrame(rows, schema=schema)


def _alteration_text(relevant: pl.DataFrame, gene: pl.Expr, name: str) -> pl.DataFrame:
    allele = pl.coalesce(pl.col("protein_change"), pl.col("kind"))
    return (relevant.filter(gene).select("sample", (allele + pl.lit(" (") + pl.col("effect") + pl.lit(")")).alias("a"))
            .unique().sort("sample", "a").group_by("sample", maintain_order=True)
            .agg(pl.col("a").str.join("; ").alias(name)))


def _rate_rows(group: str, counts: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for measure, label, flag, denominator in MEASURES:
        if flag is None:
            rows.append({"tumour_type": group, "measure": measure, "label": label, "count": counts["screened"],
                         "denominator": None, "proportion": None, "ci_low": None, "ci_high": None})
            continue
        if denominator == "cna_profiled" and counts.get("cna_profiled") is None:
            continue
        n, k = counts[denominator or "screened"], counts[flag]
        rows.append({"tumour_type": group, "measure": measure, "label": label, "count": k, "denominator": n})
    return rows


def combine(results: list[PartResult], gk: GenomicsKnowledge, *, clinical: pl.DataFrame | None = None,
            vocabulary: str = "oncotree", files: tuple[str, ...] = ()) -> Screen:
    """The screen of all parts (results in any order; they are put in part order first)."""
    results = sorted(results, key=lambda r: r.index)
    c = pl.col
    notes = list(dict.fromkeys(n for r in results for n in r.notes))
    warns = list(dict.fromkeys(w for r in results for w in r.warnings))
    rejected = _renumbered(results)
    duplicates = _duplicates(results)
    accounting: dict[str, Any] = {
        "files": list(files),
        "parts": len(results),
        "input_records": sum(r.input_records for r in results),
        "screened_records": sum(r.accepted + r.no_call for r in results),
        "alterations": sum(r.accepted for r in results),
        "no_call": sum(r.no_call for r in results),
        "refused": rejected.height,
        "duplicate_rows": duplicates,
    }
    accounting["accounted"] = accounting["screened_records"] + accounting["refused"] == accounting["input_records"]
    has_cna = any(r.kind == "cna" for r in results)

    seen = pl.concat([r.samples for r in results]).unique() if results else pl.Series("sample", [], pl.String)
    tumours = pl.concat([r.tumours for r in results]).unique("sample", keep="first", maintain_order=True)
    if clinical is not None:
        tumours = pl.concat([clinical, tumours]).unique("sample", keep="first", maintain_order=True)
        base = pl.concat([clinical["sample"], seen]).unique()
        missing = seen.filter(~seen.is_in(clinical["sample"].implode())).len()
        if missing:
            notes.append(f"{missing} samples of the genomic files are not in the clinical sample file (tumour type unknown)")
    else:
        base = seen
    samples = pl.DataFrame({"sample": base.sort()}).join(tumours, on="sample", how="left")
    tumour_types = _tumour_frame(samples, gk, vocabulary)
    samples = samples.join(tumour_types, on="tumour", how="left", nulls_equal=True)
    bad_codes = tumour_types.filter(c("tumour_type").str.ends_with(NOT_ONCOTREE))["tumour"].to_list()
    if bad_codes:
        notes.append(f"tumour codes that are not OncoTree codes, kept as their own groups: {', '.join(bad_codes[:20])}")
    used = _vocabulary(samples, gk, vocabulary)
    if vocabulary == "tcga":
        notes.append(f"tumour types: TCGA study abbreviations mapped to OncoTree codes by {used['map']}")
        not_tcga = tumour_types.filter(c("tumour_type").str.ends_with(NOT_TCGA))["tumour"].to_list()
        if not_tcga:
            notes.append(f"tumour labels that are not TCGA studies, kept as their own groups: {', '.join(not_tcga[:20])}")
        for st in used["studies"]:
            if st["oncotree"] is None:
                notes.append(f"TCGA {st['study']} has no OncoTree code, kept as its own group: {st['note']}")
            elif st["verification"] == "U":
                notes.append(f"unverified mapping (U): TCGA {st['study']} -> OncoTree {st['oncotree']} "
                             f"({st['main_type']}; grouped there, its tumour-type criteria left undecided): {st['note']}")

    # only the rows of genes the knowledge base says something about are classified (each part keeps them): the
    # rows of every other gene can only be of unknown or likely-neutral effect, which no figure counts
    candidates = (pl.concat([r.candidates for r in results]) if results
                  else pl.DataFrame(schema={k: RELEVANT_SCHEMA[k] for k in CANDIDATE_COLUMNS}))
    relevant, flags = classify(candidates, gk)
    samples = samples.join(flags, on="sample", how="left").with_columns(c(f).fill_null(False) for f in FLAG_COLUMNS)
    if has_cna:
        profiled = pl.concat([r.cna_samples for r in results]).unique()
        samples = samples.with_columns(c("sample").is_in(profiled.implode()).alias("cna_profiled"))
        samples = samples.with_columns(pl.when(c("cna_profiled")).then(c("erbb2_amplified")).alias("erbb2_amplified"))
    else:
        samples = samples.with_columns(pl.lit(None, dtype=pl.Boolean).alias("erbb2_amplified"),
                                       pl.lit(None, dtype=pl.Boolean).alias("cna_profiled"))
    samples = samples.with_columns(
        (c("erbb2_mutation") | c("erbb2_amplified").fill_null(False)).alias("erbb2_any"),
        c("erbb3_mutation").alias("erbb3_any"),
    )
    # the engine's facts (engine.facts._genomic_facts): an ERBB2 mutation of unknown effect leaves
    # "activating" unknown when no other ERBB2 mutation is activating
    facts = samples.select(
        "tumour", *[k for k in tumour_types.columns if k.startswith("tumour.")],
        pl.lit(True).alias("erbb2.sequenced"),
        pl.when(c("erbb2_activating")).then(True).when(c("erbb2_unknown")).then(None).otherwise(False)
        .alias("erbb2.activating_mutation"),
        pl.when(c("erbb2_activating")).then(c("erbb2_kinase")).alias("erbb2.kinase_domain"),
        c("erbb2_lower_benefit").alias("erbb2.l755"),
        c("erbb2_resistance").alias("erbb2.resistance_mutation"),
        c("erbb2_amplified").alias("erbb2.amplified"),
        c("erbb3_activating").alias("erbb3.activating_mutation"),
    )
    fact_cols = [k for k in facts.columns if k != "tumour"]
    criteria = _criteria(gk)
    combos = _statuses(facts.select(fact_cols).unique(maintain_order=True), criteria, gk)
    status_cols = [x["id"] for x in criteria]
    samples = pl.concat([samples, facts.select(fact_cols).join(combos, on=fact_cols, how="left", nulls_equal=True,
                                                                 maintain_order="left").select(status_cols)],
                        how="horizontal")

    texts = [
        _alteration_text(relevant, c("gene") == "ERBB2", "erbb2_alterations"),
        _alteration_text(relevant, c("gene") == "ERBB3", "erbb3_alterations"),
        _alteration_text(relevant.with_columns((c("gene") + " " + pl.coalesce("protein_change", "kind"))
                                               .alias("protein_change")), c("effect") == "resistance",
                         "resistance_alleles"),
        (relevant.filter(~c("gene").is_in(["ERBB2", "ERBB3"])).select("sample", "gene").unique().sort("sample", "gene")
         .group_by("sample", maintain_order=True).agg(c("gene").str.join(", ").alias("co_alterations"))),
    ]
    for t in texts:
        samples = samples.join(t, on="sample", how="left")
    per_sample = samples.select(
        "sample", c("tumour").alias("tumour_code"), "tumour_type", "erbb2_any", "erbb2_activating",
        "erbb2_amplified", "erbb3_any", "erbb3_activating", "resistance", "erbb2_alterations", "erbb3_alterations",
        "resistance_alleles", "co_alterations", "cna_profiled", *status_cols,
    ).sort("sample")

    tumour_rows = _tumour_table(per_sample, criteria, has_cna)
    alleles = _allele_table(relevant, per_sample)
    oncoprint = _oncoprint(relevant, per_sample)
    lollipop = _lollipop(relevant)
    regions = [{"name": r.name, "start": r.start, "end": r.end, "level": r.level}
               for r in gk.regions.get("ERBB2", ()) if r.level in ("domain", "topology")]
    seq = gk.sequences.get("ERBB2")
    return Screen(samples=per_sample, tumour_types=tumour_rows, alleles=alleles, rejected=rejected,
                  oncoprint=oncoprint, lollipop=lollipop, accounting=accounting,
                  criteria=[{k: v for k, v in x.items() if not k.startswith("_")} for x in criteria],
                  regions=regions, protein_length=seq.length if seq else None, notes=notes, warnings=warns,
                  vocabulary=used)


def _tumour_table(per_sample: pl.DataFrame, criteria: list[dict[str, Any]], has_cna: bool) -> pl.DataFrame:
    c = pl.col
    aggs = [pl.len().alias("screened"),
            *(c(f).fill_null(False).sum().alias(f) for f in ("erbb2_any", "erbb2_activating", "erbb2_amplified",
                                                              "erbb3_any", "erbb3_activating", "resistance")),
            c("cna_profiled").fill_null(False).sum().alias("cna_profiled"),
            *((c(x["id"]) == "met").sum().alias(x["id"]) for x in criteria),
            *((c(x["id"]) == "unknown").sum().alias(x["id"] + ":unknown") for x in criteria)]
    groups = per_sample.group_by("tumour_type").agg(aggs).sort("screened", "tumour_type", descending=[True, False])
    total = per_sample.select(aggs).with_columns(pl.lit(ALL_SAMPLES).alias("tumour_type"))
    rows: list[dict[str, Any]] = []
    for counts in pl.concat([total.select(groups.columns), groups]).iter_rows(named=True):
        if not has_cna:
            counts["cna_profiled"] = None
        rows += _rate_rows(counts["tumour_type"], counts)
        for x in criteria:
            rows.append({"tumour_type": counts["tumour_type"], "measure": x["id"],
                         "label": f"molecular criteria met: {x['name']}", "count": counts[x["id"]],
                         "denominator": counts["screened"], "unknown": counts[x["id"] + ":unknown"]})
    # every proportion with a denominator gets its exact interval, all in one call
    rated = [r for r in rows if r.get("denominator")]
    low, high = clopper_pearson([r["count"] for r in rated], [r["denominator"] for r in rated])
    for r, lo, hi in zip(rated, low, high, strict=True):
        r.update(proportion=r["count"] / r["denominator"], ci_low=lo, ci_high=hi)
    schema = {"tumour_type": pl.String, "measure": pl.String, "label": pl.String, "count": pl.Int64,
              "denominator": pl.Int64, "proportion": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
              "unknown": pl.Int64}
    return pl.DataFrame([{**dict.fromkeys(schema), **r} for r in rows], schema=schema)


def _allele_table(relevant: pl.DataFrame, per_sample: pl.DataFrame) -> pl.DataFrame:
    """ERBB2 and ERBB3 alleles and every resistance allele: samples (and rows) per tumour type."""
    c = pl.col
    rows = relevant.filter(c("gene").is_in(["ERBB2", "ERBB3"]) | (c("effect") == "resistance")).with_columns(
        pl.coalesce("protein_change", "kind").alias("allele")).join(
        per_sample.select("sample", "tumour_type"), on="sample", how="left")
    keys = ["gene", "allele", "effect", "oncogenicity", "hotspot"]
    by_type = rows.group_by(*keys, "tumour_type").agg(c("sample").n_unique().alias("samples"), pl.len().alias("rows"))
    total = rows.group_by(*keys).agg(c("sample").n_unique().alias("samples"), pl.len().alias("rows")).with_columns(
        pl.lit(ALL_SAMPLES).alias("tumour_type"))
    return pl.concat([total.select(by_type.columns), by_type]).sort(
        ["gene", "tumour_type", "samples", "allele"], descending=[False, False, True, False])


def _cell_class(effect: pl.Expr, kind: pl.Expr) -> pl.Expr:
    return (pl.when(kind == "amplification").then(pl.lit("amplification"))
            .when(kind == "deletion").then(pl.lit("deep deletion"))
            .when(kind.is_in(["gain", "loss"])).then(pl.lit("gain / loss"))
            .when(effect == "activating").then(pl.lit("activating mutation"))
            .when(effect == "resistance").then(pl.lit("resistance mutation"))
            .otherwise(pl.lit("other mutation")))


def _oncoprint(relevant: pl.DataFrame, per_sample: pl.DataFrame) -> pl.DataFrame:
    """sample, tumour_type, gene, alteration (one class per cell, the first of CELL_ORDER) of ERBB2-altered samples."""
    c = pl.col
    altered = per_sample.filter(c("erbb2_any")).select("sample", "tumour_type")
    cells = relevant.join(altered, on="sample").with_columns(_cell_class(c("effect"), c("kind")).alias("alteration"))
    order = {k: i for i, k in enumerate(CELL_ORDER)}
    cells = (cells.with_columns(c("alteration").replace_strict(order, return_dtype=pl.Int8).alias("_o"))
             .sort("_o").unique(["sample", "gene"], keep="first").drop("_o"))
    top = (cells.filter(~c("gene").is_in(["ERBB2", "ERBB3"])).group_by("gene").agg(c("sample").n_unique().alias("n"))
           .sort(["n", "gene"], descending=[True, False]).head(ONCOPRINT_GENES - 2)["gene"].to_list())
    genes = ["ERBB2", "ERBB3", *top]
    return cells.filter(c("gene").is_in(genes)).select("sample", "tumour_type", "gene", "alteration").sort(
        "sample", "gene")


CELL_ORDER = ("amplification", "activating mutation", "resistance mutation", "other mutation", "deep deletion",
              "gain / loss")


def _lollipop(relevant: pl.DataFrame) -> pl.DataFrame:
    """ERBB2 protein changes: position, samples, effect (for the lollipop plot)."""
    c = pl.col
    rows = (relevant.filter((c("gene") == "ERBB2") & ~c("kind").is_in(COPY_NUMBER_KINDS) & c("protein_change").is_not_null())
            .group_by("protein_change", "effect").agg(c("sample").n_unique().alias("samples")))
    positions = []
    for text in rows["protein_change"].to_list():
        try:
            positions.append(parse_protein_change(text).start)
        except InputError:
            positions.append(None)
    return rows.with_columns(pl.Series("position", positions, dtype=pl.Int64)).drop_nulls("position").sort(
        "position", "protein_change")



__all__ = ["ALL_SAMPLES", "MEASURES", "Screen", "combine", "molecular", "read_clinical"]
