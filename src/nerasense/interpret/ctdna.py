"""Serial plasma ctDNA read for neratinib: baseline tumour fraction, plasma-tissue concordance,
clonality, early molecular response, and emergent or rising resistance alterations.

Rules and where their numbers come from (all numbers are in ``knowledge/data/ctdna*.yaml``):

* **Baseline tumour fraction** against the KCSG AL20-17 cut-off of 11.5% (seed-002: higher fraction,
  shorter PFS, HR 3.81). The cut-off was chosen in-sample; its caveat is attached to every output that
  uses it.
* **ERBB2 alteration of tissue seen in plasma** (seed-002: the 3 patients whose baseline ctDNA missed
  the HER2 mutation had SD or PD). Non-detection is weighed against MutHER's 79% plasma sensitivity
  (ma2017) and, where depth and tumour fraction allow, a binomial read-sampling model.
* **Clonality**: VAF / (tumour fraction / 2), a convention (ratio cut-off in ``ctdna.yaml``).
* **Molecular response** at the first on-treatment sample in the early window, under every named
  definition of ``ctdna_response.yaml`` (FB-10 ERBB2 amplification clearance, seed-003; mean-VAF and
  tumour-fraction halving and all-mutation clearance, our conventions).
* **Emergent alterations**: detected on treatment, not detected at baseline; meaning from the variant
  classifier and the watch list of ``ctdna_emergent.yaml`` (Hanker 2017 T798I; Smyth 2020 gatekeeper and
  compound HER2; Ma 2022 5/23 acquired). How sure we can be that the allele was absent at baseline is
  the **binomial read-sampling model**: with baseline depth *n*, caller threshold *k* reads
  (max(min-alt-reads, ceil(LOD x n))) and expected baseline VAF *v* (the new VAF scaled by the ratio of
  baseline to current tumour fraction), P(miss) = P(X < k), X ~ Binomial(n, v).

Censoring: a value below the limit of detection lies in ``[0, LOD)``. Every comparison is made on
intervals; a question the interval cannot settle is answered ``undetermined``, never by reading the
value as zero. Failed-QC samples are excluded with a note in ``excluded`` and ``warnings``.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import binom

from nerasense.domain.alterations import AlterationKind
from nerasense.domain.ctdna import (
    AlterationType,
    CtdnaSeries,
    Level,
    PlasmaAlteration,
    PlasmaSample,
    ResponseCategory,
)
from nerasense.errors import InputError, KnowledgeError, NerasenseWarning, Problem, UnverifiedKnowledgeWarning
from nerasense.interpret.variants import interpret_parts
from nerasense.knowledge import KnowledgeBase, default_knowledge
from nerasense.knowledge.ctdna_schema import CtdnaParameter, EmergentWatch, MolecularResponseDefinition
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.schema import Cited, TrialResult

ERBB2 = "ERBB2"
Key = tuple[str, str]


# --------------------------------------------------------------------------- allele classification


@dataclass(frozen=True)
class AlleleClass:
    """What the variant classifier says about one allele, as far as ctDNA reading needs it."""

    effect: str  # activating / resistance / likely-neutral / unknown (design.md contract)
    evidence: tuple[str, ...] = ()
    reason: str = ""


Classifier = Callable[[PlasmaAlteration], AlleleClass]


def classify_allele(alt: PlasmaAlteration, gk: GenomicsKnowledge) -> AlleleClass:
    """The one place ctDNA asks what an allele does: the variant classifier of
    :mod:`nerasense.interpret.variants` (rules in ``variant_rules.yaml``), never a table of our own."""
    kind = alt.variant_kind or (
        AlterationKind.AMPLIFICATION if alt.type is AlterationType.AMPLIFICATION else AlterationKind.OTHER
    )
    reading = interpret_parts(alt.gene, kind, alt.protein, gk)
    return AlleleClass(reading.effect.value, tuple(reading.evidence), reading.reason)


# --------------------------------------------------------------------------- knowledge access


@dataclass(frozen=True)
class CtdnaKnowledge:
    parameters: dict[str, CtdnaParameter]
    definitions: tuple[MolecularResponseDefinition, ...]
    watch: dict[str, EmergentWatch]
    kb_version: str
    trial_results: dict[str, TrialResult]

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> CtdnaKnowledge:
        return cls(
            parameters={p.id: p for p in kb.of("ctdna_parameters", CtdnaParameter)},
            definitions=kb.of("ctdna_response_definitions", MolecularResponseDefinition),
            watch={w.gene: w for w in kb.of("ctdna_emergent_watch", EmergentWatch)},
            kb_version=kb.kb_version,
            trial_results={r.id: r for t in kb.trials.values() for r in t.results},
        )

    def p(self, pid: str) -> CtdnaParameter:
        try:
            return self.parameters[pid]
        except KeyError:
            raise KnowledgeError(f"ctdna.yaml: no parameter with id={pid!r}") from None

    def v(self, pid: str) -> float:
        return self.p(pid).value


# --------------------------------------------------------------------------- findings


@dataclass
class CtdnaFindings:
    """One patient's ctDNA reading; ``to_dict`` is the JSON contract of ``nerasense ctdna``."""

    patient_id: str
    baseline: dict[str, Any] | None = None
    on_treatment: dict[str, Any] | None = None
    molecular_response: list[dict[str, Any]] = field(default_factory=list)
    emergent: list[dict[str, Any]] = field(default_factory=list)
    rising: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    missing_tests: list[str] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    timeline: dict[str, Any] = field(default_factory=dict)
    rules: list[dict[str, str]] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kb_version: str = ""

    @property
    def prognostic_modifiers(self) -> list[dict[str, Any]]:
        """Flags that shift the expected outcome (high tumour fraction, tissue ERBB2 missing in plasma)."""
        return [f for f in self.flags if f["kind"] == "prognostic"]

    @property
    def resistance_flags(self) -> list[dict[str, Any]]:
        """Acquired alterations with published evidence of neratinib resistance."""
        return [f for f in self.flags if f["kind"] == "resistance"]

    def engine_facts(self) -> dict[str, bool | None]:
        """Baseline facts under the names the engine's evidence is written over (``ctdna.*`` in
        engine/facts.py); None = unknown. Lets a patient file's ``ctdna.series_file`` feed the engine."""
        b = self.baseline
        if b is None:
            return {"ctdna.tested": False, "ctdna.tumour_fraction_high": None, "ctdna.erbb2_detected": None,
                    "ctdna.erbb2_amplified": None}
        category = b["tumour_fraction_category"]
        erbb2 = b["erbb2"]
        detected = erbb2["tissue_alterations_in_plasma"]
        if detected is None and erbb2["plasma_detected"]:
            detected = True  # no tissue result, but plasma carries an ERBB2 alteration
        return {
            "ctdna.tested": True,
            "ctdna.tumour_fraction_high": {"high": True, "low": False}.get(category),
            "ctdna.erbb2_detected": detected,
            "ctdna.erbb2_amplified": b["erbb2_amplified"],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "baseline": self.baseline,
            "on_treatment": self.on_treatment,
            "molecular_response": list(self.molecular_response),
            "emergent": list(self.emergent),
            "rising": list(self.rising),
            "flags": list(self.flags),
            "missing_tests": list(self.missing_tests),
            "excluded": list(self.excluded),
            "timeline": self.timeline,
            "rules": list(self.rules),
            "unverified": list(self.unverified),
            "warnings": list(self.warnings),
        }


