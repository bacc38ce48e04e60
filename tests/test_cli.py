"""The command-line contract of design.md: --json prints one object; bad input exits non-zero with one
line on stderr naming the field, the value and what is allowed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nerasense.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("nerasense ")


def test_her2_json_contract(capsys) -> None:
    code, out, _ = run(capsys, "her2", "--ihc", "2+", "--her2-signals", "4.6", "--cep17-signals", "2.0",
                       "--pct-1plus", "10", "--pct-2plus", "60", "--pct-3plus", "10", "--json")
    assert code == 0
    d = json.loads(out)
    for key in ("result", "ish_group", "category", "h_score", "hermark", "workup", "software_version", "kb_version"):
        assert key in d
    # ratio 4.6/2.0 = 2.3 >= 2.0 with 4.6 >= 4.0 signals: ASCO/CAP group 1, positive
    assert (d["result"], d["ish_group"], d["category"]) == ("positive", 1, "HER2-positive")
    assert d["h_score"] == 160


def test_her2_bad_input_is_one_line_with_every_problem(capsys) -> None:
    code, out, err = run(capsys, "her2", "--ihc", "4+", "--ish-ratio", "-1", "--json")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "ihc='4+'" in lines[0] and "ish_ratio='-1'" in lines[0] and "allowed" in lines[0]


def test_unknown_option_is_usage_error(capsys) -> None:
    code, _, err = run(capsys, "her2", "--fish", "2")
    assert code == 2 and "--fish" in err and len(err.strip().splitlines()) == 1


def test_kb_validate(capsys) -> None:
    code, out, _ = run(capsys, "kb", "validate", "--json")
    assert code == 0 and json.loads(out)["valid"] is True


def test_kb_validate_fails_loudly(capsys, tmp_path) -> None:
    (tmp_path / "sources.yaml").write_text("kind: sources\nentries: [{id: x, type: paper}]\n")
    code, _, err = run(capsys, "kb", "validate", "--data-dir", str(tmp_path))
    assert code == 3 and "citation" in err and "manifest" in err


def test_console_script_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "nerasense", "her2", "--ihc", "3+", "--json"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "positive"
