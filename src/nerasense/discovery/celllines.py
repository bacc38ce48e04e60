"""The CTRP × GDSC cell-line table: HER-family TKI response joined to binary genomic features.

Inputs (``../shared/data/ctrp-neratinib/``, read where they lie, never copied):

* ``ctrp_her_tki_auc.tsv`` — CTRP v2 area under the dose–response curve (AUC; lower = more sensitive),
  one row per experiment: ``ccl_name``, ``cancer_type``, ``cpd_name``, ``area_under_curve``
  (Seashore-Ludlow et al., Cancer Discov 2015; Rees et al., Nat Chem Biol 2016);
* ``gdsc_genomic_features_v17.csv.gz`` — GDSC binary features by ``COSMIC_ID`` (mutations ``GENE_mut``,
  recurrent copy-number gains and losses ``gain_/loss_cnaPANCANn_(genes)``, ``MSI_FACTOR``;
  Iorio et al., Cell 2016, via gdsctools 1.0.1);
* ``gdsc_cosmic_info.csv.gz`` — GDSC ``SAMPLE_NAME`` ↔ ``COSMIC_ID``.

**The join.** The two resources spell cell lines differently (CTRP ``BT474``, GDSC ``BT-474``). Names are
compared after upper-casing and removing every character that is not a letter or digit. Lines still
unmatched are then compared under three spelling rules, each accepted only when it gives exactly one
line on each side: the ``NCI`` prefix left out (CTRP ``SNU16`` / GDSC ``NCI-SNU-16``, ``H292`` / ``NCI-H292``),
letter O read as digit 0 (``786O`` / ``786-0``, ``UO31`` / ``U031``) and a trailing ``CELL`` left out
(``EOL1`` / ``EoL-1-cell``). A normalised name that two GDSC lines share (``KM-H2`` and ``KMH-2``) is ambiguous
and not joined. Every CTRP line without a GDSC partner, and why, is in the join report; none is dropped
without being listed. Several CTRP experiments of one line and drug are averaged (their number kept).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nerasense.errors import InputError, Problem

CTRP_FILE = "ctrp_her_tki_auc.tsv"
FEATURES_FILE = "gdsc_genomic_features_v17.csv.gz"
INFO_FILE = "gdsc_cosmic_info.csv.gz"
DRUGS = ("neratinib", "lapatinib", "afatinib")

# spelling rules tried, in order, on lines the plain normalisation leaves unmatched
_RULES: tuple[tuple[str, Any], ...] = (
    ("NCI prefix left out", lambda s: s[3:] if s.startswith("NCI") else s),
    ("letter O read as digit 0", lambda s: s.replace("O", "0")),
    ("trailing CELL left out", lambda s: s[:-4] if s.endswith("CELL") else s),
)


def normalise_name(name: object) -> str:
    """Upper case, letters and digits only: ``BT-474`` → ``BT474``, ``Hs 578T`` → ``HS578T``."""
    return re.sub(r"[^A-Z0-9]", "", str(name).upper())


def build_ctrp_gdsc(folder: str | Path, drugs: Sequence[str] = DRUGS) -> tuple[Any, dict[str, Any]]:
    """The joined table (one row per matched cell line) and the join report.

    Columns: ``cell_line`` (CTRP name), ``gdsc_name``, ``cosmic_id``, ``cancer_type`` (CTRP),
    ``gdsc_tissue``, ``match`` (how the names were joined), ``auc_<drug>`` and ``n_exp_<drug>`` per drug
    (missing where CTRP did not test the line), then every GDSC feature column.
    """
    import pandas as pd

    base = Path(folder)
    missing = [f for f in (CTRP_FILE, FEATURES_FILE, INFO_FILE) if not (base / f).is_file()]
    if missing:
        raise InputError(Problem("data folder", str(base), f"a folder holding {', '.join(missing)}"))
    ctrp = pd.read_csv(base / CTRP_FILE, sep="\t")
    feats = pd.read_csv(base / FEATURES_FILE)
    info = pd.read_csv(base / INFO_FILE)
    unknown = sorted(set(drugs) - set(ctrp["cpd_name"]))
    if unknown:
        raise InputError(Problem("drug", ", ".join(unknown), " / ".join(sorted(set(ctrp["cpd_name"])))))

    ctrp = ctrp[ctrp["cpd_name"].isin(drugs)]
    per_line = ctrp.groupby(["ccl_name", "cpd_name"])["area_under_curve"].agg(["mean", "size"]).unstack("cpd_name")
    lines = ctrp.drop_duplicates("ccl_name").set_index("ccl_name")["cancer_type"]

    gdsc = info[info["COSMIC_ID"].isin(feats["COSMIC_ID"])][["SAMPLE_NAME", "COSMIC_ID"]].copy()
    gdsc["key"] = gdsc["SAMPLE_NAME"].map(normalise_name)
    key_count = gdsc["key"].value_counts()
    ambiguous = {k: sorted(gdsc.loc[gdsc["key"] == k, "SAMPLE_NAME"]) for k in key_count[key_count > 1].index}
    unique = gdsc[~gdsc["key"].isin(ambiguous)]
    by_key = dict(zip(unique["key"], zip(unique["SAMPLE_NAME"], unique["COSMIC_ID"], strict=True), strict=True))

    matches: dict[str, tuple[str, int, str]] = {}
    unmatched: dict[str, str] = {}
    for name in lines.index:
        k = normalise_name(name)
        if k in by_key:
            matches[name] = (*by_key[k], "same letters and digits")
        elif k in ambiguous:
            unmatched[name] = f"ambiguous: GDSC lines {', '.join(ambiguous[k])} share the normalised name {k}"
    taken = {v[1] for v in matches.values()}
    for rule, f in _RULES:
        left = [n for n in lines.index if n not in matches and n not in unmatched]
        g_left = {k: v for k, v in by_key.items() if v[1] not in taken}
        g_rule: dict[str, list[tuple[str, int]]] = {}
        for k, v in g_left.items():
            g_rule.setdefault(f(k), []).append(v)
        c_rule: dict[str, list[str]] = {}
        for n in left:
            c_rule.setdefault(f(normalise_name(n)), []).append(n)
        for key, names in c_rule.items():
            if len(names) == 1 and len(g_rule.get(key, [])) == 1:
                s_name, cosmic = g_rule[key][0]
                matches[names[0]] = (s_name, cosmic, rule)
                taken.add(cosmic)
    for name in lines.index:
        if name not in matches and name not in unmatched:
            unmatched[name] = "no GDSC line with features under this name"

    tissue = feats.set_index("COSMIC_ID")["TISSUE_FACTOR"]
    rows = []
    for name, (s_name, cosmic, how) in sorted(matches.items()):
        row: dict[str, Any] = {"cell_line": name, "gdsc_name": s_name, "cosmic_id": int(cosmic),
                               "cancer_type": lines[name], "gdsc_tissue": tissue.get(cosmic), "match": how}
        for d in drugs:
            has = ("mean", d) in per_line.columns and not np.isnan(per_line.loc[name, ("mean", d)])
            row[f"auc_{d}"] = float(per_line.loc[name, ("mean", d)]) if has else np.nan
            row[f"n_exp_{d}"] = int(per_line.loc[name, ("size", d)]) if has else 0
        rows.append(row)
    head = pd.DataFrame(rows)
    table = head.merge(feats.drop(columns=["TISSUE_FACTOR"]).rename(columns={"COSMIC_ID": "cosmic_id"}),
                       on="cosmic_id", how="left")
    matched_cosmic = set(table["cosmic_id"])
    report = {
        "ctrp_lines": len(lines),
        "ctrp_lines_by_drug": {d: int(ctrp.loc[ctrp["cpd_name"] == d, "ccl_name"].nunique()) for d in drugs},
        "gdsc_lines_with_features": len(feats),
        "matched": len(matches),
        "matched_by_rule": _count(v[2] for v in matches.values()),
        "matched_by_spelling_rule": [
            {"ctrp": n, "gdsc": v[0], "rule": v[2]} for n, v in sorted(matches.items()) if v[2] != "same letters and digits"
        ],
        "unmatched_ctrp": [{"ctrp": n, "cancer_type": _text(lines[n]), "reason": r} for n, r in sorted(unmatched.items())],
        "unmatched_ctrp_by_reason": _count(_reason(r) for r in unmatched.values()),
        "gdsc_without_ctrp": sorted(gdsc.loc[~gdsc["COSMIC_ID"].isin(matched_cosmic), "SAMPLE_NAME"].tolist()),
        "multiple_experiments": {
            d: int((per_line[("size", d)] > 1).sum()) for d in drugs if ("size", d) in per_line.columns
        },
        "aggregation": "mean AUC over a line's CTRP experiments for the drug",
    }
    return table, report


def _text(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _reason(r: str) -> str:
    return "ambiguous name" if r.startswith("ambiguous") else r


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def split_by_tissue(table: Any, seed: int = 0, column: str = "cancer_type") -> tuple[Any, Any]:
    """Two tables with no tissue in both: tissues shuffled (seeded) then dealt largest first to the
    smaller half, so the halves are about equal in lines. Lines without a tissue form their own group."""
    tissues = table[column].fillna("(none)")
    sizes = tissues.value_counts()
    rng = np.random.default_rng(seed)
    order = list(sizes.index)
    rng.shuffle(order)
    order.sort(key=lambda t: -sizes[t])  # stable: ties keep the seeded order
    halves: tuple[set[str], set[str]] = (set(), set())
    counts = [0, 0]
    for t in order:
        i = 0 if counts[0] <= counts[1] else 1
        halves[i].add(t)
        counts[i] += int(sizes[t])
    first = tissues.isin(halves[0]).to_numpy()
    return table[first].reset_index(drop=True), table[~first].reset_index(drop=True)


def split_random(table: Any, seed: int = 0, stratify: str | None = "cancer_type") -> tuple[Any, Any]:
    """Two random halves; within each tissue (``stratify``) half the lines go to each side."""
    rng = np.random.default_rng(seed)
    first = np.zeros(len(table), dtype=bool)
    groups = table[stratify].fillna("(none)") if stratify else None
    for _, idx in (table.groupby(groups).indices.items() if groups is not None else [("all", np.arange(len(table)))]):
        idx = rng.permutation(idx)
        first[idx[: (len(idx) + int(rng.integers(0, 2))) // 2]] = True
    return table[first].reset_index(drop=True), table[~first].reset_index(drop=True)


__all__ = ["DRUGS", "build_ctrp_gdsc", "normalise_name", "split_by_tissue", "split_random"]
