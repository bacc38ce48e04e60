"""Reads in uploads (issue 22's caller through the service): the content sniffer knows BAM (BGZF whose first
block is ``BAM\\1``), CRAM, FASTQ (plain or gzip), FASTA and BAM indexes, refuses anything else with 415 naming
the field and the kinds allowed; a patient whose sequencing names reads is assessed as a job. The BAM/FASTQ are
the caller's own test reads (../shared/data/ngs-panel); CRAM and BGZF files are written here by samtools and
pysam (outside writers of the formats)."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from nerasense.errors import InputError
from nerasense.service.storage import UnsupportedMedia, make_upload, sniff
from tests.conftest import SHARED_DATA
from tests.service.conftest import Service, make_users

PANEL = SHARED_DATA / "ngs-panel"
BAM = PANEL / "seracare_ctdna_5pct_duplex.bam"
BAI = PANEL / "seracare_ctdna_5pct_duplex.bam.bai"
FASTA = PANEL / "grch37_panel_windows.fa"


@pytest.fixture(scope="module")
def panel() -> Path:
    if not PANEL.is_dir():
        pytest.skip(f"real data folder {PANEL} is absent (it sits beside the checkout in CI)")
    return PANEL


def test_sniffer_knows_the_caller_inputs(panel: Path, tmp_path: Path) -> None:
    pysam = pytest.importorskip("pysam")
    assert sniff(BAM.read_bytes(), "r.bam", "files") == "bam"
    assert sniff(BAI.read_bytes(), "r.bam.bai", "files") == "bai"
    r1 = (panel / "giab_normal_R1.fastq.gz").read_bytes()
    assert sniff(r1, "r1.fastq.gz", "files") == "fastq"
    assert sniff(b"".join(gzip.decompress(r1).splitlines(keepends=True)[:8]), "r1.fastq", "files") == "fastq"
    assert sniff(FASTA.read_bytes(), "ref.fa", "files") == "fasta"
    # BGZF written by pysam (htslib): a bgzipped VCF is a VCF, not a BAM
    vcf = tmp_path / "t.vcf.gz"
    with pysam.BGZFile(str(vcf), "wb") as fh:
        fh.write(b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    assert vcf.read_bytes()[12:14] == b"BC"
    assert sniff(vcf.read_bytes(), "t.vcf.gz", "files") == "vcf"
    junk = tmp_path / "junk.gz"
    with pysam.BGZFile(str(junk), "wb") as fh:
        fh.write(bytes(range(256)) * 4)
    with pytest.raises(UnsupportedMedia):
        sniff(junk.read_bytes(), "junk.bam", "files")


def test_sniffer_knows_cram_written_by_samtools(panel: Path, tmp_path: Path) -> None:
    if shutil.which("samtools") is None:
        pytest.skip("samtools not on PATH (Debian package; .ci/run installs it)")
    name, seq = FASTA.read_text().split("\n", 1)
    bases = seq.replace("\n", "")
    contig = name[1:].split()[0]
    ref = tmp_path / "one.fa"
    ref.write_text(f">{contig}\n{bases}\n")
    read = bases[:50]
    sam = tmp_path / "r.sam"
    sam.write_text(f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:{contig}\tLN:{len(bases)}\n"
                   f"r1\t0\t{contig}\t1\t60\t50M\t*\t0\t0\t{read}\t{'I' * 50}\n")
    cram = tmp_path / "r.cram"
    subprocess.run(["samtools", "view", "-C", "-T", str(ref), "-o", str(cram), str(sam)], check=True)
    assert sniff(cram.read_bytes(), "r.cram", "files") == "cram"
    bam = tmp_path / "r.bam"
    subprocess.run(["samtools", "view", "-b", "-o", str(bam), str(sam)], check=True)
    assert sniff(bam.read_bytes(), "r.bam", "files") == "bam"


@pytest.mark.parametrize(("data", "why"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "binary"),
    (gzip.compress(b"\x89PNG\r\n\x1a\n" + bytes(64)), "binary"),
    (b"PK\x03\x04" + bytes(40), "binary"),
    (b"@hello\nworld\n", "no columns"),
    (b"CRAM\x09\x00" + bytes(20), "binary"),
])
def test_everything_else_is_refused_with_415(data: bytes, why: str) -> None:
    with pytest.raises(UnsupportedMedia) as err:
        sniff(data, "x.bin", "files[0]")
    p = err.value.problems[0]
    assert (p.field, p.value) == ("files[0]", "x.bin") and why in p.fix
    assert all(k in p.allowed for k in ("VCF", "MAF", "FASTQ", "FASTA", "BAM", "CRAM"))


def test_reads_names_must_match_their_content(panel: Path) -> None:
    with pytest.raises(InputError) as err:
        make_upload("plasma.fastq", BAM.read_bytes(), "files[1]")
    assert err.value.problems[0].field == "files[1]" and "*.bam" in err.value.problems[0].allowed


def test_unsupported_upload_answers_415(service: Service) -> None:
    patient = "patient_id: R-415\nsequencing:\n  - {path: reads.bam, format: reads, reference: ref.fa}\n"
    r = service.client.post("/v1/patients", headers=service.headers("ana"),
                            files=[("patient", ("p.yaml", patient, "application/yaml")),
                                   ("files", ("ref.fa", b">c\nACGT\n", "text/plain")),
                                   ("files", ("reads.bam", b"PK\x03\x04" + bytes(60), "application/octet-stream"))])
    assert r.status_code == 415
    body = r.json()
    assert [p["field"] for p in body["problems"]] == ["files[1]"] and "reads.bam" in body["detail"]
    assert "BAM" in body["problems"][0]["allowed"]


def _wait(svc: Service, job_id: int) -> dict[str, Any]:
    from nerasense.service.db import Job

    for _ in range(2400):
        with svc.ctx.db.session(write=False) as s:
            job = s.get(Job, job_id)
            if job is not None and job.status in ("done", "failed"):
                break
        time.sleep(0.25)
    return dict(svc.client.get(f"/v1/jobs/{job_id}", headers=svc.headers("ana")).json())


def test_patient_with_reads_is_assessed_as_a_job(panel: Path, service_factory: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    missing = [t for t in ("bwa", "samtools") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not on PATH (Debian packages; .ci/run installs them)")
    monkeypatch.setenv("NERASENSE_CACHE_DIR", str(tmp_path / "cache"))
    svc: Service = service_factory(worker=True)
    svc.tokens = make_users(svc.settings, {"ana": ("clinician", "team-a"), "rita": ("researcher", "team-a")})
    patient = ("patient_id: READS-API-1\ntumour_type: IDC\nsetting: metastatic\ner: positive\nher2: {ihc: 1+}\n"
               "sequencing:\n  - {path: plasma.bam, format: reads, reference: panel.fa, origin: plasma}\n")
    files = [("patient", ("p.yaml", patient, "application/yaml")),
             ("files", ("plasma.bam", BAM.read_bytes(), "application/octet-stream")),
             ("files", ("plasma.bam.bai", BAI.read_bytes(), "application/octet-stream")),
             ("files", ("panel.fa", FASTA.read_bytes(), "text/plain"))]
    refused = svc.client.post("/v1/patients", headers=svc.headers("rita"), files=files)
    assert refused.status_code == 403  # researchers read; they do not submit
    r = svc.client.post("/v1/patients", headers=svc.headers("ana", **{"Idempotency-Key": "reads-1"}), files=files)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "reads" and r.headers["Location"] == job["status_url"]
    assert [(f["name"], f["kind"], f["sha256"]) for f in job["source"]["files"]] == [
        ("plasma.bam", "bam", hashlib.sha256(BAM.read_bytes()).hexdigest()),
        ("plasma.bam.bai", "bai", hashlib.sha256(BAI.read_bytes()).hexdigest()),
        ("panel.fa", "fasta", hashlib.sha256(FASTA.read_bytes()).hexdigest())]
    again = svc.client.post("/v1/patients", headers=svc.headers("ana", **{"Idempotency-Key": "reads-1"}), files=files)
    assert again.status_code == 202 and again.json()["job_id"] == job["job_id"]
    status = _wait(svc, job["job_id"])
    assert status["status"] == "done", status
    (result,) = status["results"]
    assert result["patient_id"] == "READS-API-1" and result["read_calls"] == 1
    record = svc.client.get(f"/v1/assessments/{result['assessment_id']}", headers=svc.headers("ana")).json()["result"]
    plasma = {(a["gene"], a["protein_change"]) for a in record["alterations"] if a["origin"] == "plasma"}
    # the SeraCare ctDNA reference material carries both at about 5 %
    assert {("ERBB2", "p.Y772_A775dup"), ("PIK3CA", "p.H1047R")} <= plasma
