"""Figures render with Agg and carry the numbers they claim (risk table from R's convention)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nerasense.report.figures import forest_figure, km_figure, swimmer_figure, to_png, waterfall_figure
from nerasense.stats.survival import km_by_group
from nerasense.stats.tables import survival_columns

from ..stats.conftest import datasets, golden  # noqa: F401  (fixture re-export)

PNG = b"\x89PNG"


def test_no_pyplot_at_import() -> None:
    # a fresh interpreter: other tests in this session may already have imported pyplot
    code = "import sys, nerasense.report.figures; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_km_risk_table_shows_r_numbers(datasets: dict) -> None:  # noqa: F811
    """Risk table text = R summary(survfit(Surv(time, cens) ~ horTh, GBSG2), times=...)$n.risk."""
    want = golden("survival")["risk_table"]["gbsg2"]
    times = sorted(set(want["time"]))
    fits = km_by_group(survival_columns(datasets["gbsg2"], "time", "cens", group="horTh"), "group")
    fig = km_figure(fits, risk_times=times, xlabel="Days")
    texts = {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}
    shown = [int(texts[f"risk:{g}:{t:g}"]) for g in ("no", "yes") for t in times]
    assert shown == [int(x) for x in want["n_risk"]]
    assert to_png(fig).startswith(PNG)


def test_waterfall_has_recist_lines() -> None:
    fig = waterfall_figure({"a": -45.0, "b": 10.0, "c": 130.0}, {"a": "PR", "b": "SD", "c": "PD"})
    gids = {line.get_gid() for line in fig.axes[0].lines}
    assert {"line:-30", "line:+20"} <= gids
    heights = sorted(p.get_height() for p in fig.axes[0].patches)
    assert heights == [-45.0, 10.0, 100.0]  # capped at +100 for display
    assert to_png(fig).startswith(PNG)


def test_forest_and_swimmer_render() -> None:
    rows = [
        {"variable": "menostat", "level": "Post", "n": 396, "hr": 0.6, "hr_ci_low": 0.45, "hr_ci_high": 0.8},
        {"variable": "menostat", "level": "Pre", "n": 290, "hr": None, "hr_ci_low": None, "hr_ci_high": None},
    ]
    assert to_png(forest_figure(rows, {"menostat": 0.3})).startswith(PNG)
    sw = [
        {"patient": "1", "duration": 5.0, "best_response": "PR", "ongoing": True, "markers": [(2.0, "PR")]},
        {"patient": "2", "duration": 2.0, "best_response": "PD"},
    ]
    assert to_png(swimmer_figure(sw)).startswith(PNG)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_save(tmp_path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    from nerasense.report.figures import save

    p = save(waterfall_figure({"a": -10.0}), tmp_path / f"w{suffix}")
    assert p.stat().st_size > 0
