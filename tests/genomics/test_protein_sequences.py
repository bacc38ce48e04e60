"""Changes are checked against the reference protein (issue 16): the shipped sequences are verified against
outside references (UniProt lengths, the residues domain-facts checked, every cancerhotspots reference residue),
and the ``variant`` command refuses a change whose residue is not there, naming the residue that is."""

from __future__ import annotations

import json
import re

import pytest

from nerasense.cli import main
from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.knowledge.genomics import GenomicsKnowledge, read_hotspot_tsv, reference_mismatch

from .conftest import HOTSPOTS37, need_shared

# UniProt lengths of the canonical (or named) isoforms, as the UniProt entries state them
LENGTHS = {"ERBB2": 1255, "ERBB3": 1342, "EGFR": 1210, "CDKN2A": 156, "TP53": 393, "PTEN": 403, "AKT1": 480,
           "KRAS": 188, "PIK3CA": 1068, "BRAF": 766}
# ../shared/reference/domain-facts.md §2.2-2.3 [V-seq]: stretches and residues of P04626 checked in the sequence
ERBB2_STRETCHES = {1: "MELAALCRWGLLLALLPPGAAS", 23: "TQVCTGTDMK", 653: "SIISAVVGILLVVVLGVVFGILI", 676: "KRRQQKIRKY",
                   727: "GSGAFG", 750: "VAIK", 766: "EILDEAYVMAGVG", 772: "YVMAGVGSPY", 843: "HRD", 863: "DFG"}
ERBB2_RESIDUES = ("S310 G309 G660 V659 R678 V697 E717 L755 T759 D769 Y772 A775 G776 V777 P780 T798 C805 V842 D845 "
                  "T862 D863 L866 L869 R896 Y877 Y1221 Y1248 Y1023 Y1139 Y1196 Y1222")
# genes the knowledge base names whose sequence is not shipped (stated in protein_sequences.yaml)
NOT_SHIPPED: set[str] = set()


def test_lengths_are_uniprots(gk: GenomicsKnowledge) -> None:
    assert {g: p.length for g, p in gk.sequences.items()} == LENGTHS


def test_erbb2_residues_the_issue_and_domain_facts_name(gk: GenomicsKnowledge) -> None:
    erbb2 = gk.sequences["ERBB2"]
    assert (erbb2.uniprot, erbb2.refseq_protein) == ("P04626", "NP_004439.2")
    assert [erbb2.residue(p) for p in (755, 310, 842, 777)] == ["L", "S", "V", "V"]
    for start, stretch in ERBB2_STRETCHES.items():
        assert erbb2.sequence[start - 1: start - 1 + len(stretch)] == stretch, start
    for token in ERBB2_RESIDUES.split():
        assert erbb2.residue(int(token[1:])) == token[0], token


def test_every_bundled_hotspot_reference_residue_matches(gk: GenomicsKnowledge) -> None:
    checked = 0
    for table in gk.hotspot_tables:
        for row in read_hotspot_tsv(gk.kb.data_dir / table.file):
            protein = gk.sequences.get(row.gene)
            if protein is None:
                continue
            assert reference_mismatch(parse_protein_change(row.protein_change), protein) is None, row
            checked += 1
    assert checked == 322  # every row of the six genes


@pytest.mark.shared_data
def test_every_reference_residue_of_the_full_cancerhotspots_table_matches(gk: GenomicsKnowledge) -> None:
    """Over the shared GRCh37 table (maftools' copy): the residue before each position, for every shipped gene."""
    need_shared(HOTSPOTS37)
    counts: dict[str, int] = {}
    for line in HOTSPOTS37.read_text().splitlines():
        f = line.split("\t")
        protein = gk.sequences.get(f[4])
        m = re.match(r"^(?:p\.)?([A-Z])(\d+)", f[6])
        if protein is None or m is None:
            continue
        assert protein.residue(int(m[2])) == m[1], (f[4], f[6])
        counts[f[4]] = counts.get(f[4], 0) + 1
    assert counts["TP53"] == 586 and counts["PTEN"] == 138 and counts["EGFR"] == 71 and counts["CDKN2A"] == 61
    assert counts["PIK3CA"] == 140 and counts["BRAF"] == 53
    assert set(counts) == set(LENGTHS)


