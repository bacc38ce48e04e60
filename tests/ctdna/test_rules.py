"""One hand-made series per rule (tests/data/ctdna/*.csv): clearance, rise, new gatekeeper, below-LOD
values, failed QC, the KCSG AL20-17 and FB-10 definitions. Every response definition in the knowledge
base must have a case here (completeness check at the bottom)."""

from __future__ import annotations

import math
import warnings

import pytest
from scipy.stats import binom

from nerasense.domain.ctdna import Level, PlasmaAlteration
from nerasense.interpret.ctdna import AlleleClass, miss_probability

from .conftest import flag_ids, interpret, read, response

# --------------------------------------------------------------------------- censoring


def test_below_lod_is_an_interval_never_zero() -> None:
    lv = Level(detected=False, lod=0.005)
    assert (lv.low, lv.high) == (0.0, 0.005)
    assert math.isinf(Level(detected=False).high)  # no LOD: nothing known above 0
    with pytest.raises(ValueError, match="not detected"):
        Level(detected=False, value=0.0)


CLEARANCE = [
    # (patient, all-mutations-cleared, mean-vaf-halved, tumour-fraction-halved, why)
    ("C1", "response", "response", "response", "5% -> <0.5%: clearance, the LOD is below the baseline VAF"),
    ("C2", "undetermined", "undetermined", "response", "5% -> <8%: the LOD exceeds the baseline, cannot tell"),
    ("C3", "no-response", "no-response", "no-response", "5% -> 4%: still detected, a 20% fall"),
    ("C4", "no-response", "response", "response", "a row missing on treatment is read below sample_lod"),
]


@pytest.mark.parametrize(("patient", "cleared", "mean_vaf", "tf", "why"), CLEARANCE, ids=[c[0] for c in CLEARANCE])
def test_clearance_and_censored_mean_vaf(patient: str, cleared: str, mean_vaf: str, tf: str, why: str) -> None:
    d, _ = interpret(read("clearance.csv")[patient])
    assert response(d, "all-mutations-cleared")["status"] == cleared, why
    assert response(d, "mean-vaf-halved")["status"] == mean_vaf, why
    assert response(d, "tumour-fraction-halved")["status"] == tf, why


def test_missing_row_on_treatment_uses_the_sample_lod_interval() -> None:
    d, _ = interpret(read("clearance.csv")["C4"])
    m = response(d, "mean-vaf-halved")
    # baseline mean (6% + 2%) / 2 = 4%; on treatment L755S in [0, 0.5%), R175H 1% -> mean in [0.5%, 0.75%)
    assert m["baseline_value"] == pytest.approx(0.04)
    assert (m["on_treatment_low"], m["on_treatment_high"]) == pytest.approx((0.005, 0.0075))


# --------------------------------------------------------------------------- rising VAF

RISE = [("R1", True, "1% nadir -> 3%"), ("R2", True, "<0.5% nadir -> 1.2%"), ("R3", False, "2% -> 3% is 1.5-fold")]


@pytest.mark.parametrize(("patient", "rises", "why"), RISE, ids=[r[0] for r in RISE])
def test_rising_vaf(patient: str, rises: bool, why: str) -> None:
    d, _ = interpret(read("rise.csv")[patient])
    assert bool(d["rising"]) is rises, why
    assert ("rising-erbb2-v777l" in flag_ids(d)) is rises
    if rises:
        assert d["rising"][0]["sample"] == f"{patient}-2"


# --------------------------------------------------------------------------- emergent alterations


def _stub(alt: PlasmaAlteration) -> AlleleClass:
    """Stand-in for the variant classifier, so the emergence rules are tested on their own."""
    table = {("ERBB2", "p.T798I"): "resistance", ("ERBB2", "p.T798M"): "resistance",
             ("ERBB2", "p.L869R"): "activating", ("ERBB2", "p.V777L"): "activating"}
    return AlleleClass(table.get(alt.key, "unknown"), ("hanker2017",), "test stub")


