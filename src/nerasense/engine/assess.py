"""From a patient's profile to a call for every neratinib regimen.

For each regimen (knowledge/data/regimens.yaml):

1. its ``applies_when`` condition false → **not applicable**; undecidable → **insufficient data**;
2. evidence items (evidence.yaml) for the regimen are evaluated over the facts: matched, not matched,
   or undecided (a needed fact is unknown — the test that supplies it becomes a missing test);
3. a matched R1 resistance item → **resistance**;
4. otherwise each matched item gives a term: sign × level weight (evidence_levels.yaml) × fit (the
   cohort's regimen and tumour type against this regimen and patient; scoring.yaml); each trial counts
   once per direction; same-sign terms add with diminishing returns; the call comes from call_rules.yaml;
   no matched item → **insufficient data** (docs/scoring.md);
5. the expected outcome is the trial result of the cohort that fits the patient best (most population
   dimensions, then strongest level, then most facts named, then most patients), with n, an exact CI
   from the counts and the reason it was chosen; the other matched results are context;
6. a missing test "would change the call" when assuming its undecided items all in favour, or all
   against, gives a different call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nerasense.domain.alterations import Alteration
from nerasense.domain.patient import Patient
from nerasense.engine.alterations import interpret_all
from nerasense.engine.conditions import evaluate, unknown_facts
from nerasense.engine.dosing import calendar as dosing_calendar
from nerasense.engine.eligibility import assess_eligibility
from nerasense.engine.facts import FACTS, POPULATION_FAMILIES, FactValue, TumourLineage, derive_facts
from nerasense.engine.interactions import check as check_interactions
from nerasense.engine.toxicity import hepatic_adjustment
from nerasense.errors import InputError, Problem
from nerasense.interpret.ctdna import CtdnaFindings
from nerasense.interpret.her2_testing import Her2Interpretation, her2_scheme, interpret_her2, parse_her2_tests
from nerasense.knowledge import KnowledgeBase, default_knowledge
from nerasense.knowledge.conditions import Leaf, leaves
from nerasense.knowledge.ctdna_schema import CtdnaParameter
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.oncotree import oncotree
from nerasense.knowledge.schema import (
    CallRule,
    Direction,
    EvidenceItem,
    GenomicFactRule,
    LevelDefinition,
    Regimen,
    ScoringFactor,
    Trial,
    TrialResult,
    TumourLineageRule,
)

RESEARCH_USE_ONLY = (
    "Research use only. Not a medical device and not a substitute for clinical judgement; every statement "
    "cites the evidence it rests on."
)
REGIONS = ("US", "EU")
TF_CUTOFF_ID = "tf-high-cutoff"  # ctdna.yaml: the KCSG AL20-17 tumour-fraction cut-off
SIGN = {
    Direction.SENSITIVITY: 1.0, Direction.NO_BENEFIT: -1.0, Direction.RESISTANCE: -1.0,
    Direction.PROGNOSTIC_FAVOURABLE: 0.0, Direction.PROGNOSTIC_UNFAVOURABLE: 0.0, Direction.NEUTRAL: 0.0,
}


@dataclass
class EvidenceMatch:
    id: str
    direction: str
    level: str
    weight: float
    contribution: float
    statement: str
    source: str
    citation: str
    verification: str
    modifier: bool
    trial: str | None = None
    result: dict[str, Any] | None = None
    counted_with: str | None = None  # set when another item of the same trial carries the weight
    study: str | None = None  # the registered study (NCT, else trial id): its cohorts count once together
    oncokb_level: str | None = None  # the equivalent OncoKB level, as OncoKB writes it
    amp_asco_cap: str | None = None
    fit: dict[str, float] = field(default_factory=dict)  # regimen and population fit (docs/scoring.md §3)
    base: float = 0.0  # sign x weight x fit, before diminishing returns
    place: int | None = None  # place among same-sign terms (0 = largest); the term is base x diminishing**place


@dataclass
class MissingTest:
    test: str
    facts: list[str]
    evidence: list[str]
    would_change_call_to: list[str] = field(default_factory=list)


@dataclass
class RegimenCall:
    regimen_id: str
    name: str
    status: str
    call: str
    level: str | None
    level_equivalents: dict[str, str | None] | None
    score: float
    score_terms: list[dict[str, Any]]
    expected: dict[str, Any] | None
    modifiers: list[dict[str, Any]]
    evidence: list[EvidenceMatch]
    reasons: list[str]
    conflicts: list[str]
    resistance_flags: list[str]
    missing_tests: list[MissingTest]
    unverified: list[str]
    label: str | None = None  # the labelled population in the assessment's region, None when off-label there
    rank: int = 0  # 1 = best supported regimen for this patient (rank_calls)
    cohort_note: str | None = None  # why there is no expected outcome, when a call is made without one

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Assessment:
    patient_id: str
    software_version: str
    kb_version: str
    her2: dict[str, Any]
    alterations: list[dict[str, Any]]
    facts: dict[str, FactValue]
    regimens: list[RegimenCall]
    missing_tests: list[MissingTest]
    eligibility: list[dict[str, Any]]
    warnings: list[str]
    dosing: list[dict[str, Any]] = field(default_factory=list)
    ctdna: dict[str, Any] | None = None
    interactions: dict[str, Any] = field(default_factory=dict)
    region: str = "US"
    hepatic: dict[str, Any] | None = None
    research_use_only: str = RESEARCH_USE_ONLY

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------- helpers


def _levels(kb: KnowledgeBase) -> dict[str, LevelDefinition]:
    return {lv.id: lv for lv in kb.of("evidence_levels", LevelDefinition)}


def _result(kb: KnowledgeBase, trial_id: str | None, result_id: str | None) -> dict[str, Any] | None:
    if trial_id is None or result_id is None:
        return None
    trial: Trial = kb.trials[trial_id]
    r: TrialResult = next(x for x in trial.results if x.id == result_id)
    out = r.model_dump(mode="json")
    out.update(trial=trial.name, trial_id=trial.id, nct=trial.nct, citation=kb.cite(r.source).citation,
               unverified=r.unverified)
    return out


def unverified_facts(her2: Her2Interpretation) -> frozenset[str]:
    """Facts that rest on knowledge tagged unverified (e.g. HERmark cut-offs): evidence matched through
    them is shown, marked unverified, and kept out of the score."""
    shaky = set()
    if her2.hermark is not None and her2.hermark.get("unverified"):
        shaky.add("her2.hermark_positive")
    return frozenset(shaky)


def scoring_factors(kb: KnowledgeBase) -> dict[str, float]:
    return {f.id: f.value for f in kb.of("scoring_factors", ScoringFactor)}


def fit_of(item: EvidenceItem, regimen: Regimen | None, kb: KnowledgeBase, factors: Mapping[str, float]) -> dict[str, float]:
    """How closely an item's cohort fits the regimen called and the patient's tumour (docs/scoring.md §3):
    ``regimen`` 1 when its trial tested this regimen (or it has no trial: mechanistic items carry their
    level), else the other-regimen factor; ``population`` 1 when the item or the regimen names a tumour
    type, else the cross-tumour factor."""
    if item.trial is None or regimen is None:
        return {"regimen": 1.0, "population": 1.0, "value": 1.0}
    reg = 1.0 if regimen.id in kb.trials[item.trial].regimens else factors["other-regimen"]
    pop = 1.0 if "tumour type" in population_families(item, regimen) else factors["cross-tumour"]
    return {"regimen": reg, "population": pop, "value": round(reg * pop, 6)}


def _match(
    item: EvidenceItem, kb: KnowledgeBase, levels: dict[str, LevelDefinition], shaky: frozenset[str] = frozenset(),
    regimen: Regimen | None = None, factors: Mapping[str, float] | None = None,
) -> EvidenceMatch:
    weight = levels[item.level].weight
    rests_on_unverified = bool({leaf.fact for leaf in leaves(item.when)} & shaky)
    fit = fit_of(item, regimen, kb, factors or scoring_factors(kb))
    base = 0.0 if rests_on_unverified else round(SIGN[item.direction] * weight * fit["value"], 6)
    return EvidenceMatch(
        id=item.id, direction=item.direction.value, level=item.level, weight=weight,
        contribution=base, statement=item.statement,
        source=item.source, citation=kb.cite(item.source).citation,
        verification="U" if rests_on_unverified else item.verification.value, modifier=item.modifier,
        trial=item.trial, result=_result(kb, item.trial, item.result),
        oncokb_level=levels[item.level].oncokb, amp_asco_cap=levels[item.level].amp_asco_cap,
        fit=fit, base=base, study=(kb.trials[item.trial].nct or item.trial) if item.trial else None,
    )


def _call_from_score(score: float, strong: float, best_rank: int | None, rules: tuple[CallRule, ...]) -> str:
    for rule in rules:
        if rule.min_score is not None and score < rule.min_score:
            continue
        if rule.min_strong_score is not None and strong < rule.min_strong_score:
            continue
        if rule.max_score is not None and score >= rule.max_score:
            continue
        if rule.best_level_rank_at_most is not None and (best_rank is None or best_rank > rule.best_level_rank_at_most):
            continue
        return rule.call
    return "unlikely benefit"  # pragma: no cover - call_rules.yaml ends with an open rule


def count_once_per_trial(matched: list[EvidenceMatch]) -> list[EvidenceMatch]:
    """Each study's patients count once per direction: the strongest matched item of a study (its NCT
    number, so SUMMIT's breast, biliary and triple-negative cohorts are one study) keeps its weight; further
    items from the same study (subgroups, modifiers) refine the expected outcome with a contribution of 0
    (docs/scoring.md). Ties go to the smaller id, so input order never matters."""
    def key(m: EvidenceMatch) -> str | None:
        return m.study or m.trial

    best: dict[tuple[str, bool], EvidenceMatch] = {}
    for m in matched:
        k = key(m)
        if k is None or m.contribution == 0:
            continue
        slot = (k, m.contribution > 0)
        if slot not in best or (abs(m.contribution), best[slot].id) > (abs(best[slot].contribution), m.id):
            best[slot] = m
    out = []
    for m in matched:
        k = key(m)
        if k is not None and m.contribution != 0 and best[(k, m.contribution > 0)] is not m:
            m = replace(m, contribution=0.0, counted_with=best[(k, m.contribution > 0)].id)
        out.append(m)
    return out


def _diminish(terms: list[float], decay: float) -> float:
    """Sum with diminishing returns: the k-th largest term times decay**k (never lowered by adding a term)."""
    return sum(t * decay**k for k, t in enumerate(sorted(terms, reverse=True)))


def weigh(matched: list[EvidenceMatch], decay: float) -> list[EvidenceMatch]:
    """Count each trial once, then apply diminishing returns within each sign (docs/scoring.md §3): the
    contributions of the result add up to the score."""
    once = count_once_per_trial(matched)
    for sign in (1.0, -1.0):
        places = sorted((i for i, m in enumerate(once) if m.contribution * sign > 0),
                        key=lambda i: (-abs(once[i].contribution), once[i].id))
        for k, i in enumerate(places):
            once[i] = replace(once[i], contribution=round(once[i].contribution * decay**k, 6), place=k)
    return once


def decide(
    matched: list[EvidenceMatch], levels: dict[str, LevelDefinition], rules: tuple[CallRule, ...], decay: float = 1.0
) -> tuple[str, str | None, float]:
    """Call, level and score from the weighed evidence of one regimen (:func:`weigh`). The strong score
    is the diminishing sum of the strong-level terms of fully fitting cohorts alone, so a weaker or less
    fitting item never displaces a strong one."""
    resistance = [m for m in matched if m.direction == Direction.RESISTANCE.value and levels[m.level].rank == 0]
    score = round(sum(m.contribution for m in matched), 6)
    if resistance:
        return "resistance", min(r.level for r in resistance), score
    supporting = [m for m in matched if m.direction == Direction.SENSITIVITY.value]
    opposing = [m for m in matched if m.contribution < 0]
    if not any(m.contribution != 0 for m in matched):
        return "insufficient data", None, score
    strong_terms = [m for m in matched if levels[m.level].strong and m.counted_with is None and m.contribution != 0
                    and m.fit.get("value", 1.0) == 1.0]
    strong = round(_diminish([m.base for m in strong_terms if m.base > 0], decay)
                   - _diminish([-m.base for m in strong_terms if m.base < 0], decay), 6)
    call = _call_from_score(score, strong, min((levels[m.level].rank for m in supporting), default=None), rules)
    pool = opposing if call == "unlikely benefit" and opposing else supporting
    level = min(pool, key=lambda m: (levels[m.level].rank, m.level)).level if pool else None
    return call, level, score


def describe_leaf(leaf: Leaf) -> str:
    """A condition leaf in words, from the fact's description (``FACTS``)."""
    what = FACTS[leaf.fact].description if leaf.fact in FACTS else leaf.fact
    if leaf.is_ is not None:
        return what if leaf.is_ else f"not: {what}"
    if leaf.in_ is not None:
        return f"{what}: {' or '.join(str(v) for v in leaf.in_)}"
    for op, word in (("gte", ">="), ("gt", ">"), ("lte", "<="), ("lt", "<")):
        if getattr(leaf, op) is not None:
            return f"{what} {word} {getattr(leaf, op):g}"
    return leaf.describe()


