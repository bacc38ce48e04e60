"""Read a tidy table of serial plasma (ctDNA) results into one :class:`CtdnaSeries` per patient.

One row per (sample, alteration); sample-level columns repeat on each row of a sample. A sample with
nothing to report on (a failed draw, or tumour fraction only) has one row with ``gene`` empty.
Columns are read by name (CSV, TSV or Parquet); the README documents them. Every problem in the
table is collected and raised together, each naming the row (data rows counted from 1, header
excluded), the column, the value and what is allowed.

Values below the limit of detection are written ``<0.005`` (or left empty with ``detected`` false and
the limit in ``lod``); they become censored :class:`~nerasense.domain.ctdna.Level` intervals. A VAF
of exactly 0 is refused: it would claim certainty below any assay's limit.

Row order never matters: samples are sorted by date, alterations by gene and change, so rows "out of
order" are not an error. What cannot be ordered is refused: two draws on one day for one patient, a
sample whose rows disagree on a sample-level value, an allele listed twice for one sample (``L755S`` and
``p.Leu755Ser`` are the same allele), and two treatment starts for one patient.

A sample may also name a MAF, VCF or copy-number file (``variants_file``); the genomics readers turn it
into the sample's detected alleles, and anything they could not use is reported in a warning.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from nerasense.domain.alterations import Alteration, AlterationKind
from nerasense.domain.ctdna import (
    AlterationType,
    CtdnaSeries,
    Level,
    PlasmaAlteration,
    PlasmaSample,
    ResponseAssessment,
    ResponseCategory,
    TissueAlteration,
)
from nerasense.errors import InputError, NerasenseWarning, Problem, ProblemCollector
from nerasense.ingest.variant_text import alteration_from_text
from nerasense.knowledge import KnowledgeBase, default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.safe_io import confine, input_boundary, read_delimited, read_parquet_checked

REQUIRED = ("patient_id", "sample_id", "date", "qc")
SAMPLE_COLUMNS = ("tumour_fraction", "tumour_fraction_lod", "sample_depth", "sample_lod", "treatment_start",
                  "variants_file")
ALTERATION_COLUMNS = ("gene", "alteration", "vaf", "copy_number", "detected", "lod", "depth")
COLUMNS = REQUIRED + SAMPLE_COLUMNS + ALTERATION_COLUMNS
TISSUE_COLUMNS = ("patient_id", "gene", "alteration")
ASSESSMENT_COLUMNS = ("patient_id", "date", "response")

_TRUE = {"true", "t", "yes", "y", "1", "pass", "passed"}
_FALSE = {"false", "f", "no", "n", "0", "fail", "failed"}
_AMPLIFICATION = {"amplification", "amp", "amplified"}
_SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$")
_MUTATION_KINDS = {AlterationKind.SNV, AlterationKind.MNV, AlterationKind.INDEL}
_COPY_NUMBER_KINDS = {AlterationKind.AMPLIFICATION, AlterationKind.GAIN, AlterationKind.LOSS, AlterationKind.DELETION}


# --------------------------------------------------------------------------- gene and change naming
# Gene aliases and HGVS p. normalisation are the genomics readers' (ingest/variant_text.py): the same
# allele written L755S, p.L755S or p.Leu755Ser, or an exon-20 legacy name, becomes one key.


def gene_symbol(text: str, gk: GenomicsKnowledge) -> str | None:
    """HGNC symbol for ``text`` (HER2 -> ERBB2), or None when it cannot be a gene symbol."""
    raw = text.strip()
    if not raw or not _SYMBOL.match(raw) or len(raw) > 20:
        return None
    return gk.symbol(raw)


def normalise_alteration(gene: str, change: str, gk: GenomicsKnowledge) -> Alteration:
    """The genomics model of a typed change; raises InputError naming the change when it is malformed."""
    if change.strip().lower() in _AMPLIFICATION:
        return Alteration(gene=gene, kind=AlterationKind.AMPLIFICATION)
    alteration, _legacy = alteration_from_text(gene, change, gk)
    if alteration.kind not in _MUTATION_KINDS:
        raise InputError(Problem("alteration", change, "a protein change (e.g. p.L755S) or 'amplification'",
                                 "other copy-number states are not read from plasma series"))
    return alteration


def normalise_change(gene: str, change: str, gk: GenomicsKnowledge) -> str:
    """``L755S``, ``p.L755S``, ``p.Leu755Ser`` -> ``p.L755S``; any amplification spelling -> ``amplification``."""
    alteration = normalise_alteration(gene, change, gk)
    return alteration.protein_change or "amplification"


# --------------------------------------------------------------------------- reading files


def read_table(path: Path) -> pd.DataFrame:
    """CSV, TSV or Parquet into a frame of strings (empty string for a missing value)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        frame = read_parquet_checked(path, "ctDNA table")
        return frame.apply(lambda col: col.map(_cell))
    sep = "\t" if suffix in {".tsv", ".tab", ".txt"} else ","
    return read_delimited(path, "ctDNA table", sep=sep, dtype=str, keep_default_na=False)


