"""BSA, per-patient doses and the dosing calendar, checked against label and trial numbers."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from nerasense.engine import dosing
from nerasense.errors import InputError, UnverifiedKnowledgeWarning


def test_bsa_worked_example_mosteller(kb) -> None:
    """domain-facts §4.11 [V]: 170 cm, 70 kg → Mosteller 1.82 m² (sqrt(170 x 70 / 3600) = sqrt(3.30556) = 1.8181)."""
    result = dosing.bsa(170, 70, kb)
    assert result.formula == "mosteller" and round(result.bsa_m2, 2) == 1.82
    assert result.bsa_m2 == pytest.approx(1.818119, abs=1e-6)


def test_bsa_dubois_by_hand(kb) -> None:
    """DuBois & DuBois 1916: 0.007184 x 170^0.725 x 70^0.425.

    By hand: ln 170 = 5.135798, x 0.725 = 3.723454, e^ = 41.4072; ln 70 = 4.248495, x 0.425 = 1.805610,
    e^ = 6.083684; 0.007184 x 41.4072 x 6.083684 = 1.8097 m².
    """
    assert dosing.bsa(170, 70, kb, "dubois").bsa_m2 == pytest.approx(1.8097, abs=1e-4)


@pytest.mark.parametrize(("formula", "expected"), [
    # Haycock 1978: 0.024265 x 170^0.3964 x 70^0.5378; Gehan-George 1970: 0.0235 x 170^0.42246 x 70^0.51456
    ("haycock", 0.024265 * 170**0.3964 * 70**0.5378),
    ("gehan-george", 0.0235 * 170**0.42246 * 70**0.51456),
])
def test_bsa_other_formulas(kb, formula: str, expected: float) -> None:
    assert dosing.bsa(170, 70, kb, formula).bsa_m2 == pytest.approx(expected, rel=1e-12)
    assert 1.7 < expected < 1.9


def test_capecitabine_750_per_m2_twice_daily(kb) -> None:
    """NERLYNX USPI §2.1 [V]: capecitabine 750 mg/m² twice daily days 1-14 of 21; BSA 1.8181 → 1363.59 mg a dose."""
    doses = dosing.regimen_doses("neratinib-capecitabine", 70, 170, kb)
    cape = next(c for c in doses.components if c.drug == "capecitabine")
    assert (cape.dose, cape.basis, cape.times_per_day) == (750, "mg/m2", 2)
    assert cape.amount_mg == pytest.approx(1363.59, abs=0.01)
    assert "days 1-14 of every 21 days" in cape.schedule


def test_tdm1_3_6_per_kg_with_neratinib_160(kb) -> None:
    """FB-10 (abraham2019) RP2D: T-DM1 3.6 mg/kg q3w + neratinib 160 mg/day; 70 kg → 252 mg T-DM1."""
    doses = dosing.regimen_doses("neratinib-tdm1", 70, 170, kb)
    tdm1 = next(c for c in doses.components if c.drug == "t-dm1")
    assert (tdm1.dose, tdm1.amount_mg, doses.neratinib_dose_mg) == (3.6, 252.0, 160)
    assert tdm1.reduction_levels == [3.6, 3.0, 2.4]
    assert doses.start_options == ["loperamide-prophylaxis"]


def test_trastuzumab_loading_then_maintenance(kb) -> None:
    """Herceptin label / SUMMIT (jhaveri2023): 8 mg/kg day 1, then 6 mg/kg every 3 weeks from day 22."""
    cal = dosing.calendar("neratinib-fulvestrant-trastuzumab", 70, 170, "2026-03-02", 3, None, kb)
    tz = [(d.study_day, x.dose, x.amount_mg) for d in cal.days for x in d.doses if x.drug == "trastuzumab"]
    assert tz == [(1, 8, 560.0), (22, 6, 420.0), (43, 6, 420.0)]


def _drug_days(cal: dosing.Calendar, drug: str) -> list[int]:
    return [d.study_day for d in cal.days for x in d.doses if x.drug == drug]


def test_fulvestrant_label_loading_days(kb) -> None:
    """Faslodex label / SUMMIT: 500 mg days 1, 15, 29, then every 4 weeks (day 57, 85 …)."""
    cal = dosing.calendar("neratinib-fulvestrant-trastuzumab", None, None, "2026-03-02", 5, None, kb)
    assert _drug_days(cal, "fulvestrant") == [1, 15, 29, 57, 85]


def test_fulvestrant_nct07333937_variant(kb) -> None:
    """seed-001 (NCT07333937): 500 mg days 1 and 15 of cycle 1, then day 1 every 4 weeks (day 29, 57 …)."""
    cal = dosing.calendar("neratinib-fulvestrant-eribulin", 70, 170, date(2026, 3, 2), 3, None, kb)
    assert _drug_days(cal, "fulvestrant") == [1, 15, 29, 57]
    dates = [d.date for d in cal.days if any(x.drug == "fulvestrant" for x in d.doses)]
    assert dates == ["2026-03-02", "2026-03-16", "2026-03-30", "2026-04-27"]


def test_eribulin_days_1_and_8(kb) -> None:
    """seed-001: eribulin 1.4 mg/m² days 1 and 8 every 3 weeks; BSA 1.8181 → 2.55 mg."""
    cal = dosing.calendar("neratinib-fulvestrant-eribulin", 70, 170, "2026-03-02", 2, None, kb)
    assert _drug_days(cal, "eribulin") == [1, 8, 22, 29]
    eri = next(x for x in cal.days[0].doses if x.drug == "eribulin")
    assert eri.amount_mg == pytest.approx(2.55, abs=0.005)
    assert [(d.cycle, d.day) for d in cal.days if d.study_day in (22, 29)] == [(2, 1), (2, 8)]


def test_calendar_escalation_days(kb) -> None:
    """Label Table 2: 120 mg days 1-7, 160 mg days 8-14, 240 mg from day 15; loperamide as needed (CONTROL DE1)."""
    cal = dosing.calendar("neratinib-capecitabine", 70, 170, "2026-01-01", 1, True, kb)
    ner = {d.study_day: x.dose for d in cal.days for x in d.doses if x.drug == "neratinib"}
    assert [ner[d] for d in (1, 7, 8, 14, 15, 21)] == [120, 120, 160, 160, 240, 240]
    assert cal.escalation and cal.loperamide_schedule == "loperamide-with-escalation"
    assert _drug_days(cal, "capecitabine") == list(range(1, 15))


def test_calendar_loperamide_prophylaxis(kb) -> None:
    """No escalation: 240 mg from day 1 with label Table 1 loperamide (TID d1-14, BID d15-56, PRN from d57)."""
    cal = dosing.calendar("extended-adjuvant", None, None, "2026-01-01", 3, False, kb)
    assert {x.dose for d in cal.days for x in d.doses} == {240}
    lop = {d.study_day: d.loperamide for d in cal.days}
    assert "three times" in lop[14] and "twice" in lop[15] and "twice" in lop[56] and "as needed" in lop[57]
    assert cal.days[-1].study_day == 84 and cal.days[-1].cycle == 3


def test_nct07333937_default_is_escalation_with_prophylaxis(kb) -> None:
    cal = dosing.calendar("neratinib-fulvestrant-eribulin", 70, 170, "2026-01-01", 1, None, kb)
    assert cal.start_option == "escalation-with-prophylaxis"
    assert cal.loperamide_schedule == "loperamide-prophylaxis"


def test_child_pugh_c_us_starts_at_80(kb) -> None:
    cal = dosing.calendar("extended-adjuvant", None, None, "2026-01-01", 1, None, kb, child_pugh="C", region="US")
    assert cal.neratinib_target_mg == 80 and cal.status == "ok" and not cal.escalation
    assert {x.dose for d in cal.days for x in d.doses if x.drug == "neratinib"} == {80}


def test_child_pugh_c_eu_is_contraindicated(kb) -> None:
    cal = dosing.calendar("extended-adjuvant", None, None, "2026-01-01", 1, None, kb, child_pugh="C", region="EU")
    assert cal.status == "contraindicated" and cal.days == []


def test_tdm1_refuses_escalation(kb) -> None:
    with pytest.raises(InputError, match="start='escalation'"):
        dosing.calendar("neratinib-tdm1", 70, 170, "2026-01-01", 1, True, kb)


def test_unverified_regimen_is_marked(kb) -> None:
    """I-SPY 2 neratinib dose is tagged U; paclitaxel is not encoded."""
    with pytest.warns(UnverifiedKnowledgeWarning):
        doses = dosing.regimen_doses("neratinib-paclitaxel-neoadjuvant", 70, 170, kb)
    assert doses.unverified
    pac = next(c for c in doses.components if c.drug == "paclitaxel")
    assert pac.not_encoded and pac.amount_mg is None


@pytest.mark.parametrize("regimen_id", ["extended-adjuvant", "neratinib-capecitabine", "neratinib-fulvestrant-trastuzumab",
                                        "neratinib-trastuzumab", "neratinib-fulvestrant", "neratinib-tdm1",
                                        "neratinib-fulvestrant-eribulin"])
def test_every_regimen_makes_a_calendar(kb, regimen_id: str) -> None:
    cal = dosing.calendar(regimen_id, 70, 170, "2026-01-01", 2, None, kb)
    assert len(cal.days) == 2 * cal.cycle_days
    assert all(any(x.drug == "neratinib" for x in d.doses) for d in cal.days)
    d = cal.to_dict()
    assert d["days"][0]["date"] == "2026-01-01" and d["regimen"]["regimen_id"] == regimen_id


def test_bad_inputs_listed_together(kb) -> None:
    with pytest.raises(InputError) as info:
        dosing.calendar("neratinib-aspirin", 0, 300, "2026-13-01", 0, None, kb)
    fields = [p.field for p in info.value.problems]
    assert fields == ["regimen_id", "weight_kg", "height_cm", "start", "cycles"]
    assert "extended-adjuvant" in info.value.problems[0].allowed


def test_height_bounds(kb) -> None:
    with pytest.raises(InputError, match="height_cm=49"):
        dosing.bsa(49, 70, kb)
    assert dosing.bsa(50, 3, kb).bsa_m2 > 0


@pytest.mark.parametrize("regimen_id", ["extended-adjuvant", "neratinib-capecitabine", "neratinib-fulvestrant-eribulin",
                                        "neratinib-trastuzumab"])
@pytest.mark.parametrize("escalation", [True, False])
def test_calendar_invariants(kb, regimen_id: str, escalation: bool) -> None:
    """Neratinib never exceeds the regimen dose, never falls during escalation, and days are consecutive."""
    cal = dosing.calendar(regimen_id, 70, 170, "2026-12-20", 3, escalation, kb)
    ner = [x.dose for d in cal.days for x in d.doses if x.drug == "neratinib"]
    assert max(ner) == cal.neratinib_target_mg and ner == sorted(ner)
    dates = [date.fromisoformat(d.date) for d in cal.days]
    assert all((b - a).days == 1 for a, b in pairwise(dates))
    assert (min(ner) < cal.neratinib_target_mg) is escalation
