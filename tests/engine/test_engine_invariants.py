"""Invariants of the engine that hold whatever the evidence: monotone scores, order independence, and
an answer (never a crash) for a patient with no data."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from nerasense.domain.patient import Patient
from nerasense.engine.assess import EvidenceMatch, assess_patient, count_once_per_trial, decide
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.schema import CallRule, LevelDefinition

KB = default_knowledge()
LEVELS = {lv.id: lv for lv in KB.of("evidence_levels", LevelDefinition)}
RULES = KB.of("call_rules", CallRule)
CALL_RANK = {"unlikely benefit": 0, "insufficient data": 0, "possible benefit": 1, "likely benefit": 2}


def _item(i: int, direction: str, level: str, trial: str | None) -> EvidenceMatch:
    w = LEVELS[level].weight
    sign = {"sensitivity": 1, "no-benefit": -1, "neutral": 0}[direction]
    return EvidenceMatch(f"ev-{i}", direction, level, w, sign * w, "", "x", "", "V", False, trial=trial)


items = st.lists(
    st.tuples(st.sampled_from(["sensitivity", "no-benefit", "neutral"]), st.sampled_from(["N1", "N2", "N3", "N4"]),
              st.sampled_from([None, "t1", "t2", "t3"])),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(items, st.sampled_from(["N1", "N2", "N3", "N4"]))
def test_adding_support_never_lowers_score_or_call(base: list, level: str) -> None:
    matched = [_item(i, *t) for i, t in enumerate(base)]
    call0, _, score0 = decide(count_once_per_trial(matched), LEVELS, RULES)
    more = [*matched, _item(99, "sensitivity", level, None)]
    call1, _, score1 = decide(count_once_per_trial(more), LEVELS, RULES)
    assert score1 >= score0
    if call0 in CALL_RANK and call1 in CALL_RANK and call0 != "insufficient data":
        assert CALL_RANK[call1] >= CALL_RANK[call0]


@settings(max_examples=100, deadline=None)
@given(items, st.randoms(use_true_random=False))
def test_evidence_order_never_matters(base: list, rnd: random.Random) -> None:
    matched = [_item(i, *t) for i, t in enumerate(base)]
    shuffled = list(matched)
    rnd.shuffle(shuffled)
    a = decide(count_once_per_trial(matched), LEVELS, RULES)
    b = decide(count_once_per_trial(shuffled), LEVELS, RULES)
    assert (a[0], a[2]) == (b[0], b[2])


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
