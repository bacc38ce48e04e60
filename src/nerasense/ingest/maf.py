"""Read MAF files (GDC and cBioPortal flavours, plain or gzipped) into an :class:`AlterationTable`.

Each data line becomes an alteration or a rejected record with its reason. A plain file whose header is
its first line is read and checked in one streaming pass (:func:`_streamed`) when polars' strict reader
can prove every line has the header's field count and nothing looks shifted; otherwise the careful
reader (:func:`_rows`) reads each line whole and splits it, so a line with too few or too many fields is
caught and named, never silently padded. Either way the rows are checked with vectorised expressions (the
first failing check gives the reason, :func:`_pass`); protein changes already in normalised form pass
through, the others are parsed once per distinct string afterwards (:func:`_finish`).

Column shift (SUMMIT biliary study, cBioPortal ``puma_biliary_tract_summit_trial``): in that file the
values under the header columns ``Consequence`` … ``dbSNP_RS`` were written one column to the left, so
``Consequence`` holds the Variant_Classification, ``Variant_Type`` holds the reference allele and
``Tumor_Seq_Allele2`` holds the dbSNP id. Read naively, every allele would come from the wrong column.
:func:`detect_column_shift` finds such rows by vocabulary (a Variant_Classification term under
Consequence, a Variant_Type term under Variant_Classification, a DNA allele under Variant_Type) and
either repairs them (``on_shift="repair"``: each value moves one column right, Consequence is left
empty; a :class:`~nerasense.errors.NerasenseWarning` says which lines and how) or refuses
(``on_shift="refuse"``: :class:`~nerasense.errors.InputError`). Repaired alleles are checked against
the Start/End span and ``Match_Norm_Seq_Allele1``.
"""

from __future__ import annotations

import itertools
import mmap
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from nerasense._frames import aligned, without_rows
from nerasense.errors import InputError, NerasenseWarning, Problem
from nerasense.ingest.files import read_bytes, require_file
from nerasense.ingest.normal_form import fast_change
from nerasense.safe_io import input_boundary

if TYPE_CHECKING:
    from nerasense.ingest.table import AlterationTable
    from nerasense.knowledge.genomics import GenomicsKnowledge

OnShift = Literal["repair", "refuse"]

VARIANT_CLASSIFICATIONS = frozenset({
    "Frame_Shift_Del", "Frame_Shift_Ins", "In_Frame_Del", "In_Frame_Ins", "Missense_Mutation",
    "Nonsense_Mutation", "Silent", "Splice_Site", "Translation_Start_Site", "Nonstop_Mutation", "3'UTR",
    "3'Flank", "5'UTR", "5'Flank", "IGR", "Intron", "RNA", "Targeted_Region", "De_novo_Start_InFrame",
    "De_novo_Start_OutOfFrame", "Splice_Region", "Unknown",
})
VARIANT_TYPES = frozenset({"SNP", "DNP", "TNP", "ONP", "INS", "DEL", "Consolidated"})
VARIANT_TYPE_ENUM = pl.Enum(sorted(VARIANT_TYPES))
KIND_BY_TYPE = {"SNP": "snv", "DNP": "mnv", "TNP": "mnv", "ONP": "mnv", "INS": "indel", "DEL": "indel"}
ALLELE = r"^(?:[ACGTNacgtn]+|-)$"
SYMBOL = r"^[A-Za-z0-9][A-Za-z0-9.\-]*$"
# upper-case letters, digits and hyphens, not first: a valid symbol written as the knowledge base writes it
PLAIN_SYMBOL = r"^[A-Z0-9][A-Z0-9\-]*$"
# the alleles of nearly every row (SNVs, short indels and their '-'): a hash look-up instead of the ALLELE
# regex; only the other rows (about 1% of a TCGA MAF) are checked against ALLELE, after the pass
COMMON_ALLELES = ("-", *("".join(bases) for n in (1, 2, 3) for bases in itertools.product("ACGT", repeat=n)))
CHANGE_COLUMNS = ("HGVSp_Short", "HGVSp", "Protein_Change", "Amino_Acid_Change")
# read as integers when every value is one (else as text, and each bad value is rejected by name)
INTEGER_COLUMNS = ("Start_Position", "End_Position", "t_depth", "t_ref_count", "t_alt_count")
GENOMIC_COLUMNS = ("Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2")
REQUIRED = ("Hugo_Symbol", "Tumor_Sample_Barcode")
UNKNOWN_GENE = ("Unknown", "UNKNOWN", "unknown")  # written where no gene applies (e.g. intergenic)
# values written where a protein change would go that mean "none": TERT promoter labels, and the '.'
# that VEP/MC3 write for an empty field; such rows are read with no protein change
NON_PROTEIN_LABELS = frozenset({"Promoter", "promoter", "PROMOTER", "."})
SHIFT_BLOCK_START, SHIFT_BLOCK_END = "Consequence", "dbSNP_RS"


@dataclass(frozen=True)
class ColumnShift:
    """Rows whose values between two header columns sit one column to the left."""

    columns: tuple[str, ...]  # header names from Consequence to the column after dbSNP_RS
    first_col: int  # 1-based column number of Consequence
    lines: tuple[int, ...]  # 1-based file lines of the shifted rows
    data_rows: int

    def describe(self, path: str) -> tuple[str, str]:
        """What is wrong (file, lines, columns) and how the repair moves each value."""
        moves = ", ".join(f"{b}<-{a}" for a, b in itertools.pairwise(self.columns))
        return (
            f"{path}: lines {_ranges(self.lines)} ({len(self.lines)} of {self.data_rows} data rows): the values "
            f"under columns {self.columns[0]}..{self.columns[-2]} (columns {self.first_col}-"
            f"{self.first_col + len(self.columns) - 2}) are shifted one column to the left (a "
            "Variant_Classification term sits under Consequence and a DNA allele under Variant_Type)"
        ), moves


def _ranges(lines: tuple[int, ...]) -> str:
    if not lines:
        return ""
    parts, start, prev = [], lines[0], lines[0]
    for n in lines[1:]:
        if n != prev + 1:
            parts.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = n
        prev = n
    parts.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ", ".join(parts)


def _split_header(data: bytes | mmap.mmap, path: Path) -> tuple[list[str], int, int, str]:
    """Header fields, the byte offset where data lines start, the count of leading comment lines, the flavour."""
    comments = 0
    flavour = "cbioportal"
    pos = 0
    while data[pos: pos + 1] == b"#":
        end = data.find(b"\n", pos)
        line = data[pos: end if end >= 0 else len(data)]
        if line.startswith(b"#version gdc") or b"gdc" in line.lower():
            flavour = "gdc"
        comments += 1
        pos = end + 1 if end >= 0 else len(data)
    end = data.find(b"\n", pos)
    if end < 0:
        end = len(data)
    header_line = data[pos:end].decode("utf-8", "replace").rstrip("\r")
    header = header_line.split("\t")
    if len(header) < 2:
        raise InputError(Problem("header", header_line[:80], "a tab-separated MAF header (Hugo_Symbol, ...)",
                                 f"line {comments + 1} of {path.name} is not a MAF header"))
    if "GDC_FILTER" in header or "callers" in header:
        flavour = "gdc"
    return header, end + 1, comments, flavour


