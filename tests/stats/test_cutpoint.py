"""Maximally selected log-rank statistics against R ``maxstat`` 0.7-25 (tests/reference/maxstat.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerasense.cli import main
from nerasense.errors import AnalysisError, InputError, NerasenseWarning
from nerasense.stats.cutpoint import logrank_scores, maxstat_logrank

from .conftest import golden

R = golden("maxstat")
CASES = {
    "gbsg2_pgr": ("gbsg2", "time", "cens", "progrec"),
    "gbsg2_age": ("gbsg2", "time", "cens", "age"),
    "gbsg2_pnodes": ("gbsg2", "time", "cens", "pnodes"),
    "gbsg2_pgr_02": ("gbsg2", "time", "cens", "progrec"),
    "rossi_age": ("rossi", "week", "arrest", "age"),
    "rossi_prio": ("rossi", "week", "arrest", "prio"),
    "lung_age": ("lung", "time", "status", "age"),
    "demo_marker": ("demo", "pfs_months", "pfs_event", "her2_marker"),
}
DEMO = Path(__file__).parents[2] / "examples" / "stats" / "demo_cohort.csv"


@pytest.mark.parametrize("case", list(CASES))
def test_matches_r_maxstat(datasets: dict, case: str) -> None:
    """R: maxstat.test(Surv(t, e) ~ x, data, smethod="LogRank", pmethod="Lau92" / "Lau94",
    minprop=m, maxprop=1-m) — estimate, statistic, p.value, length(stats); calls in maxstat.json."""
    ds, t, e, x = CASES[case]
    want = R[case]
    d = pd.read_csv(DEMO) if ds == "demo" else datasets[ds]
    with pytest.warns(NerasenseWarning, match="not valid"):
        res = maxstat_logrank(d[t], d[e], d[x], minprop=want["minprop"])
    assert res.cutpoint == want["cutpoint"]
    assert res.n_splits == want["n_splits"]
    assert res.statistic == pytest.approx(want["statistic"], rel=1e-10)
    assert res.p_lau92 == pytest.approx(want["p_lau92"], rel=1e-10)
    assert res.p_lau94 == pytest.approx(want["p_lau94"], rel=1e-10)
    assert res.p_naive < res.p_lau94  # selection always costs


def test_fast_statistics_equal_naive_loop(datasets: dict) -> None:
    """Oracle: the cumulative-sum statistics equal a direct per-cut computation."""
    d = datasets["rossi"]
    with pytest.warns(NerasenseWarning):
        res = maxstat_logrank(d["week"], d["arrest"], d["age"], n_perm=0)
    a = logrank_scores(d["week"], d["arrest"])
    x = d["age"].to_numpy(float)
    n = len(a)
    for cut, stat in zip(res.candidates, res.statistics, strict=True):
        low = x <= cut
        m = low.sum()
        v = m * (n - m) / (n * n * (n - 1)) * (n * np.sum(a**2) - a.sum() ** 2)
        assert stat == pytest.approx(abs(a[low].sum() - m / n * a.sum()) / np.sqrt(v), rel=1e-12)


def test_permutation_p_is_seeded_and_plausible(datasets: dict) -> None:
    """For GBSG2 age R gives Lau94 0.0607 and Lau92 0.0943; a permutation p lands in the same region."""
    d = datasets["gbsg2"]
    with pytest.warns(NerasenseWarning):
        r1 = maxstat_logrank(d["time"], d["cens"], d["age"], n_perm=400, seed=7)
    with pytest.warns(NerasenseWarning):
        r2 = maxstat_logrank(d["time"], d["cens"], d["age"], n_perm=400, seed=7)
    assert r1.p_perm == r2.p_perm
    assert r1.p_perm is not None and 0.01 < r1.p_perm < 0.2


@pytest.mark.parametrize("kwargs,field", [({"minprop": 0.6}, "minprop"), ({"minprop": 0.1, "maxprop": 0.3}, "maxprop")])
def test_bad_proportions(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        maxstat_logrank([1, 2, 3], [1, 0, 1], [1, 2, 3], **kwargs)
    assert err.value.problems[0].field == field


def test_cli_cutpoint(tmp_path: Path, datasets: dict, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gbsg2.csv"
    datasets["gbsg2"].to_csv(path, index=False)
    argv = ["cutpoint", str(path), "--time", "time", "--event", "cens", "--marker", "progrec", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"cutpoint", "statistic", "p_naive", "p_lau92", "p_lau94"} <= out.keys()
    assert out["cutpoint"] == R["gbsg2_pgr"]["cutpoint"]
    assert any("not valid" in w for w in out["warnings"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 1), st.integers(0, 9)), min_size=12, max_size=50))
def test_row_order_does_not_matter(rows: list[tuple[int, int, int]]) -> None:
    t, e, x = (np.array(c, float) for c in zip(*rows, strict=True))
    if e.sum() == 0 or len(np.unique(x)) < 3:
        return
    perm = np.random.default_rng(1).permutation(len(t))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        try:
            a = maxstat_logrank(t, e, x)
        except AnalysisError:
            return
        b = maxstat_logrank(t[perm], e[perm], x[perm])
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)
    if a.cutpoint != b.cutpoint:  # only between cuts tied in exact arithmetic, as R itself would (argmax_as_r)
        at = dict(zip(a.candidates, a.statistics, strict=True))
        assert at[a.cutpoint] == pytest.approx(at[b.cutpoint], rel=1e-12)


def test_a_tie_in_the_last_bit_is_broken_as_r_breaks_it() -> None:
    """Found by the live-R property test. In R 4.2.2 with maxstat 0.7-25:
    d <- data.frame(time = c(11, 2, 2, 7, 5, 10, 10, 5, 1), event = 1, marker = c(5, 3, 3, 5, 1, 3, 3, 6, 5))
    m <- maxstat.test(Surv(time, event) ~ marker, data = d, smethod = "LogRank", pmethod = "Lau94")
    sprintf("%.17g", m$stats)  # "0.4230346256750161" "0.17292903939326654" "0.42303462567501621"
    m$estimate                 # 5: the cuts at 1 and 5 tie in exact arithmetic, R's sums put 5 one ulp higher"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        r = maxstat_logrank([11, 2, 2, 7, 5, 10, 10, 5, 1], [1] * 9, [5, 3, 3, 5, 1, 3, 3, 6, 5])
    assert r.cutpoint == 5.0
    assert r.statistics == [0.4230346256750161, 0.17292903939326654, 0.42303462567501621]
