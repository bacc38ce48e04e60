"""The facts evidence conditions are written over, and how each is derived from a patient.

A fact is ``True``/``False``, a number, a string or ``None`` (unknown). Unknown is not false: a
condition that needs an unknown fact is itself unknown, and the test that would supply the fact is
listed as missing. Each fact names that test in :data:`FACTS`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from nerasense.domain.patient import HER2_DIRECTED, Agent, Patient, ReceptorStatus
from nerasense.interpret.her2_testing import Her2Interpretation

FactValue = bool | int | float | str | None


# Population families: which dimension of a trial population a fact describes. A cohort whose condition
# (with its regimen's) constrains more families fits a patient more closely (docs/scoring.md §5).
POPULATION_FAMILIES = ("tumour type", "HER2 alteration", "hormone receptors", "setting and line", "prior drugs",
                       "disease features")


@dataclass(frozen=True)
class FactSpec:
    description: str
    test: str  # the test or record that supplies the fact when it is missing
    family: str | None = None  # one of POPULATION_FAMILIES, or None for modifiers (co-alterations, ctDNA)


FACTS: dict[str, FactSpec] = {
    "tumour.code": FactSpec("OncoTree code", "tumour type (OncoTree code)"),
    "tumour.breast": FactSpec("breast cancer (OncoTree BREAST tissue)", "tumour type (OncoTree code)", "tumour type"),
    "tumour.lobular": FactSpec("lobular breast carcinoma (ILC and below)", "histological subtype", "tumour type"),
    "tumour.nsclc": FactSpec("non-small-cell lung cancer", "tumour type (OncoTree code)", "tumour type"),
    "tumour.bladder": FactSpec("bladder / urothelial cancer", "tumour type (OncoTree code)", "tumour type"),
    "tumour.colorectal": FactSpec("colorectal cancer", "tumour type (OncoTree code)", "tumour type"),
    "tumour.biliary": FactSpec("biliary tract cancer (including ampullary)", "tumour type (OncoTree code)", "tumour type"),
    "tumour.gallbladder": FactSpec("gallbladder cancer", "tumour type (OncoTree code)", "tumour type"),
    "tumour.cholangiocarcinoma": FactSpec("cholangiocarcinoma (intra- or extrahepatic)",
                                          "tumour type (OncoTree code)",
                                          "tumour type"),
    "tumour.ampullary": FactSpec("ampullary carcinoma", "tumour type (OncoTree code)", "tumour type"),
    "tumour.cervical": FactSpec("cervical cancer", "tumour type (OncoTree code)", "tumour type"),
    "tumour.gastroesophageal": FactSpec("oesophageal or gastric cancer", "tumour type (OncoTree code)", "tumour type"),
    "tumour.endometrial": FactSpec("endometrial cancer", "tumour type (OncoTree code)", "tumour type"),
    "tumour.ovarian": FactSpec("ovarian / fallopian tube cancer", "tumour type (OncoTree code)", "tumour type"),
    "tumour.salivary": FactSpec("salivary gland cancer", "tumour type (OncoTree code)", "tumour type"),
    "setting": FactSpec("disease setting", "disease setting (early / metastatic)", "setting and line"),
    "sex": FactSpec("female or male", "sex"),
    "age_years": FactSpec("age in years", "age"),
    "ecog": FactSpec("ECOG performance status", "ECOG performance status"),
    "hr.positive": FactSpec("ER and/or PR positive (including ER-low)", "ER/PR immunohistochemistry", "hormone receptors"),
    "her2.tested": FactSpec("any HER2 IHC or ISH result", "HER2 IHC (with reflex ISH)"),
    "her2.positive": FactSpec("HER2-positive by ASCO/CAP", "HER2 IHC (with reflex ISH if 2+)", "HER2 alteration"),
    "her2.category": FactSpec("HER2-positive / -low / -ultralow / -0", "HER2 IHC (with reflex ISH if 2+)", "HER2 alteration"),
    "her2.ihc": FactSpec("ASCO/CAP IHC score", "HER2 IHC score", "HER2 alteration"),
    "her2.h_score_high": FactSpec("H-score at or above 240 (NALA median)",
                                  "HER2 IHC H-score (% cells at 1+/2+/3+)",
                                  "HER2 alteration"),
    "her2.hermark_positive": FactSpec("HERmark H2T positive", "HERmark total HER2 (H2T)", "HER2 alteration"),
    "her2.p95_high": FactSpec("p95HER2 at or above 2.8 RF/mm2 (NALA)", "p95HER2 (VeraTag)", "HER2 alteration"),
    "erbb2.sequenced": FactSpec("ERBB2 was sequenced", "ERBB2 sequencing (tissue or plasma NGS)"),
    "erbb2.activating_mutation": FactSpec("an activating ERBB2 mutation",
                                          "ERBB2 sequencing (tissue or plasma NGS)",
                                          "HER2 alteration"),
    "erbb2.unclassified": FactSpec("ERBB2 variants of unknown effect found by sequencing",
                                   "classification of the ERBB2 variants of unknown effect"),
    "erbb2.kinase_domain": FactSpec("an activating ERBB2 mutation in the kinase domain",
                                    "ERBB2 sequencing (tissue or plasma NGS)", "HER2 alteration"),
    "erbb2.l755": FactSpec("an ERBB2 L755 alteration (lower benefit, MutHER)",
                           "ERBB2 sequencing (tissue or plasma NGS)",
                           "HER2 alteration"),
    "erbb2.gatekeeper": FactSpec("ERBB2 gatekeeper T798 resistance mutation",
                                 "ERBB2 sequencing (tissue or plasma NGS)",
                                 "HER2 alteration"),
    "erbb2.resistance_mutation": FactSpec("any ERBB2 resistance mutation",
                                          "ERBB2 sequencing (tissue or plasma NGS)",
                                          "HER2 alteration"),
    "erbb2.compound": FactSpec("two or more activating HER2 events, or activating HER2 + HER3",
                               "ERBB2/ERBB3 sequencing", "HER2 alteration"),
    "erbb2.amplified": FactSpec("ERBB2 amplification (ISH group 1 or copy-number call)",
                                "ERBB2 ISH or copy number",
                                "HER2 alteration"),
    "erbb3.activating_mutation": FactSpec("an activating ERBB3 mutation", "ERBB3 sequencing", "HER2 alteration"),
    "pik3ca.activating_mutation": FactSpec("an activating PIK3CA mutation", "PIK3CA sequencing"),
    "pten.loss": FactSpec("PTEN loss (deletion or loss-of-function)", "PTEN sequencing / copy number"),
    "tp53.mutation": FactSpec("a TP53 mutation", "TP53 sequencing"),
    "kras.mutation": FactSpec("a KRAS mutation", "KRAS sequencing"),
    "braf.mutation": FactSpec("a BRAF mutation", "BRAF sequencing"),
    "egfr.amplified": FactSpec("EGFR amplification", "EGFR copy number"),
    "ctdna.tested": FactSpec("baseline ctDNA result available", "baseline ctDNA (tumour fraction, ERBB2)"),
    "ctdna.tumour_fraction_high": FactSpec("ctDNA fraction above the KCSG cut-off", "baseline ctDNA tumour fraction"),
    "ctdna.erbb2_detected": FactSpec("tissue ERBB2 alteration detected in plasma", "baseline plasma ERBB2 genotyping"),
    "ctdna.erbb2_amplified": FactSpec("plasma ERBB2 amplification", "plasma ERBB2 copy number"),
    "prior.any_systemic": FactSpec("any prior systemic therapy", "treatment history", "setting and line"),
    "prior.trastuzumab": FactSpec("prior trastuzumab", "treatment history", "prior drugs"),
    "prior.pertuzumab": FactSpec("prior pertuzumab", "treatment history", "prior drugs"),
    "prior.tdm1": FactSpec("prior T-DM1", "treatment history", "prior drugs"),
    "prior.tdxd": FactSpec("prior T-DXd", "treatment history", "prior drugs"),
    "prior.lapatinib": FactSpec("prior lapatinib", "treatment history", "prior drugs"),
    "prior.tucatinib": FactSpec("prior tucatinib", "treatment history", "prior drugs"),
    "prior.neratinib": FactSpec("prior neratinib", "treatment history", "prior drugs"),
    "prior.cdk46": FactSpec("prior CDK4/6 inhibitor", "treatment history", "prior drugs"),
    "prior.fulvestrant": FactSpec("prior fulvestrant", "treatment history", "prior drugs"),
    "prior.metastatic_her2_regimens": FactSpec("HER2-directed regimens for metastatic disease",
                                               "treatment history",
                                               "setting and line"),
    "prior.trastuzumab_months_since_end": FactSpec("months since trastuzumab ended",
                                                   "date trastuzumab ended and assessment date", "prior drugs"),
    "residual_disease": FactSpec("residual invasive disease after neoadjuvant therapy",
                                 "residual invasive disease at surgery after neoadjuvant therapy (surgical pathology report)",
                                 "disease features"),
    "cns.metastases": FactSpec("brain metastases", "brain imaging", "disease features"),
}


@dataclass(frozen=True)
class InterpretedAlteration:
    """One alteration with its interpretation, flattened for fact derivation and the report."""

    gene: str
    kind: str
    protein_change: str | None
    effect: str
    domain: str | None
    exon: int | None
    hotspot: bool
    lower_benefit: bool
    truncating: bool
    rules: tuple[str, ...]
    evidence: tuple[str, ...]
    reason: str
    unverified: tuple[str, ...]
    vaf: float | None
    origin: str
    record: str | None
    # the classification in OncoKB's vocabulary (issue 16), shown beside the call on neratinib
    oncogenicity: str = "unknown"
    mutation_effect: str = "unknown"
    classification_level: str | None = None


@dataclass(frozen=True)
class TumourLineage:
    """The OncoTree ancestry of the patient's tumour code (codes from the code up to the tissue)."""

    code: str
    ancestors: tuple[str, ...]
    tissue: str


