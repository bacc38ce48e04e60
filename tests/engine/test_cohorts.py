"""The expected outcome comes from the cohort that fits the patient best, with n and an exact interval from
the published counts. Expected values are the papers' (Harding 2023 abstract; Friedman 2024 abstract;
Chan 2021), not our output."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from nerasense.domain.patient import Patient
from nerasense.engine.assess import RegimenCall, assess_patient, exact_interval
from nerasense.errors import NerasenseWarning
from nerasense.knowledge import default_knowledge

KB = default_knowledge()


def _calls(fields: dict) -> dict[str, RegimenCall]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        a = assess_patient(Patient.model_validate({"patient_id": "t", "setting": "metastatic", **fields}), KB,
                           alterations=None)
    return {r.regimen_id: r for r in a.regimens}


def _her2_mutant(tumour: str, change: str = "S310F", **extra: object) -> dict[str, RegimenCall]:
    from nerasense.ingest.patient import patient_alterations
    from nerasense.knowledge.genomics import GenomicsKnowledge

    patient = Patient.model_validate({"patient_id": "t", "setting": "metastatic", "tumour_type": tumour,
                                      "alterations": [{"gene": "ERBB2", "change": change}], **extra})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        alts = patient_alterations(patient, GenomicsKnowledge(KB), Path("."))
        a = assess_patient(patient, KB, alterations=alts)
    return {r.regimen_id: r for r in a.regimens}


# (responders, n, R binom.test(x, n)$conf.int as printed in the source)
EXACT = [
    (4, 25, 0.045, 0.361, "Harding 2023 abstract: ORR 16% (95% CI 4.5-36.1%)"),
    (4, 22, 0.052, 0.403, "Friedman 2024 abstract: ORR 18.2% (95% CI 5.2-40.3)"),
    (3, 12, 0.055, 0.572, "Oaknin 2020 abstract: ORR 25% (95% CI 5.5-57.2%)"),
    (8, 25, 0.149, 0.535, "README / R binom.test(8, 25): 14.9-53.5%"),
    (10, 39, 0.130, 0.421, "statistics reference: Clopper-Pearson for KCSG 10/39"),
]


@pytest.mark.parametrize(("x", "n", "low", "high", "where"), EXACT, ids=[f"{e[0]}of{e[1]}" for e in EXACT])
def test_exact_interval_from_counts(x: int, n: int, low: float, high: float, where: str) -> None:
    got = exact_interval(x, n)
    assert got == pytest.approx((low, high), abs=0.0006), where


@pytest.mark.parametrize("code", ["GBC", "IHCH", "EHCH", "AMPCA", "BILIARY_TRACT"])
def test_every_biliary_site_finds_the_summit_biliary_cohort(code: str) -> None:
    """Harding 2023: 11 cholangiocarcinoma, 10 gallbladder, 4 ampullary — one cohort, ORR 4/25 (16%)."""
    mono = _her2_mutant(code)["neratinib-monotherapy"]
    e = mono.expected
    assert e is not None and e["id"] == "summit-biliary-orr"
    assert (e["responders"], e["n"], e["value"]) == (4, 25, 0.16)
    assert (e["exact_ci_low"], e["exact_ci_high"]) == pytest.approx((0.045, 0.361), abs=0.0006)
    assert e["nearest"] is None and "tumour type" in e["fit"]


def test_ampullary_and_gallbladder_differences_are_context() -> None:
    amp = _her2_mutant("AMPCA")["neratinib-monotherapy"]
    assert any(m["evidence"] == "ev-summit-biliary-ampullary" for m in amp.modifiers)
    gb = _her2_mutant("GBC")["neratinib-monotherapy"]
    assert any(m["evidence"] == "ev-summit-biliary-gallbladder" for m in gb.modifiers)


def test_gallbladder_is_not_offered_fulvestrant() -> None:
    calls = _her2_mutant("GBC")
    assert calls["neratinib-fulvestrant"].call == "not applicable"


def test_cervical_cancer_gets_the_final_cervical_cohort() -> None:
    e = _her2_mutant("CEAD")["neratinib-monotherapy"].expected
    assert e is not None and (e["responders"], e["n"]) == (4, 22)


def test_no_cohort_of_the_tumour_type_says_which_nearest_evidence_was_used() -> None:
    """KCSG AL20-17 printed no biliary subgroup size: for neratinib + trastuzumab the whole basket is the
    nearest evidence, and the output says so."""
    nt = _her2_mutant("GBC", "V777L")["neratinib-trastuzumab"]
    assert nt.expected is not None and nt.expected["trial_id"] == "kcsg-al20-17"
    assert nt.expected["nearest"] and "KCSG" in nt.expected["nearest"]
    assert "(Gallbladder Cancer, GBC)" in nt.expected["nearest"]  # the OncoTree name beside the code


def test_early_breast_within_a_year_of_trastuzumab_gets_the_eu_label_population() -> None:
    """Chan 2021: HR-positive, trastuzumab finished <= 1 year, 5-year iDFS HR 0.58 (0.41-0.82), n=1334."""
    a = _calls({"tumour_type": "IDC", "setting": "early", "er": "positive", "pr": "positive", "her2": {"ihc": "3+"},
                "assessed_on": "2026-11-20",
                "prior_therapies": [{"agents": ["trastuzumab"], "setting": "adjuvant", "ended": "2026-07-20"}]})
    ext = a["extended-adjuvant"]
    assert ext.expected is not None
    assert (ext.expected["value"], ext.expected["ci_low"], ext.expected["ci_high"], ext.expected["n"]) == (
        0.58, 0.41, 0.82, 1334)
    assert any("residual invasive disease" in m.test for m in ext.missing_tests)
    assert any(m["evidence"] == "ev-extenet-itt" for m in ext.modifiers)  # the whole trial stays as context


def test_biliary_her2_result_carries_no_breast_category() -> None:
    """The gallbladder tumour's HER2 IHC is reported raw: no ASCO/CAP breast reading, no HER2-low."""
    from nerasense.ingest.patient import patient_alterations
    from nerasense.knowledge.genomics import GenomicsKnowledge

    patient = Patient.model_validate({"patient_id": "gb", "setting": "metastatic", "tumour_type": "GBC",
                                      "her2": {"ihc": "1+"}, "alterations": [{"gene": "ERBB2", "change": "S310F"}]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        a = assess_patient(patient, KB, alterations=patient_alterations(patient, GenomicsKnowledge(KB), Path(".")))
    assert a.her2["category"] is None and a.her2["result"] is None
    assert a.her2["inputs"] == {"ihc": "1+"} and a.her2["scheme"]["id"] is None


def test_tumour_type_without_a_cohort_result_says_so() -> None:
    """Salivary gland cancer: SUMMIT saw responses but published no separate count in 2018 — the call is
    made and the output says there is no outcome estimate, never borrowing the breast figure."""
    mono = _her2_mutant("SACA", "V777L")["neratinib-monotherapy"]
    assert mono.call == "possible benefit"
    assert mono.expected is None and mono.cohort_note and "SACA" in mono.cohort_note
    assert all((m.result or {}).get("id") != "summit-breast-orr" for m in mono.evidence)


def test_summit_biliary_counts_match_the_cbioportal_export(shared_data: Path) -> None:
    """The knowledge base's 4/25 equals the best overall responses of the real SUMMIT biliary export
    (cBioPortal puma_biliary_tract_summit_trial: one row per patient, CR/PR counted as responders)."""
    import csv

    lines = [line for line in (shared_data / "summit-biliary" / "data_clinical_patient.txt").read_text(
        encoding="utf-8").splitlines() if not line.startswith("#")]
    best = [row["Best Overall Response (BOR)"] for row in csv.DictReader(lines, delimiter="\t")]
    result = next(r for r in KB.trials["summit-basket"].results if r.id == "summit-biliary-orr")
    assert (sum(b in ("CR", "PR") for b in best), len(best)) == (result.responders, result.n) == (4, 25)


# What settles an open ERBB2 fact (AMP/ASCO/CAP 2017, Li et al., J Mol Diagn 19:4: a tier III variant of uncertain
# significance is resolved by functional or curated evidence, not by sequencing the same gene again).
MISSING = [
    ("L1000F", "classification of ERBB2 p.L1000F", "ERBB2 sequencing"),  # C-terminal tail, no curated rule
    ("S310F", None, "classification of ERBB2"),  # activating: nothing open about the mutation
]


@pytest.mark.parametrize(("change", "wanted", "not_wanted"), MISSING, ids=[m[0] for m in MISSING])
def test_a_sequenced_variant_of_unknown_effect_asks_for_its_classification(
        change: str, wanted: str | None, not_wanted: str) -> None:
    calls = _her2_mutant("LUAD", change)
    tests = [m.test for c in calls.values() for m in c.missing_tests]
    assert not any(t.startswith(not_wanted) for t in tests), tests
    if wanted is not None:
        assert any(t.startswith(wanted) for t in tests), tests
