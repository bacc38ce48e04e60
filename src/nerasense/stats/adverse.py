"""Adverse-event table by NCI-CTCAE grade, counting each patient once per term at their worst grade.

Convention (as in trial safety tables, e.g. Hyman et al. Nature 2018 Extended Data Table 3): for each
term, the number (and % of the safety population) of patients whose worst grade was 1, 2, 3, 4, 5, plus
"any grade" and "grade ≥ 3". CTCAE v5.0 grades are 1–5 (NCI, 27 Nov 2017). The denominator is
``n_patients`` when given (patients treated, including those without any AE), else the number of distinct
patients in the table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from nerasense.errors import ProblemCollector

GRADES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class AERow:
    term: str
    any_grade: int
    grade: dict[int, int]
    grade_3_plus: int
    pct_any: float
    pct_3_plus: float


def ae_table(
    df: Any, n_patients: int | None = None, patient: str = "patient", term: str = "term", grade: str = "grade"
) -> list[AERow]:
    """Rows sorted by any-grade count (then term); the first row is "Any adverse event"."""
    bad = ProblemCollector()
    for role, col in (("patient", patient), ("term", term), ("grade", grade)):
        if col not in df.columns:
            bad.add(f"--{role}", col, f"a column of the table ({', '.join(map(str, df.columns))})")
    bad.raise_if_any()
    worst: dict[tuple[str, str], int] = {}
    for i, rec in enumerate(df[[patient, term, grade]].itertuples(index=False), start=1):
        p, t, g = rec
        try:
            gi = int(g)
            ok = gi == float(g) and gi in GRADES
        except (TypeError, ValueError):
            ok = False
        if not ok:
            bad.add("grade", g, "a CTCAE grade 1, 2, 3, 4 or 5", where=f"row {i}")
            continue
        if not str(t).strip() or str(t) == "nan":
            bad.add("term", t, "an adverse-event term (e.g. CTCAE 'Diarrhea')", where=f"row {i}")
            continue
        key = (str(p), str(t).strip())
        worst[key] = max(worst.get(key, 0), gi)
    patients = {p for p, _ in worst}
    n = n_patients if n_patients is not None else len(patients)
    if n_patients is not None and n_patients < len(patients):
        bad.add("n_patients", n_patients, f"at least the {len(patients)} patients with an adverse event")
    if n < 1:
        bad.add("n_patients", n, "an integer ≥ 1")
    bad.raise_if_any()

    def row(name: str, grades: list[int]) -> AERow:
        counts = {g: sum(1 for x in grades if x == g) for g in GRADES}
        ge3 = sum(1 for x in grades if x >= 3)
        return AERow(name, len(grades), counts, ge3, 100.0 * len(grades) / n, 100.0 * ge3 / n)

    per_patient: dict[str, int] = {}
    for (p, _), g in worst.items():
        per_patient[p] = max(per_patient.get(p, 0), g)
    terms = sorted({t for _, t in worst})
    rows = [row(t, [g for (_, tt), g in worst.items() if tt == t]) for t in terms]
    rows.sort(key=lambda r: (-r.any_grade, r.term))
    return [row("Any adverse event", list(per_patient.values())), *rows]


def as_dicts(rows: list[AERow]) -> list[dict[str, Any]]:
    return [{**asdict(r), "grade": {str(k): v for k, v in r.grade.items()}} for r in rows]


__all__ = ["GRADES", "AERow", "ae_table", "as_dicts"]