# ------------------------------------------------------------------------------------------- assessment


def tumour_lineage(patient: Patient, kb: KnowledgeBase) -> TumourLineage | None:
    if patient.tumour_type is None:
        return None
    tree = oncotree(kb)
    code = patient.tumour_type.strip().upper()
    if code not in tree:
        raise InputError(Problem("tumour_type", patient.tumour_type, "an OncoTree code (release 2025-10-03)",
                                 "e.g. BRCA, IDC, ILC, NSCLC, LUAD, BLCA, COADREAD, CHOL", where=patient.patient_id))
    ancestors = tree.ancestors(code)
    return TumourLineage(code=code, ancestors=ancestors, tissue=ancestors[0] if ancestors else code)


def assess_patient(
    patient: Patient,
    kb: KnowledgeBase | None = None,
    alterations: list[Alteration] | None = None,
    software_version: str = "",
    region: str | None = None,
    ctdna: CtdnaFindings | None = None,
    gk: GenomicsKnowledge | None = None,
) -> Assessment:
    """Assess every regimen for one patient.

    ``alterations`` are the patient's sequencing results (``None``: not sequenced, so genomic facts
    are unknown; ``[]``: sequenced, nothing found); :func:`nerasense.ingest.patient.patient_alterations`
    builds them from the patient file. ``region`` (US or EU) overrides the patient's ``region``; US when
    neither is given. It decides the interactions, hepatic rule and label populations reported.
    """
    kb = kb or default_knowledge()
    region = region or patient.region or "US"
    if region not in REGIONS:
        raise InputError(Problem("region", region, "US or EU", where=patient.patient_id))
    lineage = tumour_lineage(patient, kb)
    path = (lineage.code, *lineage.ancestors) if lineage is not None else None
    scheme = her2_scheme(kb, path)
    her2: Her2Interpretation = interpret_her2(
        parse_her2_tests(patient.her2, where=f"{patient.patient_id}: her2", breast=scheme is None or scheme.id == "breast"),
        kb, path)
    interpreted = interpret_all(alterations, gk or GenomicsKnowledge(kb)) if alterations is not None else None
    lineage_rules = {r.fact: tuple(r.codes) for r in kb.of("tumour_lineages", TumourLineageRule)}
    fact_rules = {r.fact: tuple(r.variant_rules) for r in kb.of("genomic_facts", GenomicFactRule)}
    tf_cutoff = next(p for p in kb.of("ctdna_parameters", CtdnaParameter) if p.id == TF_CUTOFF_ID)
    cutoff = tf_cutoff.value
    facts = derive_facts(patient, her2, interpreted, lineage, lineage_rules,
                         fact_rules=fact_rules, ctdna_high_cutoff=cutoff)
    if ctdna is not None:  # the serial reading decides what it can; the patient file's summary fills the rest
        facts.update({k: v for k, v in ctdna.engine_facts().items() if v is not None})
    alteration_rows = [asdict(a) for a in interpreted or []]
    levels = _levels(kb)
    rules = kb.of("call_rules", CallRule)
    items = kb.of("evidence", EvidenceItem)
    calls = [
        _assess_regimen(reg, [i for i in items if reg.id in i.regimens or "*" in i.regimens], facts, kb, levels, rules,
                        unverified_facts(her2))
        for reg in kb.of("regimens", Regimen)
    ]
    for call, reg in zip(calls, kb.of("regimens", Regimen), strict=True):
        call.label = reg.label_populations.get(region)  # type: ignore[call-overload]
    for place, regimen_id in enumerate(rank_calls(calls), start=1):
        next(c for c in calls if c.regimen_id == regimen_id).rank = place
    warnings = list(her2.warnings)
    if facts.get("ctdna.tumour_fraction_high") and tf_cutoff.caveat:
        warnings.append(" ".join(tf_cutoff.caveat.split()))
    dosing = _dosing(patient, calls, kb, region)
    missing = _global_missing(calls)
    if ctdna is not None:
        warnings += [w for w in ctdna.warnings if w not in warnings]
        missing += [MissingTest(test=t, facts=["ctdna series"], evidence=[], would_change_call_to=[])
                    for t in ctdna.missing_tests]
    return Assessment(
        dosing=dosing,
        interactions=(check_interactions(list(patient.medications), kb, region=region).to_dict()
                      if patient.medications else {"medications": [], "findings": [], "not_found": []}),
        patient_id=patient.patient_id,
        software_version=software_version,
        kb_version=kb.kb_version,
        her2=her2.to_dict(),
        alterations=alteration_rows,
        facts=facts,
        regimens=calls,
        missing_tests=missing,
        eligibility=assess_eligibility(facts, kb),
        warnings=warnings,
        region=region,
        hepatic=(hepatic_adjustment(patient.liver.child_pugh, region, kb).to_dict()
                 if patient.liver and patient.liver.child_pugh else None),
    )