def _cell(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, pd.Timestamp | dt.datetime):
        return x.date().isoformat()
    if isinstance(x, dt.date):
        return x.isoformat()
    return str(x)


@input_boundary("ctDNA series table (CSV, TSV or Parquet, UTF-8)")
def read_ctdna_series(
    path: Path,
    tissue: Path | None = None,
    assessments: Path | None = None,
    kb: KnowledgeBase | None = None,
    allowed: Sequence[Path] = (),
    call_reads: Callable[[list[Path]], Path] | None = None,
) -> dict[str, CtdnaSeries]:
    """Read a series table (and optional tissue and assessment tables) into series by patient id.

    ``variants_file`` entries must lie under the series table's folder or one of ``allowed`` (symlinks resolved).
    ``call_reads`` turns reads named as a variants file (a BAM, or FASTQ ``R1;R2``) into a VCF (the caller
    above this layer supplies it: ``nerasense call`` with the reference it was given).
    """
    tissue_rows = records(read_table(tissue), TISSUE_COLUMNS, TISSUE_COLUMNS, Path(tissue).name) if tissue else []
    assess_rows = (
        records(read_table(assessments), ASSESSMENT_COLUMNS, ASSESSMENT_COLUMNS, Path(assessments).name)
        if assessments
        else []
    )
    rows = records(read_table(path), REQUIRED, COLUMNS, Path(path).name)
    return build_series(rows, tissue_rows, assess_rows, name=Path(path).name, kb=kb, base_dir=Path(path).parent,
                        allowed=allowed, call_reads=call_reads)


def records(
    frame: pd.DataFrame, required: Sequence[str], allowed: Sequence[str], name: str
) -> list[dict[str, str]]:
    """Rows as dicts of stripped strings, after checking the column names (all problems at once)."""
    problems = ProblemCollector()
    columns = [str(c).strip() for c in frame.columns]
    for col in required:
        if col not in columns:
            problems.add(col, None, f"a column named {col!r}", f"columns found: {', '.join(columns) or 'none'}", name)
    for col in columns:
        if col not in allowed:
            problems.add("column", col, ", ".join(allowed), "rename or drop the column", name)
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        problems.add("column", ", ".join(dupes), "each column once", "remove the repeated column", name)
    problems.raise_if_any()
    frame = frame.copy()
    frame.columns = columns
    out = []
    for values in frame.itertuples(index=False, name=None):
        out.append({c: ("" if v is None else str(v).strip()) for c, v in zip(columns, values, strict=True)})
    return out


# --------------------------------------------------------------------------- building the series


def _parse(
    p: ProblemCollector, where: str, column: str, text: str, convert: Callable[[str], Any], allowed: str, fix: str = ""
) -> Any:
    if text == "":
        return None
    try:
        return convert(text)
    except (ValueError, TypeError):
        p.add(column, text, allowed, fix, where)
        return None


def _date(text: str) -> dt.date:
    # a spreadsheet may append a midnight time: 2024-01-05 00:00:00 or 2024-01-05T00:00:00
    return dt.date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text)


def _bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(text)


def _fraction(text: str) -> float:
    x = float(text)
    if not 0 <= x <= 1 or math.isnan(x):
        raise ValueError(text)
    return x


def _positive_fraction(text: str) -> float:
    x = _fraction(text)
    if x == 0:
        raise ValueError(text)
    return x


def _count(text: str) -> int:
    x = float(text)
    if not math.isfinite(x) or x < 0 or x != int(x):
        raise ValueError(text)
    return int(x)


