"""Fixtures for the screen tests: knowledge, the shared real data, and a small hand-written MAF cohort."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
MC3 = SHARED / "tcga-mc3" / "mc3_nonsilent.parquet"
SUMMIT = SHARED / "summit-biliary"

HEADER = ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Reference_Allele", "Tumor_Seq_Allele2",
          "Variant_Classification", "Variant_Type", "Tumor_Sample_Barcode", "HGVSp_Short", "t_depth", "t_alt_count"]
# (gene, chrom, start, ref, alt, class, type, sample, change); ERBB2 S310F and L755S are activating in the knowledge
# base, T798I is the gatekeeper resistance allele, V842I activating; the last rows repeat a row (a duplicate)
ROWS = [
    ("ERBB2", "17", 37868208, "C", "T", "Missense_Mutation", "SNP", "S1", "p.S310F"),
    ("TP53", "17", 7577120, "C", "T", "Missense_Mutation", "SNP", "S1", "p.R273H"),
    ("PIK3CA", "3", 178952085, "A", "G", "Missense_Mutation", "SNP", "S2", "p.H1047R"),
    ("ERBB2", "17", 37880220, "T", "C", "Missense_Mutation", "SNP", "S3", "p.L755S"),
    ("ERBB2", "17", 37881000, "C", "T", "Missense_Mutation", "SNP", "S3", "p.T798I"),
    ("ERBB3", "12", 56478854, "G", "T", "Missense_Mutation", "SNP", "S4", "p.V104M"),
    ("KRAS", "12", 25398284, "C", "T", "Missense_Mutation", "SNP", "S5", "p.G12D"),
    ("ERBB2", "17", 37881332, "G", "A", "Missense_Mutation", "SNP", "S6", "p.V842I"),
    ("TTN", "2", 179400000, "C", "T", "Missense_Mutation", "SNP", "S7", "p.R100C"),
    ("ERBB2", "17", 37868208, "C", "T", "Missense_Mutation", "SNP", "S1", "p.S310F"),
]
CLINICAL = {"S1": "IDC", "S2": "IDC", "S3": "BLCA", "S4": "BLCA", "S5": "COAD", "S6": "GBC", "S7": "COAD", "S8": "IDC"}


def maf_text(rows: list[tuple[object, ...]], damaged: int | None = None) -> str:
    """MAF text of ``rows``; ``damaged`` (0-based row) loses its last two fields (a truncated line)."""
    lines = ["\t".join(HEADER)]
    for i, (gene, chrom, start, ref, alt, vc, vt, sample, change) in enumerate(rows):
        end = int(start) + len(str(ref)) - 1  # type: ignore[call-overload]
        fields = [gene, chrom, start, end, ref, alt, vc, vt, sample, change, 100, 20]
        if i == damaged:
            fields = fields[:-2]
        lines.append("\t".join(str(f) for f in fields))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def gk() -> GenomicsKnowledge:
    return GenomicsKnowledge(default_knowledge())


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    """Two plain MAFs (the second with a truncated line), one gzipped MAF and a clinical sample file."""
    folder = tmp_path / "cohort"
    folder.mkdir()
    (folder / "a.maf").write_text(maf_text(ROWS[:5]))
    (folder / "b.maf").write_text(maf_text(ROWS[5:8] * 40, damaged=61))
    with gzip.open(folder / "c.maf.gz", "wt") as fh:
        fh.write(maf_text(ROWS[8:]))
    clinical = "#comment line\nSAMPLE_ID\tONCOTREE_CODE\n" + "".join(f"{s}\t{c}\n" for s, c in CLINICAL.items())
    (folder / "data_clinical_sample.txt").write_text(clinical)
    return folder


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data folder ../shared/data is not beside this checkout")
    return path
