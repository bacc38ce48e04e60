"""The main job on the bundled examples: `make demo` runs this.

It validates the knowledge base, then runs every bundled example through the command line exactly as a
user would, writing each JSON answer (and report, where the command makes one) under ``out/``.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import yaml

from nerasense.cli import main

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "out"


def run(name: str, argv: list[str]) -> int:
    """Run one command, capturing its JSON output into out/<name>.json."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([*argv, "--json"])
    target = OUT / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(buf.getvalue(), encoding="utf-8")
    status = "ok" if code == 0 else f"exit {code}"
    print(f"  {status:<7} nerasense {shlex.join(argv)}  ->  {target.relative_to(HERE.parent)}")
    return code


def main_demo() -> int:
    failures = 0
    print("nerasense demo (research use only)")
    failures += run("kb-validate", ["kb", "validate"]) != 0
    cases = yaml.safe_load((HERE / "her2_cases.yaml").read_text(encoding="utf-8"))
    print(f"HER2 testing — {len(cases)} cases from the seeds and the guideline:")
    for case in cases:
        failures += run(f"her2/{case['id']}", ["her2", *case["args"]]) != 0
    summary = {p.stem: json.loads(p.read_text()) .get("result") for p in sorted((OUT / "her2").glob("*.json"))}
    print(json.dumps(summary, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main_demo())