def derive_facts(
    patient: Patient,
    her2: Her2Interpretation,
    alterations: list[InterpretedAlteration] | None,
    lineage: TumourLineage | None,
    lineage_codes: dict[str, tuple[str, ...]],
    fact_rules: dict[str, tuple[str, ...]],
    ctdna_high_cutoff: float,
) -> dict[str, FactValue]:
    """Every fact of :data:`FACTS` for one patient (None where unknown).

    ``lineage_codes`` maps tumour facts (``tumour.breast``) to the OncoTree codes whose subtree they
    cover; ``fact_rules`` maps genomic facts (``erbb2.gatekeeper``) to variant-rule ids; both come from
    knowledge data, as does the ctDNA cut-off.
    """
    f: dict[str, FactValue] = dict.fromkeys(FACTS)
    if lineage is not None:
        f["tumour.code"] = lineage.code
        path = set(lineage.ancestors) | {lineage.code}
        for fact, codes in lineage_codes.items():
            f[fact] = bool(path & set(codes))
    f["setting"] = patient.setting.value if patient.setting else None
    f["sex"], f["age_years"], f["ecog"] = patient.sex, patient.age_years, patient.ecog
    receptors = [r for r in (patient.er, patient.pr) if r is not None]
    if any(r in (ReceptorStatus.POSITIVE, ReceptorStatus.LOW) for r in receptors):
        f["hr.positive"] = True
    elif patient.er is not None and patient.pr is not None:
        f["hr.positive"] = False
    _her2_facts(f, her2)
    _genomic_facts(f, alterations, fact_rules)
    _ctdna_facts(f, patient, ctdna_high_cutoff)
    _prior_facts(f, patient)
    f["residual_disease"] = patient.residual_disease
    f["cns.metastases"] = patient.cns_metastases
    return f