RANK_ORDER = ("likely benefit", "possible benefit", "unlikely benefit", "insufficient data", "resistance",
              "not applicable")


def rank_calls(calls: list[RegimenCall]) -> list[str]:
    """Regimen ids from best to least supported: by call, then score, then how many population dimensions
    and patient facts the expected cohort matches, then id (docs/scoring.md §6). Input order never matters."""
    def key(c: RegimenCall) -> tuple[int, float, int, int, str]:
        fit = len((c.expected or {}).get("fit") or [])
        return (RANK_ORDER.index(c.call), -c.score, -fit, -int((c.expected or {}).get("fit_facts") or 0), c.regimen_id)

    return [c.regimen_id for c in sorted(calls, key=key)]


DOSED_CALLS = ("likely benefit", "possible benefit")


def _dosing(patient: Patient, calls: list[RegimenCall], kb: KnowledgeBase, region: str) -> list[dict[str, Any]]:
    """First-cycle calendar of each regimen the engine calls a likely or possible benefit."""
    start = patient.assessed_on or dt.date.today()
    out = []
    for call in calls:
        if call.call not in DOSED_CALLS:
            continue
        cal = dosing_calendar(call.regimen_id, patient.weight_kg, patient.height_cm, start, 1, None, kb,
                              child_pugh=patient.liver.child_pugh if patient.liver else None, region=region)
        out.append({"regimen_name": call.name, **cal.to_dict()})
    return out