def _rows(data: bytes | mmap.mmap, offset: int, header: list[str], comments: int, fast: bool = True,
          path: Path | None = None) -> pl.DataFrame:
    """One row per data line: the header's columns (empty -> null), ``_fields``, ``line_no`` and ``_text`` (the
    text of a damaged line).

    Fast path: polars' own multi-threaded reader, used when it proves every line has the header's field
    count: it refuses lines with too many fields and pads short ones with nulls, so no line is short when
    the last column has no null (a free check), or else when the file's tab count equals (fields - 1) x
    lines. Otherwise each line is read whole and split, so a damaged line is named. ``path``, when given,
    is the plain file ``data`` maps: polars then reads it itself (no copy of the buffer) when the header is
    its first line.
    """
    n = len(header)
    first_line = comments + 2
    if offset >= len(data) or (data.find(b"\t", offset) < 0 and data[offset:].isspace()):
        return pl.DataFrame(schema={**dict.fromkeys(header, pl.String), "_fields": pl.Int64, "line_no": pl.Int64,
                                    "_text": pl.String})
    if fast and data.find(b"\r", offset) < 0:
        # polars reads the header line itself: its skip_rows option scans serially and costs more than
        # the whole parallel read. Comment lines above the header (GDC) cost one copy of the buffer.
        start = data.rfind(b"\n", 0, offset - 1) + 1
        source: Any = data[start:] if start else path if path is not None else data
        frame = None
        # integer columns are parsed by the reader itself (cheaper than strings cast afterwards); a value
        # that is not an integer fails that read, and the file is read again as text so the check names it
        typed = {h: pl.Int64 for h in INTEGER_COLUMNS if h in header}
        for overrides in ((typed, {}) if typed else ({},)):
            try:
                frame = pl.read_csv(source, has_header=True, new_columns=header, separator="\t", quote_char=None,
                                    infer_schema=False, comment_prefix=None, schema_overrides=overrides or None)
                break
            except pl.exceptions.PolarsError:
                continue
        if frame is not None and frame.width == n and (
                frame[header[-1]].null_count() == 0  # a short line would leave its last field null
                or _count_tabs(data) - _count_tabs(data[:offset]) == (n - 1) * frame.height):
            # the row index goes first: a one-chunk column after the reader's many-chunk columns would make
            # the next with_columns copy every column into one chunk
            # the added columns are cut like the reader's (a frame whose columns are chunked differently is
            # copied whole by the next eager operation)
            height = frame.height
            extra = pl.DataFrame([
                pl.int_range(first_line, first_line + height, dtype=pl.Int64, eager=True).alias("line_no"),
                pl.repeat(n, height, dtype=pl.Int64, eager=True).alias("_fields"),
                pl.repeat(None, height, dtype=pl.String, eager=True).alias("_text"),
            ])
            return aligned(pl.concat([extra.select("line_no"), frame, extra.drop("line_no")], how="horizontal"))
    body = data[offset:]
    lines = pl.read_csv(body, has_header=False, separator="\x1f", quote_char=None, new_columns=["_text"],
                        infer_schema=False, comment_prefix=None)
    lines = lines.with_row_index("_row").with_columns(
        (pl.col("_row") + first_line).cast(pl.Int64).alias("line_no"),
        pl.col("_text").fill_null("").str.strip_chars_end("\r"),
    ).drop("_row")
    frame = lines.with_columns(
        (pl.col("_text").str.count_matches("\t", literal=True) + 1).cast(pl.Int64).alias("_fields"),
        pl.col("_text").str.split_exact("\t", n - 1).alias("_s"),
    ).unnest("_s")
    frame = frame.with_columns(  # only damaged lines keep their text, for the rejection list
        pl.when(pl.col("_fields") != n).then(pl.col("_text").str.slice(0, 60)).otherwise(None).alias("_text")
    )
    frame = frame.rename({f"field_{i}": h for i, h in enumerate(header)})
    return frame.with_columns([pl.col(h).replace("", None) for h in header])


def count_byte(data: bytes, byte: bytes) -> int:
    """How many times ``byte`` occurs in ``data``: numpy compares the buffer a slice at a time into one small
    array (several times faster than ``bytes.count``, and no buffer the size of ``data``)."""
    import numpy as np

    view = np.frombuffer(data, dtype=np.uint8)
    step = 1 << 18
    hits = np.empty(step, dtype=bool)
    value, total = ord(byte), 0
    for at in range(0, view.size, step):
        piece = view[at:at + step]
        out = hits[:piece.size]
        np.equal(piece, value, out=out)
        total += int(np.count_nonzero(out))
    return total


def _every_line_has(data: bytes, start: int, tabs: int, lines: int) -> bool:
    """Whether ``data`` from ``start`` holds exactly ``lines`` lines of exactly ``tabs`` tabs each (numpy: the
    line ends, then the tabs summed between them)."""
    import numpy as np

    view = np.frombuffer(data, dtype=np.uint8)[start:]
    ends = np.flatnonzero(view == ord("\n"))
    if view.size and view[-1] != ord("\n"):
        ends = np.append(ends, view.size)
    if ends.size != lines:
        return False
    starts = np.concatenate(([0], ends[:-1] + 1))
    counts = np.add.reduceat(view == ord("\t"), starts, dtype=np.int64)
    return bool((counts == tabs).all())


def _count_tabs(data: bytes | mmap.mmap) -> int:
    if isinstance(data, mmap.mmap):
        data = data[:]  # a map has no count(); this rare fallback pays one copy
    return data.count(b"\t")


def _not_a_variant_type() -> pl.Expr:
    """A Variant_Type value that is not one of VARIANT_TYPES (the first sign of shifted columns)."""
    return pl.col("Variant_Type").is_not_null() & ~pl.col("Variant_Type").is_in(sorted(VARIANT_TYPES))


