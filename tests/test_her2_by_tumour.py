"""HER2 testing by tumour type: gastroesophageal (ToGA / CAP-ASCP-ASCO 2016) and colorectal (HERACLES) rows
from tests/data/her2_tumour_cases.tsv (written from the guidelines' tables), a completeness check, and the
rule that no breast category is ever put on another tumour type."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from nerasense.interpret.her2_testing import her2_scheme, interpret_her2, parse_her2_tests
from nerasense.knowledge import default_knowledge
from nerasense.knowledge.oncotree import oncotree
from nerasense.knowledge.schema import Her2TumourRule, Her2TumourScheme

KB = default_knowledge()
CASES_FILE = Path(__file__).parent / "data" / "her2_tumour_cases.tsv"


def _rows() -> list[dict[str, str]]:
    lines = [line for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def _path(code: str) -> tuple[str, ...]:
    return (code, *oncotree(KB).ancestors(code))


def _read(row: dict[str, str]):
    raw: dict[str, object] = {}
    for key in ("ihc", "specimen"):
        if row[key]:
            raw[key] = row[key]
    for key in ("pct_2plus", "pct_3plus", "ish_ratio"):
        if row[key]:
            raw[key] = float(row[key])
    path = _path(row["tumour"])
    return interpret_her2(parse_her2_tests(raw, breast=False), KB, path)


@pytest.mark.parametrize("row", _rows(), ids=[r["id"] for r in _rows()])
def test_tumour_scheme_case(row: dict[str, str]) -> None:
    reading = _read(row)
    assert reading.result == (row["expected_result"] or None)
    assert reading.category is None  # HER2-low / -ultralow / -0 are breast categories
    if row["expected_amplified"]:
        assert reading.amplified is (row["expected_amplified"] == "true")
    assert reading.rules or not row["expected_result"]  # every reading names the rows (and sources) it rests on


def test_every_tumour_rule_row_has_a_case() -> None:
    """Completeness: each row of her2_tumour_rules.yaml and each scheme's ISH cut-off is exercised."""
    rules = {r.id for r in KB.of("her2_tumour_rules", Her2TumourRule)}
    ish = {f"ish:{s.id}" for s in KB.of("her2_tumour_schemes", Her2TumourScheme) if s.ish_ratio_positive}
    assert rules | ish == {r["rule"] for r in _rows()}


def test_rows_used_match_the_case_rule() -> None:
    for row in _rows():
        if row["rule"].startswith("ish:"):
            continue
        reading = _read(row)
        assert any(r["rule"].endswith(f"[{row['rule']}]") for r in reading.rules), row["id"]


@pytest.mark.parametrize("code", ["GBC", "CHOL", "LUAD", "BLCA", "CEAD", "UEC"])
def test_no_scheme_reports_raw_values_and_no_breast_category(code: str) -> None:
    reading = interpret_her2(parse_her2_tests({"ihc": "1+", "ish_ratio": 1.3, "her2_signals": 2.6}, breast=False),
                             KB, _path(code))
    assert reading.scheme is not None and reading.scheme["id"] is None
    assert reading.result is None and reading.category is None
    assert reading.inputs == {"ihc": "1+", "ish_ratio": 1.3, "her2_signals": 2.6}
    assert reading.comment and "no breast category" in reading.comment


def test_scheme_codes_exist_in_oncotree() -> None:
    tree = oncotree(KB)
    for s in KB.of("her2_tumour_schemes", Her2TumourScheme):
        assert all(c in tree for c in s.codes), s.id


def test_breast_is_the_default_and_unchanged() -> None:
    assert her2_scheme(KB, None).id == "breast"  # type: ignore[union-attr]
    reading = interpret_her2(parse_her2_tests({"ihc": "1+"}), KB, _path("IDC"))
    assert (reading.result, reading.category) == ("negative", "HER2-low")


def test_gastric_without_specimen_asks_for_it_but_reads_a_clear_score() -> None:
    reading = interpret_her2(parse_her2_tests({"ihc": "3+"}, breast=False), KB, _path("STAD"))
    assert reading.result == "positive"
    assert any("surgical" in w and "biopsy" in w for w in reading.workup)


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from nerasense.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_tumour_type_option(capsys) -> None:
    code, out, _ = _cli(capsys, "her2", "--tumour-type", "STAD", "--specimen", "biopsy", "--ihc", "3+", "--json")
    d = json.loads(out)
    assert code == 0 and d["result"] == "positive" and d["category"] is None
    assert d["scheme"]["id"] == "gastroesophageal"
    code, _, err = _cli(capsys, "her2", "--tumour-type", "NOPE", "--ihc", "1+")
    assert code == 2 and "--tumour-type" in err and "NOPE" in err
