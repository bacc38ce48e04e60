"""The patient file: documented schema, clear errors, nothing silently dropped."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from nerasense.errors import InputError
from nerasense.ingest.patient import parse_patient, read_patient

ROOT = Path(__file__).resolve().parents[2]


def test_committed_json_schema_is_current() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from export_patient_schema import schema_text
    finally:
        sys.path.pop(0)
    assert (ROOT / "docs" / "patient.schema.json").read_text(encoding="utf-8") == schema_text(), (
        "run tools/export_patient_schema.py")


def test_every_bundled_patient_validates_against_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json.loads((ROOT / "docs" / "patient.schema.json").read_text(encoding="utf-8"))
    for path in sorted((ROOT / "examples" / "patients").glob("*.yaml")):
        jsonschema.validate(json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str)), schema)


BAD = [
    ("unknown-field", {"patient_id": "x", "tumor_type": "BRCA"}, ["tumor_type", "no such field"]),
    ("ecog-5", {"patient_id": "x", "ecog": 5}, ["ecog=5"]),
    ("setting", {"patient_id": "x", "setting": "advanced"}, ["setting='advanced'", "metastatic"]),
    ("agent", {"patient_id": "x", "prior_therapies": [{"agents": ["unobtainium"]}]}, ["unobtainium"]),
    ("vaf", {"patient_id": "x", "alterations": [{"gene": "ERBB2", "change": "L755S", "vaf": 1.4}]}, ["vaf=1.4"]),
    ("tf-percent", {"patient_id": "x", "ctdna": {"tumour_fraction": 11.5}}, ["tumour_fraction=11.5"]),
]


@pytest.mark.parametrize(("case", "raw", "fragments"), BAD, ids=[b[0] for b in BAD])
def test_bad_patient_fields(case: str, raw: dict, fragments: list[str]) -> None:
    with pytest.raises(InputError) as info:
        parse_patient(raw)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_all_problems_at_once() -> None:
    with pytest.raises(InputError) as info:
        parse_patient({"patient_id": "x", "ecog": 7, "age_years": -3, "setting": "advanced"})
    assert len(info.value.problems) == 3


def test_brand_names_are_read(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("patient_id: b\nprior_therapies:\n  - {agents: [Herceptin, Kadcyla, palbociclib]}\n")
    p = read_patient(f)
    assert p.prior_therapies is not None
    assert [a.value for a in p.prior_therapies[0].agents] == ["trastuzumab", "t-dm1", "cdk4/6-inhibitor"]


def test_unknown_tumour_type_is_an_error() -> None:
    from nerasense.domain.patient import Patient
    from nerasense.engine.assess import assess_patient

    with pytest.raises(InputError, match="OncoTree"):
        assess_patient(Patient(patient_id="t", tumour_type="BREASTCANCER"))


def test_bad_alteration_text_names_the_row(tmp_path: Path) -> None:
    from nerasense.ingest.patient import patient_alterations
    from nerasense.knowledge import default_knowledge
    from nerasense.knowledge.genomics import GenomicsKnowledge

    p = parse_patient({"patient_id": "x", "alterations": [{"gene": "ERBB2", "change": "L755S"},
                                                          {"gene": "ERBB2", "change": "p.Leu755Zzz"}]})
    with pytest.raises(InputError, match=r"alterations\[1\]"):
        patient_alterations(p, GenomicsKnowledge(default_knowledge()), tmp_path)
