"""Invariants of the engine that hold whatever the evidence: monotone scores and calls, order independence,
ranking by fit and strength rather than count, and an answer (never a crash) for a patient with no data."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from nerasense.domain.patient import Patient
from nerasense.engine.assess import (
    RANK_ORDER,
    EvidenceMatch,
    RegimenCall,
    assess_patient,
    decide,
    rank_calls,
    scoring_factors,
    weigh,
)
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.schema import CallRule, LevelDefinition

KB = default_knowledge()
LEVELS = {lv.id: lv for lv in KB.of("evidence_levels", LevelDefinition)}
RULES = KB.of("call_rules", CallRule)
FACTORS = scoring_factors(KB)
DECAY = FACTORS["diminishing"]
FITS = [1.0, FACTORS["other-regimen"], FACTORS["cross-tumour"], FACTORS["other-regimen"] * FACTORS["cross-tumour"]]
CALL_RANK = {"unlikely benefit": 0, "insufficient data": 0, "possible benefit": 1, "likely benefit": 2}


def _item(i: int, direction: str, level: str, trial: str | None, fit: float = 1.0) -> EvidenceMatch:
    w = LEVELS[level].weight
    sign = {"sensitivity": 1, "no-benefit": -1, "neutral": 0}[direction]
    base = round(sign * w * fit, 6)
    return EvidenceMatch(f"ev-{i:03d}", direction, level, w, base, "", "x", "", "V", False, trial=trial,
                         fit={"value": fit}, base=base)


def _decide(matched: list[EvidenceMatch]) -> tuple[str, str | None, float]:
    return decide(weigh(matched, DECAY), LEVELS, RULES, DECAY)


items = st.lists(
    st.tuples(st.sampled_from(["sensitivity", "no-benefit", "neutral"]), st.sampled_from(["N1", "N2", "N3", "N4"]),
              st.sampled_from([None, "t1", "t2", "t3"]), st.sampled_from(FITS)),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(items, st.sampled_from(["N1", "N2", "N3", "N4"]), st.sampled_from(FITS), st.sampled_from([None, "t1", "t9"]))
def test_adding_support_never_lowers_score_or_call(base: list, level: str, fit: float, trial: str | None) -> None:
    matched = [_item(i, *t) for i, t in enumerate(base)]
    call0, _, score0 = _decide(matched)
    call1, _, score1 = _decide([*matched, _item(999, "sensitivity", level, trial, fit)])
    assert score1 >= score0 - 1e-9
    if call0 in CALL_RANK and call1 in CALL_RANK and call0 != "insufficient data":
        assert CALL_RANK[call1] >= CALL_RANK[call0]


@settings(max_examples=200, deadline=None)
@given(items, st.randoms(use_true_random=False))
def test_evidence_order_never_matters(base: list, rnd: random.Random) -> None:
    matched = [_item(i, *t) for i, t in enumerate(base)]
    shuffled = list(matched)
    rnd.shuffle(shuffled)
    a, b = weigh(matched, DECAY), weigh(shuffled, DECAY)
    assert _decide(matched) == _decide(shuffled)
    assert sorted((m.id, m.contribution, m.counted_with) for m in a) == sorted((m.id, m.contribution, m.counted_with)
                                                                             for m in b)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["N2", "N3", "N4"]), st.sampled_from(FITS)), min_size=1, max_size=12))
def test_one_exact_cohort_outweighs_any_number_of_items_half_as_strong(weaker: list) -> None:
    """Fit and strength, not count: one N2 cohort of exactly this population scores more than any number
    of supporting items that each weigh at most half of it (each from its own trial)."""
    exact = _decide([_item(0, "sensitivity", "N2", "exact")])[2]
    terms = [(lv, f) for lv, f in weaker if LEVELS[lv].weight * f <= exact / 2]
    many = [_item(i + 1, "sensitivity", lv, f"t{i}", f) for i, (lv, f) in enumerate(terms)]
    assert _decide(many)[2] < exact


@settings(max_examples=200, deadline=None)
@given(items, st.integers(min_value=2, max_value=6))
def test_one_trial_counts_once_however_many_subgroups_match(base: list, copies: int) -> None:
    matched = [_item(i, *t) for i, t in enumerate(base)]
    one = _item(500, "sensitivity", "N2", "big")
    more = [_item(500 + k, "sensitivity", "N3", "big") for k in range(1, copies)]
    assert _decide([*matched, one])[2] == _decide([*matched, one, *more])[2]


def _call(rid: str, call: str, score: float, fit: int = 0) -> RegimenCall:
    return RegimenCall(rid, rid, "investigational", call, None, None, score, [], {"fit": ["x"] * fit}, [], [], [], [],
                       [], [], [])


calls = st.lists(st.tuples(st.sampled_from(RANK_ORDER), st.floats(-5, 10, allow_nan=False), st.integers(0, 6)),
                 min_size=1, max_size=9)


@settings(max_examples=200, deadline=None)
@given(calls, st.randoms(use_true_random=False))
def test_ranking_ignores_input_order(spec: list, rnd: random.Random) -> None:
    cs = [_call(f"r{i}", *t) for i, t in enumerate(spec)]
    shuffled = list(cs)
    rnd.shuffle(shuffled)
    assert rank_calls(cs) == rank_calls(shuffled)


@settings(max_examples=200, deadline=None)
@given(calls, st.floats(0, 5, allow_nan=False))
def test_more_support_never_moves_a_regimen_down(spec: list, extra: float) -> None:
    """Raising one regimen's score (same call) never lets another regimen overtake it."""
    cs = [_call(f"r{i}", *t) for i, t in enumerate(spec)]
    before = rank_calls(cs).index("r0")
    cs[0] = _call("r0", cs[0].call, cs[0].score + extra, len((cs[0].expected or {})["fit"]))
    assert rank_calls(cs).index("r0") <= before