def test_every_curated_gene_has_a_sequence_or_is_listed_as_not_shipped(gk: GenomicsKnowledge) -> None:
    named = set(gk.rules) | set(gk.regions) | set(gk.pathway_genes) | {g for g, _ in gk.hotspots}
    assert named - set(gk.sequences) == NOT_SHIPPED
    assert all(g.upper() in gk.hgnc_symbols for g in named | set(gk.gene_aliases.values()))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


@pytest.mark.parametrize(("gene", "change", "names"), [
    ("ERBB2", "A755S", "is L755, not A755"),
    ("ERBB2", "L2000R", "1,255 residues"),
    ("HER2", "p.Ala755Ser", "is L755, not A755"),
    ("ERBB2", "L755_T760del", "is S760, not T760"),  # the end is checked: LRENT is 755-759, 766 starts EILDE
    ("ERBB2", "*1200Lext*5", "stop codon of ERBB2"),
    ("TP53", "R176H", "is C176, not R176"),
    ("KRAS", "G13C", None),  # accepted: G13 is there
])
def test_variant_checks_the_residue_that_is_there(capsys: pytest.CaptureFixture[str], gene: str, change: str,
                                                  names: str | None) -> None:
    code, out, err = run(capsys, "variant", gene, change)
    if names is None:
        assert code == 0 and out["protein_change"] == "p.G13C"
        return
    assert code == 2 and out == {} and err.count("\n") == 1
    assert f"protein_change='{change}'" in err and names in err


def test_variant_reports_the_alternative_isoform_numbering(capsys: pytest.CaptureFixture[str]) -> None:
    """L725S on isoform b (which starts at M31 of P04626) is L755S on P04626; reported, tagged [U], still refused."""
    code, _, err = run(capsys, "variant", "ERBB2", "L725S")
    assert code == 2 and "is V725, not L725" in err and "isoform b (NP_001005862.1) [U]" in err and "L755 here" in err


def test_typo_with_two_new_residues_is_refused_naming_both_readings(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "variant", "ERBB2", "L755SS")
    assert code == 2 and "p.L755S for a substitution" in err and "p.L755delinsSS for a delins" in err
    # a legacy delins the knowledge base names is still read (G776VC, SUMMIT and COSMIC style)
    code, out, _ = run(capsys, "variant", "ERBB2", "G776VC")
    assert code == 0 and out["protein_change"] == "p.G776delinsVC"


def test_unknown_gene_is_refused_with_the_closest_symbols(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "variant", "FOO", "L755S")
    assert code == 2 and out == {} and "gene='FOO'" in err and "no gene is named FOO; closest: FOXO" in err
    code, _, err = run(capsys, "variant", "ERBB", "L755S")
    assert code == 2 and "closest: ERBB" in err  # ERBB2, ERBB3 or ERBB4 come first
    code, out, _ = run(capsys, "variant", "her2", "L755S")  # aliases still resolve, in any case
    assert code == 0 and out["gene"] == "ERBB2"


@pytest.mark.shared_data
def test_tcga_mc3_rows_agree_with_the_shipped_proteins(gk: GenomicsKnowledge) -> None:
    """Outside check of every sequence: the residue each TCGA MC3 protein change names (VEP on the canonical
    transcripts) must be the one there. The two CDKN2A E153K rows are the one known disagreement (D153 on p16INK4a:
    the change is named on another CDKN2A reading frame or isoform)."""
    import polars as pl

    mc3 = need_shared(HOTSPOTS37.parents[1] / "tcga-mc3" / "mc3_nonsilent.parquet")
    changes = (pl.read_parquet(mc3, columns=["Hugo_Symbol", "HGVSp_Short"])
               .filter(pl.col("Hugo_Symbol").is_in(list(gk.sequences)) & pl.col("HGVSp_Short").str.contains(r"^p\.[A-Z]\d"))
               .group_by("Hugo_Symbol", "HGVSp_Short").len())
    disagree = {}
    for gene, change, n in changes.iter_rows():
        if reference_mismatch(parse_protein_change(change), gk.sequences[gene]) is not None:
            disagree[(gene, change)] = n
    assert changes["len"].sum() > 5000  # rows naming a residue of the ten genes
    assert disagree == {("CDKN2A", "p.E153K"): 2}