def detect_column_shift(frame: pl.DataFrame, header: list[str]) -> ColumnShift | None:
    """Find rows whose Consequence..dbSNP_RS values sit one column to the left (see module docstring)."""
    need = {SHIFT_BLOCK_START, SHIFT_BLOCK_END, "Variant_Classification", "Variant_Type"}
    if not need <= set(header):
        return None
    a, b = header.index(SHIFT_BLOCK_START), header.index(SHIFT_BLOCK_END)
    if b <= a or b + 1 >= len(header):
        return None
    if not frame.select(_not_a_variant_type().any()).item():
        return None  # every Variant_Type is a Variant_Type: nothing is shifted (the cheap common case)
    shifted = frame.filter(
        pl.col("Consequence").is_in(list(VARIANT_CLASSIFICATIONS))
        & pl.col("Variant_Classification").is_in(list(VARIANT_TYPES))
        & pl.col("Variant_Type").str.contains(ALLELE)
        & ~pl.col("Variant_Type").is_in(list(VARIANT_TYPES))
    )
    if shifted.height == 0:
        return None
    return ColumnShift(columns=tuple(header[a: b + 2]), first_col=a + 1,
                       lines=tuple(shifted["line_no"].to_list()), data_rows=frame.height)


@input_boundary("MAF (tab-separated, UTF-8, plain or gzipped)")
def read_maf(
    path: str | Path,
    gk: GenomicsKnowledge | Callable[[], GenomicsKnowledge],
    *,
    on_shift: OnShift = "repair",
    origin_by_sample: dict[str, str] | None = None,
) -> AlterationTable:
    """Read a MAF; see the module docstring for the column-shift handling.

    ``gk`` is the genomics knowledge, or a function that returns it, called once the file has been read and
    checked (the streaming pass needs no knowledge). A caller can so load the knowledge base in another
    thread while a large file is read: pass that future's ``result`` (``nerasense annotate`` does). This
    module imports only polars and its own helpers; the domain models are imported when the rows are
    finished.
    """
    path = Path(path)
    require_file(path, "MAF")
    with _mapped(path) as mapped:
        data: bytes | mmap.mmap = mapped if mapped is not None else read_bytes(path)
        header, offset, comments, flavour = _split_header(data, path)
        _check_header(header, path.name)
        if mapped is not None and comments == 0:
            streamed = _streamed(path, data, offset, header, origin_by_sample or {})
            if streamed is not None:
                return _finish(*streamed, path, flavour, [], _knowledge(gk))
        frame = _rows(data, offset, header, comments, path=path if mapped is not None else None)
    return _checked(frame, header, path, flavour, on_shift, origin_by_sample or {}, _knowledge(gk))


@input_boundary("MAF text (tab-separated, UTF-8)")
def read_maf_text(data: bytes, name: str, gk: GenomicsKnowledge | Callable[[], GenomicsKnowledge], *,
                  on_shift: OnShift = "repair", origin_by_sample: dict[str, str] | None = None,
                  seen: Callable[[pl.DataFrame], None] | None = None) -> AlterationTable:
    """Read MAF text held in memory (comment lines, a header line, data lines) with the checks of
    :func:`read_maf`: a part of a larger file that ``nerasense screen`` cut at line ends and gave the file's
    header. Lines are numbered from the first line of ``data``; ``name`` names the rows' file. ``seen``, when
    given, is called with the rows as read (every header column as text), before any check: a caller can so
    take a column the reader does not keep (a tumour type) without parsing the text twice."""
    path = Path(name)
    header, offset, comments, flavour = _split_header(data, path)
    _check_header(header, name)
    frame = _rows(data, offset, header, comments)
    if seen is not None:
        seen(frame)
    return _checked(frame, header, path, flavour, on_shift, origin_by_sample or {}, _knowledge(gk))


# every column the checks and the output of this reader look at (the plain-row reader reads no other)
READER_COLUMNS = (*REQUIRED, *CHANGE_COLUMNS, "Chromosome", "Start_Position", "End_Position", "Reference_Allele",
                  "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "Variant_Type", "Variant_Classification", "HGVSc",
                  "Transcript_ID", "NCBI_Build", "t_depth", "t_ref_count", "t_alt_count")


@dataclass
class PlainRead:
    """A MAF text read by :func:`read_maf_text_plain`: ``rows`` are the columns read (every data row, as the
    reader parsed them); ``passed`` is the reader's pass over every row (:func:`_pass`) and ``plain`` marks the
    rows the plain-row rule (:func:`plain_row`) accepts as they stand (their ``raw_change`` is their
    protein change, they have no legacy name); ``rest`` is every other row, finished (accepted or refused,
    with notes) by the same step as :func:`read_maf_text`."""

    rows: pl.DataFrame
    passed: pl.DataFrame
    plain: pl.Series
    rest: AlterationTable
    input_records: int
    line_ends: int  # newlines in ``data``

    @property
    def accepted(self) -> int:
        return int(self.plain.sum()) + self.rest.frame.height


def plain_row(gk: GenomicsKnowledge) -> pl.Expr:
    """The plain-row rule, over the columns of the reader's pass (:func:`_pass`): a row that fails no check of
    the pass (``_code`` 0) and that the pass flags for none of the look-ups :func:`_finish` does after it: its
    symbol is plain upper case, not 'Unknown' and not an alias (no rename, no symbol check), its alleles are
    common ones (no allele regex), its change is present and already in normalised form (no parse, no hotspot
    fill-in from the locus) and not a legacy name a knowledge alias rewrites, and its Variant_Type gives its
    kind. For such a row :func:`_finish` copies the pass's columns and nothing else, so these rows are
    accepted as they stand; every other row goes through :func:`_finish` itself."""
    from nerasense.ingest.table import fast_alias_keys  # the domain models: imported when the knowledge is

    c = pl.col
    keys = fast_alias_keys(gk)
    rule = ((c("_code") == 0) & ~c("_slow") & ~c("_rename") & ~c("_odd_allele") & c("raw_change").is_not_null()
            & c("kind").is_not_null() & ~c("gene").is_in(sorted(gk.gene_aliases)))
    if keys:
        rule = rule & ~c("raw_change").is_in(keys)
    return rule.fill_null(False)


