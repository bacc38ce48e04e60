"""What to screen: input paths (files, globs, cBioPortal/GENIE study folders) cut into partitions.

A plain MAF is cut at line ends into byte ranges of about ``chunk_bytes`` (each later part is read with the
file's header line in front), a Parquet table into row ranges of ``chunk_rows``; a gzipped MAF and a
copy-number table are one part each. A partition is a small picklable description: the worker that runs it
opens the file itself (on a cluster the files must be on a filesystem every worker sees).
"""

from __future__ import annotations

import glob
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from nerasense.errors import InputError, Problem
from nerasense.ingest.files import read_head, require_file
from nerasense.ingest.table import guess_format

if TYPE_CHECKING:
    import polars as pl

PartKind = Literal["maf-text", "maf-file", "parquet", "cna"]
# cBioPortal / GENIE study folder: the files nerasense screen reads from it, by name
STUDY_MUTATIONS = ("data_mutations_extended.txt", "data_mutations.txt", "data_mutations_extended.txt.gz")
STUDY_CNA = ("data_CNA.txt", "data_CNA.tsv", "data_cna.txt")
STUDY_CLINICAL = ("data_clinical_sample.txt",)
FOLDER_PATTERNS = ("*.maf", "*.maf.gz", "*.parquet")
DEFAULT_CHUNK_BYTES = 24 * 1024 * 1024  # two parts in flight: about 0.6 GB (benchmarks/screen.py)
DEFAULT_CHUNK_ROWS = 1_000_000


@dataclass(frozen=True)
class Part:
    """One partition: a byte range of a plain MAF, a row range of a Parquet table, or a whole file."""

    index: int
    kind: PartKind
    path: str
    start: int = 0  # byte (maf-text) or row (parquet) where the part starts
    stop: int = 0  # ... and where it ends (exclusive)
    header: bytes = b""  # maf-text parts after the first: the file's header line, put in front of the bytes

    @property
    def size(self) -> int:
        """Bytes of input the part covers (for progress; rows are counted as 100 bytes)."""
        if self.kind == "parquet":
            return (self.stop - self.start) * 100
        if self.kind == "maf-text":
            return self.stop - self.start
        return os.path.getsize(self.path)


@dataclass(frozen=True)
class Plan:
    parts: tuple[Part, ...]
    clinical: tuple[Path, ...] = ()
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> int:
        return sum(p.size for p in self.parts)


def _expand(inputs: list[str], field_: str, problems: list[Problem]) -> list[Path]:
    out: list[Path] = []
    for text in inputs:
        matches = sorted(glob.glob(os.path.expanduser(text))) if glob.has_magic(text) else [text]
        if not matches:
            problems.append(Problem(field_, text, "a file, a folder or a glob that matches something",
                                    "no file matches this pattern"))
        for m in matches:
            path = Path(m)
            if not path.exists():
                problems.append(Problem(field_, m, "an existing file or study folder", "check the path"))
            else:
                out.append(path)
    return out


def _study(folder: Path, problems: list[Problem]) -> tuple[list[Path], list[Path], list[Path]]:
    """The mutation, copy-number and sample files of a cBioPortal/GENIE study folder (else its MAF and Parquet
    files, and its sample file if it has one)."""
    def first(names: tuple[str, ...]) -> list[Path]:
        return [folder / n for n in names if (folder / n).is_file()][:1]
    mutations, cna, clinical = first(STUDY_MUTATIONS), first(STUDY_CNA), first(STUDY_CLINICAL)
    if not mutations and not cna:  # not a study: a folder of MAF / Parquet files
        mutations = sorted(p for pattern in FOLDER_PATTERNS for p in folder.glob(pattern) if p.is_file())
    if not mutations and not cna:
        problems.append(Problem("INPUT", str(folder), f"a study folder with {STUDY_MUTATIONS[0]} or {STUDY_CNA[0]}, "
                                f"or a folder of {', '.join(FOLDER_PATTERNS)} files",
                                "pass the mutation files themselves, or the folder of a cBioPortal study"))
    return mutations, cna, clinical


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _header_end(path: Path) -> tuple[int, bytes]:
    """Byte offset just after the header line (comment lines skipped) and the header line itself."""
    head = read_head(path, 1 << 20)
    pos = 0
    while head[pos:pos + 1] == b"#":
        end = head.find(b"\n", pos)
        if end < 0:
            break
        pos = end + 1
    end = head.find(b"\n", pos)
    if end < 0:
        return len(head), head[pos:] + b"\n"
    return end + 1, head[pos:end + 1]


