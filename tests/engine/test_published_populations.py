"""Published patient populations and case reports (tests/data/published_populations.tsv, written from the
papers) get the call and the expected outcome the papers support, with a completeness check."""

from __future__ import annotations

import csv
import datetime as dt
import warnings
from pathlib import Path

import pytest

from nerasense.domain.patient import Patient
from nerasense.engine.assess import RegimenCall, assess_patient
from nerasense.errors import NerasenseWarning
from nerasense.ingest.patient import patient_alterations
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.conditions import leaves
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.schema import Direction, EvidenceItem, Regimen

KB = default_knowledge()
TABLE = Path(__file__).resolve().parents[1] / "data" / "published_populations.tsv"
ASSESSED_ON = dt.date(2026, 11, 20)
CALLS = {"likely benefit", "possible benefit", "unlikely benefit", "resistance", "not applicable"}


def _rows() -> list[dict[str, str]]:
    lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def _patient(row: dict[str, str]) -> Patient:
    fields: dict[str, object] = {"patient_id": row["id"], "tumour_type": row["tumour_type"], "setting": row["setting"],
                                 "assessed_on": ASSESSED_ON.isoformat()}
    for key in ("er", "pr"):
        if row[key]:
            fields[key] = row[key]
    her2: dict[str, object] = {}
    if row["her2_ihc"]:
        her2["ihc"] = row["her2_ihc"]
    if row["ish_ratio"]:
        her2["ish_ratio"], her2["her2_signals"] = float(row["ish_ratio"]), float(row["her2_signals"])
    fields["her2"] = her2
    if row["alterations"] != "-":
        alts = []
        for token in filter(None, row["alterations"].split(";")):
            gene_change, _, origin = token.partition("@")
            gene, change = gene_change.split(":")
            alts.append({"gene": gene, "change": change, **({"origin": origin} if origin else {})})
        fields["alterations"] = alts
    months = float(row["trastuzumab_months_ago"]) if row["trastuzumab_months_ago"] else None
    priors = []
    for token in filter(None, row["priors"].split(";")):
        agents, _, setting = token.partition("@")
        prior: dict[str, object] = {"agents": agents.split("+"), "setting": setting}
        if months is not None and "trastuzumab" in prior["agents"]:  # type: ignore[operator]
            prior["ended"] = (ASSESSED_ON - dt.timedelta(days=round(months * 365.2425 / 12))).isoformat()
        priors.append(prior)
    fields["prior_therapies"] = priors
    if row["metastatic_her2_regimens"]:
        fields["metastatic_her2_regimens"] = int(row["metastatic_her2_regimens"])
    for key in ("residual_disease", "cns_metastases"):
        if row[key]:
            fields[key] = row[key] == "true"
    if row["ctdna_erbb2_detected"]:
        fields["ctdna"] = {"erbb2_detected": row["ctdna_erbb2_detected"] == "true"}
    return Patient.model_validate(fields)


def _call(row: dict[str, str]) -> RegimenCall:
    patient = _patient(row)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        alts = patient_alterations(patient, GenomicsKnowledge(KB), Path("."))
        a = assess_patient(patient, KB, alterations=alts)
    return {r.regimen_id: r for r in a.regimens}[row["regimen"]]


@pytest.mark.parametrize("row", _rows(), ids=[r["id"] for r in _rows()])
def test_published_population(row: dict[str, str]) -> None:
    got = _call(row)
    assert got.call == row["expected_call"], f"{row['why']} ({row['source']}); reasons: {got.reasons}"
    result = (got.expected or {}).get("id") if got.call not in ("resistance", "not applicable") else None
    assert (result or "") == row["expected_result"], f"{row['why']}; expected: {got.expected}"


def test_table_is_complete() -> None:
    """At least 25 populations; every regimen and every call appears; every headline cohort (a non-modifier
    benefit cohort with a result, or a tumour-lineage cohort without benefit) is some row's expected outcome."""
    rows = _rows()
    assert len(rows) >= 25
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["regimen"] for r in rows} == {reg.id for reg in KB.of("regimens", Regimen)}
    assert {r["expected_call"] for r in rows} == CALLS
    cohorts = set()
    for item in KB.of("evidence", EvidenceItem):
        if item.result is None or item.modifier:
            continue
        tumour_named = any(leaf.fact.startswith("tumour.") for leaf in leaves(item.when))
        if item.direction is Direction.SENSITIVITY or (item.direction is Direction.NO_BENEFIT and tumour_named):
            cohorts.add(item.result)
    assert cohorts - {r["expected_result"] for r in rows} == set()
