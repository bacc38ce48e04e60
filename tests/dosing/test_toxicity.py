"""Toxicity management and organ impairment, one row per label rule (source in the row)."""

from __future__ import annotations

import pytest

from nerasense.engine import toxicity
from nerasense.errors import InputError, UnverifiedKnowledgeWarning

# (case id, toxicity, grade, duration, complicated, recurrence, current mg, recovery days,
#  expected rule, action, next dose, next dose if late, discontinue, source/tag)
CASES = [
    ("diarrhoea-g1-continue", "diarrhoea", 1, 1, False, False, 240, None,
     "diarrhoea-manage-and-continue", "continue", 240, None, False, "nerlynx-uspi Table 4 [P]"),
    ("diarrhoea-g2-3days-continue", "diarrhoea", 2, 3, False, False, 240, None,
     "diarrhoea-manage-and-continue", "continue", 240, None, False, "nerlynx-uspi Table 4 [P]"),
    ("diarrhoea-g3-2days-continue", "diarrhoea", 3, 2, False, False, 240, None,
     "diarrhoea-manage-and-continue", "continue", 240, None, False, "nerlynx-uspi Table 4 [P]"),
    ("diarrhoea-g4-discontinue", "diarrhoea", 4, 1, False, False, 240, None,
     "diarrhoea-grade4", "discontinue", None, None, True, "nerlynx-uspi §5.1 [V]"),
    ("diarrhoea-g2-at-120-discontinue", "diarrhoea", 2, 1, False, False, 120, None,
     "diarrhoea-after-max-reduction", "discontinue", None, None, True, "nerlynx-uspi §5.1 [V]"),
    ("diarrhoea-complicated-hold", "diarrhoea", 1, 1, True, False, 240, None,
     "diarrhoea-complicated", "hold", 240, 200, False, "nerlynx-uspi Table 4 [P]"),
    ("diarrhoea-complicated-late-recovery", "diarrhoea", 2, 1, True, False, 200, 10,
     "diarrhoea-complicated", "hold", 160, None, False, "nerlynx-uspi Table 4 [P]"),
    ("alt-g3-hold-reduce", "alt", 3, None, False, False, 240, None,
     "alt-grade3", "hold", 200, None, False, "nerlynx-uspi Table 5 [V]"),
    ("alt-g3-slow-recovery-discontinue", "alt", 3, None, False, False, 240, 22,
     "alt-grade3", "hold", None, None, True, "nerlynx-uspi Table 5 [V]"),
    ("alt-g3-recurrent-discontinue", "alt", 3, None, False, True, 200, None,
     "alt-grade3-recurrent", "discontinue", None, None, True, "nerlynx-uspi Table 5 [V]"),
    ("alt-g4-discontinue", "alt", 4, None, False, False, 240, None,
     "alt-grade4", "discontinue", None, None, True, "nerlynx-uspi Table 5 [V]"),
    ("bilirubin-g3-hold-reduce", "bilirubin", 3, None, False, False, 160, None,
     "bilirubin-grade3", "hold", 120, None, False, "nerlynx-uspi Table 5 [V]"),
    ("bilirubin-g4-discontinue", "bilirubin", 4, None, False, False, 240, None,
     "bilirubin-grade4", "discontinue", None, None, True, "nerlynx-uspi Table 5 [V]"),
    ("other-g3-hold-reduce", "other", 3, None, False, False, 240, None,
     "other-grade3", "hold", 200, None, False, "nerlynx-uspi §2.3 [V]"),
    ("other-g3-at-120-discontinue", "other", 3, None, False, False, 120, None,
     "other-grade3", "hold", None, None, True, "nerlynx-uspi §2.3 [V]: unable to tolerate 120 mg"),
    ("other-g4-discontinue", "other", 4, None, False, False, 240, None,
     "other-grade4", "discontinue", None, None, True, "nerlynx-uspi §2.3 [V]"),
]


@pytest.mark.parametrize(
    ("tox", "grade", "duration", "complicated", "recurrence", "current", "recovery",
     "rule", "action", "next_dose", "if_late", "discontinue", "source"),
    [c[1:] for c in CASES], ids=[c[0] for c in CASES],
)
def test_toxicity_rows(kb, tox, grade, duration, complicated, recurrence, current, recovery,
                       rule, action, next_dose, if_late, discontinue, source) -> None:
    advice = toxicity.assess(tox, grade, current, kb, duration_days=duration, complicated=complicated,
                             recurrence=recurrence, recovery_days=recovery)
    assert (advice.rule_id, advice.action, advice.next_dose_mg, advice.next_dose_mg_if_late_recovery,
            advice.discontinue) == (rule, action, next_dose, if_late, discontinue)
    assert advice.source and not advice.unverified


