"""VCF reader on hand-written fixtures, one per annotation flavour (tests/data/genomics/*.vcf)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from nerasense.errors import InputError, NerasenseWarning
from nerasense.ingest.table import AlterationTable
from nerasense.ingest.vcf import bcsq_to_hgvs, read_vcf
from nerasense.knowledge.genomics import GenomicsKnowledge

from .conftest import DATA


def bgzip(data: bytes) -> bytes:
    """BGZF (the blocked gzip of htslib), so the test needs no bgzip binary."""
    out = bytearray()
    for i in range(0, len(data), 65280):
        chunk = data[i: i + 65280]
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = comp.compress(chunk) + comp.flush()
        out += struct.pack("<4BI2BH2BHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(body) + 25)
        out += body + struct.pack("<2I", zlib.crc32(chunk), len(chunk))
    return bytes(out) + bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def _by_record(table: AlterationTable) -> dict[str, dict]:
    """Rows by where they were read, as the rejected rows name them (vep.vcf:12)."""
    return {table.record(r["line"]): r for r in table.frame.iter_rows(named=True)}


def test_vep_csq(gk: GenomicsKnowledge) -> None:
    table = read_vcf(DATA / "vep.vcf", gk)
    rows = _by_record(table)
    assert table.flavour == "vep" and table.accounted
    assert table.input_records == 8  # 7 records, one with two ALTs
    assert rows["vep.vcf:12"]["protein_change"] == "p.S310F"  # the PICK entry, not S260F on the other transcript
    assert rows["vep.vcf:12"]["vaf"] == pytest.approx(0.4) and rows["vep.vcf:12"]["depth"] == 100
    assert rows["vep.vcf:13"]["protein_change"] == "p.L755S"  # CANONICAL=YES wins over the first entry
    assert rows["vep.vcf:13"]["vaf"] == pytest.approx(0.3)  # from AD when there is no AF
    assert rows["vep.vcf:14"]["protein_change"] == "p.Y772_A775dup"  # VEP allele has the shared base trimmed
    assert rows["vep.vcf:14"]["kind"] == "indel"
    assert rows["vep.vcf:15"]["protein_change"] == "p.V777L" and rows["vep.vcf:15"]["alt"] == "T"
    assert rows["vep.vcf:18"]["protein_change"] == "p.L755="  # p.Leu755%3D, URL-escaped by VEP
    reasons = {r["record"]: r["reason"] for r in table.rejected.iter_rows(named=True)}
    assert "does not carry this ALT" in reasons["vep.vcf:15"]  # the second ALT (A) of the multi-allelic record
    assert reasons["vep.vcf:16"].startswith("FILTER=LowQual")
    # unannotated, but at the cancerhotspots locus of V842I (17:37881332 G>A, GRCh37): read as that allele
    assert "vep.vcf:17" not in reasons and rows["vep.vcf:17"]["protein_change"] == "p.V842I"
    assert any("1 unannotated alleles at a cancerhotspots allele's locus" in n for n in table.notes)


def test_snpeff_ann(gk: GenomicsKnowledge) -> None:
    table = read_vcf(DATA / "snpeff.vcf", gk)
    got = {r["protein_change"]: r for r in table.frame.iter_rows(named=True)}
    assert table.flavour == "snpeff" and table.accounted and table.rejected.height == 0
    assert set(got) == {"p.H1047R", "p.V777L", "p.T798I"}
    assert got["p.V777L"]["gene"] == "ERBB2"  # first entry, not the upstream PGAP3 one
    assert got["p.H1047R"]["vaf"] == pytest.approx(0.25)


def test_bcftools_bcsq(gk: GenomicsKnowledge) -> None:
    table = read_vcf(DATA / "bcsq.vcf", gk)
    assert table.flavour == "bcftools" and table.accounted
    assert sorted(table.frame["protein_change"]) == ["p.L755S", "p.S310F", "p.Y772_A775dup"]


@pytest.mark.parametrize(("bcsq", "hgvs"), [
    ("755L>755S", "p.L755S"),
    ("346E>346*", "p.E346*"),
    ("310S>310S", "p.S310="),
    ("772YVMAG>772YVMAYVMAG", "p.Y772_A775dup"),
    ("776G>776VC", "p.G776delinsVC"),
    ("755LRENTS>755S", "p.L755_T759del"),
    ("775A>775AYVMA", None),  # an insertion with no right-hand flank cannot be named
    ("garbage", None),
])
def test_bcsq_amino_acid_change(bcsq: str, hgvs: str | None) -> None:
    assert bcsq_to_hgvs(bcsq) == hgvs


def test_bgzipped_equals_plain(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    target = tmp_path / "vep.vcf.gz"
    target.write_bytes(bgzip((DATA / "vep.vcf").read_bytes()))
    plain, packed = read_vcf(DATA / "vep.vcf", gk), read_vcf(target, gk)
    assert packed.frame.equals(plain.frame)  # the same rows, read from the same lines
    assert [a.record for a in packed.alterations()] == [a.record.replace(".vcf", ".vcf.gz") for a in plain.alterations()]


def test_multisample_needs_and_uses_sample(gk: GenomicsKnowledge) -> None:
    with pytest.raises(InputError) as err:
        read_vcf(DATA / "multisample.vcf", gk)
    assert err.value.problems[0].field == "sample" and "NORMAL, TUMOR" in err.value.problems[0].allowed
    with pytest.raises(InputError, match="sample='BLOOD'"):
        read_vcf(DATA / "multisample.vcf", gk, sample="BLOOD")
    tumour = read_vcf(DATA / "multisample.vcf", gk, sample="TUMOR")
    assert sorted(tumour.frame["protein_change"]) == ["p.S310F", "p.V842I"]
    assert set(tumour.frame["sample"]) == {"TUMOR"}
    normal = read_vcf(DATA / "multisample.vcf", gk, sample="NORMAL")
    assert normal.frame["protein_change"].to_list() == ["p.V842I"]
    assert "does not carry" in normal.rejected["reason"][0] and normal.accounted


def test_damaged_vcfs_are_refused_clearly(gk: GenomicsKnowledge, tmp_path: Path) -> None:
    lines = (DATA / "vep.vcf").read_text().splitlines()
    truncated = tmp_path / "truncated.vcf"
    truncated.write_text("\n".join([*lines[:14], "17\t37880220\t.\tT"]) + "\n")
    with pytest.raises(InputError, match="well-formed VCF"):
        read_vcf(truncated, gk)
    not_vcf = tmp_path / "not.vcf"
    not_vcf.write_text("Hugo_Symbol\tTumor_Sample_Barcode\n")
    with pytest.raises(InputError, match="first line is ##fileformat=VCF"):
        read_vcf(not_vcf, gk)
    with pytest.raises(InputError, match="existing VCF"):
        read_vcf(tmp_path / "missing.vcf", gk)


def test_unannotated_vcf_keeps_hotspot_alleles_by_their_coordinates(gk: GenomicsKnowledge) -> None:
    """A caller's VCF with no CSQ/ANN/BCSQ: L755S (17:37880220 T>C) and the Y772_A775dup insertion
    (cancerhotspots writes it '-'>GCATACGTGATG at 37880981; the VCF anchors it on the A there, GRCh37
    window of ../shared/data/ngs-panel) are read from their loci; the other allele is rejected; a warning says so."""
    with pytest.warns(NerasenseWarning, match="no CSQ, ANN or BCSQ annotation in the header: 2 unannotated alleles"):
        table = read_vcf(DATA / "no_annotation.vcf", gk)
    assert sorted(table.frame["protein_change"].to_list()) == ["p.L755S", "p.Y772_A775dup"]
    assert table.accounted and table.rejected.height == 1
    assert "not a cancerhotspots allele's locus" in table.rejected["reason"][0]
