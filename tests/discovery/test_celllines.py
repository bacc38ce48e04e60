"""The CTRP × GDSC join on the real shared files: every CTRP line is joined or listed, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerasense.discovery.celllines import build_ctrp_gdsc, normalise_name, split_by_tissue, split_random


@pytest.fixture(scope="module")
def joined(shared_data: Path):
    return build_ctrp_gdsc(shared_data / "ctrp-neratinib")


@pytest.mark.parametrize(("name", "key"), [("BT-474", "BT474"), ("Hs 578T", "HS578T"), ("NCI-H1975", "NCIH1975")])
def test_normalise_name(name: str, key: str) -> None:
    assert normalise_name(name) == key


@pytest.mark.shared_data
def test_every_ctrp_line_is_joined_or_listed(joined) -> None:
    table, report = joined
    assert report["ctrp_lines"] == 871  # PROVENANCE.md: 850 neratinib lines; 871 over the three drugs
    assert report["ctrp_lines_by_drug"]["neratinib"] == 850
    assert report["matched"] + len(report["unmatched_ctrp"]) == report["ctrp_lines"]
    assert len(table) == report["matched"] == len(set(table["cell_line"])) == len(set(table["cosmic_id"]))
    assert sum(report["matched_by_rule"].values()) == report["matched"]


@pytest.mark.shared_data
def test_known_pairs(joined) -> None:
    table, report = joined
    pairs = dict(zip(table["cell_line"], table["gdsc_name"], strict=True))
    assert pairs["BT474"] == "BT-474"  # the example PROVENANCE.md gives
    assert pairs["HCC1954"] == "HCC1954"
    spelled = {m["ctrp"]: (m["gdsc"], m["rule"]) for m in report["matched_by_spelling_rule"]}
    assert spelled["SNU16"] == ("NCI-SNU-16", "NCI prefix left out")
    assert spelled["786O"] == ("786-0", "letter O read as digit 0")
    assert spelled["EOL1"] == ("EoL-1-cell", "trailing CELL left out")
    # GDSC has both KM-H2 and KMH-2: the CTRP line KMH2 is ambiguous and listed, not guessed
    reasons = {u["ctrp"]: u["reason"] for u in report["unmatched_ctrp"]}
    assert reasons["KMH2"].startswith("ambiguous")


@pytest.mark.shared_data
def test_erbb2_amplified_lines_are_the_known_her2_lines(joined) -> None:
    table, _ = joined
    amp = set(table.loc[table["gain_cnaPANCAN301_(CDK12,ERBB2,MED24)"] == 1, "cell_line"])
    assert {"BT474", "HCC1954"} <= amp  # HER2-amplified breast lines (ATCC / Neve et al. 2006)
    assert "MCF7" not in amp


@pytest.mark.shared_data
def test_splits_partition_the_lines(joined) -> None:
    table, _ = joined
    a, b = split_by_tissue(table, seed=0)
    assert len(a) + len(b) == len(table)
    assert not set(a["cancer_type"].dropna()) & set(b["cancer_type"].dropna())
    c, d = split_random(table, seed=0)
    assert len(c) + len(d) == len(table) and not set(c["cell_line"]) & set(d["cell_line"])
    assert abs(len(c) - len(d)) < 0.1 * len(table)


@pytest.mark.shared_data
def test_shuffled_real_response_has_no_discovery(joined) -> None:
    """The null on the real table: neratinib AUCs shuffled across lines, no feature reaches q ≤ 0.05."""
    import numpy as np

    from nerasense.discovery.data import prepare
    from nerasense.discovery.screen import univariate_screen

    table, _ = joined
    t = table[table["auc_neratinib"].notna()].copy()
    meta = ["cell_line", "gdsc_name", "cosmic_id", "cancer_type", "gdsc_tissue", "match"]
    meta += [c for c in t.columns if c.startswith(("auc_", "n_exp_"))]
    real = univariate_screen(prepare(t, "auc_neratinib", ignore=meta, min_count=5))
    assert real[0].feature == "gain_cnaPANCAN301_(CDK12,ERBB2,MED24)" and real[0].q < 0.05
    for seed in (1, 2):
        t["shuffled"] = np.random.default_rng(seed).permutation(t["auc_neratinib"].to_numpy())
        rows = univariate_screen(prepare(t, "shuffled", ignore=[*meta, "auc_neratinib"], min_count=5))
        assert min(r.q for r in rows) > 0.05
