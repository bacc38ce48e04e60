"""`nerasense call` at the command line: bad input, tumour/normal filtering, the QC page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nerasense.cli import main


def test_bad_input_names_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "reads.txt"
    bad.write_text("x")
    code = main(["call", str(bad), str(tmp_path / "missing_R2.fastq"), "--reference", str(tmp_path / "no.fa"),
                 "--targets", str(tmp_path / "no.bed"), "--build", "hg19", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for needle in ("READS='", "reads.txt", "missing_R2.fastq", "--reference=", "--targets=", "--build='hg19'",
                   "GRCh37 or GRCh38"):
        assert needle in err, needle


def test_bed_with_bad_rows_lists_each(tmp_path: Path) -> None:
    from nerasense.calling.reference import read_bed
    from nerasense.errors import InputError

    bed = tmp_path / "t.bed"
    bed.write_text("1\t100\t200\tok\n1\tx\t5\n2\t50\t40\n3\t7\t7\t-\tFP_rs1_snp\n")
    with pytest.raises(InputError) as exc:
        read_bed(bed)
    assert [p.where for p in exc.value.problems] == ["t.bed:2", "t.bed:3"]
    bed.write_text("chr1\t100\t200\t-\texon_A\n3\t7\t7\t-\tFP_rs1_snp\n")
    assert read_bed(bed) == [("1", 101, 200, "exon_A"), ("3", 8, 8, "FP_rs1_snp")]


def test_normal_filters_germline_and_says_so(tumour_normal: tuple[dict[str, Any], Path]) -> None:
    d, out = tumour_normal
    # EGFR c.2361G>A (p.Q787=, dbSNP rs1050171) is common germline variation: both samples carry it
    egfr = [c for c in d["calls"] if (c["chrom"], c["pos"], c["ref"], c["alt"]) == ("7", 55249063, "G", "A")]
    assert len(egfr) == 1
    assert egfr[0]["filters"] == ["germline"] and egfr[0]["normal_alt"] >= 2
    vcf = (out / "calls.grch37.vcf").read_text()
    assert "\tgermline\t" in vcf and "##FILTER=<ID=germline" in vcf
    # the spiked alleles are absent from the normal and still pass
    passing = {(c["chrom"], c["pos"]) for c in d["calls"] if c["status"] == "detected"}
    assert {("3", 178952085), ("17", 37880981)} <= passing
    assert "normal" in d["qc"] and d["normal"] == "giab_normal"
    assert any("re-aligned" in n for n in d["notes"])


def test_qc_page_has_every_section(tumour_normal: tuple[dict[str, Any], Path]) -> None:
    d, out = tumour_normal
    page = (out / "qc.html").read_text()
    for needle in ("Research use only", d["kb_version"], "Coverage along each target", "on-target fraction",
                   "insert size", "forward strand", "limit of detection", "adequate to exclude 1 % VAF",
                   "Y772_A775dup", "H1047R", "data:image/png;base64,"):
        assert needle in page, needle
    assert page.count("Research use only") == 1