def read_maf_text_plain(data: bytes, name: str, gk: GenomicsKnowledge | Callable[[], GenomicsKnowledge], *,
                        keep: tuple[str, ...] = (), header: bytes = b"") -> PlainRead | None:
    """Read MAF text as :func:`read_maf_text` does, faster, or return None when the text needs that reader.

    ``data`` is MAF text (comment lines, a header line, data lines) or, when ``header`` is given, the data lines
    alone and ``header`` the header line (lines are numbered as if it came first: the first data line is 2).
    Only the columns the checks look at (:data:`READER_COLUMNS`), the last column and ``keep`` are parsed
    (integers as integers, Variant_Type as its enumeration), in one multi-threaded polars read (every column
    when that would skip less than a third of them). The text needs
    :func:`read_maf_text` (None) when it is not ASCII, has a carriage return, a count that is not an integer, a
    Variant_Type that is not one (the first sign of shifted columns), a line with too few or too many fields (a
    read of every column refuses a long line itself and leaves a short line's last field empty; a partial read
    compares the tab count with (fields - 1) x lines; where the last column has empty values, each line's tabs
    are counted), or no data line. Otherwise every row goes
    through the reader's own pass (:func:`_pass`: every check, every output column), the rows the plain-row
    rule (:func:`plain_row`) accepts are kept as they are, and the others go through the reader's own last step
    (:func:`_finish`), so accepted rows, refused rows, reasons and notes are those of :func:`read_maf_text`."""
    path = Path(name)
    fields, offset, comments, flavour = _split_header(header or data, path)
    _check_header(fields, name)
    n = len(fields)
    body_at = 0 if header else offset
    if (body_at >= len(data) or not data.isascii() or not (header or b"").isascii()
            or data.find(b"\r", body_at) >= 0 or not any(c in fields for c in CHANGE_COLUMNS)):
        return None  # non-ASCII text: the full reader also checks the columns this one does not parse
    wanted = {*READER_COLUMNS, fields[-1], *keep}
    at = [i for i, h in enumerate(fields) if h in wanted]
    # a partial read passes over a line's extra fields, so the tabs must be counted; a read of every column
    # refuses such a line itself, which costs less when the partial read would skip few columns
    partial = 3 * (n - len(at)) >= n
    if not partial:
        at = list(range(n))
    names = [fields[i] for i in at]
    # without a header line polars names the columns it reads by their 0-based number (column_0, column_2, ...;
    # checked below: a reader that names them otherwise sends the text to the full reader)
    label = {h: (h if not header else f"column_{i}") for i, h in enumerate(fields)}
    typed: dict[str, Any] = {label[h]: pl.Int64 for h in INTEGER_COLUMNS if h in names}
    if "Variant_Type" in names:
        typed[label["Variant_Type"]] = VARIANT_TYPE_ENUM
    # polars reads the header line itself (its skip_rows option scans serially); lines above it cost a copy
    start = 0 if header else data.rfind(b"\n", 0, offset - 1) + 1
    try:
        rows = pl.read_csv(data[start:] if start else data, has_header=not header, columns=at, separator="\t",
                           quote_char=None, infer_schema=False, comment_prefix=None, schema_overrides=typed)
    except pl.exceptions.PolarsError:
        return None
    if rows.columns != [label[h] for h in names]:
        return None
    rows.columns = names
    if rows.height == 0:
        return None
    if rows[fields[-1]].null_count():  # an empty last value, or a short line: each line's tab count tells
        if not _every_line_has(data, body_at, n - 1, rows.height):
            return None
    elif partial and count_byte(data, b"\t") - data[:body_at].count(b"\t") != (n - 1) * rows.height:
        return None
    first_line = comments + 2
    rows = rows.with_columns(pl.int_range(first_line, first_line + rows.height, dtype=pl.Int64).alias("line_no"))
    known = _knowledge(gk)
    cols = _Columns(fields, name)
    passed = _pass(rows.lazy(), cols, {}, {})
    plain = passed.select(plain_row(known)).to_series()
    rest = _finish(passed.filter(~plain), cols, path, flavour, [], known)
    # every line is a data row here (a blank line would have left the last column empty)
    line_ends = (0 if header else comments + 1) + rows.height - (0 if data.endswith(b"\n") else 1)
    return PlainRead(rows=rows, passed=passed, plain=plain, rest=rest, input_records=rows.height,
                     line_ends=line_ends)


@input_boundary("MAF rows (a table with MAF columns)")
def read_maf_rows(frame: pl.DataFrame, name: str, gk: GenomicsKnowledge | Callable[[], GenomicsKnowledge], *,
                  first_line: int = 1, on_shift: OnShift = "repair",
                  origin_by_sample: dict[str, str] | None = None) -> AlterationTable:
    """Read rows already split into MAF columns (a Parquet row group) with the checks of :func:`read_maf`.

    Integer columns stay integers; every other column is read as text, with an empty value missing (as in a
    MAF file). Rows are numbered from ``first_line`` (the 1-based row of the table)."""
    header = list(frame.columns)
    _check_header(header, name)
    integer = {h for h in INTEGER_COLUMNS if h in header and frame.schema[h].is_integer()}
    frame = frame.with_columns(
        *(pl.col(h).cast(pl.Int64) for h in integer),
        *(pl.col(h).cast(pl.String).replace("", None) for h in header if h not in integer),
        pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64).alias("line_no"),
    )
    return _checked(frame, header, Path(name), "", on_shift, origin_by_sample or {}, _knowledge(gk))


def _knowledge(gk: GenomicsKnowledge | Callable[[], GenomicsKnowledge]) -> GenomicsKnowledge:
    """The knowledge itself, or what the function that loads it returns (a knowledge object is not callable)."""
    return gk() if callable(gk) else gk


def _streamed(path: Path, data: bytes | mmap.mmap, offset: int, header: list[str],
              origin_by_sample: dict[str, str]) -> tuple[pl.DataFrame, _Columns] | None:
    """Read and check a plain MAF whose header is its first line in one streaming pass (most files): the
    pass's frame and columns, for :func:`_finish`.

    polars' reader refuses a line with too many fields, a count that is not an integer or a Variant_Type that
    is not one (a sign of shifted columns), and pads a short line with nulls; the pass flags a short last
    field. In any of those cases None is returned and the careful reader (:func:`_rows`, :func:`_checked`)
    reads the file again and names the damage.
    """
    n = len(header)
    typed: dict[str, pl.DataType | type[pl.DataType]] = {h: pl.Int64 for h in INTEGER_COLUMNS if h in header}
    if "Variant_Type" in header:
        # read as an Enum: a value that is not a Variant_Type (a sign of shifted columns) fails the read
        typed["Variant_Type"] = VARIANT_TYPE_ENUM
    source = pl.scan_csv(path, has_header=True, new_columns=header, separator="\t", quote_char=None,
                         infer_schema=False, comment_prefix=None, schema_overrides=typed or None)
    source = source.with_row_index("line_no", offset=2).with_columns(pl.col("line_no").cast(pl.Int64))
    guards = {"_short": pl.col(header[-1]).is_null()}
    cols = _Columns(header, path.name)
    try:
        frame = _pass(source, cols, origin_by_sample, guards)
    except pl.exceptions.PolarsError:
        return None
    if frame["_short"].any() and _count_tabs(data) - _count_tabs(data[:offset]) != (n - 1) * frame.height:
        return None  # some line has too few fields (the reader padded it)
    return frame, cols


@contextmanager
def _mapped(path: Path) -> Iterator[mmap.mmap | None]:
    """The plain (not gzipped, not empty) file mapped into memory, read in place; else None."""
    with path.open("rb") as fh:
        if fh.read(2) in (b"\x1f\x8b", b"", b"\x1f"):
            yield None
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            yield mapped