@pytest.mark.parametrize(("grade", "duration", "rule"), [(2, 5, "diarrhoea-grade2-5-days-or-more"),
                                                        (3, 3, "diarrhoea-grade3-over-2-days")])
def test_unverified_diarrhoea_rows_are_marked(kb, grade: int, duration: int, rule: str) -> None:
    """domain-facts §4.6: the grade 2 >=5 days and grade 3 >2 days rows are [U]; the output says so."""
    with pytest.warns(UnverifiedKnowledgeWarning, match=rule):
        advice = toxicity.assess("diarrhoea", grade, 240, kb, duration_days=duration)
    assert advice.unverified and advice.action == "hold"
    assert (advice.next_dose_mg, advice.next_dose_mg_if_late_recovery) == (240, 200)


def test_diarrhoea_grade2_needs_duration(kb) -> None:
    with pytest.raises(InputError, match="duration_days"):
        toxicity.assess("diarrhoea", 2, 240, kb)


def test_alt_grade2_has_no_rule_and_says_so(kb) -> None:
    advice = toxicity.assess("alt", 2, 240, kb)
    assert advice.action == "no-rule" and advice.note and "no neratinib label row" in advice.note


def test_bad_toxicity_inputs_listed_together(kb) -> None:
    with pytest.raises(InputError) as info:
        toxicity.assess("rash", 7, -10, kb, region="JP")
    assert [p.field for p in info.value.problems] == ["toxicity", "grade", "current_dose_mg", "region"]


# (Child-Pugh, region, action, start dose, source)
HEPATIC = [
    ("A", "US", "no-adjustment", None, "nerlynx-uspi §8.6"),
    ("B", "EU", "no-adjustment", None, "nerlynx-uspi §8.6 / SmPC 4.2"),
    ("C", "US", "reduce-start", 80, "nerlynx-uspi §2.4: Child-Pugh C 80 mg"),
    ("C", "EU", "contraindicated", None, "nerlynx-smpc 4.3"),
]


@pytest.mark.parametrize(("cp", "region", "action", "start", "source"), HEPATIC, ids=[f"{h[0]}-{h[1]}" for h in HEPATIC])
def test_hepatic_adjustment(kb, cp: str, region: str, action: str, start: float | None, source: str) -> None:
    advice = toxicity.hepatic_adjustment(cp, region, kb)
    assert (advice.action, advice.start_dose_mg) == (action, start)
    assert advice.contraindicated is (action == "contraindicated")


def test_renal_eu_severe_not_recommended(kb) -> None:
    """EU SmPC: eGFR <=29 (including dialysis) not studied, not recommended; US has no renal rule here."""
    assert toxicity.renal_adjustment(25, "EU", kb).action == "not-recommended"
    assert toxicity.renal_adjustment(45, "EU", kb).action == "no-rule"
    assert toxicity.renal_adjustment(25, "US", kb).action == "no-rule"


def test_liver_monitoring_differs_by_region(kb) -> None:
    """US: monthly x3 then every 3 months; EU: week 1, monthly x3, then every 6 weeks."""
    assert "every 3 months" in toxicity.liver_monitoring("US", kb).instructions[0]
    assert "every 6 weeks" in toxicity.liver_monitoring("EU", kb).instructions[0]


@pytest.mark.parametrize(("drug", "current", "expected"), [
    ("neratinib", 240, 200), ("neratinib", 200, 160), ("neratinib", 160, 120), ("neratinib", 120, None),
    ("t-dm1", 3.6, 3.0), ("t-dm1", 2.4, None), ("eribulin", 1.4, 1.1), ("eribulin", 1.1, 0.7), ("eribulin", 0.7, None),
])
def test_dose_reduction_lookup(kb, drug: str, current: float, expected: float | None) -> None:
    assert toxicity.dose_reduction(drug, current, kb).next_dose == expected


def test_dose_reduction_unknown_drug(kb) -> None:
    with pytest.raises(InputError, match="drug='aspirin'"):
        toxicity.dose_reduction("aspirin", 100, kb)
