"""``nerasense discover`` / ``validate`` / ``celllines`` from the command line: files, JSON contract, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nerasense.cli import main
from tests.discovery.conftest import planted

REPO = Path(__file__).resolve().parents[2]
FAST = ["--bootstrap", "3", "--permutations", "3", "--outer-folds", "3", "--inner-folds", "3"]


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and "--json" in argv else {}), err


@pytest.fixture(scope="module")
def discovered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("disc")
    planted(n=150, p=8, seed=31).to_csv(base / "discovery.tsv", sep="\t", index=False)
    planted(n=150, p=8, seed=32).to_csv(base / "validation.tsv", sep="\t", index=False)
    assert main(["discover", str(base / "discovery.tsv"), "--response", "y", *FAST, "-o", str(base / "out")]) == 0
    return base


def test_discover_writes_its_files_and_finds_the_planted_feature(discovered: Path, capsys) -> None:
    out = discovered / "out"
    for name in ("report.html", "screen.tsv", "model.json", "rule.json", "discovery.json"):
        assert (out / name).is_file(), name
    result = json.loads((out / "discovery.json").read_text())
    assert result["screen"][0]["feature"] == "f0" and result["screen"][0]["q"] < 0.05
    assert result["locked_rule"]["expression"].startswith("f0")
    assert {"software_version", "kb_version"} <= set(result)
    page = (out / "report.html").read_text()
    assert page.count("Research use only") == 1
    for item in ("TRIPOD", "Missing data", "Limitations", "Composite rules", "Penalised model", "volcano plot"):
        assert item in page, item


def test_discover_json_contract(discovered: Path, capsys) -> None:
    code, payload, _ = _run(capsys, ["discover", str(discovered / "discovery.tsv"), "--response", "y", "--no-model",
                                     "-o", str(discovered / "nomodel"), "--json"])
    assert code == 0
    assert {"software_version", "kb_version", "response", "kind", "n", "seed", "top", "significant_q05", "model",
            "locked_rule", "rules", "missingness", "files"} <= set(payload)
    assert payload["model"] is None and payload["significant_q05"][0] == "f0"


def test_validate_rule_and_model(discovered: Path, capsys) -> None:
    out = discovered / "out"
    code, payload, _ = _run(capsys, ["validate", str(out / "rule.json"), str(discovered / "validation.tsv"),
                                     "-o", str(discovered / "val"), "--json"])
    assert code == 0
    r = payload["results"][0]
    assert r["direction_holds"] and r["significant"] and r["discrimination"]["value"] > 0.6
    assert "drop_from_discovery" in r and "slope" in r["calibration"]
    assert (discovered / "val" / "report.html").is_file()
    code, payload, _ = _run(capsys, ["validate", str(out / "model.json"), str(discovered / "validation.tsv"), "--json"])
    assert code == 0
    m = payload["results"][0]
    assert m["discrimination"]["value"] > 0.6 and m["performance"]["drop_from_cv"] is not None


def test_validate_a_rule_written_out(discovered: Path, capsys) -> None:
    code, payload, _ = _run(capsys, ["validate", "f0 AND NOT f1", str(discovered / "validation.tsv"), "--response", "y",
                                     "--json"])
    assert code == 0
    assert payload["results"][0]["direction"] == "lower"
    assert "not applicable" in payload["results"][0]["calibration"]["note"]


BAD = [
    (["--response", "nope"], "response='nope'"),
    (["--response", "y", "--kind", "survival"], "event is missing"),
    (["--response", "y", "--features", "f0,zz"], "features='zz'"),
    (["--response", "y", "--bootstrap", "-1"], "--bootstrap=-1"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[b[1] for b in BAD])
def test_discover_bad_input_exits_2_with_one_line(discovered: Path, capsys, args: list[str], message: str) -> None:
    code, _, err = _run(capsys, ["discover", str(discovered / "discovery.tsv"), *args, "-o", str(discovered / "bad")])
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_validate_unknown_evidence_id_exits_2(discovered: Path, capsys, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {expression: f0, direction: lower, source: {evidence: [ev-nowhere]}}\n")
    code, _, err = _run(capsys, ["validate", str(rules), str(discovered / "validation.tsv"), "--response", "y"])
    assert code == 2 and "ev-nowhere" in err


def test_engine_rules_file_cites_knowledge_base_evidence(kb) -> None:
    """Completeness: every shipped engine rule names evidence items that exist, and each is checked."""
    import yaml

    from nerasense.knowledge.schema import EvidenceItem

    known = {e.id for e in kb.of("evidence", EvidenceItem)}
    rules = yaml.safe_load((REPO / "examples/discovery/engine_rules.yaml").read_text())["rules"]
    assert {r["name"] for r in rules} >= {"HER2 amplification", "ERBB2 mutation", "PTEN mutation"}
    for r in rules:
        assert r["source"]["evidence"] and set(r["source"]["evidence"]) <= known, r["name"]


@pytest.mark.shared_data
def test_real_cell_lines_end_to_end(shared_data: Path, tmp_path: Path, capsys) -> None:
    """celllines → discover (screen and rules only) → validate the engine's rules, on the shipped data."""
    tables = tmp_path / "tables"
    assert main(["celllines", "--data", str(shared_data / "ctrp-neratinib"), "-o", str(tables)]) == 0
    capsys.readouterr()
    ignore = "cell_line,gdsc_name,cosmic_id,cancer_type,gdsc_tissue,match,auc_*,n_exp_*"
    code, payload, _ = _run(capsys, ["discover", str(tables / "celllines.tsv"), "--response", "auc_neratinib", "--ignore",
                                     ignore, "--id", "cell_line", "--no-model", "-o", str(tmp_path / "d"), "--json"])
    assert code == 0
    assert payload["top"][0]["feature"] == "gain_cnaPANCAN301_(CDK12,ERBB2,MED24)"
    assert payload["missingness"]["excluded_rows"] == 11  # lines joined to GDSC but never screened with neratinib
    code, payload, _ = _run(capsys, ["validate", str(REPO / "examples/discovery/engine_rules.yaml"),
                                     str(tables / "celllines.tsv"), "--response", "auc_neratinib", "--json"])
    assert code == 0
    by_name = {r["name"]: r for r in payload["results"]}
    her2 = by_name["HER2 amplification"]
    assert her2["direction_holds"] and her2["significant"] and her2["n_positive"] == 37
    # `within`: PIK3CA compared among the ERBB2-amplified lines only
    assert by_name["PIK3CA mutation in HER2-amplified lines"]["n"] == her2["n_positive"]
