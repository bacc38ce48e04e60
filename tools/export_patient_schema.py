"""Write docs/patient.schema.json (JSON Schema of the patient file) from the pydantic model.

Run after changing nerasense.domain.patient; a test fails when the committed schema is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nerasense.domain.patient import AGENT_ALIASES, Patient

TARGET = Path(__file__).resolve().parents[1] / "docs" / "patient.schema.json"


def schema_text() -> str:
    schema = Patient.model_json_schema()
    # the reader also accepts generic and brand names of agents (AGENT_ALIASES), case-insensitively
    agent = schema["$defs"]["Agent"]
    agent["enum"] = sorted(set(agent["enum"]) | set(AGENT_ALIASES))
    agent["description"] = (agent.get("description", "") + " Generic and brand names listed here are read as "
                            "their class (case-insensitive).").strip()
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    TARGET.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