def _assess_regimen(
    regimen: Regimen,
    items: list[EvidenceItem],
    facts: Mapping[str, FactValue],
    kb: KnowledgeBase,
    levels: dict[str, LevelDefinition],
    rules: tuple[CallRule, ...],
    shaky: frozenset[str] = frozenset(),
) -> RegimenCall:
    applies = evaluate(regimen.applies_when, facts)
    base: dict[str, Any] = {"regimen_id": regimen.id, "name": regimen.name, "status": regimen.status}
    if applies is False:
        failed = [describe_leaf(leaf) for leaf in leaves(regimen.applies_when) if evaluate(leaf, facts) is False]
        return RegimenCall(**base, call="not applicable", level=None, level_equivalents=None, score=0.0,
                           score_terms=[], expected=None, modifiers=[], evidence=[],
                           reasons=[f"needs {'; '.join(failed)}"], conflicts=[],
                           resistance_flags=[], missing_tests=[], unverified=[])
    matched_items = [i for i in items if evaluate(i.when, facts) is True]
    factors = scoring_factors(kb)
    decay = factors["diminishing"]
    matched = weigh([_match(i, kb, levels, shaky, regimen, factors) for i in matched_items], decay)
    undecided = [i for i in items if evaluate(i.when, facts) is None]
    if applies is None:
        missing = _missing_for(undecided, facts, matched, levels, rules, None, kb, regimen)
        app_facts = unknown_facts(regimen.applies_when, facts)
        for test, names in sorted(_group_by_test(app_facts, facts).items(), reverse=True):
            same = next((m for m in missing if m.test == test), None)
            if same is not None:
                missing.remove(same)
            missing.insert(0, MissingTest(
                test=test, facts=sorted(names | set(same.facts if same else [])),
                evidence=same.evidence if same else [], would_change_call_to=["decides whether the regimen applies"]))
        return RegimenCall(**base, call="insufficient data", level=None, level_equivalents=None, score=0.0,
                           score_terms=[], expected=None, modifiers=[], evidence=matched,
                           reasons=["cannot tell whether the regimen applies: "
                                    + ", ".join(sorted(FACTS[f].description for f in app_facts))],
                           conflicts=[], resistance_flags=[], missing_tests=missing, unverified=[])
    call, level, score = decide(matched, levels, rules, decay)
    expected, modifiers = _expected(matched_items, matched, levels, regimen, facts, kb)
    if call == "resistance":  # cohort estimates of benefit do not apply to a resistant tumour
        expected, modifiers = None, []
    cohort_note = None
    if expected is None and call in ("likely benefit", "possible benefit", "unlikely benefit"):
        where = f" of this tumour type ({facts['tumour.code']})" if facts.get("tumour.code") else ""
        cohort_note = (f"No {regimen.name.split(' (')[0]} cohort{where} with a published result matches this patient; "
                       "the call rests on the findings listed, without an outcome estimate.")
    return RegimenCall(
        **base, call=call, level=level,
        level_equivalents=({"oncokb": levels[level].oncokb, "amp_asco_cap": levels[level].amp_asco_cap,
                            "nerasense": f"{level} (weight {levels[level].weight:g})"} if level else None),
        score=score,
        score_terms=[{"evidence": m.id, "direction": m.direction, "level": m.level, "weight": m.weight,
                      "fit": m.fit, "place": m.place, "contribution": m.contribution, "counted_with": m.counted_with}
                     for m in matched],
        expected=expected, modifiers=modifiers, evidence=matched,
        reasons=_reasons(call, matched, regimen),
        conflicts=_conflicts(matched),
        resistance_flags=[m.statement for m in matched if m.direction == Direction.RESISTANCE.value],
        missing_tests=_missing_for(undecided, facts, matched, levels, rules, call, kb, regimen),
        unverified=[m.id for m in matched if m.verification == "U" or (m.result or {}).get("unverified")],
        cohort_note=cohort_note,
    )


