"""Bad input is refused with every problem at once, each naming the row, the column, the value and what
is allowed; row order never changes the answer (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nerasense.errors import InputError, NerasenseWarning
from nerasense.ingest.ctdna import COLUMNS, build_series, gene_symbol, normalise_change, read_ctdna_series

from .conftest import DATA, interpret, read


def _problems(name: str) -> list[tuple[str, str, str]]:
    with pytest.raises(InputError) as err:
        read_ctdna_series(DATA / name)
    return [(p.where, p.field, str(p.value)) for p in err.value.problems]


def test_bad_values_are_all_reported_with_row_field_and_value() -> None:
    got = _problems("bad_values.csv")
    assert got == [
        ("bad_values.csv row 1", "vaf", "1.5"),       # VAF > 1 (a percentage?)
        ("bad_values.csv row 2", "vaf", "-0.1"),      # VAF < 0
        ("bad_values.csv row 3", "gene", "HER 2!"),   # not a gene symbol
        ("bad_values.csv row 4", "date", "2024-13-01"),
        ("bad_values.csv row 5", "qc", "maybe"),
        ("bad_values.csv row 5", "vaf", "0"),         # a zero VAF would claim certainty below any LOD
    ]


def test_messages_name_what_is_allowed() -> None:
    with pytest.raises(InputError) as err:
        read_ctdna_series(DATA / "bad_values.csv")
    text = str(err.value)
    assert "allowed: a fraction in [0, 1] (percent / 100)" in text
    assert "allowed: an ISO date YYYY-MM-DD" in text
    assert "'<LOD'" in text


def test_duplicates_and_conflicts_are_refused() -> None:
    got = _problems("duplicates.csv")
    fields = [(w, f) for w, f, _ in got]
    assert ("duplicates.csv row 2", "alteration") in fields  # L755S and p.L755S are the same allele
    assert ("duplicates.csv row 3", "tumour_fraction") in fields  # sample-level values disagree
    assert ("duplicates.csv", "treatment_start") in fields  # two starts for one patient
    assert ("duplicates.csv", "date") in fields  # two draws on one day


def test_missing_and_unknown_columns_are_listed_together() -> None:
    got = _problems("missing_columns.csv")
    assert ("missing_columns.csv", "date", "None") in got
    assert ("missing_columns.csv", "qc", "None") in got
    assert ("missing_columns.csv", "column", "colour") in got


def test_detected_flag_contradicting_a_value() -> None:
    rows = [_row(vaf="0.02", detected="false"), _row(sample_id="S2", date="2024-02-01", vaf="<0.01", detected="true")]
    with pytest.raises(InputError) as err:
        build_series(rows)
    assert [(p.where, p.field) for p in err.value.problems] == [("series row 1", "vaf"), ("series row 2", "detected")]


def test_tissue_and_assessment_tables_are_checked() -> None:
    with pytest.raises(InputError) as err:
        build_series([_row()], tissue_rows=[{"patient_id": "X9", "gene": "ERBB2", "alteration": "L755S"}],
                     assessment_rows=[{"patient_id": "P", "date": "2024-02-01", "response": "great"}])
    got = {(p.field, str(p.value)) for p in err.value.problems}
    assert ("response", "GREAT") in got and ("patient_id", "X9") in got


def test_names_are_normalised_by_the_genomics_readers(kb) -> None:
    from nerasense.knowledge.genomics import GenomicsKnowledge

    gk = GenomicsKnowledge(kb)
    assert gene_symbol("her2", gk) == "ERBB2"
    assert gene_symbol("PIK3CA", gk) == "PIK3CA"
    assert gene_symbol("HER 2", gk) is None
    same = {normalise_change("ERBB2", c, gk) for c in ("L755S", "p.L755S", "p.Leu755Ser")}
    assert same == {"p.L755S"}
    assert normalise_change("ERBB2", "A775_G776insYVMA", gk) == "p.Y772_A775dup"  # legacy exon-20 name
    assert normalise_change("ERBB2", "AMP", gk) == "amplification"


def test_unreadable_protein_change_is_refused() -> None:
    with pytest.raises(InputError) as err:
        build_series([_row(alteration="L755 to S")])
    assert [(p.where, p.field, p.value) for p in err.value.problems] == [("series row 1", "alteration", "L755 to S")]


def test_parquet_and_tsv_read_like_csv(tmp_path) -> None:
    frame = pd.read_csv(DATA / "gatekeeper.csv", dtype=str, keep_default_na=False)
    frame.to_csv(tmp_path / "g.tsv", sep="\t", index=False)
    typed = frame.replace("", None)
    typed["date"] = pd.to_datetime(typed["date"])
    typed.to_parquet(tmp_path / "g.parquet")
    want = read("gatekeeper.csv")
    assert read_ctdna_series(tmp_path / "g.tsv") == want
    assert read_ctdna_series(tmp_path / "g.parquet") == want


# --------------------------------------------------------------------------- invariants


def _row(**kw: str) -> dict[str, str]:
    base = {c: "" for c in COLUMNS}
    base.update({"patient_id": "P", "sample_id": "S1", "date": "2024-01-05", "qc": "pass", "gene": "ERBB2",
                 "alteration": "p.L755S", "vaf": "0.05", "treatment_start": "2024-01-10"})
    base.update(kw)
    return base


GENES = [("ERBB2", "p.L755S"), ("ERBB2", "p.T798I"), ("PIK3CA", "p.H1047R"), ("ERBB2", "amplification")]


@st.composite
def series_rows(draw: Any) -> list[dict[str, str]]:
    rows = []
    for patient in ("P1", "P2")[: draw(st.integers(1, 2))]:
        days = sorted(draw(st.sets(st.integers(-20, 200), min_size=1, max_size=4)))
        start = dt.date(2024, 1, 10)
        for j, day in enumerate(days):
            date = (start + dt.timedelta(days=day)).isoformat()
            qc = draw(st.sampled_from(["pass", "pass", "fail"]))
            tf = draw(st.sampled_from(["", "0.02", "0.2", "<0.01"]))
            common = {"patient_id": patient, "sample_id": f"{patient}-{j}", "date": date, "qc": qc,
                      "tumour_fraction": tf, "sample_depth": "2000", "sample_lod": "0.005",
                      "treatment_start": start.isoformat()}
            alts = draw(st.sets(st.sampled_from(GENES), max_size=3))
            if not alts:
                rows.append(_row(**common, gene="", alteration="", vaf=""))
            for gene, change in sorted(alts):
                if change == "amplification":
                    cn = draw(st.sampled_from(["6", "3", ""]))
                    rows.append(_row(**common, gene=gene, alteration=change, vaf="", copy_number=cn,
                                     detected="true" if cn else "false", lod="2.5"))
                else:
                    vaf = draw(st.sampled_from(["0.05", "0.01", "0.002", "<0.005", "<0.1"]))
                    rows.append(_row(**common, gene=gene, alteration=change, vaf=vaf, depth="2000"))
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=series_rows(), data=st.data())
def test_row_order_never_changes_the_result(rows: list[dict[str, str]], data: Any) -> None:
    shuffled = data.draw(st.permutations(rows))
    a, b = build_series(rows), build_series(shuffled)
    assert a == b
    for pid in a:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert interpret(a[pid])[0] == interpret(b[pid])[0]


@settings(max_examples=60, deadline=None)
@given(rows=series_rows())
def test_statuses_stay_in_their_vocabulary(rows: list[dict[str, str]]) -> None:
    for s in build_series(rows).values():
        d, _ = interpret(s)
        for m in d["molecular_response"]:
            assert m["status"] in {"response", "no-response", "undetermined", "not-applicable", "not-evaluable"}
        for e in d["emergent"]:
            p = e["certainty"]["p_miss"]
            assert p is None or 0.0 <= p <= 1.0
        assert len(d["excluded"]) == sum(not x.qc_pass for x in s.samples)
        json.dumps(d, allow_nan=False, default=str)  # the CLI prints strict JSON: no NaN or infinity anywhere


# --------------------------------------------------------------------------- per-sample variant files


# main's MAF reader (genomics) passes a Series to polars' is_in, which polars 2.x deprecates; the warning
# is the reader's, not this feature's, so it is let through here until the reader uses implode()
@pytest.mark.filterwarnings("ignore:`is_in` with a collection of the same datatype:DeprecationWarning")
def test_a_sample_can_point_to_its_maf() -> None:
    """variants_file: the genomics MAF reader supplies the sample's alleles; the other sample's row is left
    out, and a record with no protein change (a splice-site SNV) is reported in a warning, not dropped silently."""
    with pytest.warns(NerasenseWarning, match=r"plasma\.maf \(sample V2\): 1 record\(s\) without a protein change.*TP53"):
        series = read("variants_file.csv")["V"]
    later = series.samples[-1]
    assert [a.label for a in later.alterations] == ["ERBB2 p.L869R", "ERBB2 p.T798I"]
    assert later.find(("ERBB2", "p.T798I")).vaf.value == pytest.approx(60 / 4000)
    d, _ = interpret(series)
    assert [e["alteration"] for e in d["emergent"]] == ["p.T798I"]
    assert d["emergent"][0]["effect"] == "resistance"


def test_variants_file_problems(tmp_path) -> None:
    (tmp_path / "x.txt").write_text("nothing", encoding="utf-8")
    rows = [_row(variants_file="missing.maf", gene="", alteration="", vaf=""),
            _row(sample_id="S2", date="2024-02-01", variants_file="x.txt", gene="", alteration="", vaf="")]
    with pytest.raises(InputError) as err:
        build_series(rows, base_dir=tmp_path)
    got = [(p.field, p.value) for p in err.value.problems]
    assert got == [("variants_file", "missing.maf"), ("variants_file", "x.txt")]


@settings(max_examples=200, deadline=None)
@given(
    base=st.floats(0.002, 0.5),
    lod=st.floats(0.001, 0.6),
    share=st.floats(0.0, 0.999),
)
def test_a_censored_value_never_contradicts_any_value_it_stands_for(base: float, lod: float, share: float) -> None:
    """Oracle for censoring: '<LOD' means some value in [0, LOD). Whatever that value is, a relative-fall
    call made on the interval is either 'undetermined' or the call the true value would have given."""
    true = share * lod

    def mean_vaf_status(on_vaf: str) -> str:
        rows = [_row(vaf=f"{base!r}"), _row(sample_id="S2", date="2024-02-07", vaf=on_vaf)]
        d, _ = interpret(build_series(rows)["P"], definitions=["mean-vaf-halved"])
        return str(d["molecular_response"][0]["status"])

    censored = mean_vaf_status(f"<{lod!r}")
    if true > 0:
        assert censored in ("undetermined", mean_vaf_status(f"{true!r}"))
    else:
        assert censored != "no-response"