def _check_header(header: list[str], name: str) -> None:
    problems = [Problem("column", c, "a MAF with this column", f"{name} has no {c} column")
                for c in REQUIRED if c not in header]
    if not any(c in header for c in CHANGE_COLUMNS) and not all(c in header for c in GENOMIC_COLUMNS):
        problems.append(Problem("column", "HGVSp_Short", f"one of {', '.join(CHANGE_COLUMNS)}, or all of "
                                f"{', '.join(GENOMIC_COLUMNS)}", f"{name} has neither protein nor genomic columns"))
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        problems.append(Problem("header", ", ".join(dup), "unique column names", "remove the repeated columns"))
    if problems:
        raise InputError(problems)


def _checked(frame: pl.DataFrame, header: list[str], path: Path, flavour: str, on_shift: OnShift,
             origin_by_sample: dict[str, str], gk: GenomicsKnowledge) -> AlterationTable:
    name = path.name
    notes: list[str] = []

    shift = detect_column_shift(frame, header)
    shifted_lines: list[int] = []
    if shift is not None:
        text, moves = shift.describe(name)
        if on_shift == "refuse":
            raise InputError(Problem("columns", f"{SHIFT_BLOCK_START}..{SHIFT_BLOCK_END}",
                                     "values under their own header columns",
                                     f"{text}; fix the file or read it with --on-shift repair"))
        shifted_lines = list(shift.lines)
        is_shifted = pl.col("line_no").is_in(shifted_lines)
        cols = shift.columns
        repaired = [pl.when(is_shifted).then(pl.col(src)).otherwise(pl.col(dst)).alias(dst)
                    for src, dst in itertools.pairwise(cols)]
        repaired.append(pl.when(is_shifted).then(None).otherwise(pl.col(cols[0])).alias(cols[0]))
        extra_filled = frame.filter(is_shifted & pl.col(cols[-1]).is_not_null()).height
        frame = frame.with_columns(pl.when(is_shifted & pl.col(cols[-1]).is_not_null()).then(True)
                                   .otherwise(False).alias("_shift_lost"))
        frame = frame.with_columns(repaired)
        agree = ""
        if "Match_Norm_Seq_Allele1" in header:
            sub = frame.filter(is_shifted & pl.col("Match_Norm_Seq_Allele1").is_not_null())
            same = sub.filter(pl.col("Match_Norm_Seq_Allele1") == pl.col("Reference_Allele")).height
            agree = f"; after the repair Reference_Allele equals Match_Norm_Seq_Allele1 in {same} of {sub.height} rows"
        msg = (f"{text}. Repaired by moving each value one column right ({moves}); {cols[0]} is left empty"
               f"{agree}; {extra_filled} rows had a value in {cols[-1]} and are rejected. "
               "Read with --on-shift refuse to stop instead.")
        warnings.warn(msg, NerasenseWarning, stacklevel=2)

    columns = _Columns(header, name)
    return _finish(_pass(frame.lazy(), columns, origin_by_sample, {}), columns, path, flavour, notes, gk)


class Reject(IntEnum):
    """Why a row is refused, in the order the checks run (the first failing one names the row)."""

    FIELDS = 1
    NO_SYMBOL = 2
    UNKNOWN_GENE = 3
    BAD_SYMBOL = 4
    NO_SAMPLE = 5
    SHIFT_LOST = 6
    BAD_REF = 7
    BAD_ALT = 8
    SPAN = 9
    BAD_INTEGER = 10
    BAD_CHANGE = 11
    NOTHING = 12
    ALT_OVER_DEPTH = 13


def _reason(code: Reject, n: int, change_col: str | None, integers: tuple[str, ...]) -> pl.Expr:
    """The rejection text of one check, built from the row's columns."""
    c, lit = pl.col, pl.lit
    if code == Reject.BAD_INTEGER:  # names the first integer column whose value is not one
        text: Any = pl.lit(None, dtype=pl.String)
        for h in reversed(integers):
            text = pl.when(_not_integer(h)).then(lit(f"{h}='") + c(h) + lit("' is not an integer")).otherwise(text)
        return text
    return {
        Reject.FIELDS: lit("line has ") + c("_fields").cast(pl.String)
        + lit(f" fields, the header has {n} (truncated or damaged line)"),
        Reject.NO_SYMBOL: lit("Hugo_Symbol is empty"),
        Reject.UNKNOWN_GENE: lit("Hugo_Symbol is 'Unknown' (no gene, e.g. intergenic); nothing to interpret"),
        Reject.BAD_SYMBOL: lit("Hugo_Symbol is not a gene symbol"),
        Reject.NO_SAMPLE: lit("Tumor_Sample_Barcode is empty"),
        Reject.SHIFT_LOST: lit("column-shifted row with a value in the last shifted column; cannot be repaired safely"),
        Reject.BAD_REF: lit("Reference_Allele='") + c("ref") + lit("' is not a DNA allele (wrong column?)"),
        Reject.BAD_ALT: lit("tumour allele='") + c("alt") + lit("' is not a DNA allele (wrong column?)"),
        Reject.SPAN: lit("Reference_Allele length does not match Start_Position..End_Position"),
        Reject.BAD_CHANGE: lit(f"{change_col}='") + c("raw_change") + lit("' is not HGVS p.: ") + c("change_error"),
        Reject.NOTHING: lit("neither a protein change nor chromosome, position and alleles"),
        Reject.ALT_OVER_DEPTH: lit("t_alt_count exceeds the depth"),
    }[code]


def _first_failing(checks: dict[Reject, pl.Expr]) -> pl.Expr:
    """The code of the first check a row fails (0 when it passes them all): cheap booleans on every row."""
    code: Any = None
    for number, cond in sorted(checks.items()):
        code = (pl.when(cond) if code is None else code.when(cond)).then(pl.lit(int(number), dtype=pl.Int8))
    return code.otherwise(pl.lit(0, dtype=pl.Int8)) if code is not None else pl.lit(0, dtype=pl.Int8)


def _reasons(codes: Iterable[Reject], n: int, change_col: str | None, integers: tuple[str, ...]) -> pl.Expr:
    """The text of the check named by ``_code`` (one of ``codes``); built only for the rejected rows."""
    message: Any = pl.lit(None, dtype=pl.String)
    for code in sorted(set(codes), reverse=True):
        message = pl.when(pl.col("_code") == int(code)).then(_reason(code, n, change_col, integers)).otherwise(message)
    return message


# written where a count is unknown; read as missing (any other value that is not an integer is refused)
MISSING_INTEGER = ("NA", ".")


