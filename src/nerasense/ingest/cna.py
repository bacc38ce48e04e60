"""Read copy-number tables: cBioPortal discrete / GISTIC gene matrices and long gene-call tables.

Layouts recognised by their header:

* **matrix** — a gene column (``Hugo_Symbol`` or GISTIC ``Gene Symbol``), optional ``Entrez_Gene_Id`` /
  ``Locus ID`` / ``Cytoband`` columns, then one column per sample holding discrete calls -2..2
  (cBioPortal ``data_CNA.txt``, GISTIC ``all_thresholded.by_genes.txt``). Each gene × sample cell is
  one record.
* **long** — one call per line: a sample column (``Sample``, ``Samples``, ``Sample_ID``,
  ``Tumor_Sample_Barcode``), a gene column (``Gene``, ``Hugo_Symbol``) and a call column (``CNA``,
  ``Call``, ``Alteration``, ``cna_call``), optionally an absolute ``copy_number``.

Calls: 2 / AMP -> amplification, 1 / GAIN -> gain, -1 / HETLOSS -> loss, -2 / HOMDEL / DEEPDEL ->
deletion; 0 / NEUTRAL / NA / empty are valid no-calls (counted, not alterations). Anything else is a
rejected record. An absolute copy number alone is kept but never turned into a call here: the
amplification cut-off depends on assay and ploidy, and no sourced default is in the knowledge base.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from nerasense.errors import InputError, Problem
from nerasense.ingest.table import AlterationTable, read_bytes, require_file
from nerasense.safe_io import check_columns, decode, input_boundary, split_lines

CALLS = {
    "2": 2, "2.0": 2, "AMP": 2, "AMPLIFICATION": 2, "1": 1, "1.0": 1, "GAIN": 1,
    "-1": -1, "-1.0": -1, "HETLOSS": -1, "LOSS": -1, "SHALLOWDEL": -1, "-2": -2, "-2.0": -2,
    "HOMDEL": -2, "DEEPDEL": -2, "DELETION": -2,
}
NO_CALL = {"0", "0.0", "NEUTRAL", "NA", "NAN", ""}
KIND_BY_CALL = {2: "amplification", 1: "gain", -1: "loss", -2: "deletion"}
GENE_COLS = ("Hugo_Symbol", "Gene Symbol", "Gene", "gene", "HUGO_SYMBOL")
SAMPLE_COLS = ("Sample", "Samples", "Sample_ID", "SAMPLE_ID", "Tumor_Sample_Barcode", "sample")
CALL_COLS = ("CNA", "Call", "call", "Alteration", "cna_call", "CNA_Call")
CN_COLS = ("copy_number", "Copy_Number", "CN", "cn")
ANNOTATION_COLS = {"Entrez_Gene_Id", "Locus ID", "Cytoband", "Gene panel", "Gene_Panel"}
ALLOWED_CALLS = "-2..2 or AMP, GAIN, NEUTRAL, HETLOSS, HOMDEL (DEEPDEL), NA"


@input_boundary("copy-number table (tab-separated, UTF-8, plain or gzipped)")
def read_cna(path: str | Path, *, origin: str = "unknown") -> AlterationTable:
    """Read a copy-number table in either layout; see the module docstring."""
    path = Path(path)
    require_file(path, "copy-number table")
    # records end at \n or \r\n only: str.splitlines would also split at U+2028, U+0085 or a form feed inside
    # a cell, making one damaged record two (and a call out of the junk after the separator)
    lines = split_lines(decode(read_bytes(path), str(path)))
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        start += 1
    if start >= len(lines):
        raise InputError(Problem("file", str(path), "a copy-number table with a header", "the file is empty"))
    header = lines[start].split("\t")
    check_columns(header, path.name)
    gene_col = next((c for c in GENE_COLS if c in header), None)
    if gene_col is None:
        raise InputError(Problem("column", ", ".join(header[:4]), f"a gene column ({', '.join(GENE_COLS)})",
                                 f"{path.name} line {start + 1} is not a copy-number header"))
    sample_col = next((c for c in SAMPLE_COLS if c in header), None)
    call_col = next((c for c in CALL_COLS if c in header), None)
    name = path.name
    records: list[tuple[int, list[str]]] = []  # (line number, fields)
    n = len(header)
    for offset, raw in enumerate(lines[start + 1:]):
        line_no = start + 2 + offset
        if not raw.strip():
            continue
        fields = raw.split("\t")
        records.append((line_no, fields))
    rows: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    no_call = 0
    total = 0
    if sample_col is not None and call_col is not None:
        flavour = "long"
        cn_col = next((c for c in CN_COLS if c in header), None)
        for line_no, f in records:
            total += 1
            where = f"{name}:{line_no}"
            if len(f) != n:
                rejected.append({"record": where, "value": "\t".join(f)[:60],
                                 "reason": f"line has {len(f)} fields, the header has {n} (truncated or damaged line)"})
                continue
            rec = dict(zip(header, f, strict=True))
            outcome = _one_call(rec[gene_col], rec[sample_col], rec[call_col], where, line_no,
                                rec.get(cn_col) if cn_col else None, origin)
            if outcome is None:
                no_call += 1
            elif "reason" in outcome:
                rejected.append(outcome)
            else:
                rows.append(outcome)
    else:
        flavour = "matrix"
        samples = [(i, h) for i, h in enumerate(header) if h != gene_col and h not in ANNOTATION_COLS]
        if not samples:
            raise InputError(Problem("columns", ", ".join(header), "sample columns after the gene column, or "
                                     f"sample ({', '.join(SAMPLE_COLS)}) and call ({', '.join(CALL_COLS)}) columns",
                                     "see `nerasense annotate --help` for the copy-number layouts"))
        gi = header.index(gene_col)
        for line_no, f in records:
            where = f"{name}:{line_no}"
            if len(f) != n:
                total += len(samples)
                rejected.append({"record": where, "value": "\t".join(f)[:60],
                                 "reason": f"line has {len(f)} fields, the header has {n} (truncated or damaged line); "
                                 f"its {len(samples)} sample cells are not read"})
                rejected.extend({"record": f"{where}:{s}", "reason": "cell of a damaged line", "sample": s}
                                for _, s in samples[1:])
                continue
            for i, s in samples:
                total += 1
                outcome = _one_call(f[gi], s, f[i], f"{where}:{s}", line_no, None, origin)
                if outcome is None:
                    no_call += 1
                elif "reason" in outcome:
                    rejected.append(outcome)
                else:
                    rows.append(outcome)
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    rej = pl.DataFrame(rejected, schema={"record": pl.String, "reason": pl.String, "gene": pl.String,
                                         "value": pl.String, "sample": pl.String}) if rejected else pl.DataFrame()
    return AlterationTable(path=str(path), format="cna", frame=frame, rejected=rej, input_records=total,
                           flavour=flavour, not_alterations=no_call,
                           notes=[f"{name}: {flavour} layout; {no_call} neutral or missing calls are not alterations"])


def _one_call(gene: str, sample: str, call: str, where: str, line: int, cn: str | None,
              origin: str) -> dict[str, object] | None:
    """An alteration row, a rejected row (``where`` names it) or None for a valid no-call."""
    g = gene.strip()
    key = call.strip().upper()
    if not g:
        return {"record": where, "reason": "gene is empty", "value": call, "sample": sample}
    if not sample.strip():
        return {"record": where, "reason": "sample is empty", "gene": g, "value": call}
    if key in NO_CALL:
        return None
    if key not in CALLS:
        return {"record": where, "reason": f"CNA={call!r} is not a call; allowed {ALLOWED_CALLS}", "gene": g,
                "value": call, "sample": sample}
    value = CALLS[key]
    copy_number = None
    if cn not in (None, "", "NA"):
        try:
            copy_number = float(str(cn))
        except ValueError:
            copy_number = -1.0
        if not 0 <= copy_number < float("inf"):  # NaN, inf and negatives fail this too
            return {"record": where, "reason": f"copy_number={cn!r} is not a number >= 0", "gene": g, "value": cn,
                    "sample": sample}
    return {"gene": g, "kind": KIND_BY_CALL[value], "cna_call": value, "copy_number": copy_number,
            "sample": sample, "origin": origin, "line": line}


__all__ = ["ALLOWED_CALLS", "read_cna"]