class _Trace:
    def __init__(self, out: CtdnaFindings) -> None:
        self.out = out

    def used(self, rule: str, fact: Cited, why: str) -> None:
        entry = {"rule": rule, "why": why, "source": fact.source, "verification": fact.verification.value}
        if entry not in self.out.rules:
            self.out.rules.append(entry)
        if fact.unverified and why not in self.out.unverified:
            self.out.unverified.append(f"{rule}: {why}")
            warnings.warn(f"{rule} rests on a fact not verified against its source ({fact.source})",
                          UnverifiedKnowledgeWarning, stacklevel=3)

    def warn(self, message: str) -> None:
        if message not in self.out.warnings:
            self.out.warnings.append(message)
            warnings.warn(message, NerasenseWarning, stacklevel=3)

    def missing(self, test: str) -> None:
        if test not in self.out.missing_tests:
            self.out.missing_tests.append(test)

    def flag(self, fid: str, kind: str, statement: str, sources: Sequence[str], **extra: Any) -> None:
        self.out.flags.append({"id": fid, "kind": kind, "statement": statement, "sources": list(sources), **extra})


# --------------------------------------------------------------------------- helpers


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.3g}%"


def _level_dict(level: Level | None, percent: bool = True) -> dict[str, Any] | None:
    if level is None:
        return None
    high = level.high
    return {
        "detected": level.detected,
        "value": level.value,
        "lod": level.lod,
        "low": level.low,
        "high": None if math.isinf(high) else high,
        "text": level.describe(percent),
    }


def _day(sample: PlasmaSample, anchor: dt.date | None) -> int | None:
    return None if anchor is None else (sample.collected - anchor).days


def _level_at(sample: PlasmaSample, key: Key, kind: AlterationType) -> Level | None:
    """The level of ``key`` in ``sample``. An alteration absent from the sample's rows is read as not
    detected below the sample-level LOD (for mutations), or unknown when no LOD was reported."""
    alt = sample.find(key)
    if alt is not None:
        return alt.level
    if kind is AlterationType.MUTATION:
        return Level(detected=False, lod=sample.lod)
    return None


def miss_probability(depth: int, vaf: float, lod: float | None, min_alt_reads: int) -> tuple[float, int]:
    """Binomial read-sampling model: P(fewer than k supporting reads | depth, true VAF), and k.

    k = max(min_alt_reads, ceil(lod x depth)); X ~ Binomial(depth, vaf); P(miss) = P(X <= k - 1).
    """
    k = max(int(min_alt_reads), math.ceil(lod * depth) if lod is not None else 0)
    vaf = min(max(vaf, 0.0), 1.0)
    return float(binom.cdf(k - 1, depth, vaf)), k