def test_new_gatekeeper_is_a_confident_resistance_flag() -> None:
    """Hanker 2017: T798I appeared in plasma at progression on neratinib (domain-facts §3.2)."""
    s = read("gatekeeper.csv", assessments="gatekeeper_assessments.csv")["G1"]
    d, _ = interpret(s, classify=_stub)
    (e,) = d["emergent"]
    assert (e["gene"], e["alteration"], e["first_sample"]) == ("ERBB2", "p.T798I", "G1-2")
    assert e["role"].startswith("ERBB2 resistance allele")
    assert e["seen_in"] == ["G1-2", "G1-3"]
    assert e["clonality"]["ratio"] == pytest.approx(0.015 / (0.06 / 2))
    c = e["certainty"]
    # expected baseline VAF: 1.5% x (8% / 6%) = 2%; caller needs max(3, ceil(0.002 x 4000)) = 8 reads of 4000
    assert c["assumed_vaf"] == pytest.approx(0.02)
    assert c["min_reads"] == 8
    assert c["p_miss"] == pytest.approx(binom.cdf(7, 4000, 0.02))
    assert c["p_miss"] < 1e-20 and "with confidence" in c["statement"]
    flag = next(f for f in d["flags"] if f["id"] == "emergent-erbb2-t798i")
    assert flag["kind"] == "resistance" and "hanker2017" in flag["sources"]
    assert not any("confirm" in t for t in d["missing_tests"])  # seen in two draws
    assert not any("progression" in t for t in d["missing_tests"])  # a draw within 28 days of PD


def test_emergent_at_low_depth_says_it_may_have_been_missed() -> None:
    d, _ = interpret(read("gatekeeper.csv")["G2"], classify=_stub)
    (e,) = d["emergent"]
    # depth 150, LOD 1% -> k = max(3, ceil(1.5)) = 3; true VAF 1% -> P(X < 3) = binom.cdf(2, 150, 0.01)
    assert e["certainty"]["p_miss"] == pytest.approx(binom.cdf(2, 150, 0.01))
    assert e["certainty"]["p_miss"] > 0.5
    assert "may have been present" in e["certainty"]["statement"]
    assert any("confirm the new ERBB2 p.T798M" in t for t in d["missing_tests"])


def test_variant_classifier_calls_t798i_a_resistance_allele() -> None:
    """The real classifier (interpret/variants.py, variant_rules.yaml erbb2-t798-gatekeeper)."""
    d, _ = interpret(read("gatekeeper.csv")["G1"])
    (e,) = d["emergent"]
    assert e["effect"] == "resistance" and e["role"].startswith("ERBB2 resistance allele")
    assert "emergent-erbb2-t798i" in flag_ids(d)
    assert d["baseline"]["alterations"][0]["effect"] == "activating"  # L869R (Hanker 2017)


def test_second_activating_erbb2_event_is_compound_her2() -> None:
    d, _ = interpret(read("basic.csv")["P1"], classify=lambda a: AlleleClass("activating"))
    t798 = next(e for e in d["emergent"] if e["alteration"] == "p.T798I")
    assert t798["role"] == "second ERBB2 activating event (compound HER2)"


def test_pik3ca_is_a_watch_item_not_a_resistance_call() -> None:
    d, _ = interpret(read("basic.csv")["P1"])
    flag = next(f for f in d["flags"] if f["id"] == "emergent-pik3ca-h1047r")
    assert flag["kind"] == "watch"


def test_progression_without_plasma_asks_for_ctdna_at_progression() -> None:
    d, _ = interpret(read("gatekeeper.csv", assessments="gatekeeper_assessments.csv")["G3"])
    assert any(t.startswith("ctDNA at progression (PD on 2024-08-01)") for t in d["missing_tests"])
    assert [a["response"] for a in d["timeline"]["assessments"]] == ["PR", "PD"]


