"""MAF reader on small written-out files: flavours, gzip, and damaged inputs with clear reasons."""

from __future__ import annotations

import ast
import gzip
import subprocess
import sys
import warnings
from pathlib import Path

import polars as pl
import pytest

from nerasense.errors import InputError, NerasenseWarning, Problem
from nerasense.ingest.maf import read_maf
from nerasense.knowledge.genomics import GenomicsKnowledge

HEADER = ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Variant_Classification",
          "Variant_Type", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode",
          "HGVSc", "HGVSp", "HGVSp_Short", "t_depth", "t_ref_count", "t_alt_count"]
GOOD = [
    ["ERBB2", "17", "37880220", "37880220", "Missense_Mutation", "SNP", "T", "T", "C", "S1",
     "c.2264T>C", "p.Leu755Ser", "p.L755S", "100", "70", "30"],
    ["HER2", "17", "37868208", "37868208", "Missense_Mutation", "SNP", "C", "C", "T", "S2",
     "c.929C>T", "p.Ser310Phe", "S310F", "50", "25", "25"],
    ["ERBB2", "17", "37880981", "37880981", "In_Frame_Ins", "INS", "-", "-", "GCATACGTGATG", "S3",
     "c.2313_2324dup", "", "A775_G776insYVMA", "80", "60", "20"],
]


def write_maf(path: Path, rows: list[list[str]], header: list[str] = HEADER, preamble: str = "") -> Path:
    text = preamble + "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_cbioportal_flavour_aliases_and_legacy_names(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    table = read_maf(write_maf(tmp_path / "m.maf", GOOD), gk)
    rows = {r["sample"]: r for r in table.frame.iter_rows(named=True)}
    assert table.flavour == "cbioportal" and table.accounted and table.rejected.height == 0
    assert rows["S1"]["protein_change"] == "p.L755S" and rows["S1"]["vaf"] == pytest.approx(0.3)
    assert rows["S2"]["gene"] == "ERBB2"  # HER2 resolved through gene_aliases.yaml
    assert rows["S3"]["protein_change"] == "p.Y772_A775dup"  # legacy name rewritten (variant_aliases.yaml)
    assert rows["S3"]["legacy_name"] == "p.A775_G776insYVMA" and rows["S3"]["kind"] == "indel"
    assert rows["S1"]["line"] == 2 and next(table.alterations()).record == "m.maf:2"