# --------------------------------------------------------------------------- the reading


def interpret_ctdna(
    series: CtdnaSeries,
    kb: KnowledgeBase | None = None,
    definitions: Sequence[str] | None = None,
    classify: Classifier | None = None,
) -> CtdnaFindings:
    """Read one patient's plasma series. ``definitions`` limits molecular-response definitions by id;
    ``classify`` replaces the variant classifier (tests)."""
    kb = kb or default_knowledge()
    if classify is None:
        gk = GenomicsKnowledge(kb)

        def classify(alt: PlasmaAlteration) -> AlleleClass:
            return classify_allele(alt, gk)

    ck = CtdnaKnowledge.from_kb(kb)
    out = CtdnaFindings(patient_id=series.patient_id, kb_version=kb.kb_version)
    trace = _Trace(out)
    chosen = _choose_definitions(ck, definitions)

    passing = []
    for s in series.samples:
        if s.qc_pass:
            passing.append(s)
        else:
            out.excluded.append({"sample_id": s.sample_id, "date": s.collected.isoformat(), "reason": "failed QC"})
            trace.warn(f"sample {s.sample_id} ({s.collected.isoformat()}) failed QC and is excluded from every call")

    baseline, on, anchor = _split(series, passing, ck, trace)
    early = _early_sample(on, anchor, ck, trace)
    out.timeline = _timeline(series, anchor)

    if baseline is None:
        trace.missing("baseline plasma ctDNA drawn before treatment start (none passed QC)")
    else:
        out.baseline = _read_baseline(series, baseline, anchor, ck, trace, classify)
    if early is None and not on:  # with later draws only, the early time point has passed: warned, not requested
        target = int(ck.v("on-treatment-target-day"))
        lo, hi = int(ck.v("on-treatment-window-min-days")), int(ck.v("on-treatment-window-max-days"))
        trace.used("on-treatment window", ck.p("on-treatment-target-day"),
                   f"no passing sample in days {lo}-{hi} after treatment start")
        trace.missing(f"repeat ctDNA at week {target // 7} (day {target} after treatment start; window days {lo}-{hi}) "
                      "to assess early molecular response")
    out.on_treatment = {
        "early_sample": None if early is None else {
            "sample_id": early.sample_id, "date": early.collected.isoformat(), "day": _day(early, anchor),
            "tumour_fraction": _level_dict(early.tumour_fraction),
        },
        "samples": [s.sample_id for s in on],
    }
    for d in chosen:
        out.molecular_response.append(_molecular_response(d, baseline, early, trace))
    if baseline is not None:
        _emergent(series, baseline, on, anchor, ck, trace, classify)
        _rising(baseline, on, ck, trace)
    _progression_sampling(series, passing, ck, trace)
    return out


def _choose_definitions(ck: CtdnaKnowledge, ids: Sequence[str] | None) -> list[MolecularResponseDefinition]:
    if not ids:
        return list(ck.definitions)
    by_id = {d.id: d for d in ck.definitions}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise InputError([Problem("definition", i, ", ".join(sorted(by_id)), "see `nerasense kb show`") for i in unknown])
    return [by_id[i] for i in ids]


def _split(
    series: CtdnaSeries, passing: list[PlasmaSample], ck: CtdnaKnowledge, trace: _Trace
) -> tuple[PlasmaSample | None, list[PlasmaSample], dt.date | None]:
    start = series.treatment_start
    if start is None:
        if not passing:
            return None, [], None
        trace.warn("no treatment start given: the first passing sample is taken as baseline and days are counted "
                   "from it; give treatment_start for the on-treatment window to mean what it says")
        return passing[0], passing[1:], passing[0].collected
    before = [s for s in passing if s.collected <= start]
    after = [s for s in passing if s.collected > start]
    baseline = before[-1] if before else None
    if baseline is not None:
        gap = (start - baseline.collected).days
        limit = int(ck.v("baseline-window-days"))
        if gap > limit:
            trace.used("baseline window", ck.p("baseline-window-days"), f"baseline drawn {gap} days before start")
            trace.warn(f"baseline sample {baseline.sample_id} was drawn {gap} days before treatment start "
                       f"(more than {limit}); it may not reflect the tumour at the start of treatment")
    return baseline, after, start


def _early_sample(
    on: list[PlasmaSample], anchor: dt.date | None, ck: CtdnaKnowledge, trace: _Trace
) -> PlasmaSample | None:
    lo, hi = ck.v("on-treatment-window-min-days"), ck.v("on-treatment-window-max-days")
    for s in on:
        day = _day(s, anchor)
        if day is not None and lo <= day <= hi:
            trace.used("early on-treatment sample", ck.p("on-treatment-window-min-days"),
                       f"{s.sample_id} on day {day} lies in days {lo:g}-{hi:g}")
            return s
    if on:
        trace.warn(f"no on-treatment sample in days {lo:g}-{hi:g}; later samples are read for emergent and rising "
                   "alterations, not for early molecular response")
    return None


