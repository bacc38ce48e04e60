"""The compute pool (service/compute.py): an assessment or a report made in a worker process is the one made in the
server process (which tests/service/test_api.py holds equal to the command line's), a refusal crosses back with
every problem, a worker on other knowledge refuses the work, a dead worker costs one 503 and the pool is made
again, and a worker whose server was killed ends itself.
The settings and ``nerasense serve --compute-workers`` refuse out-of-range values."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from nerasense.cli import main
from nerasense.errors import InputError, KnowledgeError
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.service import cases, compute
from nerasense.service.settings import settings_from_env
from tests.service.conftest import EXAMPLES, Service, example_patient

PATIENTS = ["02-her2pos-metastatic-after-two-her2-regimens.yaml", "04-nsclc-erbb2-exon20-insertion.yaml",
            "09-plasma-series-emergent-gatekeeper.yaml"]  # the last one draws the ctDNA timeline


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[compute.Compute, compute.Compute]]:
    kb = default_knowledge()
    gk = GenomicsKnowledge(kb)
    yield compute.Compute(kb, gk, workers=0), compute.Compute(kb, gk, workers=1, nice=5)


def case_folder(tmp_path: Path, name: str) -> Path:
    """A case folder as the service writes one: the patient file with the files it names beside it."""
    folder = tmp_path / name.split("-", 1)[0]
    folder.mkdir()
    shutil.copy(EXAMPLES / "patients" / name, folder / "patient.yaml")
    shutil.copytree(EXAMPLES / "patients" / "ctdna", folder / "ctdna")
    return folder / "patient.yaml"


@pytest.mark.parametrize("name", PATIENTS)
def test_assessment_in_a_worker_is_the_one_made_here(engines: Any, tmp_path: Path, name: str) -> None:
    here, pool = engines
    patient = case_folder(tmp_path, name)
    made_here = here.call(cases._assess, patient, None)
    assert pool.call(cases._assess, patient, None) == made_here
    assert asyncio.run(pool.run(cases._assess, patient, "EU")) == here.call(cases._assess, patient, "EU")
    if name.startswith("09"):
        assert made_here["ctdna"]["figure"].startswith("data:image/")  # the timeline was drawn in both


def test_report_in_a_worker_is_the_one_made_here(engines: Any, tmp_path: Path) -> None:
    here, pool = engines
    import yaml

    patient = case_folder(tmp_path, PATIENTS[0])
    result = here.call(cases._assess, patient, None)
    doc = yaml.safe_load(patient.read_text(encoding="utf-8"))
    html = here.call(cases._html, result, doc)
    made_there = asyncio.run(pool.run(cases._html, result, doc))
    # the figures (SVG) carry when they were drawn and ids salted per process; the rest must be the same
    figures = re.compile(r"<svg\b.*?</svg>", re.S)
    assert len(figures.findall(made_there)) == len(figures.findall(html)) > 0
    assert figures.sub("<svg/>", made_there) == figures.sub("<svg/>", html)
    assert "Research use only" in html
    assert pool.call(cases._pdf, html).startswith(b"%PDF-")


def test_a_refusal_crosses_back_with_every_problem(engines: Any, tmp_path: Path) -> None:
    here, pool = engines
    bad = tmp_path / "patient.yaml"
    bad.write_text("patient_id: P1\ntumour_type: NOT-A-CODE\nsetting: sometimes\nage_years: -4\n", encoding="utf-8")
    with pytest.raises(InputError) as local:
        here.call(cases._assess, bad, None)
    with pytest.raises(InputError) as remote:
        pool.call(cases._assess, bad, None)
    with pytest.raises(InputError) as awaited:
        asyncio.run(pool.run(cases._assess, bad, None))
    assert len(local.value.problems) >= 2
    assert remote.value.problems == local.value.problems == awaited.value.problems
    assert str(remote.value) == str(local.value)


def test_a_worker_on_other_knowledge_refuses(engines: Any, tmp_path: Path) -> None:
    _, pool = engines
    other = dataclasses.replace(pool.kb, content_hash="f" * 64)
    stale = compute.Compute(other, pool.gk, workers=pool.workers, nice=pool.nice)
    with pytest.raises(KnowledgeError, match=r"knowledge .*restart the server"):
        stale.call(cases._assess, case_folder(tmp_path, PATIENTS[0]), None)


def test_workers_end_when_their_server_is_killed() -> None:
    """The server process dies without stopping its pool (here: os._exit); its worker must not live on."""
    code = ("import os; from nerasense.service import compute; "
            "print(compute.pool(1, 0).submit(compute._ping).result(), flush=True); os._exit(0)")
    # the worker inherits the pipe: run() returns once it has gone (the timeout catches a worker living on)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    worker = int(out.stdout.split()[0])
    deadline = time.monotonic() + 30
    while compute._alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not compute._alive(worker)


@pytest.mark.parametrize(("value", "allowed"), [("-1", "0 (in the server process) to 64"), ("65", "to 64"),
                                                ("two", "a value of type int")])
def test_compute_workers_setting_is_checked(monkeypatch: pytest.MonkeyPatch, value: str, allowed: str) -> None:
    monkeypatch.setenv("NERASENSE_COMPUTE_WORKERS", value)
    with pytest.raises(InputError) as err:
        settings_from_env()
    (problem,) = err.value.problems
    assert problem.field == "NERASENSE_COMPUTE_WORKERS" and str(problem.value) == value and allowed in problem.allowed


def test_compute_nice_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NERASENSE_COMPUTE_NICE", "20")
    with pytest.raises(InputError, match="NERASENSE_COMPUTE_NICE"):
        settings_from_env()
    monkeypatch.setenv("NERASENSE_COMPUTE_NICE", "19")
    monkeypatch.setenv("NERASENSE_COMPUTE_WORKERS", "0")
    assert (settings_from_env().compute_workers, settings_from_env().compute_nice) == (0, 19)


def test_serve_refuses_a_bad_worker_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--compute-workers", "-3", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--compute-workers" in err and "-3" in err and "--port" in err  # both problems at once
    assert "Traceback" not in err


def test_default_is_the_cores_at_most_four(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NERASENSE_COMPUTE_WORKERS", raising=False)
    assert settings_from_env().compute_workers == min(4, os.cpu_count() or 1)


def _die(_kb: Any, _gk: Any) -> None:
    os._exit(3)  # a worker killed mid-task (out of memory, a signal)


def test_a_dead_worker_breaks_only_its_call(engines: Any, tmp_path: Path) -> None:
    here, pool = engines
    with pytest.raises(BrokenProcessPool):
        pool.call(_die)
    patient = case_folder(tmp_path, PATIENTS[0])
    assert pool.call(cases._assess, patient, None) == here.call(cases._assess, patient, None)  # a new pool


def test_a_killed_worker_answers_503_then_the_service_works_again(service: Service) -> None:
    workers = compute.pool(service.ctx.pool.workers, service.ctx.pool.nice)
    workers.submit(compute._ping).result()
    for pid in list(workers._processes):
        os.kill(pid, signal.SIGKILL)
    headers = service.headers("ana", **{"Content-Type": "application/yaml"})
    r = service.client.post("/v1/patients", content=example_patient(), headers=headers)
    assert r.status_code == 503 and r.headers["Retry-After"] and "retry" in r.json()["detail"]
    r = service.client.post("/v1/patients", content=example_patient(), headers=headers)
    assert r.status_code == 201, r.text