def _positive(text: str) -> float:
    x = float(text)
    if not x > 0 or math.isinf(x):
        raise ValueError(text)
    return x


def _censorable(
    p: ProblemCollector, where: str, column: str, text: str, convert: Callable[[str], float], allowed: str
) -> tuple[float | None, float | None, bool]:
    """(value, limit, censored): ``<x`` gives (None, x, True); a number gives (x, None, False)."""
    if text.startswith("<"):
        limit = _parse(p, where, column, text[1:].strip(), convert, f"'<' followed by {allowed}")
        if limit == 0:
            p.add(column, text, "'<' followed by a limit above 0", "give the assay's limit of detection", where)
            limit = None
        return None, limit, True
    return _parse(p, where, column, text, convert, f"{allowed}, or '<LOD' for a value below the limit"), None, False


_FRACTION = "a fraction in [0, 1] (percent / 100)"


def build_series(
    rows: Sequence[Mapping[str, str]],
    tissue_rows: Sequence[Mapping[str, str]] = (),
    assessment_rows: Sequence[Mapping[str, str]] = (),
    name: str = "series",
    kb: KnowledgeBase | None = None,
    base_dir: Path | None = None,
    allowed: Sequence[Path] = (),
    call_reads: Callable[[list[Path]], Path] | None = None,
) -> dict[str, CtdnaSeries]:
    """Validate rows (dicts of strings by column) into series by patient; raise every problem at once.
    ``variants_file`` paths are read relative to ``base_dir`` (the series table's folder) and must lie under
    it or one of ``allowed``."""
    gk = GenomicsKnowledge(kb or default_knowledge())
    p = ProblemCollector()
    samples: dict[tuple[str, str], dict[str, Any]] = {}
    alterations: dict[tuple[str, str], list[PlasmaAlteration]] = defaultdict(list)
    seen_alt: dict[tuple[str, str, str, str], int] = {}
    starts: dict[str, dict[dt.date, int]] = defaultdict(dict)

    for i, row in enumerate(rows, start=1):
        where = f"{name} row {i}"
        patient, sample_id = row.get("patient_id", ""), row.get("sample_id", "")
        for col in REQUIRED:
            if row.get(col, "") == "":
                p.add(col, None, "a value on every row", "fill it in (repeat sample-level values on each row)", where)
        date = _parse(p, where, "date", row.get("date", ""), _date, "an ISO date YYYY-MM-DD")
        qc = _parse(p, where, "qc", row.get("qc", ""), _bool, "pass or fail (also true/false, yes/no)")
        tf, tf_lim, tf_cens = _censorable(p, where, "tumour_fraction", row.get("tumour_fraction", ""), _fraction, _FRACTION)
        tf_lod = _parse(p, where, "tumour_fraction_lod", row.get("tumour_fraction_lod", ""), _positive_fraction,
                        "a fraction in (0, 1]")
        s_depth = _parse(p, where, "sample_depth", row.get("sample_depth", ""), _count, "a whole number >= 0")
        s_lod = _parse(p, where, "sample_lod", row.get("sample_lod", ""), _positive_fraction, "a VAF fraction in (0, 1]")
        start = _parse(p, where, "treatment_start", row.get("treatment_start", ""), _date, "an ISO date YYYY-MM-DD")
        if patient and start is not None:
            starts[patient].setdefault(start, i)
        sample_ok = bool(patient and sample_id) and date is not None and qc is not None
        tumour_fraction = None
        if tf is not None:
            tumour_fraction = Level(detected=True, value=tf, lod=tf_lod)
        elif tf_cens and tf_lim is not None:
            tumour_fraction = Level(detected=False, lod=tf_lim)
        sample = {"sample_id": sample_id, "collected": date, "qc_pass": qc, "tumour_fraction": tumour_fraction,
                  "depth": s_depth, "lod": s_lod, "variants_file": row.get("variants_file", "") or None, "row": i}
        key = (patient, sample_id)
        if not sample_ok:
            pass  # its problems are recorded; still check the alteration columns below
        elif key in samples:
            first = samples[key]
            for field in ("collected", "qc_pass", "tumour_fraction", "depth", "lod", "variants_file"):
                if sample[field] is not None and first[field] is not None and sample[field] != first[field]:
                    p.add(field, row.get(_COLUMN_OF[field], ""), f"the same value on every row of sample {sample_id} "
                          f"(row {first['row']} has {_show(first[field])})", "make the sample-level values agree", where)
                elif first[field] is None and sample[field] is not None:
                    first[field] = sample[field]
        else:
            samples[key] = sample

        gene_text, change_text = row.get("gene", ""), row.get("alteration", "")
        alt_fields = ("vaf", "copy_number", "detected", "lod", "depth")
        if gene_text == "" and change_text == "":
            for col in alt_fields:
                if row.get(col, ""):
                    p.add(col, row[col], "empty on a sample-only row (gene and alteration empty)",
                          "give the gene and alteration this value belongs to", where)
            continue
        alt = _alteration(p, where, row, gene_text, change_text, s_lod, gk)
        if alt is None or not sample_ok:
            continue
        dup_key = (patient, sample_id, alt.gene, alt.alteration)
        if dup_key in seen_alt:
            p.add("alteration", f"{alt.gene} {alt.alteration}",
                  f"one row per alteration per sample (also on row {seen_alt[dup_key]})", "remove the repeated row", where)
            continue
        seen_alt[dup_key] = i
        alterations[key].append(alt)

    for patient, found in starts.items():
        if len(found) > 1:
            shown = ", ".join(f"{d.isoformat()} (row {r})" for d, r in sorted(found.items()))
            p.add("treatment_start", shown, f"one treatment start per patient {patient}",
                  "give the start of the treatment being monitored on every row, or leave it empty", name)

    by_patient: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (patient, _), s in samples.items():
        by_patient[patient].append(s)
    for patient, items in by_patient.items():
        by_date: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
        for s in items:
            by_date[s["collected"]].append(s)
        for date, same in sorted(by_date.items()):
            if len(same) > 1:
                ids = ", ".join(f"{s['sample_id']} (row {s['row']})" for s in sorted(same, key=lambda s: s["row"]))
                p.add("date", date.isoformat(), f"one sample per day for patient {patient}; found {ids}",
                      "merge the draws or correct the date", name)

    for (patient, sample_id), s in sorted(samples.items()):
        if s["variants_file"] and s["qc_pass"]:
            from_file = _from_variants_file(p, s, base_dir or Path("."), name, gk, allowed, call_reads)
            have = {a.key: seen_alt[(patient, sample_id, *a.key)] for a in alterations[(patient, sample_id)]}
            for alt in from_file:
                if alt.key in have:
                    p.add("variants_file", s["variants_file"],
                          f"no allele given twice: {alt.label} is also on row {have[alt.key]}",
                          "keep the row or the file entry, not both", f"{name} row {s['row']}")
                else:
                    alterations[(patient, sample_id)].append(alt)

    tissue = _tissue(p, tissue_rows, gk)
    assessments = _assessments(p, assessment_rows)
    for patient in sorted(set(tissue) | set(assessments)):
        if patient not in by_patient:
            p.add("patient_id", patient, f"a patient of the series table ({', '.join(sorted(by_patient)) or 'none'})",
                  "check the id in the tissue or assessment table", "tissue/assessments")
    p.raise_if_any()

    out: dict[str, CtdnaSeries] = {}
    for patient in sorted(by_patient):
        built = []
        for s in sorted(by_patient[patient], key=lambda s: s["collected"]):
            alts = tuple(sorted(alterations[(patient, s["sample_id"])], key=lambda a: a.key))
            built.append(PlasmaSample(
                sample_id=s["sample_id"], collected=s["collected"], qc_pass=s["qc_pass"],
                tumour_fraction=s["tumour_fraction"], depth=s["depth"], lod=s["lod"], alterations=alts,
            ))
        start = next(iter(starts.get(patient, {})), None)
        out[patient] = CtdnaSeries(
            patient_id=patient, samples=tuple(built), treatment_start=start,
            tissue=tuple(sorted(tissue.get(patient, []), key=lambda t: t.key)),
            assessments=tuple(sorted(assessments.get(patient, []), key=lambda a: a.date)),
        )
    return out