def _timeline(series: CtdnaSeries, anchor: dt.date | None) -> dict[str, Any]:
    samples = []
    for s in series.samples:
        samples.append({
            "sample_id": s.sample_id, "date": s.collected.isoformat(), "day": _day(s, anchor), "qc_pass": s.qc_pass,
            "tumour_fraction": _level_dict(s.tumour_fraction),
            "alterations": [
                {"gene": a.gene, "alteration": a.alteration, "type": a.type.value,
                 "level": _level_dict(a.level, percent=a.type is AlterationType.MUTATION), "depth": a.depth}
                for a in s.alterations
            ],
        })
    return {
        "treatment_start": series.treatment_start.isoformat() if series.treatment_start else None,
        "samples": samples,
        "assessments": [{"date": a.date.isoformat(), "day": None if anchor is None else (a.date - anchor).days,
                         "response": a.response.value} for a in series.assessments],
    }


# --------------------------------------------------------------------------- baseline


def _read_baseline(
    series: CtdnaSeries, b: PlasmaSample, anchor: dt.date | None, ck: CtdnaKnowledge, trace: _Trace,
    classify: Classifier,
) -> dict[str, Any]:
    cut = ck.p("tf-high-cutoff")
    tf = b.tumour_fraction
    if tf is None:
        category = "not measured"
        trace.missing("plasma tumour (ctDNA) fraction at baseline, for the KCSG AL20-17 prognostic cut-off")
    elif tf.low > cut.value:
        category = "high"
    elif tf.high <= cut.value:
        category = "low"
    else:
        category = "undetermined"
    if tf is not None:
        trace.used("tumour-fraction cut-off", cut, f"baseline tumour fraction {tf.describe()} vs {_pct(cut.value)}: {category}")
        assert cut.caveat is not None
        trace.warn(cut.caveat)
        result = ck.trial_results.get(cut.trial_result or "")
        hr = f" (PFS HR {result.value:g}, P = {result.p:g}; {result.source})" if result is not None and result.p else ""
        if category == "high":
            trace.flag("ctdna-tumour-fraction-high", "prognostic",
                       f"baseline tumour fraction {tf.describe()} is above the KCSG AL20-17 cut-off of "
                       f"{_pct(cut.value)}: shorter PFS and OS in that trial{hr}", [cut.source],
                       direction="unfavourable", caveat=cut.caveat)
        elif category == "low":
            trace.flag("ctdna-tumour-fraction-low", "prognostic",
                       f"baseline tumour fraction {tf.describe()} is at or below the KCSG AL20-17 cut-off of "
                       f"{_pct(cut.value)}", [cut.source], direction="favourable", caveat=cut.caveat)

    detected = [a for a in b.alterations if a.detected]
    alts = []
    amplified_genes = {a.gene for a in detected if a.type is AlterationType.AMPLIFICATION}
    for a in detected:
        item: dict[str, Any] = {"gene": a.gene, "alteration": a.alteration, "type": a.type.value,
                                "level": _level_dict(a.level, percent=a.type is AlterationType.MUTATION),
                                "effect": classify(a).effect}
        if a.type is AlterationType.MUTATION:
            item["clonality"] = _clonality(a, tf, a.gene in amplified_genes, ck, trace)
        alts.append(item)

    return {
        "sample_id": b.sample_id,
        "date": b.collected.isoformat(),
        "day": _day(b, anchor),
        "tumour_fraction": _level_dict(tf),
        "tumour_fraction_category": category,
        "cutoff": cut.value,
        "cutoff_source": cut.source,
        "cutoff_caveat": cut.caveat,
        "alterations": alts,
        "erbb2": _erbb2_concordance(series, b, ck, trace),
        "erbb2_amplified": _amplified(b, ERBB2),
    }


def _amplified(b: PlasmaSample, gene: str) -> bool | None:
    """Plasma amplification of ``gene``: True if called, False if reported not called, None if not reported."""
    alt = b.find((gene, "amplification"))
    return None if alt is None else alt.detected


def _clonality(
    a: PlasmaAlteration, tf: Level | None, amplified: bool, ck: CtdnaKnowledge, trace: _Trace
) -> dict[str, Any]:
    p = ck.p("clonal-ratio")
    if a.vaf is None or a.vaf.value is None or tf is None or tf.value is None or tf.value == 0:
        return {"ratio": None, "call": "undetermined", "why": "needs a measured VAF and tumour fraction"}
    ratio = a.vaf.value / (tf.value / 2)
    trace.used("clonality", p, f"VAF / (tumour fraction / 2) >= {p.value:g} read as clonal")
    why = f"VAF {_pct(a.vaf.value)} against tumour fraction {_pct(tf.value)}"
    if amplified:
        why += f"; {a.gene} is amplified in this sample, so the ratio may exceed 1"
    return {"ratio": round(ratio, 4), "call": "clonal" if ratio >= p.value else "subclonal", "why": why}


