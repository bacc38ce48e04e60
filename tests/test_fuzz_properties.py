"""Issue 17: property tests over every reader and command with the damage classes of the fuzz harness
(``fuzz/harness.py``): whatever the damage, a run ends in success or one clean error line (exit 2 or 4),
never a traceback or a hang. ``make fuzz`` runs the same harness for 20,000 inputs; here a short smoke run."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nerasense_fuzz_harness", REPO / "fuzz" / "harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


H = _harness()
GOOD = {"ok", "clean", "boundary"}


@pytest.fixture(autouse=True)
def _debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NERASENSE_DEBUG", "1")  # an unexpected exception escapes instead of becoming exit 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reader=st.sampled_from(sorted(H.READERS)), rng_seed=st.integers(0, 2**32 - 1), name_pick=st.integers(0, 10))
def test_damaged_input_never_crashes(tmp_path: Path, reader: str, rng_seed: int, name_pick: int) -> None:
    r = H.READERS[reader]
    rng = random.Random(rng_seed)
    for seed in H.SEEDS.iterdir():
        (tmp_path / seed.name).write_bytes(seed.read_bytes())
    data, applied = H.damage(rng, r, (H.SEEDS / rng.choice(r.seeds)).read_bytes())
    name = r.suffixes[name_pick % len(r.suffixes)]
    if name.endswith(".gz"):
        data = H.corrupt_gzip(rng, data)
    path = tmp_path / name
    path.write_bytes(data)
    outcome, detail = H.run_one(r.argv(str(path)), 60)
    assert outcome in GOOD, f"{reader} {applied}: {detail}"


ARG = st.one_of(st.text(max_size=30), st.sampled_from(["inf", "-inf", "nan", "-1", "0", "1e308", "9" * 5000, "--", "-",
                                                        "p.L755S", "3+", "2+", "\u2028", "\x00"]))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from([
    ["her2", "--ihc", 0, "--ish-ratio", 1, "--her2-signals", 2, "--cep17-signals", 3, "--json"],
    ["her2", "--pct-1plus", 0, "--pct-2plus", 1, "--pct-3plus", 2, "--json"],
    ["variant", 0, 1, "--json"],
    ["stats", "orr", "--responders", 0, "--evaluable", 1, "--level", 2, "--json"],
    ["design", "single-arm", "--p0", 0, "--p1", 1, "--alpha", 2, "--power", 3, "--json"],
    ["design", "simon", "--p0", 0, "--p1", 1, "--nmax", "40", "--json"],
    ["dosing", 0, "--weight", 1, "--height", 2, "--json"],
    ["interactions", 0, 1, "--json"],
]), args=st.lists(ARG, min_size=4, max_size=4))
def test_command_arguments_never_crash(command: list[object], args: list[str]) -> None:
    argv = [args[a] if isinstance(a, int) else a for a in command]
    outcome, detail = H.run_one([str(a) for a in argv], 60)
    assert outcome in GOOD, f"{argv}: {detail}"


def test_fuzz_smoke_run(tmp_path: Path) -> None:
    """A short run of the harness over every reader, in its supervised worker process (CI); `make fuzz` runs
    20,000 inputs."""
    counts = H.fuzz(inputs=16 * len(H.READERS), seconds=300, seed=17, readers=sorted(H.READERS),
                    crashes=tmp_path / "crashes", timeout=60, log=lambda _m: None)
    assert {name: c["crash"] + c["hang"] for name, c in counts.items()} == dict.fromkeys(H.READERS, 0)
    assert all(sum(c.values()) == 16 for c in counts.values())
