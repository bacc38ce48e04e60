"""Guyot reconstruction: against a published at-risk table (CheckMate 067) and against real patients."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nerasense.cli import main
from nerasense.errors import InputError
from nerasense.stats.reconstruct import clean_curve, guyot, read_curve
from nerasense.stats.survival import kaplan_meier, numbers_at_risk

from .conftest import SHARED_DATA

DIGITISED = SHARED_DATA / "kmdata" / "digitised"
needs_digitised = pytest.mark.skipif(not DIGITISED.is_dir(), reason=f"{DIGITISED} absent (shared data not beside the repo)")


def _gbsg2_arm(datasets: dict, arm: str) -> tuple[np.ndarray, np.ndarray]:
    g = datasets["gbsg2"]
    sub = g[g["horTh"] == arm]
    return sub["time"].to_numpy(float), sub["cens"].to_numpy(int)


@needs_digitised
def test_checkmate_067_reproduces_the_published_table() -> None:
    """CheckMate 067 figure S3A, nivolumab arm (622 digitised points, at-risk table every 3 months, n = 80):
    the rebuilt patients reproduce the published numbers at risk (to one patient) and the digitised curve."""
    curve = pd.read_csv(DIGITISED / "Checkmate_067_S3A_Nivolumab.csv")
    risk = pd.read_csv(DIGITISED / "Checkmate_067_At_Risk.csv")
    t, s, _ = read_curve(curve)
    rec = guyot(t, s, risk["trisk"], risk["nrisk"])
    assert len(rec.time) == 80
    published = dict(zip(risk["trisk"], risk["nrisk"], strict=True))
    used = [x for x in published if x <= t.max()]
    got = numbers_at_risk(rec.time, used)
    assert max(abs(g - published[x]) for g, x in zip(got, used, strict=True)) <= 1
    assert rec.rmse < 0.005 and rec.max_abs_error < 0.01


def test_exact_curve_round_trip_gives_back_the_patients(datasets: dict) -> None:
    """Oracle: GBSG2 (hormone therapy arm). Read exactly at every step with the at-risk table every 365
    days, the rebuilt KM equals the original (to 0.01: censorings are spread evenly within an interval) at
    every event time the table constrains (before its
    last time: after it Guyot's censoring is a guess from the earlier rate, and the error is larger, 0.04
    here), and the event count is the original's."""
    t, e = _gbsg2_arm(datasets, "yes")
    km = kaplan_meier(t, e)
    steps = km.n_event > 0
    risk_t = np.arange(0, km.time[-1], 365.0)
    rec = guyot(km.time[steps], km.surv[steps], risk_t, numbers_at_risk(t, risk_t))
    back = kaplan_meier(rec.time, rec.event)
    for tt in km.time[steps & (km.time < rec.risk_times[-1])]:  # table times after the last point are unused
        i = np.searchsorted(back.time, tt, side="right") - 1
        j = np.searchsorted(km.time, tt, side="right") - 1
        assert back.surv[i] == pytest.approx(km.surv[j], abs=0.01)
    assert abs(rec.events - int(e.sum())) <= 2
    assert rec.max_abs_error < 0.05


def test_total_events_variant_places_the_reported_events(datasets: dict) -> None:
    """Without an at-risk table (N and the total number of events only), the events add up to the total."""
    t, e = _gbsg2_arm(datasets, "no")
    km = kaplan_meier(t, e)
    steps = km.n_event > 0
    rec = guyot(km.time[steps], km.surv[steps], n=len(t), total_events=int(e.sum()))
    assert len(rec.time) == len(t)
    assert rec.events == int(e.sum())


def test_cleaning_follows_a_digitiser_export() -> None:
    """Percent scale, unsorted points, a point that rises, a missing (0, 1) and duplicated times."""
    c = clean_curve([5, 1, 3, 3, 8], [80, 95, 90, 85, 82], risk_times=[0, 4])
    assert c.time.tolist() == [0, 1, 3, 4, 5, 8]
    assert c.surv.tolist() == pytest.approx([1.0, 0.95, 0.85, 0.85, 0.80, 0.80])
    assert any("percent" in n for n in c.notes) and any("rises" in n for n in c.notes)


def test_columns_in_either_order() -> None:
    df = pd.DataFrame({"a": [1.0, 0.9, 0.8, 0.5], "b": [0.0, 2.0, 4.0, 9.0]})
    t, s, _ = read_curve(df)
    assert t.tolist() == [0.0, 2.0, 4.0, 9.0] and s.tolist() == [1.0, 0.9, 0.8, 0.5]


def test_bad_at_risk_table_is_reported() -> None:
    with pytest.raises(InputError) as exc:
        guyot([0, 1, 2], [1, 0.9, 0.8], [0, 2, 1], [10, 8, 9])
    assert "at-risk" in str(exc.value)


@needs_digitised
def test_cli_reconstruct(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ipd.csv"
    argv = ["reconstruct", str(DIGITISED / "Checkmate_067_S3A_Nivolumab.csv"), "--at-risk",
            str(DIGITISED / "Checkmate_067_At_Risk.csv"), "-o", str(out), "--arm", "nivolumab", "--json"]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["fit"]["n"] == 80 and {"rmse", "max_abs_error", "events", "at_risk"} <= payload["fit"].keys()
    ipd = pd.read_csv(out)
    assert list(ipd.columns) == ["arm", "time", "event"] and len(ipd) == 80


def test_cli_reconstruct_needs_at_risk_or_n(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.csv"
    path.write_text("0,1\n1,0.9\n2,0.8\n")
    assert main(["reconstruct", str(path), "--json"]) == 2
    assert "--at-risk" in capsys.readouterr().err


def test_cli_reconstruct_shipped_example(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/reconstruct: GBSG2's hormone-therapy arm read like a digitiser (unsorted, no header, small
    reading errors). R: survfit(Surv(time, cens) ~ horTh, GBSG2) gives 246 patients, 94 events and a median of
    2018 days (tests/reference/survival.json); the rebuilt patients must come back to within 2 events and 1 %."""
    root = Path(__file__).parents[2] / "examples" / "reconstruct"
    want = json.loads((Path(__file__).parents[1] / "reference" / "survival.json").read_text())["km"]["log"]["gbsg2_horTh"]["yes"]
    argv = ["reconstruct", str(root / "gbsg2_hormone_curve.csv"), "--at-risk", str(root / "gbsg2_hormone_at_risk.csv"), "--json"]
    assert main(argv) == 0
    fit = json.loads(capsys.readouterr().out)["fit"]
    assert fit["n"] == want["n"]
    assert abs(fit["events"] - want["events"]) <= 2
    assert fit["median"] == pytest.approx(want["median"], rel=0.01)
    assert all(r["published"] == r["rebuilt"] for r in fit["at_risk"])
