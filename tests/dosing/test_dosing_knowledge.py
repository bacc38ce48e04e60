"""The dosing knowledge holds the label and trial numbers, row by row (each row names its source)."""

from __future__ import annotations

import pytest

from nerasense.engine import _kb
from nerasense.engine.toxicity import reduction_levels


def test_every_regimen_has_dosing(kb) -> None:
    """Completeness: each regimen id of regimens.yaml has a dosing entry and vice versa."""
    assert set(_kb.regimens(kb)) == set(_kb.regimen_dosing(kb))


@pytest.mark.parametrize("regimen_id", sorted(
    ["extended-adjuvant", "neratinib-capecitabine", "neratinib-fulvestrant-trastuzumab", "neratinib-trastuzumab",
     "neratinib-fulvestrant", "neratinib-monotherapy", "neratinib-tdm1", "neratinib-paclitaxel-neoadjuvant",
     "neratinib-fulvestrant-eribulin"]))
def test_dosing_covers_every_component(kb, regimen_id: str) -> None:
    regimen = _kb.regimens(kb)[regimen_id]
    dosing = _kb.regimen_dosing(kb)[regimen_id]
    assert {"neratinib", *(c.drug for c in dosing.companions)} == set(regimen.components)


# (regimen, neratinib mg/day, source) — label 240 mg; FB-10 RP2D 160 mg with T-DM1
NERATINIB_DOSE = [
    ("extended-adjuvant", 240, "nerlynx-uspi §2.1"),
    ("neratinib-capecitabine", 240, "nerlynx-uspi §2.1"),
    ("neratinib-fulvestrant-trastuzumab", 240, "jhaveri2023 (SUMMIT)"),
    ("neratinib-monotherapy", 240, "hyman2018 / harding2023 (SUMMIT: 240 mg/day)"),
    ("neratinib-tdm1", 160, "abraham2019 (FB-10 RP2D)"),
    ("neratinib-fulvestrant-eribulin", 240, "seed-001 (NCT07333937)"),
]


@pytest.mark.parametrize(("regimen_id", "mg", "source"), NERATINIB_DOSE, ids=[r[0] for r in NERATINIB_DOSE])
def test_neratinib_dose_per_regimen(kb, regimen_id: str, mg: float, source: str) -> None:
    assert _kb.regimen_dosing(kb)[regimen_id].neratinib.dose_mg == mg


# NERLYNX USPI Table 2 (dose escalation): (first day, last day, mg)
ESCALATION = [(1, 7, 120), (8, 14, 160), (15, None, 240)]


def test_label_escalation_table(kb) -> None:
    """NERLYNX USPI §2.2 Table 2: week 1 120 mg, week 2 160 mg, week 3 onward 240 mg."""
    steps = _kb.schedule(kb, "neratinib-escalation").steps
    assert [(s.from_day, s.to_day, s.dose) for s in steps] == ESCALATION
    assert all(s.source == "nerlynx-uspi" for s in steps)


# NERLYNX USPI Table 1 (loperamide prophylaxis): (first day, last day, mg, times/day, as needed, max mg/day)
LOPERAMIDE = [(1, 14, 4, 3, False, None), (15, 56, 4, 2, False, None), (57, None, 4, None, True, 16)]


def test_loperamide_table(kb) -> None:
    """NERLYNX USPI Table 1: weeks 1-2 4 mg TID; weeks 3-8 4 mg BID; week 9 on 4 mg as needed, max 16 mg/day."""
    steps = _kb.schedule(kb, "loperamide-prophylaxis").steps
    got = [(s.from_day, s.to_day, s.dose, s.times_per_day, s.as_needed, s.max_per_day) for s in steps]
    assert got == LOPERAMIDE


def test_control_de1_is_the_reason_to_escalate(kb) -> None:
    """CONTROL final (chan2023control): DE1 grade >=3 diarrhoea 13% vs 31% with loperamide prophylaxis."""
    values = {r.text: r.value for r in _kb.schedule(kb, "neratinib-escalation").rationale}
    de1 = next(v for t, v in values.items() if t.startswith("CONTROL DE1") and "grade" in t)
    lop = next(v for t, v in values.items() if "loperamide-prophylaxis" in t and "grade" in t)
    assert (de1, lop) == (0.13, 0.31)


# (drug, levels, source)
LADDERS = [
    ("neratinib", (240, 200, 160, 120), "nerlynx-uspi §2.3"),
    ("t-dm1", (3.6, 3.0, 2.4), "kadcyla-uspi"),
    ("eribulin", (1.4, 1.1, 0.7), "halaven-uspi"),
]


@pytest.mark.parametrize(("drug", "levels", "source"), LADDERS, ids=[r[0] for r in LADDERS])
def test_reduction_levels(kb, drug: str, levels: tuple[float, ...], source: str) -> None:
    assert reduction_levels(drug, kb) == levels


def test_capecitabine_reductions_are_not_guessed(kb) -> None:
    assert reduction_levels("capecitabine", kb) == ()
    assert _kb.ladders(kb)["capecitabine"].not_encoded


def test_paclitaxel_dose_is_not_encoded(kb) -> None:
    """I-SPY 2 paclitaxel dose is not in the curated sources (park2016): say so, do not guess."""
    comp = _kb.regimen_dosing(kb)["neratinib-paclitaxel-neoadjuvant"].companions[0]
    assert comp.drug == "paclitaxel" and not comp.administrations and comp.not_encoded


def test_every_interaction_class_has_members(kb) -> None:
    for cls in _kb.interaction_classes(kb):
        assert cls.members, cls.id


def test_bsa_has_one_default_and_it_is_mosteller(kb) -> None:
    assert _kb.default_bsa_formula(kb).id == "mosteller"
