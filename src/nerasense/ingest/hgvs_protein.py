"""Parse and normalise HGVS protein changes (``p.``) as they appear in MAF, VCF annotations and reports.

Accepted forms (one table-driven test per form in ``tests/data/hgvs_protein_forms.tsv``):

* 1- or 3-letter amino acids (``p.L755S``, ``p.Leu755Ser``), with or without ``p.``, with a
  reference prefix (``NP_004439.2:p.L755S``) and predicted parentheses (``p.(L755S)``);
* missense, nonsense (``*``, ``Ter``, legacy trailing ``X``), synonymous (``=`` or a repeated residue),
  deletions, duplications, insertions, delins (also legacy ``G776>VC`` and ``G776VC``),
  frameshifts (``fs``, ``fs*2``, ``fsTer2``, legacy ``fsX2``), extensions, start loss (``M1?``),
  MAF's splice placeholder ``X123_splice``, and ``p.?`` / ``p.=`` / ``p.0``;
* legacy names that a knowledge entry maps to HGVS (``A775_G776insYVMA`` -> ``p.Y772_A775dup``)
  through :func:`apply_alias`.

The normalised form is the 1-letter HGVS p. that biocommons ``hgvs`` prints with
``p_3_letter=False`` (``p.E346*``, ``p.E343Gfs*2``, ``p.L755=``), without the parentheses of a
predicted change (``predicted`` is kept on the model instead).

Why not biocommons ``hgvs`` at run time: its parser does work offline (the UTA database is only needed
to map between sequences), and the tests use it as an oracle for every well-formed row. But it takes
about 1.3 ms per string (Parsley PEG), which would make a 1,000,000-row MAF spend minutes parsing; it
refuses the bare and legacy forms that real files carry (``S310F`` without ``p.``, ``p.X2151_splice``,
``R213X``); and it brings psycopg2 as a dependency. The grammar below is small, regular and
cached per distinct string.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from nerasense.domain.alterations import ProteinChange, ProteinChangeType
from nerasense.errors import InputError, Problem

THREE_TO_ONE: dict[str, str] = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G",
    "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S",
    "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Sec": "U", "Pyl": "O", "Ter": "*", "Xaa": "X",
}
_AA = "ACDEFGHIKLMNPQRSTVWYUOX*"
_A = f"[{re.escape(_AA)}]"
_SEQ = f"[{re.escape(_AA)}]+"

ALLOWED = (
    "HGVS p. in 1- or 3-letter form, e.g. p.L755S, p.Leu755Ser, p.Y772_A775dup, p.G776delinsVC, "
    "p.E343Gfs*2, p.(L755S), or a legacy name such as A775_G776insYVMA"
)

_PREFIX = re.compile(r"^(?:[A-Za-z]+_?\d+(?:\.\d+)?:)?(?:p\.)?")
_THREE = re.compile("|".join(THREE_TO_ONE))
_SUBST = re.compile(rf"^(?P<a1>{_A})(?P<p1>\d+)(?P<a2>{_A}|=)$")
_MULTI = re.compile(rf"^(?P<a1>{_A})(?P<p1>\d+)>?(?P<seq>{_SEQ})$")  # legacy G776>VC / G776VC
_RANGE = re.compile(
    rf"^(?P<a1>{_A})(?P<p1>\d+)(?:_(?P<a2>{_A})(?P<p2>\d+))?"
    rf"(?P<op>delins|del|dup|ins)(?P<seq>{_SEQ})?$"
)
_FS = re.compile(rf"^(?P<a1>{_A})(?P<p1>\d+)(?P<a2>{_A})?fs(?:[*X](?P<n>\d+|\?))?$")
_EXT = re.compile(rf"^\*(?P<p1>\d+)(?P<a2>{_A})ext(?:\*(?P<n>\d+|\?))?$")
_START = re.compile(rf"^(?P<a1>{_A})1(?:_\?(?P<n>\d+))?\?$|^(?P<a2>{_A})1_\?(?P<m>\d+)$")
_BLOCK = re.compile(rf"^(?P<ref>{_A}{{2,}})(?P<p1>\d+)(?P<seq>{_SEQ})$")  # maf2maf multi-residue: NLKR204TLEG
_STOP_LOSS = re.compile(rf"^\*(?P<p1>\d+)(?P<a2>{_A})$")  # VEP short stop loss: *445N
_ZERO = re.compile(r"(?<![0-9])0")  # a number that starts with 0: residue 0 or a leading zero
_LONG_NUMBER = re.compile(r"\d{7}")  # a position of 7 or more digits: past any human protein
_SPLICE = re.compile(rf"^(?P<a1>{_A})(?P<p1>\d+)_splice$")


_DEFAULTS: dict[str, Any] = {"start_aa": None, "start": None, "end_aa": None, "end": None, "alt": None,
                             "predicted": False}


def _built(**fields: Any) -> ProteinChange:
    """A ProteinChange from parts the grammar has already checked (positions from 1, one-letter residues,
    a known type), built without a second validation (``_checked``: pydantic's ``model_construct`` loop
    over aliases and defaults cost a third of a parse, 8 of 24 us). ``tests/genomics/test_hgvs_protein.py``
    holds the result equal to a validated model for every form the grammar accepts.
    """
    values = {"text": fields["text"], "type": fields["type"]}
    for name, default in _DEFAULTS.items():
        values[name] = fields.get(name, default)
    return ProteinChange._checked(values, set(fields))


def _problem(text: str, why: str) -> InputError:
    return InputError(Problem("protein_change", text, ALLOWED, why))


def _to_one_letter(body: str) -> str:
    # Only the 25 codes are swapped: "Gfs" (G + fs) or "Wext" (W + ext) are left for the grammar.
    return _THREE.sub(lambda m: THREE_TO_ONE[m.group(0)], body)


@lru_cache(maxsize=200_000)
def parse_protein_change(text: str) -> ProteinChange:
    """Parse one protein change and return it normalised; raise :class:`InputError` if it is not one.

    >>> parse_protein_change("Leu755Ser").text
    'p.L755S'
    """
    raw = text.strip().replace("%3D", "=")  # VEP URL-escapes '=' in HGVSp
    if not raw:
        raise _problem(text, "the protein change is empty")
    body = _PREFIX.sub("", raw, count=1)
    predicted = body.startswith("(") and body.endswith(")")
    if predicted:
        body = body[1:-1]
    if body in {"?", "=", "0", "0?"}:
        return _built(text=f"p.{body}", type=ProteinChangeType.UNKNOWN_EFFECT, predicted=predicted)
    body = _to_one_letter(body)
    if _ZERO.search(body):
        raise _problem(text, "positions count from 1 (no residue 0 and no leading zeros)")
    if _LONG_NUMBER.search(body):  # also keeps int() off numbers past Python's 4,300-digit conversion limit
        raise _problem(text, "a position has at most 6 digits (the longest human protein, titin, has 34,350 residues)")

    if m := _START.match(body):
        aa = m["a1"] or m["a2"]
        tail = f"_?{m['n'] or m['m']}" if (m["n"] or m["m"]) else ""
        return _built(text=f"p.{aa}1{tail}?" if not m["m"] else f"p.{aa}1_?{m['m']}",
                             type=ProteinChangeType.START_LOSS, start_aa=aa, start=1, predicted=predicted)
    if m := _STOP_LOSS.match(body):
        return _built(text=f"p.*{m['p1']}{m['a2']}ext*?", type=ProteinChangeType.EXTENSION, start_aa="*",
                             start=int(m["p1"]), alt=m["a2"], predicted=predicted)
    if m := _SUBST.match(body):
        a1, p1, a2 = m["a1"], int(m["p1"]), m["a2"]
        if a1 == "*":
            raise _problem(text, "a stop codon changed to another residue is an extension: write *N<aa>ext*M")
        if a2 == "X" and a1 != "X":
            a2 = "*"  # legacy nonsense notation (R213X); HGVS writes * or Ter
        if a2 in {"=", a1}:
            return _built(text=f"p.{a1}{p1}=", type=ProteinChangeType.SYNONYMOUS, start_aa=a1,
                                 start=p1, predicted=predicted)
        kind = ProteinChangeType.NONSENSE if a2 == "*" else ProteinChangeType.MISSENSE
        return _built(text=f"p.{a1}{p1}{a2}", type=kind, start_aa=a1, start=p1, alt=a2,
                             predicted=predicted)
    if m := _FS.match(body):
        a1, p1, a2, n = m["a1"], int(m["p1"]), m["a2"] or "", m["n"]
        tail = f"*{n}" if n else ""
        return _built(text=f"p.{a1}{p1}{a2}fs{tail}", type=ProteinChangeType.FRAMESHIFT, start_aa=a1,
                             start=p1, alt=a2 or None, predicted=predicted)
    if m := _EXT.match(body):
        p1, a2, n = int(m["p1"]), m["a2"], m["n"]
        tail = f"*{n}" if n else ""
        return _built(text=f"p.*{p1}{a2}ext{tail}", type=ProteinChangeType.EXTENSION, start_aa="*",
                             start=p1, alt=a2, predicted=predicted)
    if m := _SPLICE.match(body):
        return _built(text=f"p.{m['a1']}{m['p1']}_splice", type=ProteinChangeType.SPLICE,
                             start_aa=m["a1"], start=int(m["p1"]), predicted=predicted)
    if m := _RANGE.match(body):
        return _range(m, text, predicted)
    if m := _BLOCK.match(body):
        ref, p1, seq = m["ref"], int(m["p1"]), m["seq"]
        if "*" not in ref:
            p2 = p1 + len(ref) - 1
            return _built(text=f"p.{ref[0]}{p1}_{ref[-1]}{p2}delins{seq}", type=ProteinChangeType.DELINS,
                                 start_aa=ref[0], start=p1, end_aa=ref[-1], end=p2, alt=seq, predicted=predicted)
    if m := _MULTI.match(body):
        a1, p1, seq = m["a1"], int(m["p1"]), m["seq"]
        return _built(text=f"p.{a1}{p1}delins{seq}", type=ProteinChangeType.DELINS, start_aa=a1,
                             start=p1, end_aa=a1, end=p1, alt=seq, predicted=predicted)
    raise _problem(text, "not a protein change this reader understands")


def _range(m: re.Match[str], text: str, predicted: bool) -> ProteinChange:
    a1, p1, op, seq = m["a1"], int(m["p1"]), m["op"], m["seq"]
    a2, p2 = m["a2"], int(m["p2"]) if m["p2"] else None
    if p2 is not None and p2 <= p1:
        raise _problem(text, f"the range end {p2} must come after its start {p1}")
    span = f"{a1}{p1}" + (f"_{a2}{p2}" if p2 is not None else "")
    kind = ProteinChangeType(op)
    if op == "ins":
        if p2 != p1 + 1:
            raise _problem(text, "an insertion names the two flanking residues, e.g. A775_G776insYVMA")
        if not seq:
            raise _problem(text, "an insertion needs the inserted residues, e.g. insYVMA")
    if op == "delins" and not seq:
        raise _problem(text, "a delins needs the inserted residues, e.g. delinsVC")
    if op == "dup" and seq:
        raise _problem(text, "a duplication names no residues after dup")
    # legacy deletions sometimes spell out the deleted residues (L755_T759delLRENT): dropped
    alt = seq if op in {"ins", "delins"} else None
    return _built(text=f"p.{span}{op}{alt or ''}", type=kind, start_aa=a1, start=p1, end_aa=a2,
                         end=p2, alt=alt, predicted=predicted)


def try_parse_protein_change(text: str | None) -> ProteinChange | None:
    """Like :func:`parse_protein_change` but returns None for empty or unparseable text."""
    if not text:
        return None
    try:
        return parse_protein_change(text)
    except InputError:
        return None


def apply_alias(change: ProteinChange, aliases: dict[str, str]) -> tuple[ProteinChange, str | None]:
    """Rewrite a legacy name to its HGVS equivalent when the knowledge base maps it.

    ``aliases`` maps normalised legacy text to normalised HGVS text for one gene. Returns the change to
    use and the legacy name it replaced (or None).
    """
    target = aliases.get(change.text)
    if target is None:
        return change, None
    new = parse_protein_change(target)
    if change.predicted:
        new = new.model_copy(update={"predicted": True})
    return new, change.text


__all__ = ["ALLOWED", "THREE_TO_ONE", "apply_alias", "parse_protein_change", "try_parse_protein_change"]
