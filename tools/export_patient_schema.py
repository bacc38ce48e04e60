"""Write docs/patient.schema.json (JSON Schema of the patient file) from the pydantic model.

Run after changing nerasense.domain.patient; a test fails when the committed schema is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nerasense.domain.patient import Patient

TARGET = Path(__file__).resolve().parents[1] / "docs" / "patient.schema.json"


def schema_text() -> str:
    return json.dumps(Patient.model_json_schema(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    TARGET.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
