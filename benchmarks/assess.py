"""Benchmark: knowledge load, one-patient assessment (in process), and a batch of 1,000 patients.

Targets (issue 4): knowledge load <= 0.5 s; assessment p50 <= 50 ms after load; 1,000 patients <= 60 s.
Prints figures with the machine and input sizes; asserts nothing.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
import warnings
from pathlib import Path

from _machine import cpu_name
from rich.progress import Progress

from nerasense.engine.assess import assess_patient
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.knowledge.loader import load_knowledge
from nerasense.pipeline import prepare

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "patients"




def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu_name()}; Python {platform.python_version()}")
    t0 = time.perf_counter()
    kb = load_knowledge()
    load_s = time.perf_counter() - t0
    gk = GenomicsKnowledge(kb)
    entries = sum(len(v) for v in kb.entries.values())
    print(f"knowledge load: {load_s:.3f} s ({entries} entries, {len(kb.entries)} kinds)   target <= 0.5 s")

    paths = sorted(EXAMPLES.glob("*.yaml"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = [prepare(p, kb, gk) for p in paths]
    inputs = [(x.patient, x.alterations, x.ctdna) for x in prepared]
    assess_patient(inputs[0][0], kb, inputs[0][1])  # warm caches (OncoTree table, rule indexes)
    times = []
    for _ in range(25):
        for patient, alterations, ctdna in inputs:
            t = time.perf_counter()
            assess_patient(patient, kb, alterations, ctdna=ctdna, gk=gk)
            times.append(time.perf_counter() - t)
    times.sort()
    p50 = statistics.median(times) * 1000
    p95 = times[int(0.95 * len(times))] * 1000
    print(f"one patient: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(times)} runs of the "
          f"{len(inputs)} archetypes   target p50 <= 50 ms")

    n = 1000
    t = time.perf_counter()
    with Progress(transient=True) as progress:
        task = progress.add_task("assessing", total=n)
        for i in range(n):
            patient, alterations, ctdna = inputs[i % len(inputs)]
            assess_patient(patient, kb, alterations, ctdna=ctdna, gk=gk)
            progress.advance(task)
    batch_s = time.perf_counter() - t
    print(f"batch: {n} patients in {batch_s:.1f} s ({n / batch_s:.0f} patients/s)   target <= 60 s")


if __name__ == "__main__":
    main()