def _not_integer(name: str) -> pl.Expr:
    """A value that is there but is not an integer (the column is text here)."""
    return pl.col(name).is_not_null() & pl.col(name).cast(pl.Int64, strict=False).is_null()


class _Columns:
    """The column expressions for reading one MAF (its header decides which columns exist)."""

    def __init__(self, header: list[str], name: str) -> None:
        self.header = set(header)
        self.name = name
        self.n = len(header)
        self.change_columns = tuple(c for c in CHANGE_COLUMNS if c in self.header)
        self.change_col = self.change_columns[0] if self.change_columns else None
        self.integers = tuple(h for h in INTEGER_COLUMNS if h in self.header)

    def col(self, name: str) -> pl.Expr:
        return pl.col(name) if name in self.header else pl.lit(None, dtype=pl.String)

    def raw_change(self) -> pl.Expr:
        raw = pl.lit(None, dtype=pl.String)
        for name_ in reversed(self.change_columns):
            raw = pl.coalesce(pl.col(name_), raw)  # HGVSp_Short first, then HGVSp, ...
        # cBioPortal writes "Promoter" (TERT promoter mutations) where a protein change would go: a valid
        # non-coding alteration, read with no protein change rather than rejected as bad HGVS
        return pl.when(raw.is_in(list(NON_PROTEIN_LABELS))).then(None).otherwise(raw)

    def base(self) -> list[pl.Expr]:
        """ref, alt, pos, _end, alt_count, depth."""
        ref, t1, t2 = self.col("Reference_Allele"), self.col("Tumor_Seq_Allele1"), self.col("Tumor_Seq_Allele2")
        t_alt = self.col("t_alt_count").cast(pl.Int64, strict=False)
        t_ref = self.col("t_ref_count").cast(pl.Int64, strict=False)
        return [
            ref.alias("ref"),
            pl.when(t2.is_not_null() & (t2 != ref)).then(t2).otherwise(t1).alias("alt"),
            self.col("Start_Position").cast(pl.Int64, strict=False).alias("pos"),
            self.col("End_Position").cast(pl.Int64, strict=False).alias("_end"),
            t_alt.alias("alt_count"),
            pl.coalesce(self.col("t_depth").cast(pl.Int64, strict=False), t_ref + t_alt).alias("depth"),
        ]

    def span_bad(self) -> pl.Expr:
        c = pl.col
        return (c("ref").is_not_null() & (c("ref") != "-") & c("pos").is_not_null() & c("_end").is_not_null()
                # bytes, not characters: a ref that is not ASCII is refused first, as BAD_REF
                & ((c("_end") - c("pos") + 1) != c("ref").str.len_bytes()))

    def no_locus(self) -> pl.Expr:
        return pl.col("ref").is_null() | pl.col("alt").is_null() | pl.col("pos").is_null()

    def alt_over_depth(self) -> pl.Expr:
        c = pl.col
        return c("alt_count").is_not_null() & c("depth").is_not_null() & (c("alt_count") > c("depth"))

    def rejected(self, codes: Iterable[Reject], available: Iterable[str]) -> list[pl.Expr]:
        """The REJECTED_SCHEMA columns of rejected rows (the text of a damaged line where it was kept)."""
        text = pl.col("_text").str.slice(0, 60) if "_text" in set(available) else pl.lit(None, dtype=pl.String)
        integers = tuple(h for h in self.integers if h in set(available))
        record = (pl.lit(f"{self.name}:") + pl.col("line").cast(pl.String)).alias("record")
        return [record, _reasons(codes, self.n, self.change_col, integers).alias("reason"), pl.col("gene"),
                pl.coalesce(pl.col("raw_change"), text).alias("value"), pl.col("sample")]

    def inferred_kind(self) -> pl.Expr:
        ref, alt = pl.col("ref"), pl.col("alt")
        same_len = ref.str.len_chars() == alt.str.len_chars()
        return (pl.when(ref.is_null() | alt.is_null()).then(pl.lit("other"))
                .when(same_len & (ref.str.len_chars() == 1) & (ref != "-") & (alt != "-")).then(pl.lit("snv"))
                .when(same_len & (ref != "-")).then(pl.lit("mnv"))
                .otherwise(pl.lit("indel")))

    def output(self, kind: pl.Expr, origin_by_sample: dict[str, str]) -> list[pl.Expr]:
        """The ALTERATION_SCHEMA columns, in order."""
        sample = pl.col("Tumor_Sample_Barcode")
        origin = sample.replace_strict(origin_by_sample, default="unknown") if origin_by_sample else pl.lit("unknown")
        chrom = self.col("Chromosome")
        return [
            pl.col("gene"), kind.alias("kind"), pl.col("protein_change"), pl.col("legacy_name"),
            self.col("Variant_Classification").alias("consequence"), self.col("HGVSc").alias("hgvs_c"),
            self.col("Transcript_ID").alias("transcript"),
            # 'chr' comes off only where it is there: most files have none, and a slice copies every value
            pl.when(chrom.str.starts_with("chr")).then(chrom.str.slice(3)).otherwise(chrom).alias("chrom"),
            pl.col("pos"), pl.col("ref"), pl.col("alt"), self.col("NCBI_Build").alias("genome_build"),
            pl.when(pl.col("depth") > 0).then(pl.col("alt_count") / pl.col("depth")).otherwise(None).alias("vaf"),
            pl.col("depth"), pl.col("alt_count"),
            pl.lit(None, dtype=pl.Float64).alias("copy_number"), pl.lit(None, dtype=pl.Int64).alias("cna_call"),
            sample.alias("sample"), origin.alias("origin"), pl.col("line_no").alias("line"),
        ]