def _erbb2_concordance(series: CtdnaSeries, b: PlasmaSample, ck: CtdnaKnowledge, trace: _Trace) -> dict[str, Any]:
    kcsg = ck.p("kcsg-plasma-negative-patients")
    sens = ck.p("muther-plasma-sensitivity")
    plasma = [a for a in b.alterations if a.gene == ERBB2 and a.detected]
    tissue = [t for t in series.tissue if t.gene == ERBB2]
    tissue_mut = [t for t in tissue if t.alteration != "amplification"]
    result: dict[str, Any] = {
        "plasma_detected": [f"{a.gene} {a.alteration}" for a in plasma],
        "tissue": [f"{t.gene} {t.alteration}" for t in tissue],
        "tissue_alterations_in_plasma": None,
        "miss_probability": [],
    }
    if not tissue:
        if not any(a.type is AlterationType.MUTATION for a in plasma):
            trace.missing("tissue sequencing result for ERBB2, to check plasma-tissue concordance")
        return result
    found = []
    for t in tissue:
        alt = b.find(t.key)
        found.append(alt is not None and alt.detected)
        if (alt is not None and alt.detected) or t.alteration == "amplification":
            continue
        certainty = _absence_certainty(alt, b, ck, trace)
        if certainty is not None:
            result["miss_probability"].append({"alteration": f"{t.gene} {t.alteration}", **certainty})
    result["tissue_alterations_in_plasma"] = all(found)
    missed_mut = [t for t, f in zip(tissue, found, strict=True) if not f and t.alteration != "amplification"]
    if tissue_mut and len(missed_mut) == len(tissue_mut):
        trace.used("tissue ERBB2 mutation not in plasma", kcsg, "KCSG AL20-17: limited benefit when baseline ctDNA missed it")
        trace.used("plasma sensitivity", sens, "plasma misses some tissue HER2 mutations")
        shown = ", ".join(f"{t.gene} {t.alteration}" for t in missed_mut)
        trace.flag(
            "erbb2-not-detected-in-plasma", "prognostic",
            f"tissue {shown} was not detected in baseline plasma. KCSG AL20-17 ({kcsg.source}): \"{kcsg.quote}\". "
            f"Plasma finds about {_pct(sens.value)} of "
            f"tissue HER2 mutations (MutHER, {sens.source}), so non-detection may be technical, more so when the "
            "tumour fraction is low",
            [kcsg.source, sens.source], direction="unfavourable", certainty=_absence_statement(result["miss_probability"]),
        )
    return result


def _absence_statement(misses: list[dict[str, Any]]) -> str:
    if not misses:
        return "cannot say how sure: the baseline depth or a measured tumour fraction is missing"
    return "; ".join(
        f"{m['alteration']}: if clonal (expected VAF {_pct(m['assumed_vaf'])}), P(miss) = {m['p_miss']:.3g} at depth "
        f"{m['depth']} (binomial read sampling, >= {m['min_reads']} reads)"
        for m in misses
    )


def _absence_certainty(
    alt: PlasmaAlteration | None, b: PlasmaSample, ck: CtdnaKnowledge, trace: _Trace
) -> dict[str, Any] | None:
    """How likely a clonal heterozygous variant (VAF = tumour fraction / 2) would have been missed.
    Without a row for the variant, the sample-level depth and LOD stand in for it."""
    depth = alt.depth if alt is not None and alt.depth is not None else b.depth
    tf = b.tumour_fraction
    if depth is None or tf is None or tf.value is None:
        return None
    lod = alt.vaf.lod if alt is not None and alt.vaf is not None and alt.vaf.lod is not None else b.lod
    min_reads = int(ck.v("min-alt-reads"))
    p, k = miss_probability(depth, tf.value / 2, lod, min_reads)
    trace.used("binomial read-sampling model", ck.p("min-alt-reads"), f"caller threshold {k} reads at depth {depth}")
    return {"model": "binomial read sampling", "depth": depth, "min_reads": k, "assumed_vaf": tf.value / 2,
            "p_miss": p, "assumption": "clonal heterozygous variant: VAF = tumour fraction / 2"}


# --------------------------------------------------------------------------- molecular response


def _status_from_change(low: float, high: float, threshold: float) -> str:
    """Relative change interval [low, high] against a fall of ``threshold`` (e.g. 0.5 = halving)."""
    if high <= -threshold:
        return "response"
    if low > -threshold:
        return "no-response"
    return "undetermined"