_COLUMN_OF = {"collected": "date", "qc_pass": "qc", "tumour_fraction": "tumour_fraction", "depth": "sample_depth",
              "lod": "sample_lod", "variants_file": "variants_file"}


def _show(x: Any) -> str:
    if isinstance(x, Level):
        return x.describe()
    if isinstance(x, dt.date):
        return x.isoformat()
    return repr(x)


def _alteration(
    p: ProblemCollector, where: str, row: Mapping[str, str], gene_text: str, change_text: str,
    sample_lod: float | None, gk: GenomicsKnowledge,
) -> PlasmaAlteration | None:
    n_before = len(p.problems)
    gene = gene_symbol(gene_text, gk) if gene_text else None
    if gene_text == "":
        p.add("gene", None, "a gene symbol whenever alteration is given", "e.g. ERBB2", where)
    elif gene is None:
        p.add("gene", gene_text, "an HGNC gene symbol (letters, digits, '-', e.g. ERBB2 or PIK3CA, with HER2 read as ERBB2)",
              "correct the gene name", where)
    if change_text == "":
        p.add("alteration", None, "a protein change (e.g. p.L755S) or 'amplification'", "", where)
    parsed = _parsed(p, where, gene or "ERBB2", change_text, gk) if change_text else None
    change = (parsed.protein_change or "amplification") if parsed is not None else ""
    kind = AlterationType.AMPLIFICATION if change_text.strip().lower() in _AMPLIFICATION else AlterationType.MUTATION
    detected = _parse(p, where, "detected", row.get("detected", ""), _bool, "true or false (yes/no, 1/0)")
    lod = _parse(p, where, "lod", row.get("lod", ""), _positive, "a number > 0 (VAF fraction, or copies for amplification)")
    depth = _parse(p, where, "depth", row.get("depth", ""), _count, "a whole number >= 0")

    if kind is AlterationType.MUTATION:
        if row.get("copy_number", ""):
            p.add("copy_number", row["copy_number"], "empty for a mutation (copy number belongs to amplification rows)",
                  "move the value to an amplification row", where)
        value, limit, censored = _censorable(p, where, "vaf", row.get("vaf", ""), _fraction, _FRACTION)
        if lod is not None and lod > 1:
            p.add("lod", row.get("lod"), "a VAF fraction in (0, 1] on a mutation row", "give percent / 100", where)
        if value == 0:
            p.add("vaf", row.get("vaf"), "a VAF > 0, or '<LOD' (e.g. <0.005) when not detected",
                  "a zero would claim certainty below any assay's limit of detection", where)
            value = None
        level_lod = limit if censored else (lod if lod is not None else sample_lod)
        level = _level(p, where, "vaf", row.get("vaf", ""), value, censored, detected, level_lod)
        if len(p.problems) > n_before or gene is None:
            return None
        assert parsed is not None
        return PlasmaAlteration(gene=gene, alteration=change, type=kind, vaf=level, depth=depth,
                                variant_kind=parsed.kind, protein=parsed.protein)

    if row.get("vaf", ""):
        p.add("vaf", row["vaf"], "empty on an amplification row", "give plasma copy number in copy_number", where)
    value, limit, censored = _censorable(p, where, "copy_number", row.get("copy_number", ""), _positive,
                                         "a plasma copy number > 0")
    level_lod = limit if censored else lod
    level = _level(p, where, "copy_number", row.get("copy_number", ""), value, censored, detected, level_lod)
    if len(p.problems) > n_before or gene is None:
        return None
    return PlasmaAlteration(gene=gene, alteration=change, type=kind, copy_number=level, depth=depth)