def test_binomial_miss_model_matches_the_sum_of_probabilities() -> None:
    p, k = miss_probability(depth=1000, vaf=0.004, lod=0.002, min_alt_reads=3)
    assert k == 3
    assert p == pytest.approx(sum(math.comb(1000, i) * 0.004**i * 0.996 ** (1000 - i) for i in range(3)))


# --------------------------------------------------------------------------- failed QC and missing samples


def test_failed_qc_samples_are_excluded_with_a_note() -> None:
    d, caught = interpret(read("failed_qc.csv")["F1"])
    assert [x["sample_id"] for x in d["excluded"]] == ["F1-1", "F1-2"]
    assert d["baseline"]["sample_id"] == "F1-0"  # the last *passing* draw before start
    assert any("F1-1" in w and "failed QC" in w for w in d["warnings"])
    assert any("F1-2" in w for w in caught)
    assert d["on_treatment"]["early_sample"] is None
    assert any(t.startswith("repeat ctDNA at week 4 (day 28") for t in d["missing_tests"])
    assert {m["status"] for m in d["molecular_response"]} == {"not-evaluable"}


def test_no_passing_sample_at_all() -> None:
    d, _ = interpret(read("failed_qc.csv")["F2"])
    assert d["baseline"] is None
    assert any(t.startswith("baseline plasma ctDNA") for t in d["missing_tests"])
    assert len(d["excluded"]) == 2


# --------------------------------------------------------------------------- KCSG AL20-17 (seed-002)

KCSG = [("K1", "high"), ("K2", "low"), ("K3", "undetermined"), ("K4", "low")]


@pytest.mark.parametrize(("patient", "category"), KCSG, ids=[k[0] for k in KCSG])
def test_kcsg_tumour_fraction_cutoff(patient: str, category: str) -> None:
    """seed-002: "The median ctDNA fraction was 5.7% (range 0.1-72.0), with a cut-off of 11.5% identified
    as most informative. Higher ctDNA fractions were linked to shorter PFS (4.87 vs. 2.01 months;
    HR = 3.81, P = 0.02)". K3 is '<15%', which straddles 11.5%; K4 sits on the cut-off (at or below)."""
    d, caught = interpret(read("kcsg.csv", tissue="kcsg_tissue.csv")[patient])
    b = d["baseline"]
    assert b["tumour_fraction_category"] == category
    assert b["cutoff"] == 0.115 and b["cutoff_source"] == "seed-002"
    # the cut-off was chosen in-sample: the caveat travels with every use
    assert "in-sample" in b["cutoff_caveat"]
    assert any("in-sample" in w for w in d["warnings"]) and any("in-sample" in w for w in caught)
    assert ("ctdna-tumour-fraction-high" in flag_ids(d)) is (category == "high")
    for f in d["flags"]:
        if f["id"].startswith("ctdna-tumour-fraction"):
            assert "in-sample" in f["caveat"]


def test_kcsg_tissue_erbb2_not_in_plasma() -> None:
    """seed-002: "In these 3 patients, where baseline ctDNA did not detect HER2 mutations, 2 achieved SD and
    1 experienced PD, suggesting limited clinical benefit from dual anti-HER2 therapy"."""
    series = read("kcsg.csv", tissue="kcsg_tissue.csv")
    d, _ = interpret(series["K2"])
    assert d["baseline"]["erbb2"]["tissue_alterations_in_plasma"] is False
    flag = next(f for f in d["flags"] if f["id"] == "erbb2-not-detected-in-plasma")
    assert {"seed-002", "ma2017"} <= set(flag["sources"])
    assert "79%" in flag["statement"]  # MutHER plasma sensitivity, so absence may be technical
    (miss,) = d["baseline"]["erbb2"]["miss_probability"]
    assert miss["p_miss"] == pytest.approx(binom.cdf(11, 3000, 0.025))  # k = ceil(0.004 x 3000) = 12
    d1, _ = interpret(series["K1"])
    assert d1["baseline"]["erbb2"]["tissue_alterations_in_plasma"] is True
    assert "erbb2-not-detected-in-plasma" not in flag_ids(d1)


