"""Concomitant-medication check: every class with a member, timing and PK magnitudes from the label."""

from __future__ import annotations

import pytest

from nerasense.engine import interactions
from nerasense.errors import InputError, UnverifiedKnowledgeWarning

# (query, class id, severity, source) — one row per class; source is the rule's label section
CLASSES = [
    ("lansoprazole", "ppi", "avoid", "nerlynx-uspi §7.1 [V]"),
    ("Nexium", "ppi", "avoid", "nerlynx-uspi §7.1; esomeprazole is ATC A02BC"),
    ("ranitidine", "h2-antagonists", "separate-timing", "nerlynx-uspi §7.1 [V]"),
    ("calcium carbonate", "antacids", "separate-timing", "nerlynx-uspi §2.5 [V]"),
    ("ketoconazole", "strong-cyp3a4-inhibitors", "avoid", "nerlynx-uspi §7.1 [P list]"),
    ("verapamil", "pgp-moderate-cyp3a4-inhibitors", "avoid", "nerlynx-uspi §7.1 [P]"),
    ("rifampin", "cyp3a4-inducers", "avoid", "nerlynx-uspi §7.1 [P]"),
    ("St. John's Wort", "strong-cyp3a4-pgp-inducers-eu", "contraindicated", "nerlynx-smpc 4.3 [V]"),
    ("digoxin", "pgp-substrates-nti", "monitor", "nerlynx-uspi §7.2 [P]"),
    ("grapefruit juice", "grapefruit", "avoid", "nerlynx-uspi §2.1 [V]"),
    ("pomegranate", "pomegranate-eu", "avoid", "nerlynx-smpc 4.5 [V]"),
]


def test_every_class_has_a_row(kb) -> None:
    from nerasense.engine import _kb

    assert {c.id for c in _kb.interaction_classes(kb)} == {row[1] for row in CLASSES}


@pytest.mark.parametrize(("query", "class_id", "severity", "source"), CLASSES, ids=[r[1] + ":" + r[0] for r in CLASSES])
def test_class_member(kb, query: str, class_id: str, severity: str, source: str) -> None:
    report = interactions.check([query], kb)
    hit = next(f for f in report.findings if f.class_id == class_id)
    assert hit.severity == severity and hit.source and not report.not_found


def test_h2ra_timing(kb) -> None:
    """Label: neratinib at least 2 h before the next H2RA dose or at least 10 h after it."""
    (f,) = interactions.check(["famotidine"], kb).findings
    assert f.timing == {"neratinib_hours_before_next_dose": 2, "neratinib_hours_after": 10}


def test_antacid_timing(kb) -> None:
    (f,) = interactions.check(["Tums"], kb).findings
    assert f.timing == {"neratinib_hours_before_next_dose": None, "neratinib_hours_after": 3}


@pytest.mark.parametrize(("query", "cmax", "auc"), [("lansoprazole", -71, -65), ("ranitidine", -55, -47)])
def test_pk_magnitudes(kb, query: str, cmax: float, auc: float) -> None:
    """NERLYNX USPI §12.3 [V]: lansoprazole Cmax -71% AUC -65%; ranitidine Cmax -55% AUC -47%."""
    (f,) = interactions.check([query], kb).findings
    pk = next(p for p in f.pk_effects if p["perpetrator"] == query)
    assert (pk["cmax_change_pct"], pk["auc_change_pct"]) == (cmax, auc)


def test_carbamazepine_hits_us_and_eu_rules(kb) -> None:
    report = interactions.check(["Tegretol"], kb)
    assert [f.severity for f in report.findings] == ["contraindicated", "avoid"]
    assert [f.class_id for f in interactions.check(["carbamazepine"], kb, region="US").findings] == ["cyp3a4-inducers"]


def test_unknown_names_are_reported_not_dropped(kb) -> None:
    report = interactions.check(["paracetamol", "omeprazole 20 mg"], kb)
    assert report.not_found == ["paracetamol"]
    assert [f.drug for f in report.findings] == ["omeprazole"]
    assert "not mean it is safe" in report.to_dict()["note"]


def test_unverified_members_are_flagged(kb) -> None:
    with pytest.warns(UnverifiedKnowledgeWarning, match="efavirenz"):
        (f,) = interactions.check(["efavirenz"], kb).findings
    assert f.unverified and f.member_verification == "U"


def test_bad_input(kb) -> None:
    with pytest.raises(InputError) as info:
        interactions.check(["", "ok"], kb, region="JP")
    assert [p.field for p in info.value.problems] == ["medications[0]", "region"]