def test_gdc_flavour_gzipped_with_version_line(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    path = write_maf(tmp_path / "gdc.maf.gz", GOOD, preamble="#version gdc-1.0.0\n#filedate 20240101\n")
    table = read_maf(path, gk)
    assert table.flavour == "gdc" and table.frame.height == 3
    assert table.frame["line"].to_list() == [4, 5, 6]  # after the two comment lines and the header
    assert [a.record for a in table.alterations()] == ["gdc.maf.gz:4", "gdc.maf.gz:5", "gdc.maf.gz:6"]


def test_missing_columns_are_listed_together(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    header = ["Gene", "Sample", "Change"]
    with pytest.raises(InputError) as err:
        read_maf(write_maf(tmp_path / "bad.maf", [["ERBB2", "S1", "L755S"]], header), gk)
    fields = {p.value for p in err.value.problems}
    assert {"Hugo_Symbol", "Tumor_Sample_Barcode", "HGVSp_Short"} <= fields
    assert all(p.fix for p in err.value.problems)


def test_damaged_rows_are_rejected_with_reasons(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    bad = [
        GOOD[0],
        GOOD[1][:9],  # truncated line
        ["Unknown", *GOOD[0][1:9], "S4", "", "", "", "", "", ""],  # intergenic, no gene
        [*GOOD[0][:12], "p.L755Z", *GOOD[0][13:]],  # bad HGVS
        [*GOOD[0][:6], "rs1234", *GOOD[0][7:]],  # an id where the reference allele should be
        [*GOOD[0][:9], "", *GOOD[0][10:]],  # no sample
        [*GOOD[0][:13], "10", "0", "30"],  # more alt reads than depth
        [*GOOD[0][:3], "37880225", *GOOD[0][4:]],  # End does not fit a 1-base allele
    ]
    table = read_maf(write_maf(tmp_path / "damaged.maf", bad), gk)
    reasons = dict(table.rejected.select("record", "reason").iter_rows())
    assert table.accounted and table.frame.height == 1
    assert "line has 9 fields, the header has 16" in reasons["damaged.maf:3"]
    assert "'Unknown'" in reasons["damaged.maf:4"]
    assert "HGVSp_Short='p.L755Z' is not HGVS p." in reasons["damaged.maf:5"]
    assert "Reference_Allele='rs1234' is not a DNA allele" in reasons["damaged.maf:6"]
    assert "Tumor_Sample_Barcode is empty" in reasons["damaged.maf:7"]
    assert "exceeds the depth" in reasons["damaged.maf:8"]
    assert "does not match Start_Position..End_Position" in reasons["damaged.maf:9"]
    assert [r.record for r in table.rejected_records()] == sorted(reasons, key=lambda k: int(k.split(":")[1]))


def test_shift_detection_only_on_shifted_rows(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    header = ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Consequence", "Variant_Classification",
              "Variant_Type", "Reference_Allele", "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "dbSNP_RS",
              "dbSNP_Val_Status", "Tumor_Sample_Barcode", "HGVSp_Short"]
    ok = ["ERBB2", "17", "37880220", "37880220", "missense_variant", "Missense_Mutation", "SNP", "T", "T", "C", "", "",
          "S1", "p.L755S"]
    shifted = ["ERBB2", "17", "37868208", "37868208", "Missense_Mutation", "SNP", "C", "C", "T", "", "", "",
               "S2", "p.S310F"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_maf(write_maf(tmp_path / "mixed.maf", [ok, shifted], header), gk)
    messages = [str(w.message) for w in caught if issubclass(w.category, NerasenseWarning)]
    assert len(messages) == 1, [str(w.message) for w in caught]
    assert "lines 3 (1 of 2 data rows)" in messages[0]
    rows = table.frame.sort("sample").to_dicts()
    assert (rows[0]["ref"], rows[0]["alt"], rows[0]["consequence"]) == ("T", "C", "Missense_Mutation")
    assert (rows[1]["ref"], rows[1]["alt"], rows[1]["consequence"]) == ("C", "T", "Missense_Mutation")


def test_empty_and_missing_files(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    empty = write_maf(tmp_path / "empty.maf", [])
    table = read_maf(empty, gk)
    assert table.input_records == 0 and table.accounted
    with pytest.raises(InputError, match="existing MAF"):
        read_maf(tmp_path / "nope.maf", gk)
    broken = tmp_path / "broken.maf.gz"
    broken.write_bytes(gzip.compress(b"Hugo_Symbol\tTumor_Sample_Barcode\n" * 100)[:40])
    with pytest.raises(InputError, match="gzip"):
        read_maf(broken, gk)


def test_alterations_become_domain_models(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    table = read_maf(write_maf(tmp_path / "m.maf", GOOD), gk)
    models = list(table.alterations())
    assert [m.protein_change for m in models] == ["p.L755S", "p.S310F", "p.Y772_A775dup"]
    assert models[0].protein is not None and models[0].protein.start == 755
    assert pl.DataFrame([m.model_dump(exclude={"protein"}) for m in models]).height == 3


@pytest.mark.parametrize("preamble", ["", "#version gdc-1.0.0\n"], ids=["streamed", "careful reader"])
def test_knowledge_may_be_a_loader_called_once_after_the_read(gk: GenomicsKnowledge, tmp_path: Path,
                                                              preamble: str) -> None:
    """``nerasense annotate`` loads the knowledge base while a MAF is read: read_maf takes a loader and calls it
    once; the table is the one read with the knowledge itself (HER2 renamed, the legacy name rewritten)."""
    path = write_maf(tmp_path / "m.maf", GOOD, preamble=preamble)
    calls: list[int] = []

    def loader() -> GenomicsKnowledge:
        calls.append(1)
        return gk

    later = read_maf(path, loader)
    assert calls == [1]
    assert later.frame.equals(read_maf(path, gk).frame) and later.frame["gene"].to_list() == ["ERBB2"] * 3


def test_a_failing_loader_fails_the_read(tmp_path: Path) -> None:
    path = write_maf(tmp_path / "m.maf", GOOD)

    def loader() -> GenomicsKnowledge:
        raise InputError(Problem("--hotspots", "x.tsv", "a cancerhotspots v2 table", "pass the real table"))

    with pytest.raises(InputError, match="cancerhotspots"):
        read_maf(path, loader)


def test_the_reader_imports_no_domain_models_until_the_rows_are_finished() -> None:
    """What lets the knowledge base load while the file is read: importing the MAF reader imports polars and
    our helpers only (pydantic, the domain models and the knowledge base come later, in another thread)."""
    probe = ("import sys\nimport nerasense.ingest.maf\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in {'pydantic', 'nerasense'}))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    imported = set(ast.literal_eval(out.strip().splitlines()[-1]))
    assert not {m for m in imported if m.startswith("pydantic")}
    assert not {"nerasense.ingest.table", "nerasense.domain.alterations", "nerasense.knowledge"} & imported
    assert "nerasense.ingest.maf" in imported