def _her2_facts(f: dict[str, FactValue], her2: Her2Interpretation) -> None:
    tested = her2.result is not None
    f["her2.tested"] = tested
    if her2.result in ("positive", "negative", "negative-with-comment"):
        f["her2.positive"] = her2.result == "positive"
    f["her2.category"] = her2.category
    ihc_rule = next((r["rule"] for r in her2.rules if r["rule"].startswith("ihc ") and "->" not in r["rule"]), None)
    if ihc_rule:
        score = ihc_rule.split(" ", 1)[1]
        f["her2.ihc"] = "0" if score in ("null", "ultralow") else score
    f["her2.h_score_high"] = her2.h_score_high
    if her2.hermark is not None and her2.hermark.get("category") in ("positive", "negative"):
        f["her2.hermark_positive"] = her2.hermark["category"] == "positive"
    if her2.p95 is not None:
        f["her2.p95_high"] = bool(her2.p95["high"])
    if her2.amplified is not None:  # breast ISH group 1, or the tumour scheme's ISH cut-off
        f["erbb2.amplified"] = her2.amplified


def _genomic_facts(
    f: dict[str, FactValue], alterations: list[InterpretedAlteration] | None, fact_rules: dict[str, tuple[str, ...]]
) -> None:
    if alterations is None:
        f["erbb2.sequenced"] = False
        return
    f["erbb2.sequenced"] = True
    by_gene: dict[str, list[InterpretedAlteration]] = {}
    for a in alterations:
        by_gene.setdefault(a.gene, []).append(a)
    erbb2 = [a for a in by_gene.get("ERBB2", []) if a.kind not in ("amplification", "gain", "loss", "deletion")]
    activating = [a for a in erbb2 if a.effect == "activating"]
    unknown = [a for a in erbb2 if a.effect == "unknown"]
    f["erbb2.activating_mutation"] = True if activating else (None if unknown else False)
    if unknown:  # sequenced, found, not classified: what is missing is a classification, not a test
        f["erbb2.unclassified"] = ", ".join(sorted({a.protein_change or a.kind for a in unknown}))
    if activating:
        f["erbb2.kinase_domain"] = any("kinase" in (a.domain or "").lower() for a in activating)
    f["erbb2.l755"] = any(a.lower_benefit for a in erbb2)
    f["erbb2.resistance_mutation"] = any(a.effect == "resistance" for a in erbb2)
    for fact, rule_ids in fact_rules.items():
        f[fact] = any(bool(set(a.rules) & set(rule_ids)) for a in alterations)
    erbb3_act = [a for a in by_gene.get("ERBB3", []) if a.effect == "activating"]
    f["erbb3.activating_mutation"] = bool(erbb3_act)
    f["erbb2.compound"] = len({a.protein_change for a in activating}) >= 2 or (bool(activating) and bool(erbb3_act))
    cna = {a.gene: a.kind for a in alterations if a.kind in ("amplification", "deletion")}
    if cna.get("ERBB2") == "amplification":
        f["erbb2.amplified"] = True
    elif f["erbb2.amplified"] is None and f["erbb2.sequenced"]:
        f["erbb2.amplified"] = False
    f["egfr.amplified"] = cna.get("EGFR") == "amplification"
    f["pik3ca.activating_mutation"] = any(a.effect == "activating" for a in by_gene.get("PIK3CA", []))
    # Genomic PTEN loss as NGS panels count it: deep deletion or a truncating mutation (domain-facts §3.4)
    f["pten.loss"] = any(a.kind == "deletion" or a.truncating for a in by_gene.get("PTEN", []))
    f["tp53.mutation"] = bool(by_gene.get("TP53"))
    f["kras.mutation"] = any(a.kind not in ("amplification", "deletion") for a in by_gene.get("KRAS", []))
    f["braf.mutation"] = any(a.kind not in ("amplification", "deletion") for a in by_gene.get("BRAF", []))