def population_families(item: EvidenceItem, regimen: Regimen) -> list[str]:
    """The population dimensions (``POPULATION_FAMILIES``) a cohort constrains: its own condition together
    with the condition of the regimen it is matched for (docs/scoring.md §5)."""
    named = {leaf.fact for leaf in leaves(item.when)} | {leaf.fact for leaf in leaves(regimen.applies_when)}
    families = {FACTS[f].family for f in named if f in FACTS and FACTS[f].family}
    return [f for f in POPULATION_FAMILIES if f in families]


def _facts_named(item: EvidenceItem, regimen: Regimen) -> int:
    """How many distinct patient facts the cohort's eligibility names (its condition and its regimen's)."""
    return len({leaf.fact for leaf in leaves(item.when)} | {leaf.fact for leaf in leaves(regimen.applies_when)})


def exact_interval(responders: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval from published counts (scipy's exact binomial interval, as R binom.test)."""
    from scipy.stats import binomtest

    ci = binomtest(responders, n).proportion_ci(confidence_level=level, method="exact")
    return round(float(ci.low), 4), round(float(ci.high), 4)


def _population_words(item: EvidenceItem, result: dict[str, Any], kb: KnowledgeBase) -> str:
    if item.population:
        return item.population
    if result.get("subgroup"):
        return str(result["subgroup"])
    if result.get("comparator") and result.get("arm"):
        return f"{result['arm']} vs {result['comparator']}"
    return kb.trials[item.trial].population if item.trial else ""


def _expected(
    items: list[EvidenceItem],
    matched: list[EvidenceMatch],
    levels: dict[str, LevelDefinition],
    regimen: Regimen,
    facts: Mapping[str, FactValue],
    kb: KnowledgeBase,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The cohort that fits the patient best gives the expected outcome; the others are context.

    Candidates are matched items with a trial result (sensitivity or no-benefit) that are not marked
    ``modifier``; the best constrains the most population families, then has the strongest level, then the
    most specific condition, then the most patients (docs/scoring.md §5)."""
    with_result = [(i, m) for i, m in zip(items, matched, strict=True) if m.result is not None
                   and m.direction in (Direction.SENSITIVITY.value, Direction.NO_BENEFIT.value)]
    if not with_result:
        return None, []
    primary_pool = [p for p in with_result if not p[0].modifier]
    if not primary_pool:  # only subgroup splits matched: they stay context, never the headline
        return None, _context(items, matched, with_result, None, kb)

    def rank(p: tuple[EvidenceItem, EvidenceMatch]) -> tuple[int, int, int, int, str]:
        n = (p[1].result or {}).get("n") or 0
        return (-len(population_families(p[0], regimen)), levels[p[1].level].rank, -_facts_named(p[0], regimen), -n,
                p[0].id)

    ordered = sorted(primary_pool, key=rank)
    item, match = ordered[0]
    expected = dict(match.result or {})
    families = population_families(item, regimen)
    expected.update(evidence=match.id, population=_population_words(item, expected, kb), fit=families,
                    fit_facts=_facts_named(item, regimen))
    if expected.get("responders") is not None and expected.get("n"):
        low, high = exact_interval(int(expected["responders"]), int(expected["n"]), float(expected.get("ci_level", 0.95)))
        expected.update(exact_ci_low=low, exact_ci_high=high, exact_ci_method="Clopper-Pearson from the published counts")
    others = len(primary_pool) - 1
    expected["why"] = (f"the most specific of {others + 1} matching cohorts" if others else "the only matching cohort") + (
        f": it matches the patient on {', '.join(families)}" if families else "")
    expected["nearest"] = _nearest_note(item, regimen, facts, expected, kb)
    return expected, _context(items, matched, with_result, match.id, kb)


def _context(items: list[EvidenceItem], matched: list[EvidenceMatch],
             with_result: list[tuple[EvidenceItem, EvidenceMatch]], headline: str | None,
             kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Every matched result other than the headline (subgroups, other cohorts, prognostic results)."""
    return [
        {"evidence": m.id, "statement": m.statement, "population": _population_words(i, m.result or {}, kb),
         **(m.result or {})}
        for i, m in with_result + [(i, m) for i, m in zip(items, matched, strict=True)
                                   if m.result is not None and m.direction.startswith("prognostic")]
        if m.id != headline
    ]


def _nearest_note(item: EvidenceItem, regimen: Regimen, facts: Mapping[str, FactValue],
                  expected: dict[str, Any], kb: KnowledgeBase) -> str | None:
    """When the chosen cohort does not narrow to the patient's tumour type, say that it is the nearest
    evidence and why (never silently another tumour type's figure)."""
    if "tumour type" in population_families(item, regimen) or facts.get("tumour.code") is None:
        return None
    code = str(facts["tumour.code"])
    name = oncotree(kb).name.get(code)
    tumour = f"{name}, {code}" if name else code
    return (f"No {regimen.name.split(' (')[0]} cohort of this tumour type ({tumour}) has published "
            f"results: the nearest evidence is {expected.get('trial')}, a cohort across tumour types that the "
            "patient's alteration qualifies for.")


def _reasons(call: str, matched: list[EvidenceMatch], regimen: Regimen) -> list[str]:
    out = [f"{regimen.name}: {regimen.status} — {regimen.label_note}"]
    for m in sorted(matched, key=lambda m: -abs(m.contribution)):
        if m.contribution:
            out.append(f"{'+' if m.contribution > 0 else '−'}{abs(m.contribution):g} ({m.direction}, level {m.level}): "
                       f"{m.statement}")
    if call == "insufficient data":
        out.append("no evidence item in the knowledge base matches this profile for this regimen")
    return out


def _conflicts(matched: list[EvidenceMatch]) -> list[str]:
    pro = [m for m in matched if m.direction == Direction.SENSITIVITY.value]
    con = [m for m in matched if m.direction in (Direction.NO_BENEFIT.value, Direction.RESISTANCE.value)]
    out = []
    if pro and con:
        out.append(
            "Evidence points both ways: " + "; ".join(f"{m.id} (level {m.level}) supports benefit" for m in pro)
            + " — while " + "; ".join(f"{m.id} (level {m.level}) argues against" for m in con) + "."
        )
    neutral = [m for m in matched if m.direction == Direction.NEUTRAL.value]
    prognostic = [m for m in matched if m.direction.startswith("prognostic")]
    if neutral and prognostic:
        out.append("Studies disagree on this co-alteration: " + "; ".join(m.statement for m in neutral + prognostic))
    return out


_SEQUENCING = FACTS["erbb2.sequenced"].test


def _group_by_test(names: set[str], facts: Mapping[str, FactValue]) -> dict[str, set[str]]:
    """Unknown facts grouped by the test that would settle them.

    ``test_for_an_unclassified_variant``: when ERBB2 was sequenced and a variant of unknown effect is what leaves an
    ERBB2 fact open, sequencing again would not settle it; the missing step is that variant's classification
    (AMP/ASCO/CAP 2017 tier III: a functional study or curated evidence), named with the variants."""
    vus = facts.get("erbb2.unclassified") if facts.get("erbb2.sequenced") is True else None
    grouped: dict[str, set[str]] = {}
    for name in names:
        test = FACTS[name].test if name in FACTS else name
        if vus and test == _SEQUENCING and name.startswith("erbb2."):
            test = f"classification of ERBB2 {vus} (sequenced, effect unknown: a functional study or curated evidence)"
        grouped.setdefault(test, set()).add(name)
    return grouped


def _missing_for(
    undecided: list[EvidenceItem],
    facts: Mapping[str, FactValue],
    matched: list[EvidenceMatch],
    levels: dict[str, LevelDefinition],
    rules: tuple[CallRule, ...],
    current: str | None,
    kb: KnowledgeBase,
    regimen: Regimen,
) -> list[MissingTest]:
    by_test: dict[str, tuple[set[str], list[EvidenceItem]]] = {}
    for item in undecided:
        for test, names in _group_by_test(unknown_facts(item.when, facts), facts).items():
            entry = by_test.setdefault(test, (set(), []))
            entry[0].update(names)
            entry[1].append(item)
    factors = scoring_factors(kb)
    decay = factors["diminishing"]
    # the matched items before weighing: their base terms (a counted-once item is restored)
    unweighed = [replace(m, contribution=m.base, counted_with=None, place=None) for m in matched]
    out = []
    for test, (names, its) in sorted(by_test.items()):
        changes: list[str] = []
        if current is not None:
            for favour in (True, False):
                hypo = list(unweighed)
                for it in its:
                    sign = SIGN[it.direction]
                    if (sign > 0) == favour and sign != 0:
                        hypo.append(_match(it, kb, levels, regimen=regimen, factors=factors))
                call = decide(weigh(hypo, decay), levels, rules, decay)[0]
                if call != current and call not in changes:
                    changes.append(call)
        out.append(MissingTest(test=test, facts=sorted(names), evidence=sorted(i.id for i in its),
                               would_change_call_to=changes))
    return sorted(out, key=lambda m: (not m.would_change_call_to, m.test))


def _global_missing(calls: list[RegimenCall]) -> list[MissingTest]:
    merged: dict[str, MissingTest] = {}
    for c in calls:
        for m in c.missing_tests:
            g = merged.setdefault(m.test, MissingTest(test=m.test, facts=[], evidence=[], would_change_call_to=[]))
            g.facts = sorted(set(g.facts) | set(m.facts))
            g.evidence = sorted(set(g.evidence) | set(m.evidence))
            g.would_change_call_to += [f"{c.regimen_id}: {x}" for x in m.would_change_call_to]
    return sorted(merged.values(), key=lambda m: (-len(m.would_change_call_to), m.test))