def _molecular_response(
    d: MolecularResponseDefinition, b: PlasmaSample | None, e: PlasmaSample | None, trace: _Trace
) -> dict[str, Any]:
    out: dict[str, Any] = {"definition": d.id, "name": d.name, "meaning": d.meaning, "source": d.source,
                           "convention": d.is_convention, "status": "not-evaluable", "detail": ""}
    if d.quote:
        out["quote"] = d.quote
    if d.threshold is not None:
        out["threshold"] = d.threshold.value
    if b is None or e is None:
        out["detail"] = "needs a passing baseline sample and an early on-treatment sample"
        return out
    trace.used(f"molecular response: {d.id}", d, d.meaning)
    if d.threshold is not None:
        trace.used(f"molecular response threshold: {d.id}", d.threshold, f"fall of {_pct(d.threshold.value)}")
    if d.measure == "mean-vaf":
        out.update(_mean_vaf(b, e, d))
    elif d.measure == "tumour-fraction":
        out.update(_tf_change(b, e, d))
    elif d.measure == "all-mutations":
        out.update(_all_cleared(b, e))
    else:
        out.update(_erbb2_amp(b, e, d))
    return out


def _mean_vaf(b: PlasmaSample, e: PlasmaSample, d: MolecularResponseDefinition) -> dict[str, Any]:
    tracked = [a for a in b.alterations
               if a.type is AlterationType.MUTATION and a.detected and a.vaf is not None and a.vaf.value]
    if not tracked:
        return {"status": "not-applicable", "detail": "no mutation with a VAF was detected at baseline"}
    base = sum(a.vaf.value for a in tracked if a.vaf and a.vaf.value) / len(tracked)
    lows, highs = [], []
    for a in tracked:
        lv = _level_at(e, a.key, AlterationType.MUTATION)
        lows.append(0.0 if lv is None else lv.low)
        highs.append(math.inf if lv is None else lv.high)
    low, high = sum(lows) / len(lows), sum(highs) / len(highs)
    assert d.threshold is not None
    status = _status_from_change(low / base - 1, high / base - 1, d.threshold.value)
    shown = _pct(low) if low == high else f"between {_pct(low)} and {_pct(high) if math.isfinite(high) else 'unknown'}"
    detail = f"mean VAF of {len(tracked)} baseline mutation(s) {_pct(base)} -> {shown}"
    if status == "undetermined":
        detail += "; a below-LOD value leaves the change on both sides of the threshold"
    return {"status": status, "detail": detail, "baseline_value": base, "on_treatment_low": low,
            "on_treatment_high": high if math.isfinite(high) else None,
            "relative_change_low": low / base - 1,
            "relative_change_high": high / base - 1 if math.isfinite(high) else None}


def _tf_change(b: PlasmaSample, e: PlasmaSample, d: MolecularResponseDefinition) -> dict[str, Any]:
    tb, te = b.tumour_fraction, e.tumour_fraction
    if tb is None or tb.value is None or tb.value == 0:
        return {"status": "not-applicable", "detail": "no measured tumour fraction at baseline"}
    if te is None:
        return {"status": "undetermined", "detail": "no tumour fraction in the on-treatment sample"}
    assert d.threshold is not None
    low, high = te.low / tb.value - 1, te.high / tb.value - 1
    status = _status_from_change(low, high, d.threshold.value)
    return {"status": status, "detail": f"tumour fraction {tb.describe()} -> {te.describe()}",
            "relative_change_low": low, "relative_change_high": high if math.isfinite(high) else None}


def _cleared(base: Level, later: Level | None) -> str:
    """cleared / detected / undetermined for one signal detected at baseline."""
    if later is None:
        return "undetermined"
    if later.detected:
        return "detected"
    if base.value is not None and later.lod is not None and later.lod < base.value:
        return "cleared"
    return "undetermined"


def _all_cleared(b: PlasmaSample, e: PlasmaSample) -> dict[str, Any]:
    tracked = [a for a in b.alterations if a.type is AlterationType.MUTATION and a.detected and a.vaf is not None]
    if not tracked:
        return {"status": "not-applicable", "detail": "no mutation was detected at baseline"}
    calls = {}
    for a in tracked:
        assert a.vaf is not None
        calls[a.label] = _cleared(a.vaf, _level_at(e, a.key, AlterationType.MUTATION))
    if any(c == "detected" for c in calls.values()):
        status = "no-response"
    elif all(c == "cleared" for c in calls.values()):
        status = "response"
    else:
        status = "undetermined"
    detail = "; ".join(f"{k}: {v}" for k, v in calls.items())
    if status == "undetermined":
        detail += " (undetermined: the on-treatment LOD is not below the baseline VAF, or no LOD was given)"
    return {"status": status, "detail": detail, "per_alteration": calls}