_FILE_FORMATS = "a .maf, .vcf (optionally .gz) or copy-number table whose name contains '.cna'"


_READS = (".bam", ".cram", ".fastq", ".fq", ".fastq.gz", ".fq.gz")


def _from_reads(
    p: ProblemCollector, s: Mapping[str, Any], base_dir: Path, name: str, gk: GenomicsKnowledge,
    allowed: Sequence[Path], call_reads: Callable[[list[Path]], Path] | None,
) -> list[PlasmaAlteration]:
    """A variants file that is reads (a BAM, or FASTQ ``R1;R2``): called to a VCF, then read as one."""
    where = f"{name} row {s['row']}"
    if call_reads is None:
        p.add("variants_file", s["variants_file"], f"{_FILE_FORMATS}; reads (BAM, FASTQ) only with a reference",
              "give --reference to nerasense ctdna, or ctdna.reference in the patient file", where)
        return []
    paths = [confine(x.strip(), base_dir, field="variants_file", allowed=allowed, where=where)
             for x in str(s["variants_file"]).split(";") if x.strip()]
    missing = [x for x in paths if not x.is_file()]
    for x in missing:
        p.add("variants_file", str(x), "existing reads files (a BAM, or FASTQ R1;R2)", "", where)
    if missing:
        return []
    vcf = call_reads(paths)
    return _from_variants_file(p, {**s, "variants_file": str(vcf)}, vcf.parent, name, gk, [vcf.parent])


