"""HGVS p. reader: every notation form from a table, an oracle (biocommons hgvs) and properties."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerasense.domain.alterations import ProteinChangeType
from nerasense.errors import InputError
from nerasense.ingest.hgvs_protein import THREE_TO_ONE, parse_protein_change

from .conftest import DATA

_LINES = (DATA / "hgvs_protein_forms.tsv").read_text(encoding="utf-8").splitlines()
ROWS = list(csv.DictReader((ln for ln in _LINES if not ln.startswith("#")), delimiter="\t"))
# forms a reader of real MAF/VCF/report text must handle; a form without a row fails the completeness test
REQUIRED_FORMS = {
    "one-letter", "three-letter", "no-prefix", "reference-prefix", "predicted", "nonsense", "legacy-x-stop",
    "synonymous", "deletion", "legacy-deletion", "duplication", "insertion", "legacy-insertion", "delins",
    "legacy-delins", "frameshift", "legacy-frameshift", "extension", "start-loss", "maf-splice", "placeholder",
    "legacy-stop-loss", "legacy-block",
    "error",
}


def test_table_is_complete() -> None:
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids)), "duplicate ids in hgvs_protein_forms.tsv"
    assert {r["form"] for r in ROWS} >= REQUIRED_FORMS, REQUIRED_FORMS - {r["form"] for r in ROWS}
    covered = {r["type"] for r in ROWS if r["type"]}
    assert covered == {t.value for t in ProteinChangeType}, "a change type has no row"


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_form(row: dict[str, str]) -> None:
    if row["expected"] == "ERROR":
        with pytest.raises(InputError) as err:
            parse_protein_change(row["input"])
        problem = err.value.problems[0]
        assert problem.field == "protein_change" and "HGVS p." in problem.allowed and problem.fix
        return
    change = parse_protein_change(row["input"])
    assert change.text == row["expected"]
    assert change.type.value == row["type"]


@pytest.mark.parametrize("row", [r for r in ROWS if r["oracle"] == "yes"], ids=lambda r: r["id"])
def test_agrees_with_biocommons_hgvs(row: dict[str, str]) -> None:
    """The normalised form equals what biocommons hgvs prints in 1-letter mode for the same string."""
    parser_mod = pytest.importorskip("hgvs.parser")
    body = row["input"].strip().removeprefix("p.")
    variant = parser_mod.Parser().parse_hgvs_variant(f"NP_004439.2:p.{body}")
    theirs = variant.format(conf={"p_3_letter": False}).split(":", 1)[1]
    assert parse_protein_change(row["input"]).text == theirs


ONE = sorted(set(THREE_TO_ONE.values()) - {"*", "X", "U", "O"})
ONE_TO_THREE = {v: k for k, v in THREE_TO_ONE.items()}


@st.composite
def changes(draw: st.DrawFn) -> tuple[str, str]:
    """A random protein change written in 1-letter form, and the same change in 3-letter form."""
    a1, a2 = draw(st.sampled_from(ONE)), draw(st.sampled_from(ONE))
    p1 = draw(st.integers(1, 3000))
    kind = draw(st.sampled_from(["sub", "del", "dup", "ins", "delins", "fs"]))
    p2 = p1 + draw(st.integers(1, 6))
    seq = "".join(draw(st.lists(st.sampled_from(ONE), min_size=1, max_size=5)))
    one = {
        "sub": f"{a1}{p1}{a2}",
        "del": f"{a1}{p1}_{a2}{p2}del",
        "dup": f"{a1}{p1}_{a2}{p2}dup",
        "ins": f"{a1}{p1}_{a2}{p1 + 1}ins{seq}",
        "delins": f"{a1}{p1}_{a2}{p2}delins{seq}",
        "fs": f"{a1}{p1}{a2}fs*{p2}",
    }[kind]
    three = "".join(ONE_TO_THREE.get(ch, ch) if ch.isupper() else ch for ch in one)
    return one, three


@given(changes(), st.booleans(), st.booleans())
def test_normalisation_is_idempotent_and_form_independent(pair: tuple[str, str], prefix: bool, paren: bool) -> None:
    one, three = pair
    wrap = (lambda s: f"p.({s})") if paren else ((lambda s: f"p.{s}") if prefix else (lambda s: s))
    a = parse_protein_change(wrap(one))
    b = parse_protein_change(wrap(three))
    assert a.text == b.text  # 1- and 3-letter spellings agree
    assert parse_protein_change(a.text).text == a.text  # normalising twice changes nothing
    assert a.start is not None and a.start >= 1


@pytest.mark.parametrize("row", [r for r in ROWS if r["expected"] != "ERROR"], ids=lambda r: r["input"])
def test_parsed_change_is_what_validation_would_build(row: dict[str, str]) -> None:
    """The parser builds its answer without validating it again; validating it gives the same model."""
    from nerasense.domain.alterations import ProteinChange

    change = parse_protein_change(row["input"])
    validated = ProteinChange.model_validate(change.model_dump())
    assert validated == change
    assert hash(validated) == hash(change)  # frozen: usable as a key, same as a validated model
    assert change.model_dump_json() == validated.model_dump_json()  # fields in the declared order
