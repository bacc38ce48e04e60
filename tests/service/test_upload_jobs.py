"""Jobs from uploads: a 10,000-row MAF made here from TCGA MC3 (every data line answered or refused with its reason,
in file order, items of 500, surviving a restart, a retry re-running only the failed item), and the content sniffer
for reads (BAM/CRAM/FASTQ) with its 415 for anything else. On SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA
from tests.service.conftest import Service, make_users

MC3 = SHARED_DATA / "tcga-mc3" / "mc3_nonsilent.parquet"
ROWS = 10_000
BROKEN = {17: ("Reference_Allele", "XYZ"), 4242: ("Start_Position", "not-a-number"), 9999: ("Hugo_Symbol", "")}


def _wait(svc: Service, job_id: int, who: str = "ana", until: tuple[str, ...] = ("done", "failed")) -> dict[str, Any]:
    """The job's status through the API once it has ended (its state polled in the database: a status answer
    carries every result so far, 10,000 here, and polling it would slow the worker down)."""
    from nerasense.service.db import Job

    state = ""
    for _ in range(1200):
        with svc.ctx.db.session(write=False) as s:
            job = s.get(Job, job_id)
            state = job.status if job is not None else ""
        if state in until:
            return dict(svc.client.get(f"/v1/jobs/{job_id}", headers=svc.headers(who)).json())
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} did not finish: {state}")


@pytest.fixture(scope="module")
def mc3_maf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 10,000 MC3 rows as a MAF, three of them broken on purpose (data line numbers in BROKEN)."""
    if not MC3.is_file():
        pytest.skip(f"real data {MC3} is absent (../shared/data sits beside the checkout in CI)")
    import polars as pl

    frame = pl.read_parquet(MC3, n_rows=ROWS).drop("Cohort")
    lines = ["\t".join(frame.columns)]
    for i, row in enumerate(frame.iter_rows(named=True), start=1):
        if i in BROKEN:
            col, value = BROKEN[i]
            row[col] = value
        lines.append("\t".join("" if v is None else str(v) for v in row.values()))
    path = tmp_path_factory.mktemp("maf") / "mc3_10k.maf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_maf_job_of_10000_rows_survives_restart_and_retries_only_failures(
        service_factory: Any, mc3_maf: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from nerasense.cli import main
    from nerasense.service import jobs

    data = gzip.compress(mc3_maf.read_bytes())  # gzip, as uploads often are
    stopped = service_factory(worker=False)  # a server without a worker accepts the job, then "dies"
    stopped.tokens = make_users(stopped.settings, {"ana": ("clinician", "team-a"), "ben": ("clinician", "team-b")})
    created = stopped.client.post("/v1/jobs/maf", files={"maf": ("mc3_10k.maf.gz", data, "application/gzip")},
                                  headers=stopped.headers("ana", **{"Idempotency-Key": "maf-1"}))
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["items"]["queued"] == ROWS // 500 and created.headers["Location"] == body["status_url"]
    again = stopped.client.post("/v1/jobs/maf", files={"maf": ("mc3_10k.maf.gz", data, "application/gzip")},
                                headers=stopped.headers("ana", **{"Idempotency-Key": "maf-1"}))
    assert again.json()["job_id"] == body["job_id"]
    other = stopped.client.post("/v1/jobs/maf", files={"maf": ("x.maf", mc3_maf.read_bytes()[:5000], "text/plain")},
                                headers=stopped.headers("ana", **{"Idempotency-Key": "maf-1"}))
    assert other.status_code == 409
    job_id = body["job_id"]
    assert stopped.client.get(f"/v1/jobs/{job_id}", headers=stopped.headers("ben")).status_code == 404

    real = jobs.run_item
    calls: list[int] = []
    failed_once: list[int] = []

    def flaky(ctx: Any, kind: str, inputs: list[Any], who: Any) -> list[Any]:
        calls.append(inputs[0]["line"])
        if inputs[0]["line"] <= 4501 <= inputs[-1]["line"] and not failed_once:  # the item holding line 4501
            failed_once.append(1)
            raise ConnectionError("simulated outage")
        return real(ctx, kind, inputs, who)

    monkeypatch.setattr(jobs.work_once, "__defaults__", (flaky,))
    restarted = service_factory(worker=True)
    restarted.tokens = stopped.tokens
    status = _wait(restarted, job_id)
    assert status["status"] == "failed" and status["items"] == {"queued": 0, "running": 0, "done": 19, "failed": 1}
    assert len(status["results"]) == ROWS - 500 and status["failed_items"][0]["error"].startswith("ConnectionError")
    ran = len(calls)
    assert restarted.client.post(f"/v1/jobs/{job_id}/retry", headers=restarted.headers("ana")).json()["items"]["queued"] == 1
    final = _wait(restarted, job_id)
    assert final["status"] == "done" and len(calls) == ran + 1  # only the failed item ran again

    # one result per data line, in file order (the MAF's header is line 1: data line i is file line i + 1)
    results = final["results"]
    assert [r["line"] for r in results] == list(range(2, ROWS + 2))
    source = final["source"]
    assert (source["rows"], source["file"], source["accounted"]) == (ROWS, "mc3_10k.maf.gz", True)
    refused = {r["line"] - 1: r for r in results if "refused" in r}
    assert set(BROKEN) <= set(refused)
    # the same reader as `nerasense annotate`: the same rows refused for the same reasons
    assert main(["annotate", str(mc3_maf), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    cli_refused = {int(r["record"].rsplit(":", 1)[1]): r["reason"] for r in cli["rejected"]}
    assert {r["line"]: r["refused"] for r in results if "refused" in r} == cli_refused
    assert source["accepted"] == len(cli["alterations"]) and source["refused"] == len(cli_refused)
    cli_genes = {a["line"]: a["gene"] for a in cli["alterations"]}
    assert {r["line"]: r["query"]["gene"] for r in results if "refused" not in r} == cli_genes
    # an accepted ERBB2 row is classified as `nerasense variant` classifies it
    erbb2 = next(r for r in results if "result" in r and r["query"]["gene"] == "ERBB2")
    assert main(["variant", "ERBB2", erbb2["query"]["change"], "--json"]) == 0
    assert erbb2["result"]["effect"] == json.loads(capsys.readouterr().out)["effect"]


def test_maf_job_refuses_other_files(service: Service) -> None:
    h = service.headers("ana")
    vcf = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    r = service.client.post("/v1/jobs/maf", files={"maf": ("t.maf", vcf, "text/plain")}, headers=h)
    assert r.status_code == 415 and r.json()["problems"][0]["field"] == "maf" and "vcf" in r.json()["detail"]
    r = service.client.post("/v1/jobs/maf", files={"maf": ("t.maf", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")},
                            headers=h)
    assert r.status_code == 415 and "BAM" in r.json()["detail"] and "t.maf" in r.json()["detail"]
    r = service.client.post("/v1/jobs/maf", files={"other": ("t.maf", b"x", "text/plain")}, headers=h)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "maf"
    r = service.client.post("/v1/jobs/maf", content=b"x", headers={**h, "Content-Type": "text/plain"})
    assert r.status_code == 415 and "multipart/form-data" in r.json()["detail"]
    bad = b"Hugo_Symbol\tVariant_Classification\nERBB2\tMissense_Mutation\n"  # no position, no allele columns
    r = service.client.post("/v1/jobs/maf", files={"maf": ("t.maf", bad, "text/plain")}, headers=h)
    assert r.status_code == 422 and "Traceback" not in r.text