def test_better_call_always_ranks_first() -> None:
    ranked = rank_calls([_call("a", "possible benefit", 9.0), _call("b", "likely benefit", 4.0),
                         _call("c", "not applicable", 0.0), _call("d", "resistance", -4.0)])
    assert ranked == ["b", "a", "d", "c"]


def test_patient_with_no_data_gets_insufficient_data() -> None:
    a = assess_patient(Patient(patient_id="empty"), KB)
    assert {r.call for r in a.regimens} <= {"insufficient data", "not applicable"}
    assert any(r.call == "insufficient data" for r in a.regimens)
    assert a.missing_tests


def test_field_order_in_the_patient_file_never_matters() -> None:
    fields = {"patient_id": "p", "tumour_type": "IDC", "setting": "metastatic", "er": "positive",
              "pr": "negative", "her2": {"ihc": "3+"}, "metastatic_her2_regimens": 2, "prior_therapies": []}
    a = assess_patient(Patient.model_validate(fields), KB).to_dict()
    b = assess_patient(Patient.model_validate(dict(reversed(list(fields.items())))), KB).to_dict()
    assert a == b


def test_every_fact_named_in_knowledge_exists() -> None:
    from nerasense.engine.facts import FACTS
    from nerasense.knowledge.conditions import leaves
    from nerasense.knowledge.schema import EvidenceItem, GenomicFactRule, Regimen, TumourLineageRule

    used = {leaf.fact for e in KB.of("evidence", EvidenceItem) for leaf in leaves(e.when)}
    used |= {leaf.fact for r in KB.of("regimens", Regimen) for leaf in leaves(r.applies_when)}
    used |= {t.attribute for t in KB.trials.values() for t in t.eligibility}
    used |= {r.fact for r in KB.of("tumour_lineages", TumourLineageRule)}
    used |= {r.fact for r in KB.of("genomic_facts", GenomicFactRule)}
    assert used - set(FACTS) == set()