def _pass(source: pl.LazyFrame, cols: _Columns, origin_by_sample: dict[str, str],
          extra: dict[str, pl.Expr]) -> pl.DataFrame:
    """Every row in one streaming pass: the ALTERATION_SCHEMA columns, the code of the first check it fails
    (``_code``; all but the checks :func:`_finish` adds), and flags for the few rows that need a look-up or a
    regex afterwards (``_slow``: a change not in normalised form; ``_rename``: a symbol that is not plain upper
    case, or is 'Unknown'; ``_odd_allele``: an allele longer than three bases or not plain ACGT). A regex costs
    about three times a hash look-up per row, so the symbol and allele regexes run only on the flagged rows.
    The pass needs nothing from the knowledge base: gene aliases (plain upper case, such as HER2) are found by
    :func:`_finish`.
    ``extra`` adds named columns (the streamed reader's guards)."""
    c = pl.col
    schema = source.collect_schema()
    text_integers = [h for h in cols.integers if schema[h] == pl.String]
    lazy = source.with_columns(c("Hugo_Symbol").alias("gene"), cols.raw_change().alias("raw_change"))
    if text_integers:
        lazy = lazy.with_columns(c(h).replace(list(MISSING_INTEGER), None) for h in text_integers)
    lazy = lazy.with_columns(cols.base())
    symbol = c("Hugo_Symbol")
    checks: dict[Reject, pl.Expr] = {
        Reject.NO_SYMBOL: symbol.is_null(),
        Reject.NO_SAMPLE: c("Tumor_Sample_Barcode").is_null(),
        Reject.SPAN: cols.span_bad(),
        Reject.NOTHING: c("raw_change").is_null() & cols.no_locus(),
        Reject.ALT_OVER_DEPTH: cols.alt_over_depth(),
    }
    if "_fields" in schema:
        checks[Reject.FIELDS] = c("_fields") != cols.n
    if "_shift_lost" in schema:
        checks[Reject.SHIFT_LOST] = c("_shift_lost")
    if text_integers:
        checks[Reject.BAD_INTEGER] = pl.any_horizontal(_not_integer(h) for h in text_integers)
    # the kind from Variant_Type; rows without a known one get it from their alleles in _finish
    kind = cols.col("Variant_Type").replace_strict(KIND_BY_TYPE, default=None)
    if schema.get("Variant_Type") == VARIANT_TYPE_ENUM:  # the streamed reader's: one look-up by number
        kinds = pl.Series([KIND_BY_TYPE.get(t) for t in VARIANT_TYPE_ENUM.categories], dtype=pl.String)
        kind = pl.lit(kinds).gather(c("Variant_Type").to_physical())
    flags = [
        (~fast_change(c("raw_change"))).fill_null(False).alias("_slow"),
        # only a symbol not in plain upper case, or an alias (added by _finish), can be written otherwise (see
        # gk.symbol); only such a symbol can fail SYMBOL or be UNKNOWN_GENE: all three are settled after the
        # pass, on these rows
        (~symbol.str.contains(PLAIN_SYMBOL) | symbol.is_in(UNKNOWN_GENE)).fill_null(False).alias("_rename"),
        # alleles not in COMMON_ALLELES: checked against ALLELE after the pass, on these rows alone
        (~c("ref").is_in(COMMON_ALLELES) | ~c("alt").is_in(COMMON_ALLELES)).fill_null(False).alias("_odd_allele"),
        _first_failing({k: v.fill_null(False) for k, v in checks.items()}).alias("_code"),
    ]
    if "HGVSp_Short" in cols.header and cols.change_columns != ("HGVSp_Short",):
        # a value without 'p.' is never in normalised form, so such rows are among the _slow ones; this says
        # which of those took their change from HGVSp_Short (the note counts only those)
        flags.append(c("HGVSp_Short").is_not_null().alias("_from_short"))
    kept = [c(h) for h in (*text_integers, "_fields", "_text") if h in schema]
    # protein_change and legacy_name are filled in by _finish, from raw_change
    output = [e for e in cols.output(kind, origin_by_sample)
              if e.meta.output_name() not in ("protein_change", "legacy_name")]
    frame = lazy.select(*output, c("raw_change"), *flags, *kept,
                        *(e.alias(k) for k, e in extra.items())).collect(engine="streaming")
    # the streaming engine spreads the rows over every core; its columns come back chunked differently
    return aligned(frame)


def _finish(frame: pl.DataFrame, cols: _Columns, path: Path, flavour: str, notes: list[str],
            gk: GenomicsKnowledge) -> AlterationTable:
    """Apply the look-ups the pass flagged (symbol renames, protein-change parses and legacy aliases), refuse
    the rows whose change does not parse, and split accepted from rejected rows."""
    # imported here, not with the module: the streaming pass runs before the domain models are needed
    from nerasense.ingest.table import ALTERATION_SCHEMA, AlterationTable, ChangeAnswers, fast_alias_keys

    gene, raw, code = frame["gene"], frame["raw_change"], frame["_code"]

    # the flagged rows are taken with filter, not gather: a gather from the pass's many chunks copies them
    # symbols not in plain upper case, 'Unknown', and aliases (HER2; a hash per row, as cheap as the flag)
    flag = frame["_rename"] | gene.is_in(list(gk.gene_aliases)).fill_null(False)
    if flag.any():
        at, symbols = flag.arg_true(), gene.filter(flag)
        code = _refused(code, at.filter(symbols.is_in(UNKNOWN_GENE)), Reject.UNKNOWN_GENE)
        code = _refused(code, at.filter(_failing(symbols, SYMBOL)), Reject.BAD_SYMBOL)
        renamed = _renamed_symbols(symbols.unique(), gk)
        if renamed:
            gene = gene.clone().scatter(at, symbols.replace(renamed))

    flag = frame["_odd_allele"]  # alleles not in COMMON_ALLELES (long indels, N, lower case, damage)
    if flag.any():
        at, odd = flag.arg_true(), frame.select("ref", "alt").filter(flag)
        code = _refused(code, at.filter(_failing(odd["ref"], ALLELE)), Reject.BAD_REF)
        code = _refused(code, at.filter(_failing(odd["alt"], ALLELE)), Reject.BAD_ALT)

    flag = frame["_slow"]  # changes not already in normalised form: parsed once per distinct string
    slow_at, slow = flag.arg_true(), raw.filter(flag)
    keys = fast_alias_keys(gk)
    present = raw.filter(raw.is_in(keys)).unique().to_list() if keys else []
    answers = ChangeAnswers.of(slow.drop_nulls().unique().to_list(), gk, present)
    change = raw
    if answers.changed:
        change = raw.clone().scatter(slow_at, slow.replace(answers.changed))
    legacy = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    for symbol, by in answers.aliases.items():  # legacy names a knowledge entry maps to HGVS (a handful)
        hit = ((gene == symbol) & change.is_in(list(by))).arg_true()
        if hit.len():
            old = change.gather(hit)
            legacy = legacy.scatter(hit, old)
            change = change.clone().scatter(hit, old.replace(by))
    if answers.errors:  # a change that does not parse refuses its row
        code = _refused(code, slow_at.filter(slow.is_in(list(answers.errors))), Reject.BAD_CHANGE)

    change = _hotspot_changes(frame, gene, change, code, gk, cols, path.name, notes)

    rejected_at = (code > 0).arg_true()
    rejected_rows = frame.gather(rejected_at).with_columns(
        gene.gather(rejected_at).alias("gene"), code.gather(rejected_at).alias("_code"),
        raw.gather(rejected_at).replace_strict(answers.errors, default=None, return_dtype=pl.String)
        .alias("change_error"))
    codes = [Reject(v) for v in rejected_rows["_code"].unique().to_list()]
    rejected = rejected_rows.select(cols.rejected(codes, rejected_rows.columns))

    computed = {"gene": gene, "protein_change": change, "legacy_name": legacy}
    columns = {name: computed[name] if name in computed else frame[name] for name in ALTERATION_SCHEMA}
    kind = columns["kind"]
    if kind.null_count():  # no known Variant_Type: SNV, MNV or indel from the alleles
        at = kind.is_null().arg_true()
        guessed = frame.select("ref", "alt").gather(at).select(cols.inferred_kind()).to_series()
        columns["kind"] = kind.clone().scatter(at, guessed)
    out = without_rows(aligned(pl.DataFrame([s.alias(name) for name, s in columns.items()])), rejected_at)
    if "HGVSp_Short" in cols.header:  # accepted values without the 'p.' prefix (all among the _slow rows)
        bare_rows = ~slow.str.starts_with("p.") & (code.gather(slow_at) == 0)
        if "_from_short" in frame.columns:
            bare_rows &= frame["_from_short"].filter(frame["_slow"])
        bare = int(bare_rows.sum())
        if bare:
            notes.append(f"{path.name}: {bare} HGVSp_Short values lack the 'p.' prefix; read as HGVS p.")
    n_legacy = out["legacy_name"].is_not_null().sum()
    if n_legacy:
        notes.append(f"{path.name}: {n_legacy} legacy protein names rewritten to HGVS (see legacy_name)")
    return AlterationTable(path=str(path), format="maf", frame=out, rejected=rejected, input_records=frame.height,
                           flavour=flavour, notes=notes)


