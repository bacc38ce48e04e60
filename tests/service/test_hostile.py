"""The attacks of the hostile-input work, repeated through the API: no request may read a file it did not
upload, hang the server, or get a 5xx; every refusal names the field, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.conftest import EXAMPLES, Service, make_users

VCF = (EXAMPLES / "genomics" / "example_tumour_vep.vcf").read_bytes()
YAML = {"Content-Type": "application/yaml"}


def _problem_fields(r: Any) -> list[str]:
    assert r.status_code == 422, (r.status_code, r.text[:300])
    body = r.json()
    assert body["detail"] and "Traceback" not in r.text
    return [p["field"] for p in body["problems"]]


@pytest.mark.parametrize("name", ["../tumour.vcf", "/etc/passwd", "..", "a/b.vcf", "tumour.vcf\x00.txt", ""])
def test_upload_names_with_paths_are_refused(service: Service, name: str) -> None:
    patient = "patient_id: H-1\nsequencing:\n  - {path: tumour.vcf}\n"
    r = service.client.post("/v1/patients", headers=service.headers("ana"),
                            files=[("patient", ("p.yaml", patient, "application/yaml")),
                                   ("files", (name, VCF, "text/plain"))])
    assert r.status_code == 422, r.text
    assert not list((service.settings.data_dir / "files" / "cases").iterdir())  # nothing was kept


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "/etc/passwd", "../patient.json", "~/.ssh/id_rsa",
                                  "/proc/self/environ"])
def test_patient_file_paths_never_reach_the_file_system(service: Service, path: str) -> None:
    doc = {"patient_id": "H-2", "sequencing": [{"path": path, "format": "vcf"}], "ctdna": {"series_file": path}}
    r = service.client.post("/v1/patients", json={"patient": doc}, headers=service.headers("ana"))
    assert set(_problem_fields(r)) == {"sequencing[0].path", "ctdna.series_file"}
    assert "root:" not in r.text and "PATH=" not in r.text


def test_yaml_alias_bomb(service: Service) -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8))
    r = service.client.post("/v1/patients", content=bomb, headers=service.headers("ana", **YAML))
    assert _problem_fields(r) == ["patient"]
    assert "aliases" in r.json()["detail"]


@pytest.mark.parametrize("text", [
    "!!python/object/apply:os.system ['true']\n",
    "patient_id: !!binary aGVsbG8=\n",
    "patient_id: A\npatient_id: B\n",
    "[" * 5000 + "]" * 5000,
])
def test_unsafe_yaml(service: Service, text: str) -> None:
    r = service.client.post("/v1/patients", content=text, headers=service.headers("ana", **YAML))
    assert _problem_fields(r) == ["patient"]


def test_deep_json_and_bad_encodings(service: Service) -> None:
    deep = '{"patient": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}"
    r = service.client.post("/v1/patients", content=deep,
                            headers=service.headers("ana", **{"Content-Type": "application/json"}))
    assert _problem_fields(r) == ["body"]
    utf16 = "patient_id: X\n".encode("utf-16")
    r = service.client.post("/v1/patients", content=utf16, headers=service.headers("ana", **YAML))
    assert _problem_fields(r) == ["body"] and "UTF-16" in r.json()["detail"]
    r = service.client.post("/v1/patients", content=b'{"patient": {"patient_id": NaN}}',
                            headers=service.headers("ana", **{"Content-Type": "application/json"}))
    assert _problem_fields(r) == ["body"]


def test_binary_uploads_are_refused_by_content(service: Service) -> None:
    patient = "patient_id: H-3\nsequencing:\n  - {path: tumour.vcf}\n"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = service.client.post("/v1/patients", headers=service.headers("ana"),
                            files=[("patient", ("p.yaml", patient, "application/yaml")),
                                   ("files", ("tumour.vcf", png, "text/plain"))])
    assert r.status_code == 415, r.text  # the kinds the service reads are named (issue 18: BAM/CRAM/FASTQ too)
    problems = r.json()["problems"]
    assert [p["field"] for p in problems] == ["files[0]"] and problems[0]["value"] == "tumour.vcf"
    assert "binary" in r.json()["detail"] and all(k in problems[0]["allowed"] for k in ("VCF", "MAF", "BAM", "CRAM", "FASTQ"))


@pytest.mark.parametrize(("path", "kind"), [("/v1/patients", "text/plain"), ("/v1/patients", "application/xml"),
                                             ("/v1/ctdna", "application/json"), ("/v1/patients", "")])
def test_wrong_content_types(service: Service, path: str, kind: str) -> None:
    r = service.client.post(path, content=b"patient_id: X", headers=service.headers("ana", **{"Content-Type": kind}))
    assert r.status_code == 415 and "allowed" in r.json()["detail"]


def test_oversized_bodies(service_factory: Any) -> None:
    svc: Service = service_factory(max_body_mb=0.01)
    svc.tokens = make_users(svc.settings, {"ana": ("clinician", "team-a")})
    big = b"patient_id: X\n" + b"# filler\n" * 5000
    r = svc.client.post("/v1/patients", content=big, headers=svc.headers("ana", **YAML))
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body is counted as it arrives
        yield b"patient_id: X\n"
        for _ in range(100):
            yield b"# filler\n" * 50

    r = svc.client.post("/v1/patients", content=chunks(), headers=svc.headers("ana", **YAML))
    assert r.status_code == 413
    ok = svc.client.post("/v1/patients", content=b"patient_id: SMALL\n", headers=svc.headers("ana", **YAML))
    assert ok.status_code == 201


def test_her2_and_variants_refuse_bad_values(service: Service) -> None:
    r = service.client.post("/v1/her2", json={"ihc": "4+", "ish_ratio": -1}, headers=service.headers("ana"))
    fields = _problem_fields(r)
    assert fields and all(f.startswith(("ihc", "ish_ratio")) for f in fields)
    r = service.client.post("/v1/her2", json={"ihc": "2+", "unknown": 1}, headers=service.headers("ana"))
    assert _problem_fields(r) == ["unknown"]
    r = service.client.get("/v1/variants", params={"gene": "ERBB2", "change": "x" * 300}, headers=service.headers("ana"))
    assert _problem_fields(r) == ["change"]