def _erbb2_amp(b: PlasmaSample, e: PlasmaSample, d: MolecularResponseDefinition) -> dict[str, Any]:
    key = (ERBB2, "amplification")
    base = b.find(key)
    if base is None or not base.detected or base.copy_number is None:
        return {"status": "not-applicable", "detail": "no plasma ERBB2 amplification at baseline"}
    later = e.find(key)
    if later is None or later.copy_number is None:
        return {"status": "undetermined", "detail": "ERBB2 copy number not reported in the on-treatment sample"}
    bl, lv = base.copy_number, later.copy_number
    if not lv.detected:
        if lv.lod is not None and bl.value is not None and lv.lod >= bl.value:
            return {"status": "undetermined", "kind": None,
                    "detail": f"amplification not called, but the call threshold ({lv.lod:g} copies) is not below "
                              f"the baseline copy number ({bl.value:g})"}
        return {"status": "response", "kind": "undetectable",
                "detail": f"plasma ERBB2 amplification ({bl.describe(False)} copies) undetectable on treatment"}
    if d.criterion == "clearance":
        return {"status": "no-response", "kind": None, "detail": f"amplification still detected ({lv.describe(False)} copies)"}
    assert d.threshold is not None
    if bl.value is None or lv.value is None:
        return {"status": "undetermined", "kind": None, "detail": "copy number values needed to judge a reduction"}
    change = lv.value / bl.value - 1
    if change <= -d.threshold.value:
        return {"status": "response", "kind": "reduction", "relative_change": change,
                "detail": f"ERBB2 copy number {bl.value:g} -> {lv.value:g} ({100 * change:+.0f}%)"}
    return {"status": "no-response", "kind": None, "relative_change": change,
            "detail": f"ERBB2 copy number {bl.value:g} -> {lv.value:g} ({100 * change:+.0f}%)"}


# --------------------------------------------------------------------------- emergent and rising


def _emergent(
    series: CtdnaSeries, b: PlasmaSample, on: list[PlasmaSample], anchor: dt.date | None, ck: CtdnaKnowledge,
    trace: _Trace, classify: Classifier,
) -> None:
    baseline_detected = {a.key for a in b.alterations if a.detected}
    tissue_keys = {t.key for t in series.tissue}
    first_seen: dict[Key, tuple[PlasmaSample, PlasmaAlteration]] = {}
    seen_in: dict[Key, list[str]] = {}
    for s in on:
        for a in s.alterations:
            if a.detected and a.key not in baseline_detected:
                first_seen.setdefault(a.key, (s, a))
                seen_in.setdefault(a.key, []).append(s.sample_id)
    last = on[-1].sample_id if on else None
    erbb2_drivers = {k for k in baseline_detected | tissue_keys if k[0] == ERBB2}
    for key in sorted(first_seen):
        s, a = first_seen[key]
        cls = classify(a)
        watch = ck.watch.get(a.gene)
        if watch is not None and a.type.value not in watch.types:
            watch = None
        role = _role(a, cls, watch, erbb2_drivers)
        in_tissue = key in tissue_keys
        if in_tissue:
            role = f"known in tissue, not seen in baseline plasma ({role})"
        at_baseline = b.find(key)
        item: dict[str, Any] = {
            "gene": a.gene, "alteration": a.alteration, "type": a.type.value,
            "first_sample": s.sample_id, "first_date": s.collected.isoformat(), "day": _day(s, anchor),
            "level": _level_dict(a.level, percent=a.type is AlterationType.MUTATION),
            "seen_in": seen_in[key], "effect": cls.effect, "effect_reason": cls.reason, "role": role,
            "baseline": _level_dict(at_baseline.level if at_baseline is not None else None,
                                    percent=a.type is AlterationType.MUTATION),
            "certainty": _emergence_certainty(a, s, b, ck, trace),
            "known_in_tissue": in_tissue,
        }
        if a.type is AlterationType.MUTATION:
            amplified = _amplified(s, a.gene) is True
            item["clonality"] = _clonality(a, s.tumour_fraction, amplified, ck, trace)
        trace.out.emergent.append(item)
        if watch is None:
            continue
        trace.used(f"emergent {a.gene}", watch, watch.statement)
        # a watched gene of our own choosing, or an allele tissue already had, is a watch item, not acquired resistance
        kind = "watch" if (watch.is_convention or in_tissue) else "resistance"
        trace.flag(f"emergent-{a.gene.lower()}-{a.alteration.replace('p.', '').lower()}", kind,
                   f"new {a.gene} {a.alteration} on treatment ({role}); {watch.statement}",
                   [watch.source, *watch.sources], alteration=f"{a.gene} {a.alteration}",
                   certainty=item["certainty"]["statement"])
        if seen_in[key] == [last]:
            trace.missing(f"repeat ctDNA to confirm the new {a.gene} {a.alteration} (seen in one sample only)")


def _role(a: PlasmaAlteration, cls: AlleleClass, watch: EmergentWatch | None, erbb2_drivers: set[Key]) -> str:
    if watch is None:
        return "not a watched resistance gene"
    if a.gene == ERBB2:
        if cls.effect == "resistance":
            return "ERBB2 resistance allele (e.g. gatekeeper)"
        if a.type is AlterationType.AMPLIFICATION:
            return "new ERBB2 amplification (additional HER2 event)"
        if cls.effect == "activating" and erbb2_drivers - {a.key}:
            return "second ERBB2 activating event (compound HER2)"
        return f"new ERBB2 alteration, effect {cls.effect}"
    if watch.is_convention:
        return "watch"
    return f"new {a.gene} alteration, effect {cls.effect}"


