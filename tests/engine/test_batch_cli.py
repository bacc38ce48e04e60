"""`nerasense batch`: every file accounted for, one bad file never hides the others."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

from nerasense.cli import main
from nerasense.errors import NerasenseWarning

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patients"


def test_batch_writes_every_patient_and_lists_failures(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("patient_id: BAD\necog: 9\n")
    files = sorted(str(p) for p in EXAMPLES.glob("*.yaml"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        code = main(["batch", *files, str(bad), "-o", str(tmp_path / "out"), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1
    assert payload["assessed"] == len(files)
    assert payload["failed"][0]["file"] == str(bad) and "ecog=9" in payload["failed"][0]["error"]
    with open(tmp_path / "out" / "summary.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len({r["patient_id"] for r in rows}) == len(files)
    assert {r["call"] for r in rows} <= {"likely benefit", "possible benefit", "unlikely benefit", "resistance",
                                         "insufficient data", "not applicable"}
