"""AE table by CTCAE grade: worst grade per patient per term, hand-counted fixtures."""

from __future__ import annotations

import pandas as pd
import pytest

from nerasense.errors import InputError
from nerasense.stats.adverse import ae_table

AE = pd.DataFrame(
    {
        "patient": ["1", "1", "1", "2", "2", "3", "4"],
        "term": ["Diarrhea", "Diarrhea", "Nausea", "Diarrhea", "Fatigue", "Nausea", "Diarrhea"],
        "grade": [1, 3, 1, 2, 1, 2, 2],
    }
)


def test_worst_grade_counted_once_per_patient() -> None:
    rows = {r.term: r for r in ae_table(AE, n_patients=10)}
    d = rows["Diarrhea"]
    # patient 1: grades 1 and 3 -> 3; patients 2 and 4: grade 2
    assert (d.any_grade, d.grade[1], d.grade[2], d.grade[3], d.grade_3_plus) == (3, 0, 2, 1, 1)
    assert d.pct_any == pytest.approx(30.0)
    anyae = rows["Any adverse event"]
    assert (anyae.any_grade, anyae.grade[3], anyae.grade[2], anyae.grade[1]) == (4, 1, 3, 0)


def test_order_is_by_frequency() -> None:
    assert [r.term for r in ae_table(AE)] == ["Any adverse event", "Diarrhea", "Nausea", "Fatigue"]


def test_bad_grades_listed() -> None:
    bad = AE.assign(grade=[1, 6, "x", 2, 1, 2, 0])
    with pytest.raises(InputError) as err:
        ae_table(bad)
    assert [p.where for p in err.value.problems] == ["row 2", "row 3", "row 7"]