def _from_variants_file(
    p: ProblemCollector, s: Mapping[str, Any], base_dir: Path, name: str, gk: GenomicsKnowledge,
    allowed: Sequence[Path] = (), call_reads: Callable[[list[Path]], Path] | None = None,
) -> list[PlasmaAlteration]:
    """Detected alterations of one sample from its MAF/VCF/CNA file (read by the genomics readers).

    The file's rows for ``sample_id`` are used (all rows when it names a single sample). Mutations
    become detected VAF values at the sample LOD, ERBB2-style amplifications detected copy numbers;
    other copy-number states and records the reader rejected are reported in a warning, never dropped
    silently.
    """
    import polars as pl

    from nerasense.ingest.cna import read_cna
    from nerasense.ingest.maf import read_maf
    from nerasense.ingest.vcf import read_vcf

    where = f"{name} row {s['row']}"
    lower = Path(s["variants_file"]).name.lower()
    try:
        if lower.endswith(_READS):  # reads (issue 22): called by the function the caller supplies
            return _from_reads(p, s, base_dir, name, gk, allowed, call_reads)
        path = confine(s["variants_file"], base_dir, field="variants_file", allowed=allowed, where=where)
        if not path.is_file():
            p.add("variants_file", s["variants_file"], "an existing file (relative to the series table)",
                  f"looked for {path}", where)
            return []
        if lower.endswith((".maf", ".maf.gz", ".maf.txt")):
            table = read_maf(path, gk)
        elif lower.endswith((".vcf", ".vcf.gz")):
            table = read_vcf(path, gk, sample=None)
        elif ".cna" in lower:
            table = read_cna(path)
        else:
            p.add("variants_file", s["variants_file"], _FILE_FORMATS, "rename the file or convert it", where)
            return []
    except InputError as err:
        for problem in err.problems:
            p.add(f"variants_file: {problem.field}", problem.value, problem.allowed, problem.fix, where)
        return []
    frame = table.frame
    names = sorted({x for x in frame["sample"].to_list() if x})
    if s["sample_id"] in names:
        frame = frame.filter(pl.col("sample") == s["sample_id"])
    elif len(names) > 1:
        p.add("variants_file", s["variants_file"], f"a file holding sample {s['sample_id']} (or a single sample)",
              f"it holds {', '.join(names)}", where)
        return []
    out: list[PlasmaAlteration] = []
    skipped: list[str] = []
    for row in frame.iter_rows(named=True):
        gene, kind = row["gene"], AlterationKind(row["kind"])
        if kind is AlterationKind.AMPLIFICATION:
            cn = row["copy_number"]
            out.append(PlasmaAlteration(gene=gene, alteration="amplification", type=AlterationType.AMPLIFICATION,
                                        copy_number=Level(detected=True, value=cn if cn and cn > 0 else None),
                                        variant_kind=kind))
        elif row["protein_change"] and kind not in _COPY_NUMBER_KINDS:  # MAFs without Variant_Type say "other"
            parsed = _parsed(p, where, gene, row["protein_change"], gk)
            if parsed is None:
                continue
            vaf = row["vaf"]
            out.append(PlasmaAlteration(
                gene=gene, alteration=parsed.protein_change or row["protein_change"], type=AlterationType.MUTATION,
                vaf=Level(detected=True, value=vaf if vaf is not None and 0 < vaf <= 1 else None, lod=s["lod"]),
                depth=row["depth"], variant_kind=parsed.kind, protein=parsed.protein,
            ))
        else:
            skipped.append(f"{gene} {row['protein_change'] or kind.value}")
    unique: dict[tuple[str, str], PlasmaAlteration] = {}
    for alt in out:
        unique.setdefault(alt.key, alt)
    notes = []
    if skipped:
        shown = ", ".join(skipped[:5]) + ("..." if len(skipped) > 5 else "")
        notes.append(f"{len(skipped)} record(s) without a protein change, or with a copy-number state other than "
                     f"amplification, were not used ({shown})")
    if table.rejected.height:
        reasons = sorted(set(table.rejected["reason"].to_list()))
        notes.append(f"{table.rejected.height} record(s) were rejected by the reader ({'; '.join(reasons[:3])})")
    if notes:
        warnings.warn(f"{path.name} (sample {s['sample_id']}): " + "; ".join(notes), NerasenseWarning, stacklevel=2)
    return sorted(unique.values(), key=lambda a: a.key)


