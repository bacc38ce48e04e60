"""The bundled patient archetypes against what the cited trials say.

Each row: the archetype file, the regimen, the expected call and the trial-based reason the call must be
that. The expected calls are written from the trials (domain-facts §5, seeds), not from our output.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from nerasense.engine.assess import Assessment
from nerasense.errors import NerasenseWarning

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patients"

EXPECTED = [
    # file prefix, regimen, call, why (the trial that decides it)
    ("01", "extended-adjuvant", "likely benefit",
     "ExteNET: HER2+ early disease after trastuzumab, iDFS HR 0.73; HR+ within 1 year is the EU-label population"),
    ("01", "neratinib-capecitabine", "not applicable", "early disease: NALA is a metastatic trial"),
    ("02", "neratinib-capecitabine", "likely benefit",
     "NALA: HER2+ MBC after >=2 HER2 regimens, PFS HR 0.76 (label indication)"),
    ("02", "neratinib-tdm1", "possible benefit", "FB-10 is a phase Ib (ORR 12/19): activity, not a comparison"),
    ("02", "extended-adjuvant", "not applicable", "metastatic disease: ExteNET is adjuvant"),
    ("03", "neratinib-fulvestrant-trastuzumab", "possible benefit",
     "SUMMIT HR+ HER2-mutant after CDK4/6i: single-arm phase 2 activity"),
    ("03", "neratinib-fulvestrant", "possible benefit",
     "one phase 2 cohort of this regimen: MutHER neratinib + fulvestrant, CBR 38% after fulvestrant (SUMMIT's 8/25 "
     "breast responses were to neratinib alone)"),
    ("03", "neratinib-monotherapy", "possible benefit", "SUMMIT breast basket: neratinib alone, ORR 8/25 (phase 2)"),
    ("03", "neratinib-capecitabine", "not applicable", "HER2-low (IHC 1+) is not HER2-positive"),
    ("04", "neratinib-trastuzumab", "possible benefit", "KCSG AL20-17 NSCLC ORR 23.5%, exon 20 insertions responded"),
    ("04", "neratinib-monotherapy", "unlikely benefit", "SUMMIT lung: 1 response in 26 with neratinib alone"),
    ("04", "neratinib-fulvestrant", "not applicable", "fulvestrant is endocrine therapy for HR-positive breast cancer"),
    ("05", "neratinib-capecitabine", "likely benefit", "NALA population (two prior HER2 regimens)"),
    ("05", "neratinib-fulvestrant-eribulin", "possible benefit",
     "NCT07333937: investigational, mechanistic p95HER2 rationale and a case report only"),
    ("06", "neratinib-fulvestrant", "resistance", "Hanker 2017: acquired T798I gatekeeper blocks neratinib"),
    ("06", "neratinib-trastuzumab", "resistance", "Hanker 2017: acquired T798I gatekeeper blocks neratinib"),
    ("07", "neratinib-capecitabine", "not applicable", "HER2-low without amplification or ERBB2 mutation"),
    ("07", "neratinib-trastuzumab", "not applicable", "no ERBB2 mutation: KCSG/SUMMIT enrolled HER2-mutant tumours"),
    ("08", "neratinib-capecitabine", "insufficient data", "HER2 status unknown"),
    ("08", "neratinib-trastuzumab", "insufficient data", "ERBB2 not sequenced"),
    ("09", "neratinib-fulvestrant", "resistance",
     "T798I emerged in plasma on neratinib + fulvestrant (Hanker 2017), read from the serial plasma file"),
    ("10", "neratinib-monotherapy", "possible benefit",
     "SUMMIT biliary (Harding 2023): neratinib alone, ORR 4/25 after chemotherapy; phase 2, primary endpoint not met"),
    ("10", "neratinib-fulvestrant", "not applicable", "fulvestrant is endocrine therapy for HR-positive breast cancer"),
]


def _assess(prefix: str) -> Assessment:
    from nerasense.pipeline import assess_file

    path = next(EXAMPLES.glob(f"{prefix}-*.yaml"))
    with warnings.catch_warnings():  # example 09's series has a failed-QC sample on purpose
        warnings.simplefilter("ignore", NerasenseWarning)
        return assess_file(path)


@pytest.mark.parametrize(("prefix", "regimen", "call", "why"), EXPECTED,
                         ids=[f"{e[0]}-{e[1]}" for e in EXPECTED])
def test_archetype_call(prefix: str, regimen: str, call: str, why: str) -> None:
    a = _assess(prefix)
    got = {r.regimen_id: r for r in a.regimens}[regimen]
    assert got.call == call, f"{why}; reasons: {got.reasons}"


def test_every_archetype_is_covered() -> None:
    files = sorted(p.name[:2] for p in EXAMPLES.glob("*.yaml"))
    assert sorted({e[0] for e in EXPECTED}) == files


def test_nala_expected_outcome_and_biomarker_modifiers() -> None:
    r = {x.regimen_id: x for x in _assess("02").regimens}["neratinib-capecitabine"]
    assert r.expected is not None
    assert (r.expected["value"], r.expected["ci_low"], r.expected["ci_high"]) == (0.76, 0.63, 0.93)
    modifiers = {m["evidence"] for m in r.modifiers}
    # H-score 1x5 + 2x10 + 3x80 = 265 >= 240 and p95 3.4 >= 2.8: the NALA high-expression subgroups apply
    assert {"ev-nala-hscore-high", "ev-nala-p95-high", "ev-nala-ihc3", "ev-tbcrc022-lapatinib-naive"} <= modifiers


def test_kcsg_ctdna_cutoff_is_flagged_in_sample() -> None:
    a = _assess("04")  # ctDNA fraction 18% > 11.5%
    r = {x.regimen_id: x for x in a.regimens}["neratinib-trastuzumab"]
    assert any(m.id == "ev-kcsg-ctdna-high" for m in r.evidence)
    assert any("in-sample" in w for w in a.warnings)


def test_gallbladder_expected_outcome_is_the_summit_biliary_cohort() -> None:
    """Harding 2023: 4 responses in 25; Clopper-Pearson 95% CI 4.54-36.08% (R: binom.test(4, 25)$conf.int)."""
    a = _assess("10")
    r = {x.regimen_id: x for x in a.regimens}["neratinib-monotherapy"]
    assert r.expected is not None
    assert (r.expected["responders"], r.expected["n"]) == (4, 25)
    assert r.expected["exact_ci_low"] == pytest.approx(0.04537945, abs=5e-5)
    assert r.expected["exact_ci_high"] == pytest.approx(0.36082845, abs=5e-5)
    assert a.her2["category"] is None  # no breast ASCO/CAP category on a gallbladder tumour


def test_l755_and_gatekeeper_are_flags_not_silence() -> None:
    r = {x.regimen_id: x for x in _assess("06").regimens}["neratinib-fulvestrant"]
    assert r.resistance_flags and "T798I" in r.resistance_flags[0]
    assert r.expected is None


def test_missing_tests_name_what_would_change_the_call() -> None:
    a = _assess("08")
    tests = {m.test: m for m in a.missing_tests}
    assert "HER2 IHC (with reflex ISH if 2+)" in tests
    assert "ERBB2 sequencing (tissue or plasma NGS)" in tests


def test_post_tdxd_trial_eligibility() -> None:
    a = _assess("05")
    trial = next(t for t in a.eligibility if t["trial"] == "nct07333937")
    # female, 49, ECOG 1, metastatic, ER+, HER2-positive (ISH group 1), after T-DXd
    assert trial["overall"] == "eligible", trial["criteria"]
    other = next(t for t in _assess("06").eligibility if t["trial"] == "nct07333937")
    assert other["overall"] == "not eligible"  # HER2-0 and no prior T-DXd


def test_report_renders_with_every_citation(tmp_path: Path) -> None:
    from nerasense.knowledge import default_knowledge
    from nerasense.report.patient_report import citations, write_report

    kb = default_knowledge()
    a = _assess("02").to_dict()
    out = write_report(a, kb, {"description": "test"}, tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert "Research use only" in html and a["kb_version"] in html and a["software_version"] in html
    cites = citations(a, kb)
    used = {ev["source"] for r in a["regimens"] for ev in r["evidence"]}
    assert used <= {c["id"] for c in cites}
    for c in cites:
        assert c["citation"].split(".")[0][:40].replace("&", "&amp;") in html
    assert "<svg" in html  # the forest figure is embedded


def test_plasma_series_feeds_the_engine() -> None:
    a = _assess("09")
    assert a.facts["erbb2.gatekeeper"] is True  # only the plasma series holds T798I
    assert a.facts["ctdna.tested"] is True
    plasma = [x for x in a.alterations if x["origin"] == "plasma"]
    assert any(x["protein_change"] == "p.T798I" for x in plasma)


def test_unverified_hermark_cutoffs_stay_out_of_the_score() -> None:
    """HERmark categories rest on cut-offs tagged [U] in the reference: the NALA HERmark item is shown,
    marked unverified, and contributes nothing."""
    from nerasense.domain.patient import Patient
    from nerasense.engine.assess import assess_patient

    p = Patient.model_validate({"patient_id": "hm", "tumour_type": "IDC", "setting": "metastatic",
                                "her2": {"ihc": "3+", "hermark_h2t": 40.0}, "metastatic_her2_regimens": 2,
                                "prior_therapies": []})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        r = {x.regimen_id: x for x in assess_patient(p).regimens}["neratinib-capecitabine"]
    hm = next(m for m in r.evidence if m.id == "ev-nala-hermark-positive")
    assert hm.contribution == 0 and hm.verification == "U"
    assert "ev-nala-hermark-positive" in r.unverified