def _ctdna_facts(f: dict[str, FactValue], patient: Patient, cutoff: float) -> None:
    c = patient.ctdna
    f["ctdna.tested"] = c is not None
    if c is None:
        return
    if c.tumour_fraction is not None:
        f["ctdna.tumour_fraction_high"] = c.tumour_fraction > cutoff
    f["ctdna.erbb2_detected"] = c.erbb2_detected
    f["ctdna.erbb2_amplified"] = c.erbb2_amplified


def _prior_facts(f: dict[str, FactValue], patient: Patient) -> None:
    if patient.prior_therapies is None:
        f["prior.metastatic_her2_regimens"] = patient.metastatic_her2_regimens
        return
    given = {agent for t in patient.prior_therapies for agent in t.agents}
    f["prior.any_systemic"] = bool(given)
    for fact, agent in (
        ("prior.trastuzumab", Agent.TRASTUZUMAB), ("prior.pertuzumab", Agent.PERTUZUMAB),
        ("prior.tdm1", Agent.T_DM1), ("prior.tdxd", Agent.T_DXD), ("prior.lapatinib", Agent.LAPATINIB),
        ("prior.tucatinib", Agent.TUCATINIB), ("prior.neratinib", Agent.NERATINIB),
        ("prior.cdk46", Agent.CDK46_INHIBITOR), ("prior.fulvestrant", Agent.FULVESTRANT),
    ):
        f[fact] = agent in given
    counted = sum(1 for t in patient.prior_therapies if t.setting == "metastatic" and set(t.agents) & HER2_DIRECTED)
    f["prior.metastatic_her2_regimens"] = (
        patient.metastatic_her2_regimens if patient.metastatic_her2_regimens is not None else counted
    )
    ends = [t.ended for t in patient.prior_therapies if Agent.TRASTUZUMAB in t.agents and t.ended is not None]
    if ends and patient.assessed_on is not None:
        f["prior.trastuzumab_months_since_end"] = round(_months(max(ends), patient.assessed_on), 2)


def _months(start: dt.date, end: dt.date) -> float:
    # Average Gregorian month (365.2425 / 12 days), the convention used for trial follow-up times.
    return (end - start).days / (365.2425 / 12)

