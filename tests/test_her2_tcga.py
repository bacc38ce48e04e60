"""HER2 reading against real laboratory outcomes: TCGA-BRCA (shared/data/tcga-mc3/brca_clinical.tsv).

TCGA sites called FISH under 2007/2013 criteria, so groups 2-4 may legitimately differ. Groups 1 and 5
are decided by ratio and signals alike under every edition: there our reading must match the lab's.
The signal field is sometimes a total count over all cells rather than a per-cell average; rows whose
implied CEP17 per cell (signals / ratio) exceeds 10 are left out as not per-cell.
"""

from __future__ import annotations

import csv
import warnings

from nerasense.errors import NerasenseWarning
from nerasense.interpret.her2_testing import interpret_her2, parse_her2_tests

PLAUSIBLE_CEP17_PER_CELL = 10.0


def _rows(shared_data):
    with open(shared_data / "tcga-mc3" / "brca_clinical.tsv", encoding="utf-8") as fh:
        yield from csv.DictReader(fh, delimiter="\t")


def test_groups_1_and_5_match_the_lab(shared_data) -> None:
    checked, disagreements = 0, []
    for row in _rows(shared_data):
        lab = row["lab_procedure_her2_neu_in_situ_hybrid_outcome_type"]
        try:
            ratio = float(row["her2_neu_chromosone_17_signal_ratio_value"])
            signals = float(row["her2_neu_breast_carcinoma_copy_analysis_input_total_number"])
        except ValueError:
            continue  # missing, or text such as ">6.0"
        if lab not in ("Positive", "Negative") or signals / ratio > PLAUSIBLE_CEP17_PER_CELL:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NerasenseWarning)
            reading = interpret_her2(parse_her2_tests({"ish_ratio": ratio, "her2_signals": signals}))
        if reading.ish_group == 1:
            checked += 1
            if lab != "Positive":
                disagreements.append(row["Tumor_Sample_Barcode"])
        elif reading.ish_group == 5:
            checked += 1
            if lab != "Negative":
                disagreements.append(row["Tumor_Sample_Barcode"])
    assert checked >= 50, "expected dozens of TCGA cases in ISH groups 1 and 5"
    assert disagreements == []
