"""Read a patient file (YAML or JSON) into :class:`~nerasense.domain.patient.Patient`, listing every
problem at once with the file name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from nerasense.domain.patient import AGENT_ALIASES, Patient
from nerasense.domain.validation import validate_model
from nerasense.errors import InputError, Problem


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Accept brand names and common spellings of prior agents (AGENT_ALIASES)."""
    out = dict(raw)
    therapies = out.get("prior_therapies")
    if isinstance(therapies, list):
        fixed = []
        for t in therapies:
            if isinstance(t, dict) and isinstance(t.get("agents"), list):
                t = {**t, "agents": [AGENT_ALIASES.get(str(a).strip().lower(), str(a).strip().lower())
                                     for a in t["agents"]]}
            fixed.append(t)
        out["prior_therapies"] = fixed
    return out


def parse_patient(raw: Any, where: str = "patient") -> Patient:
    if not isinstance(raw, dict):
        raise InputError(Problem("(file)", type(raw).__name__, "a mapping of patient fields", where=where))
    return validate_model(Patient, _normalise(raw), where=where)


def read_patient(path: Path) -> Patient:
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("PATIENT_FILE", str(path), "an existing .yaml, .yml or .json file"))
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(Problem("(file)", path.name, "valid YAML or JSON", " ".join(str(exc).split())[:200],
                                 where=str(path))) from None
    return parse_patient(raw, where=path.name)
