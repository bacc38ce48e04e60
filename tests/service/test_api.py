"""The API on SQLite and on PostgreSQL: submit, fetch, history, re-run, variants, HER2, ctDNA, jobs, idempotency.

Oracles: the command line's own answers for the same input (`nerasense assess|variant|her2 --json` must give
the same keys and calls as the API; the two share the code, and this holds them together), the stored files'
SHA-256 computed by hashlib on the bytes sent, and the example patients' documented calls.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from contextlib import redirect_stdout
from typing import Any

import pytest
import yaml

from nerasense.cli import main
from tests.service.conftest import EXAMPLES, Service, example_patient

VCF = EXAMPLES / "genomics" / "example_tumour_vep.vcf"


def cli_json(*argv: str) -> dict[str, Any]:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main([*argv, "--json"]) == 0
    return json.loads(out.getvalue())


def load_doc(name: str = "02-her2pos-metastatic-after-two-her2-regimens.yaml") -> dict[str, Any]:
    """An example patient as a JSON document (dates as ISO text, as a JSON client sends them)."""
    return json.loads(json.dumps(yaml.safe_load(example_patient(name)), default=str))


def _calls(result: dict[str, Any]) -> dict[str, str]:
    return {r["regimen_id"]: r["call"] for r in result["regimens"]}


def test_healthz_and_metrics_are_public(service: Service) -> None:
    h = service.client.get("/healthz")
    assert h.status_code == 200
    assert h.json()["status"] == "ok" and h.json()["kb_version"] == service.ctx.kb.kb_version
    service.client.get("/v1/patients", headers=service.headers("ana"))
    m = service.client.get("/metrics")
    assert m.status_code == 200
    assert 'nerasense_requests_total{method="GET",route="/v1/patients",status="200"} 1.0' in m.text


def test_submit_yaml_matches_the_command_line(service: Service) -> None:
    path = EXAMPLES / "patients" / "02-her2pos-metastatic-after-two-her2-regimens.yaml"
    r = service.client.post("/v1/patients", content=path.read_bytes(),
                            headers=service.headers("ana", **{"Content-Type": "application/yaml"}))
    assert r.status_code == 201, r.text
    body = r.json()
    cli = cli_json("assess", str(path))
    assert body["result"]["patient_id"] == cli["patient_id"]
    assert _calls(body["result"]) == _calls(cli)
    assert body["kb_version"] == cli["kb_version"] and body["software_version"] == cli["software_version"]
    assert r.headers["Location"] == f"/v1/assessments/{body['assessment_id']}"


def test_submit_json_and_idempotency(service: Service) -> None:
    doc = load_doc()
    h = service.headers("ana", **{"Idempotency-Key": "case-17-try"})
    first = service.client.post("/v1/patients", json={"patient": doc}, headers=h)
    again = service.client.post("/v1/patients", json={"patient": doc}, headers=h)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["assessment_id"] == first.json()["assessment_id"]
    listing = service.client.get(f"/v1/patients/{doc['patient_id']}/assessments", headers=service.headers("ana"))
    assert len(listing.json()["assessments"]) == 1  # the retry made no second record
    other = service.client.post("/v1/patients", json={"patient": {**doc, "age_years": 40}}, headers=h)
    assert other.status_code == 409


def test_multipart_with_vcf_stores_checksums(service: Service) -> None:
    data = VCF.read_bytes()
    patient = "patient_id: MP-1\ntumour_type: BRCA\nsequencing:\n  - {path: tumour.vcf}\n"
    r = service.client.post("/v1/patients", headers=service.headers("ana"),
                            files=[("patient", ("p.yaml", patient, "application/yaml")),
                                   ("files", ("tumour.vcf", data, "text/plain"))])
    assert r.status_code == 201, r.text
    from sqlalchemy import select

    from nerasense.service.db import StoredFile

    with service.ctx.db.session() as s:
        stored = s.scalars(select(StoredFile)).all()
    assert [(f.name, f.sha256, f.size, f.kind) for f in stored] == [
        ("tumour.vcf", hashlib.sha256(data).hexdigest(), len(data), "vcf")]
    blob = service.ctx.store.blob_path(hashlib.sha256(data).hexdigest())
    assert blob.read_bytes() == data
    alterations = r.json()["result"]["alterations"]
    assert alterations, "the VCF's alterations reach the assessment"


def test_assessment_formats(service: Service) -> None:
    r = service.client.post("/v1/patients", content=example_patient(),
                            headers=service.headers("ana", **{"Content-Type": "application/yaml"}))
    aid = r.json()["assessment_id"]
    j = service.client.get(f"/v1/assessments/{aid}", headers=service.headers("ana"))
    assert j.json()["result"] == r.json()["result"]
    html = service.client.get(f"/v1/assessments/{aid}?format=html", headers=service.headers("rita"))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Research use only" in html.text and service.ctx.kb.kb_version in html.text
    bad = service.client.get(f"/v1/assessments/{aid}?format=docx", headers=service.headers("ana"))
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "format"


def test_assessment_pdf(service: Service) -> None:
    if "postgresql" in service.settings.url:
        pytest.skip("the PDF renderer does not touch the database; once (on SQLite) is enough")
    r = service.client.post("/v1/patients", content=example_patient(),
                            headers=service.headers("ana", **{"Content-Type": "application/yaml"}))
    pdf = service.client.get(f"/v1/assessments/{r.json()['assessment_id']}?format=pdf", headers=service.headers("ana"))
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_history_and_rerun(service: Service) -> None:
    r = service.client.post("/v1/patients", content=example_patient(),
                            headers=service.headers("ana", **{"Content-Type": "application/yaml"}))
    aid, pid = r.json()["assessment_id"], r.json()["patient_id"]
    rerun = service.client.post(f"/v1/assessments/{aid}/rerun", headers=service.headers("ana"))
    assert rerun.status_code == 201
    assert rerun.json()["rerun_of"] == aid and rerun.json()["changes"] == []  # same knowledge, same answer
    hist = service.client.get(f"/v1/patients/{pid}/assessments", headers=service.headers("ana")).json()
    assert [a["assessment_id"] for a in hist["assessments"]] == [aid, rerun.json()["assessment_id"]]
    assert all(a["kb_version"] == service.ctx.kb.kb_version for a in hist["assessments"])
    assert hist["assessments"][0]["calls"] == _calls(r.json()["result"])
    # the old record is shown as it was made, even when the stored answer differs from today's
    from nerasense.service.db import AssessmentRecord

    with service.ctx.db.session() as s:
        rec = s.get(AssessmentRecord, aid)
        old = json.loads(rec.result_json)
        old["kb_version"] = "0.3.0"
        old["regimens"][0]["call"] = "unlikely benefit"
        rec.result_json, rec.kb_version = json.dumps(old), "0.3.0"
    shown = service.client.get(f"/v1/assessments/{aid}", headers=service.headers("ana")).json()
    assert shown["kb_version"] == "0.3.0" and shown["result"]["regimens"][0]["call"] == "unlikely benefit"
    again = service.client.post(f"/v1/assessments/{aid}/rerun", headers=service.headers("ana")).json()
    fields = {c["field"]: (c["before"], c["after"]) for c in again["changes"]}
    rid = old["regimens"][0]["regimen_id"]
    assert fields["kb_version"] == ("0.3.0", service.ctx.kb.kb_version)
    assert fields[f"regimens.{rid}.call"] == ("unlikely benefit", r.json()["result"]["regimens"][0]["call"])


def test_researcher_reads_but_does_not_submit(service: Service) -> None:
    r = service.client.post("/v1/patients", content=example_patient(),
                            headers=service.headers("rita", **{"Content-Type": "application/yaml"}))
    assert r.status_code == 403


def test_variants_one_and_batch(service: Service) -> None:
    one = service.client.get("/v1/variants", params={"gene": "ERBB2", "change": "p.Leu755Ser"},
                             headers=service.headers("rita"))
    assert one.status_code == 200
    assert one.json() == cli_json("variant", "ERBB2", "p.Leu755Ser")
    queries = [{"gene": "ERBB2", "change": "V777L"}, {"gene": "NOTAGENE", "change": "p.G12D"},
               {"gene": "ERBB2", "change": "L755S"}]
    batch = service.client.post("/v1/variants/annotate", json=queries, headers=service.headers("rita")).json()
    assert [x["query"] for x in batch["results"]] == queries  # one answer per query, in order, none dropped
    assert batch["results"][1]["error"][0]["field"] == "gene"
    assert batch["results"][2]["result"]["protein_change"] == one.json()["protein_change"] == "p.L755S"
    too_many = service.client.post("/v1/variants/annotate", json=[queries[0]] * 1001, headers=service.headers("rita"))
    assert too_many.status_code == 422 and "POST /v1/jobs" in too_many.json()["detail"]


def test_her2_matches_the_command_line(service: Service) -> None:
    # ASCO/CAP 2018 group 4 worked case: IHC 2+, ratio < 2.0, 4.0-6.0 signals -> equivocal path
    r = service.client.post("/v1/her2", json={"ihc": "2+", "her2_signals": 4.6, "cep17_signals": 2.9},
                            headers=service.headers("ana"))
    assert r.status_code == 200
    assert r.json() == cli_json("her2", "--ihc", "2+", "--her2-signals", "4.6", "--cep17-signals", "2.9")
    bad = service.client.post("/v1/her2", json={"tumour_type": "XYZ", "ihc": "2+"}, headers=service.headers("ana"))
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "tumour_type"


def test_ctdna_upload(service: Service) -> None:
    series = (EXAMPLES / "patients" / "ctdna" / "series.csv").read_bytes()
    r = service.client.post("/v1/ctdna", headers=service.headers("ana"),
                            files={"series": ("series.csv", series, "text/csv")})
    assert r.status_code == 200, r.text
    cli = cli_json("ctdna", str(EXAMPLES / "patients" / "ctdna" / "series.csv"))
    ours = r.json()["patients"]
    cli_patients = cli.get("patients", [cli])
    assert [p["patient_id"] for p in ours] == [p["patient_id"] for p in cli_patients]
    assert [p["molecular_response"] for p in ours] == [p["molecular_response"] for p in cli_patients]


def _wait(svc: Service, job_id: int, who: str = "ana", until: tuple[str, ...] = ("done", "failed")) -> dict[str, Any]:
    for _ in range(600):
        status = svc.client.get(f"/v1/jobs/{job_id}", headers=svc.headers(who)).json()
        if status["status"] in until:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {status}")


def test_job_survives_restart_and_retries_only_failures(service_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.service.conftest import make_users

    stopped = service_factory(worker=False)  # a server without a worker accepts the job, then "dies"
    stopped.tokens = make_users(stopped.settings)
    queries = [{"gene": "ERBB2", "change": c} for c in ("L755S", "V777L", "D769Y")] * 400  # 1200 -> 3 items
    created = stopped.client.post("/v1/jobs", json={"kind": "variants", "items": queries},
                                  headers=stopped.headers("ana", **{"Idempotency-Key": "job-1"}))
    assert created.status_code == 202 and created.json()["items"]["queued"] == 3
    dup = stopped.client.post("/v1/jobs", json={"kind": "variants", "items": queries},
                              headers=stopped.headers("ana", **{"Idempotency-Key": "job-1"}))
    assert dup.json()["job_id"] == created.json()["job_id"]
    job_id = created.json()["job_id"]

    from nerasense.service import jobs

    calls: list[int] = []
    real = jobs.run_item

    def flaky(ctx: Any, kind: str, inputs: list[Any], who: Any) -> list[Any]:
        calls.append(len(inputs))
        if len(inputs) == 200:  # the last, short item fails the first time
            raise ConnectionError("simulated outage")
        return real(ctx, kind, inputs, who)

    monkeypatch.setattr(jobs, "run_item", flaky)
    monkeypatch.setattr(jobs.work_once, "__defaults__", (flaky,))
    restarted = service_factory(worker=True)
    restarted.tokens = stopped.tokens
    status = _wait(restarted, job_id)
    assert status["status"] == "failed" and status["items"] == {"queued": 0, "running": 0, "done": 2, "failed": 1}
    assert len(status["results"]) == 1000 and status["failed_items"][0]["error"].startswith("ConnectionError")
    monkeypatch.setattr(jobs.work_once, "__defaults__", (real,))
    done_before = len(calls)
    retried = restarted.client.post(f"/v1/jobs/{job_id}/retry", headers=restarted.headers("ana"))
    assert retried.json()["items"]["queued"] == 1
    final = _wait(restarted, job_id)
    assert final["status"] == "done" and len(final["results"]) == 1200
    assert [r["query"] for r in final["results"]] == queries
    assert len(calls) == done_before  # the retried item ran with the real runner only; done items were not rerun


def test_assess_job(service_factory: Any) -> None:
    from tests.service.conftest import make_users

    svc = service_factory(worker=True)
    svc.tokens = make_users(svc.settings)
    docs = [load_doc(n) for n in ("01-her2pos-early-hrpos-post-trastuzumab.yaml",
                                                         "08-most-tests-missing.yaml")]
    docs.append({"patient_id": "BAD", "tumour_type": "NOPE"})
    job = svc.client.post("/v1/jobs", json={"kind": "assess", "items": docs}, headers=svc.headers("ana")).json()
    status = _wait(svc, job["job_id"])
    assert status["status"] == "done"
    results = status["results"]
    assert [r["patient_id"] for r in results] == [d["patient_id"] for d in docs]
    assert "assessment_id" in results[0] and "assessment_id" in results[1]
    assert results[2]["error"][0]["field"] == "tumour_type"