def test_clonality_is_vaf_against_half_the_tumour_fraction() -> None:
    d, _ = interpret(read("kcsg.csv")["K1"])
    (alt,) = d["baseline"]["alterations"]
    assert alt["clonality"]["ratio"] == pytest.approx(0.09 / 0.10)
    assert alt["clonality"]["call"] == "clonal"
    d3, _ = interpret(read("kcsg.csv")["K3"])
    assert d3["baseline"]["alterations"][0]["clonality"]["call"] == "undetermined"  # censored fraction


# --------------------------------------------------------------------------- FB-10 (seed-003)

FB10 = [
    # patient, undetectable, undetectable-or-reduced, why
    ("A1", "response", "response", "8 copies -> not called at a 2.5-copy threshold: undetectable"),
    ("A2", "no-response", "response", "10 -> 6 copies, a 40% reduction"),
    ("A3", "no-response", "no-response", "6 -> 5.5 copies, 8% is within draw-to-draw noise"),
    ("A4", "undetermined", "undetermined", "3 copies -> '<4': the threshold is above the baseline"),
    ("A5", "not-applicable", "not-applicable", "no plasma amplification at baseline"),
]


@pytest.mark.parametrize(("patient", "undetectable", "either", "why"), FB10, ids=[f[0] for f in FB10])
def test_fb10_plasma_erbb2_amplification(patient: str, undetectable: str, either: str, why: str) -> None:
    """seed-003: "Six responding patients with cfDNA ERBB2 amplification had either a reduction in
    amplification (n = 1) or undetectable amplification (n = 5) early in the treatment cycle, indicating
    that molecular response in cfDNA may be an early predictor of clinical response.\""""
    d, _ = interpret(read("fb10.csv")[patient])
    assert response(d, "fb10-amp-undetectable")["status"] == undetectable, why
    assert response(d, "fb10-amp-clearance-or-reduction")["status"] == either, why
    assert response(d, "fb10-amp-undetectable")["source"] == "seed-003"


def test_definitions_can_be_chosen_by_name() -> None:
    d, _ = interpret(read("fb10.csv")["A2"], definitions=["fb10-amp-clearance-or-reduction"])
    assert [m["definition"] for m in d["molecular_response"]] == ["fb10-amp-clearance-or-reduction"]
    m = d["molecular_response"][0]
    assert m["kind"] == "reduction" and m["relative_change"] == pytest.approx(-0.4)


# --------------------------------------------------------------------------- completeness

COVERED = {"fb10-amp-undetectable", "fb10-amp-clearance-or-reduction", "mean-vaf-halved", "all-mutations-cleared",
           "tumour-fraction-halved"}


def test_every_response_definition_has_a_case(kb) -> None:
    from nerasense.knowledge.ctdna_schema import MolecularResponseDefinition

    ids = {d.id for d in kb.of("ctdna_response_definitions", MolecularResponseDefinition)}
    assert ids == COVERED, "add a hand-made case for each new definition (and list it here)"


def test_every_number_not_from_a_paper_is_a_labelled_convention(kb) -> None:
    from nerasense.knowledge.ctdna_schema import CtdnaParameter

    for p in kb.of("ctdna_parameters", CtdnaParameter):
        assert p.source in kb.sources
        if p.is_convention:
            assert p.rationale, p.id


# --------------------------------------------------------------------------- edges


def test_without_treatment_start_the_first_draw_is_baseline_with_a_warning() -> None:
    d, caught = interpret(read("edge.csv")["E1"])
    assert d["baseline"]["sample_id"] == "E1-0"
    assert d["on_treatment"]["early_sample"]["day"] == 30
    assert any("no treatment start" in w for w in caught)
    assert response(d, "mean-vaf-halved")["status"] == "response"  # 4% -> 0.6%