def _text_parts(path: Path, first_index: int, chunk_bytes: int) -> list[Part]:
    size = path.stat().st_size
    body, header = _header_end(path)
    cuts = [0]
    with path.open("rb") as fh:
        at = body
        while True:
            at = max(at, cuts[-1]) + chunk_bytes
            if at >= size:
                break
            fh.seek(at)
            rest = fh.readline()
            at += len(rest)
            if at >= size:
                break
            cuts.append(at)
    cuts.append(size)
    return [Part(first_index + i, "maf-text", str(path), a, b, b"" if i == 0 else header)
            for i, (a, b) in enumerate(itertools.pairwise(cuts)) if b > a]


def _parquet_parts(path: Path, first_index: int, chunk_rows: int) -> list[Part]:
    import polars as pl

    try:
        rows = int(pl.scan_parquet(path).select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(Problem("INPUT", str(path), "a readable Parquet file", str(exc).splitlines()[0][:120])) from None
    return [Part(first_index + i, "parquet", str(path), a, min(a + chunk_rows, rows))
            for i, a in enumerate(range(0, max(rows, 1), chunk_rows))]


def plan(inputs: list[str], *, cna: list[str] | None = None, clinical: list[str] | None = None,
         chunk_bytes: int = DEFAULT_CHUNK_BYTES, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Plan:
    """Partitions for every input; every problem with the paths is reported at once."""
    problems: list[Problem] = []
    paths = _expand(inputs, "INPUT", problems)
    cna_paths = _expand(cna or [], "--cna", problems)
    clinical_paths = _expand(clinical or [], "--clinical", problems)
    mutation_files: list[Path] = []
    for path in paths:
        if path.is_dir():
            m, c, s = _study(path, problems)
            mutation_files += m
            cna_paths += c
            if not clinical:
                clinical_paths += s
        else:
            mutation_files.append(path)
    parts: list[Part] = []
    notes: list[str] = []
    for path in mutation_files:
        try:
            require_file(path, "MAF or Parquet")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        index = len(parts)
        if path.suffix.lower() in (".parquet", ".pq"):
            parts += _parquet_parts(path, index, chunk_rows)
            continue
        fmt = guess_format(path, "INPUT")
        if fmt == "cna":
            cna_paths.append(path)
        elif fmt == "vcf":
            problems.append(Problem("INPUT", str(path), "a MAF, a Parquet table with MAF columns, or a study folder",
                                    "screen reads mutation tables; annotate a VCF with `nerasense annotate`"))
        elif _is_gzip(path):
            parts.append(Part(index, "maf-file", str(path)))
            notes.append(f"{path.name}: gzipped, read as one part (unzip it to split it over workers)")
        else:
            parts += _text_parts(path, index, chunk_bytes)
    for path in cna_paths:
        try:
            require_file(path, "copy-number table")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        parts.append(Part(len(parts), "cna", str(path)))
    if not parts and not problems:
        problems.append(Problem("INPUT", " ".join(inputs), "at least one MAF, Parquet table or study folder",
                                "nothing to screen"))
    if problems:
        raise InputError(problems)
    return Plan(tuple(parts), tuple(clinical_paths), tuple(dict.fromkeys(p.path for p in parts)), tuple(notes))


def read_clinical(paths: tuple[Path, ...] | list[Path]) -> pl.DataFrame:
    """sample, tumour from cBioPortal/GENIE sample files (``SAMPLE_ID``, ``ONCOTREE_CODE``; '#' lines skipped)."""
    import polars as pl

    frames, problems = [], []
    for path in paths:
        try:
            frame = pl.read_csv(path, separator="\t", comment_prefix="#", infer_schema=False, quote_char=None)
        except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
            problems.append(Problem("--clinical", str(path), "a tab-separated cBioPortal sample file",
                                    str(exc).splitlines()[0][:120]))
            continue
        missing = [c for c in ("SAMPLE_ID", "ONCOTREE_CODE") if c not in frame.columns]
        if missing:
            problems.append(Problem("--clinical", str(path), "a sample file with SAMPLE_ID and ONCOTREE_CODE columns",
                                    f"{path.name} has no {', '.join(missing)} column"))
            continue
        frames.append(frame.select(pl.col("SAMPLE_ID").alias("sample"), pl.col("ONCOTREE_CODE").alias("tumour")))
    if problems:
        raise InputError(problems)
    out = pl.concat(frames) if frames else pl.DataFrame(schema={"sample": pl.String, "tumour": pl.String})
    return out.drop_nulls("sample").unique("sample", keep="first", maintain_order=True)


__all__ = ["DEFAULT_CHUNK_BYTES", "DEFAULT_CHUNK_ROWS", "Part", "Plan", "plan", "read_clinical"]