def _emergence_certainty(
    a: PlasmaAlteration, s: PlasmaSample, b: PlasmaSample, ck: CtdnaKnowledge, trace: _Trace
) -> dict[str, Any]:
    if a.type is AlterationType.AMPLIFICATION:
        return {"model": None, "p_miss": None,
                "statement": "copy-number gains have no read-sampling model here; absence at baseline is as "
                             "reliable as the baseline copy-number call"}
    base_alt = b.find(a.key)
    depth = base_alt.depth if base_alt is not None and base_alt.depth is not None else b.depth
    lod = base_alt.vaf.lod if base_alt is not None and base_alt.vaf is not None and base_alt.vaf.lod else b.lod
    if depth is None or a.vaf is None or a.vaf.value is None:
        return {"model": "binomial read sampling", "p_miss": None,
                "statement": "cannot say how sure: the baseline depth (depth or sample_depth) or the new VAF is not given"}
    vaf = a.vaf.value
    tb, ts = b.tumour_fraction, s.tumour_fraction
    scaled = bool(tb and ts and tb.value is not None and ts.value)
    if scaled and tb is not None and ts is not None and tb.value is not None and ts.value:
        vaf = vaf * tb.value / ts.value
    min_reads = int(ck.v("min-alt-reads"))
    p, k = miss_probability(depth, vaf, lod, min_reads)
    small = ck.p("miss-probability-small")
    trace.used("binomial read-sampling model", ck.p("min-alt-reads"), f"caller threshold {k} reads at depth {depth}")
    trace.used("confident absence", small, f"P(miss) < {small.value:g}")
    assumption = ("present at baseline at the same share of tumour DNA (VAF scaled by baseline / current tumour fraction)"
                  if scaled else "present at baseline at the VAF now seen")
    if p < small.value:
        verdict = "absent at baseline with confidence: acquired on treatment, or present far below detection"
    else:
        verdict = "may have been present below detection at baseline"
    return {"model": "binomial read sampling", "p_miss": p, "depth": depth, "min_reads": k, "assumed_vaf": vaf,
            "assumption": assumption,
            "statement": f"{verdict} (P(miss) = {p:.3g} at depth {depth}, >= {k} reads needed, expected VAF {_pct(vaf)})"}


def _rising(b: PlasmaSample, on: list[PlasmaSample], ck: CtdnaKnowledge, trace: _Trace) -> None:
    fold = ck.p("vaf-rise-fold")
    samples = [b, *on]
    keys = sorted(a.key for a in b.alterations if a.detected and a.type is AlterationType.MUTATION)
    for key in keys:
        nadir: tuple[float, PlasmaSample] | None = None
        for s in samples:
            lv = _level_at(s, key, AlterationType.MUTATION)
            if lv is None:
                continue
            if nadir is not None and lv.detected and lv.value is not None and lv.low >= fold.value * nadir[0]:
                trace.used("rising VAF", fold, f"a value >= {fold.value:g} x its lowest earlier value")
                item = {"gene": key[0], "alteration": key[1], "nadir_sample": nadir[1].sample_id,
                        "nadir_high": nadir[0], "sample": s.sample_id, "date": s.collected.isoformat(),
                        "value": lv.value, "fold": (lv.value / nadir[0]) if nadir[0] > 0 else None}
                trace.out.rising.append(item)
                trace.flag(f"rising-{key[0].lower()}-{key[1].replace('p.', '').lower()}", "progression",
                           f"{key[0]} {key[1]} rose from below {_pct(nadir[0])} ({nadir[1].sample_id}) to "
                           f"{_pct(lv.value)} ({s.sample_id}): tumour DNA carrying it is growing again",
                           [fold.source], alteration=f"{key[0]} {key[1]}")
                break
            if math.isfinite(lv.high) and (nadir is None or lv.high < nadir[0]):
                nadir = (lv.high, s)


def _progression_sampling(series: CtdnaSeries, passing: list[PlasmaSample], ck: CtdnaKnowledge, trace: _Trace) -> None:
    pd_dates = [a.date for a in series.assessments if a.response is ResponseCategory.PD]
    if not pd_dates:
        return
    first_pd = pd_dates[0]
    window = dt.timedelta(days=int(ck.v("baseline-window-days")))
    if not any(s.collected >= first_pd - window for s in passing):
        trace.used("ctDNA at progression", ck.watch[ERBB2], "acquired resistance alterations are found in plasma at progression")
        trace.missing(f"ctDNA at progression (PD on {first_pd.isoformat()}) to look for acquired resistance "
                      "such as ERBB2 T798I (Hanker 2017)")


__all__ = ["AlleleClass", "CtdnaFindings", "CtdnaKnowledge", "classify_allele", "interpret_ctdna", "miss_probability"]