def test_tissue_mutation_absent_from_plasma_rows_uses_sample_level_depth() -> None:
    """The tissue allele (written Val777Leu) has no row at baseline: the sample's depth and LOD stand in."""
    series = read("edge.csv", tissue="edge_tissue.csv")["E2"]
    assert series.tissue[0].alteration == "p.V777L"
    d, _ = interpret(series)
    (miss,) = d["baseline"]["erbb2"]["miss_probability"]
    assert (miss["depth"], miss["min_reads"]) == (3000, 12)
    assert miss["p_miss"] == pytest.approx(binom.cdf(11, 3000, 0.025))
    assert "erbb2-not-detected-in-plasma" in flag_ids(d)
    # seen later in plasma: a re-detection of a tissue allele, not an acquired one
    (e,) = d["emergent"]
    assert e["known_in_tissue"] and e["role"].startswith("known in tissue")
    flag = next(f for f in d["flags"] if f["id"] == "emergent-erbb2-v777l")
    assert flag["kind"] == "watch"


def test_engine_views_of_the_flags() -> None:
    from nerasense.interpret.ctdna import interpret_ctdna

    s = read("basic.csv")["P1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = interpret_ctdna(s)
    assert [x["id"] for x in f.prognostic_modifiers] == ["ctdna-tumour-fraction-high"]
    assert [x["id"] for x in f.resistance_flags] == ["emergent-erbb2-t798i"]
    assert {x["kind"] for x in f.flags} == {"prognostic", "resistance", "watch", "progression"}


ENGINE = [
    # file, tissue, patient, expected engine facts (tested, tf_high, erbb2_detected, erbb2_amplified)
    ("kcsg.csv", "kcsg_tissue.csv", "K1", (True, True, True, None)),
    ("kcsg.csv", "kcsg_tissue.csv", "K2", (True, False, False, None)),
    ("kcsg.csv", "kcsg_tissue.csv", "K3", (True, None, True, None)),
    ("fb10.csv", None, "A1", (True, True, True, True)),  # no tissue: the plasma ERBB2 alteration counts
    ("failed_qc.csv", None, "F2", (False, None, None, None)),
]


@pytest.mark.parametrize(("name", "tissue", "patient", "want"), ENGINE, ids=[e[2] for e in ENGINE])
def test_engine_facts(name: str, tissue: str | None, patient: str, want: tuple[bool | None, ...]) -> None:
    from nerasense.interpret.ctdna import interpret_ctdna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        facts = interpret_ctdna(read(name, tissue=tissue)[patient]).engine_facts()
    keys = ("ctdna.tested", "ctdna.tumour_fraction_high", "ctdna.erbb2_detected", "ctdna.erbb2_amplified")
    assert tuple(facts[k] for k in keys) == want


def test_week4_sample_is_requested_only_while_it_can_still_be_drawn() -> None:
    d, caught = interpret(read("gatekeeper.csv")["G2"])  # baseline, then a draw on day 143 only
    assert not any("week 4" in t for t in d["missing_tests"])
    assert any("no on-treatment sample in days 7-42" in w for w in caught)


def test_missing_tumour_fraction_and_tissue_are_requested() -> None:
    from nerasense.ingest.ctdna import COLUMNS, build_series

    row = {c: "" for c in COLUMNS} | {"patient_id": "M", "sample_id": "M0", "date": "2024-01-05", "qc": "pass",
                                     "treatment_start": "2024-01-10", "gene": "TP53", "alteration": "p.R175H",
                                     "vaf": "0.03"}
    d, caught = interpret(build_series([row])["M"])
    assert d["baseline"]["tumour_fraction_category"] == "not measured"
    assert not any("in-sample" in w for w in caught)  # the cut-off was not used, so no caveat
    tests = " | ".join(d["missing_tests"])
    assert "plasma tumour (ctDNA) fraction at baseline" in tests
    assert "tissue sequencing result for ERBB2" in tests
    assert "repeat ctDNA at week 4" in tests
