"""Coverage-guided fuzzing (atheris, libFuzzer) of the byte-level readers, called directly (no CLI).

    python fuzz/atheris_readers.py READER [libFuzzer options, e.g. -max_total_time=60 -rss_limit_mb=3000]

READER is one of maf, vcf, cna, patient, ctdna, lesions. Every input is written to a file and read; a
nerasense error (InputError, ...) is the promised outcome, anything else is a crash that libFuzzer saves
(``crash-*``) with its traceback. The seed corpus is ``fuzz/seeds``. ``make fuzz`` runs each reader for
``FUZZ_ATHERIS_SECONDS`` when atheris is installed (``pip install -e '.[fuzz]'``).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["nerasense"]):
    from nerasense.errors import NerasenseError
    from nerasense.ingest.cna import read_cna
    from nerasense.ingest.ctdna import read_ctdna_series
    from nerasense.ingest.maf import read_maf
    from nerasense.ingest.patient import load_patient_data, patient_problems
    from nerasense.ingest.vcf import read_vcf
    from nerasense.knowledge import default_knowledge
    from nerasense.knowledge.genomics import GenomicsKnowledge
    from nerasense.stats.recist import assess
    from nerasense.stats.tables import read_table

SEEDS = Path(__file__).resolve().parent / "seeds"
KB = default_knowledge()
GK = GenomicsKnowledge(KB)
WORK = Path(tempfile.mkdtemp(prefix="nerasense-atheris-"))


def _patient(path: Path) -> Any:
    return patient_problems(load_patient_data(path), path.name, path.parent, KB)


TARGETS: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "maf": ("x.maf", lambda p: read_maf(p, GK)),
    "vcf": ("x.vcf", lambda p: read_vcf(p, GK)),
    "cna": ("data_cna.txt", read_cna),
    "patient": ("p.yaml", _patient),
    "ctdna": ("series.csv", lambda p: read_ctdna_series(p, kb=KB)),
    "lesions": ("lesions.csv", lambda p: assess(read_table(p))),
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: atheris_readers.py {{{','.join(TARGETS)}}} [libFuzzer options]")
    name, read = TARGETS[sys.argv.pop(1)]
    path = WORK / name
    for seed in SEEDS.iterdir():  # files a patient seed names sit beside it
        (WORK / seed.name).write_bytes(seed.read_bytes())

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        with contextlib.suppress(NerasenseError):  # the promised outcome for bad input
            read(path)

    corpus = WORK / f"corpus-{path.stem}"
    corpus.mkdir(exist_ok=True)
    for seed in SEEDS.iterdir():
        (corpus / seed.name).write_bytes(seed.read_bytes())
    atheris.Setup([*sys.argv, str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