# how MAFs write the genome build in NCBI_Build, and the build each stands for
BUILDS = {"GRCh37": "GRCh37", "37": "GRCh37", "hg19": "GRCh37", "GRCh37-lite": "GRCh37",
          "GRCh38": "GRCh38", "38": "GRCh38", "hg38": "GRCh38"}


def _hotspot_changes(frame: pl.DataFrame, gene: pl.Series, change: pl.Series, code: pl.Series, gk: GenomicsKnowledge,
                     cols: _Columns, name: str, notes: list[str]) -> pl.Series:
    """Rows without a protein change whose locus is a cancerhotspots allele of the same gene get that allele
    (``NCBI_Build`` says GRCh37 or GRCh38; without it both are tried, GRCh37 first). A file with no protein-change
    column at all is read this way and warned about: nothing else could tell its protein changes."""
    missing_column = not cols.change_columns
    need = change.is_null() & (code == 0) & frame["pos"].is_not_null() & frame["ref"].is_not_null() \
        & frame["alt"].is_not_null()
    if not need.any():
        return change
    at = need.arg_true()
    rows = frame.select("chrom", "pos", "ref", "alt", "genome_build").gather(at).with_columns(
        gene.gather(at).alias("gene"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"))
    loci = _loci_frame(gk)
    # only the loci at these rows' positions take part in the join (a hash of a few positions, not of the table)
    loci = loci.filter(pl.col("pos").is_in(rows["pos"].unique().implode()))
    build = pl.col("genome_build").replace_strict(BUILDS, default=None, return_dtype=pl.String)
    found = pl.Series("_change", [None] * rows.height, dtype=pl.String)
    for candidate in ("GRCh37", "GRCh38"):
        tried = rows.with_columns(pl.coalesce(build, pl.lit(candidate)).alias("_build")).filter(
            pl.col("_build") == candidate)
        hits = tried.join(loci, on=["_build", "chrom", "pos", "ref", "alt", "gene"], how="inner")
        if hits.height:
            found = found.scatter(hits["_i"], hits["_change"].fill_null(found.gather(hits["_i"])))
    filled = found.is_not_null()
    n_filled, n_left = int(filled.sum()), int((~filled).sum())
    if n_filled:
        change = change.clone().scatter(at.filter(filled), found.filter(filled))
    builds = sorted({v for v in rows["genome_build"].unique().to_list() if v}) or ["not given: GRCh37, then GRCh38"]
    text = (f"{n_filled} rows at a cancerhotspots allele's locus were given that allele from their genomic coordinates "
            f"(build {', '.join(builds)}); {n_left} rows without a protein change stay so (effect unknown)")
    if missing_column:
        warnings.warn(f"{name}: no protein-change column ({' / '.join(CHANGE_COLUMNS)}): {text}. Annotate the file "
                      "(VEP, vcf2maf) to classify every allele.", NerasenseWarning, stacklevel=4)
    elif n_filled:
        notes.append(f"{name}: {text}")
    return change


def _loci_frame(gk: GenomicsKnowledge) -> pl.DataFrame:
    """The hotspot loci as a table, built once per knowledge object (kept beside its cached properties: a
    screen reads a file in many parts, each with a few rows to look up)."""
    frame = gk.__dict__.get("_hotspot_loci_frame")
    if frame is None:
        frame = pl.DataFrame([(b, c, p, r, a, g, ch) for (b, c, p, r, a), (g, ch) in gk.hotspot_loci.items()],
                             schema={"_build": pl.String, "chrom": pl.String, "pos": pl.Int64, "ref": pl.String,
                                     "alt": pl.String, "gene": pl.String, "_change": pl.String}, orient="row")
        gk.__dict__["_hotspot_loci_frame"] = frame
    return frame


def _failing(values: pl.Series, pattern: str) -> pl.Series:
    """Which ``values`` fail the regex ``pattern`` (a missing value does not), tested once per distinct value."""
    distinct = values.unique()
    bad = distinct.filter((~distinct.str.contains(pattern)).fill_null(False))
    return values.is_in(bad.implode()) if bad.len() else pl.repeat(False, values.len(), eager=True)


def _refused(code: pl.Series, at: pl.Series, reason: Reject) -> pl.Series:
    """``code`` with the rows at ``at`` refused for ``reason``, unless a check that comes before it in
    :class:`Reject` already refused them: the first failing check names a row, whichever ran first."""
    if not at.len():
        return code
    before = code.gather(at)
    earlier = (before != 0) & (before < int(reason))
    return code.clone().scatter(at, before.zip_with(earlier, pl.repeat(int(reason), at.len(), dtype=pl.Int8,
                                                                           eager=True)))


def _renamed_symbols(symbols: pl.Series, gk: GenomicsKnowledge) -> dict[str, str]:
    """Of the candidate symbols the pass flagged, those the knowledge base writes otherwise (HER2, case)."""
    return {v: s for v in symbols.to_list() if v is not None and (s := gk.symbol(v)) != v}


__all__ = [
    "READER_COLUMNS",
    "ColumnShift",
    "OnShift",
    "PlainRead",
    "count_byte",
    "detect_column_shift",
    "plain_row",
    "read_maf",
    "read_maf_rows",
    "read_maf_text",
    "read_maf_text_plain",
]