def _parsed(p: ProblemCollector, where: str, gene: str, change: str, gk: GenomicsKnowledge) -> Alteration | None:
    try:
        return normalise_alteration(gene, change, gk)
    except InputError as err:
        for problem in err.problems:
            p.add("alteration", change, problem.allowed, problem.fix, where)
        return None


def _level(
    p: ProblemCollector, where: str, column: str, text: str, value: float | None, censored: bool,
    detected: bool | None, lod: float | None,
) -> Level | None:
    if censored:
        if detected:
            p.add("detected", "true", f"false when {column} is written '<LOD'", "a value below the limit is not detected", where)
        return Level(detected=False, lod=lod)
    if value is not None:
        if detected is False:
            p.add(column, text, "empty (or '<LOD') when detected is false", "drop the value or set detected to true", where)
            return None
        return Level(detected=True, value=value, lod=lod)
    if text != "":
        return None  # the value itself was refused above; asking for `detected` too would mislead
    if detected is None:
        p.add("detected", None, f"true or false when {column} is empty",
              f"say whether it was detected, or give {column}", where)
        return None
    return Level(detected=detected, lod=lod)


def _tissue(
    p: ProblemCollector, rows: Sequence[Mapping[str, str]], gk: GenomicsKnowledge
) -> dict[str, list[TissueAlteration]]:
    out: dict[str, list[TissueAlteration]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()
    for i, row in enumerate(rows, start=1):
        where = f"tissue row {i}"
        patient, gene_text, change_text = row.get("patient_id", ""), row.get("gene", ""), row.get("alteration", "")
        gene = gene_symbol(gene_text, gk)
        if not patient:
            p.add("patient_id", None, "a value on every row", "", where)
        if gene is None:
            p.add("gene", gene_text or None, "an HGNC gene symbol (e.g. ERBB2)", "", where)
        if not change_text:
            p.add("alteration", None, "a protein change or 'amplification'", "", where)
        parsed = _parsed(p, where, gene or "ERBB2", change_text, gk) if change_text else None
        if patient and gene and parsed is not None:
            item = TissueAlteration(gene=gene, alteration=parsed.protein_change or "amplification")
            if (patient, *item.key) not in seen:
                seen.add((patient, *item.key))
                out[patient].append(item)
    return out


def _assessments(p: ProblemCollector, rows: Sequence[Mapping[str, str]]) -> dict[str, list[ResponseAssessment]]:
    out: dict[str, list[ResponseAssessment]] = defaultdict(list)
    seen: dict[tuple[str, dt.date], int] = {}
    allowed = ", ".join(r.value for r in ResponseCategory)
    for i, row in enumerate(rows, start=1):
        where = f"assessments row {i}"
        patient = row.get("patient_id", "")
        if not patient:
            p.add("patient_id", None, "a value on every row", "", where)
        date = _parse(p, where, "date", row.get("date", ""), _date, "an ISO date YYYY-MM-DD")
        if row.get("date", "") == "":
            p.add("date", None, "an ISO date YYYY-MM-DD", "", where)
        response = _parse(p, where, "response", row.get("response", "").upper(), ResponseCategory,
                          f"a RECIST 1.1 response: {allowed}")
        if row.get("response", "") == "":
            p.add("response", None, f"a RECIST 1.1 response: {allowed}", "", where)
        if patient and date is not None and response is not None:
            if (patient, date) in seen:
                p.add("date", date.isoformat(), f"one assessment per day (also row {seen[(patient, date)]})", "", where)
                continue
            seen[(patient, date)] = i
            out[patient].append(ResponseAssessment(date=date, response=response))
    return out


__all__ = [
    "ASSESSMENT_COLUMNS",
    "COLUMNS",
    "TISSUE_COLUMNS",
    "build_series",
    "gene_symbol",
    "normalise_alteration",
    "normalise_change",
    "read_ctdna_series",
    "read_table",
    "records",
]
