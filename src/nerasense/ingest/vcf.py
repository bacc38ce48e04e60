"""Read annotated VCFs (VEP ``CSQ``, snpEff ``ANN``, bcftools ``BCSQ``; plain or bgzipped) with cyvcf2.

One alteration per (record, ALT allele) carried by the chosen sample; everything else is a rejected
record with its reason (FILTER not PASS, sample does not carry the allele, no annotation, symbolic
ALT). A multi-sample VCF needs ``sample=`` (the tumour); a VCF without samples is read as one sample
named after the file.

Choice of transcript: VEP — the entry flagged ``PICK``, else ``MANE_SELECT``, else ``CANONICAL=YES``,
else the first with a protein change; snpEff — the first entry for the allele (snpEff sorts by impact);
bcftools — the first entry, whose ``755L>755S`` amino-acid change is rewritten as HGVS p.
"""

from __future__ import annotations

import gzip
import re
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import polars as pl

from nerasense.errors import InputError, NerasenseWarning, Problem
from nerasense.ingest.table import AlterationTable, normalise_changes, require_file, resolve_gene_column
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.safe_io import captured_stderr, encoding_problem, input_boundary

_FORMAT = re.compile(r"Format:\s*'?([^'\"]+)'?", re.IGNORECASE)
_ANN_FIELDS = ("Allele", "Annotation", "Annotation_Impact", "Gene_Name", "Gene_ID", "Feature_Type",
               "Feature_ID", "Transcript_BioType", "Rank", "HGVS.c", "HGVS.p")
_BCSQ_AA = re.compile(r"^(\d+)([A-Z*]+)>(\d+)([A-Z*]+)$")
_DNA = re.compile(r"^[ACGTNacgtn]+$")


def _header_fields(vcf: Any, key: str) -> list[str] | None:
    try:
        info = vcf.get_header_type(key)
    except KeyError:
        return None
    desc = str(info.get("Description", ""))
    if key == "ANN":
        return list(_ANN_FIELDS)
    m = _FORMAT.search(desc)
    return [f.strip() for f in m.group(1).split("|")] if m else None


def bcsq_to_hgvs(aa: str) -> str | None:
    """``755L>755S`` -> ``p.L755S``; ``772YVMAG>772YVMAYVMAG`` -> ``p.Y772_A775dup`` (trimmed, 3'-most)."""
    m = _BCSQ_AA.match(aa)
    if not m:
        return None
    start, ref, alt = int(m.group(1)), m.group(2), m.group(4)
    if len(ref) == 1 and len(alt) == 1:
        return f"p.{ref}{start}{'=' if ref == alt else alt}"
    k = 0  # trim the common prefix first, so an insertion lands 3'-most
    while k < min(len(ref), len(alt)) and ref[k] == alt[k]:
        k += 1
    j = 0
    while j < min(len(ref), len(alt)) - k and ref[-1 - j] == alt[-1 - j]:
        j += 1
    r, a, pos = ref[k: len(ref) - j], alt[k: len(alt) - j], start + k
    if not r and a:
        left = ref[:k]
        if len(a) <= len(left) and left.endswith(a):
            first = pos - len(a)
            return f"p.{a[0]}{first}dup" if len(a) == 1 else f"p.{a[0]}{first}_{a[-1]}{pos - 1}dup"
        if k == 0 or k >= len(ref):
            return None
        return f"p.{ref[k - 1]}{pos - 1}_{ref[k]}{pos}ins{a}"
    if r and not a:
        return f"p.{r[0]}{pos}del" if len(r) == 1 else f"p.{r[0]}{pos}_{r[-1]}{pos + len(r) - 1}del"
    if not r:
        return None
    span = f"{r[0]}{pos}" if len(r) == 1 else f"{r[0]}{pos}_{r[-1]}{pos + len(r) - 1}"
    return f"p.{span}delins{a}"


def _pick_vep(entries: list[dict[str, str]]) -> dict[str, str]:
    for test in (lambda e: e.get("PICK") == "1", lambda e: bool(e.get("MANE_SELECT")),
                 lambda e: e.get("CANONICAL") == "YES", lambda e: bool(e.get("HGVSp"))):
        hits = [e for e in entries if test(e)]
        if hits:
            return hits[0]
    return entries[0]


def _allele_matches(ann_allele: str, ref: str, alt: str) -> bool:
    if ann_allele == alt:
        return True
    if ref and alt and ref[0] == alt[0]:  # VEP drops the shared first base of indels
        trimmed = alt[1:] or "-"
        return ann_allele == trimmed
    return False


def _annotation(info: dict[str, str | None], fields: dict[str, list[str]], ref: str, alt: str,
                n_alts: int) -> dict[str, str | None] | None:
    if fields.get("CSQ") and info.get("CSQ"):
        rows = [dict(zip(fields["CSQ"], e.split("|"), strict=False)) for e in str(info["CSQ"]).split(",")]
        mine = [r for r in rows if n_alts == 1 or _allele_matches(r.get("Allele", ""), ref, alt)]
        if mine:
            e = _pick_vep(mine)
            hgvsp = unquote(e.get("HGVSp", "")) or None
            return {"gene": e.get("SYMBOL") or None, "change": hgvsp, "hgvs_c": e.get("HGVSc") or None,
                    "transcript": e.get("Feature") or None, "consequence": e.get("Consequence") or None,
                    "flavour": "vep"}
    if fields.get("ANN") and info.get("ANN"):
        rows = [dict(zip(fields["ANN"], (x.strip() for x in e.split("|")), strict=False))
                for e in str(info["ANN"]).split(",")]
        mine = [r for r in rows if n_alts == 1 or r.get("Allele") == alt]
        if mine:
            e = mine[0]
            return {"gene": e.get("Gene_Name") or None, "change": e.get("HGVS.p") or None,
                    "hgvs_c": e.get("HGVS.c") or None, "transcript": e.get("Feature_ID") or None,
                    "consequence": e.get("Annotation") or None, "flavour": "snpeff"}
    if fields.get("BCSQ") and info.get("BCSQ"):
        rows = [dict(zip(fields["BCSQ"], e.split("|"), strict=False)) for e in str(info["BCSQ"]).split(",")
                if not e.startswith("@")]
        if rows:
            e = rows[0]
            aa = e.get("amino_acid_change", "")
            change = bcsq_to_hgvs(aa) if aa else None
            return {"gene": e.get("gene") or None, "change": change or (aa or None),
                    "hgvs_c": e.get("dna_change") or None, "transcript": e.get("transcript") or None,
                    "consequence": e.get("Consequence") or None, "flavour": "bcftools"}
    return None


@input_boundary("VCF (plain or bgzipped, UTF-8 header)")
def read_vcf(path: str | Path, gk: GenomicsKnowledge, *, sample: str | None = None,
             origin: str = "unknown") -> AlterationTable:
    """Read an annotated VCF; see the module docstring."""
    from cyvcf2 import VCF  # imported here: loading htslib is not free, and only VCF input needs it

    path = Path(path)
    require_file(path, "VCF")
    failure: InputError | None = None
    with captured_stderr() as htslib:  # htslib prints "[E::...]" lines on descriptor 2: keep them for the message
        try:
            table = _read_vcf(VCF, path, gk, sample, origin)
        except InputError as exc:
            failure = exc
    said = next((ln for ln in htslib if ln.startswith("[E::")), "")
    if failure is not None:
        if not said:
            raise failure
        first, *rest = failure.problems
        fix = f"{first.fix}; htslib said: {said}" if first.fix else f"htslib said: {said}"
        raise InputError([Problem(first.field, first.value, first.allowed, fix, first.where), *rest]) from None
    if said:  # htslib skipped a line it could not parse and went on: the file is damaged, its reading incomplete
        raise InputError(Problem("file", str(path), "a well-formed VCF", f"htslib said: {said}"))
    return table


def _read_vcf(VCF: Any, path: Path, gk: GenomicsKnowledge, sample: str | None, origin: str) -> AlterationTable:
    _check_vcf_header(path)
    _check_vcf_records(path)
    try:
        vcf = VCF(str(path))
    except Exception as exc:  # cyvcf2 raises OSError, ValueError or bare Exception on a damaged header
        raise InputError(Problem("file", str(path), "a VCF (plain or bgzipped)", f"cyvcf2 could not open it: {exc}")) from None
    samples = list(vcf.samples)
    if sample is not None and sample not in samples:
        raise InputError(Problem("sample", sample, ", ".join(samples) or "(the VCF has no samples)",
                                 "pass --sample with one of the VCF's sample names"))
    if sample is None and len(samples) > 1:
        raise InputError(Problem("sample", None, ", ".join(samples),
                                 "this VCF has several samples; choose the tumour with --sample"))
    idx = samples.index(sample) if sample is not None else (0 if samples else None)
    sample_name = samples[idx] if idx is not None else path.name.split(".")[0]
    fields = {k: f for k in ("CSQ", "ANN", "BCSQ") if (f := _header_fields(vcf, k))}
    builds = _builds(vcf.raw_header)
    by_locus = 0  # unannotated alleles read as a cancerhotspots allele from their coordinates
    header_lines = _count_header_lines(path)
    name = path.name
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    flavours: set[str] = set()
    records = 0
    try:
        for i, rec in enumerate(vcf):
            line = header_lines + i + 1
            alts = list(rec.ALT)
            info = {k: rec.INFO.get(k) for k in fields}
            gts = rec.genotypes[idx] if idx is not None and rec.genotypes else None
            for a_i, alt in enumerate(alts or ["."]):
                records += 1
                where = f"{name}:{line}"
                base = {"record": where, "sample": sample_name}  # of a rejected allele
                value = f"{rec.CHROM}:{rec.POS} {rec.REF}>{alt}"
                if not alts or alt in (".", "*") or not _DNA.match(alt):
                    rejected.append({**base, "reason": f"ALT={alt!r} is not a sequence (symbolic, spanning "
                                     "deletion or missing); structural calls are not read", "value": value})
                    continue
                if rec.FILTER is not None:
                    rejected.append({**base, "reason": f"FILTER={rec.FILTER} (not PASS)", "value": value})
                    continue
                if gts is not None:
                    called = [g for g in gts[:-1] if g is not None]
                    if all(g < 0 for g in called):
                        rejected.append({**base, "reason": f"sample {sample_name} has no genotype here", "value": value})
                        continue
                    if a_i + 1 not in called:
                        rejected.append({**base, "reason": f"sample {sample_name} does not carry this ALT "
                                         f"(GT {'/'.join(str(g) for g in called)})", "value": value})
                        continue
                ann = _annotation(info, fields, rec.REF, alt, len(alts))
                if ann is None or not ann.get("gene"):
                    ann = _hotspot_annotation(gk, builds, str(rec.CHROM), int(rec.POS), rec.REF, alt)
                    if ann is None:
                        rejected.append({**base, "reason": "no CSQ, ANN or BCSQ annotation with a gene for this allele, "
                                         "and not a cancerhotspots allele's locus; annotate with VEP, snpEff or "
                                         "bcftools csq first", "value": value})
                        continue
                    by_locus += 1
                if ann["flavour"] != "coordinates":
                    flavours.add(str(ann["flavour"]))
                vaf, depth, alt_count = _sample_counts(rec, idx, a_i)
                kind = "snv" if len(rec.REF) == 1 == len(alt) else ("mnv" if len(rec.REF) == len(alt) else "indel")
                rows.append({"line": line, "sample": sample_name, "gene": str(ann["gene"]).strip(),
                             "raw_change": ann["change"], "kind": kind,
                             "consequence": ann["consequence"], "hgvs_c": ann["hgvs_c"],
                             "transcript": ann["transcript"], "chrom": str(rec.CHROM).removeprefix("chr"),
                             "pos": int(rec.POS), "ref": rec.REF, "alt": alt, "vaf": vaf, "depth": depth,
                             "alt_count": alt_count, "origin": origin, "value": value})
    except Exception as exc:  # cyvcf2 raises bare Exception on damaged records
        if isinstance(exc, InputError):
            raise
        raise InputError(Problem("file", str(path), "a well-formed VCF",
                                 f"reading stopped after {records} records: {exc}")) from None
    text_columns = ("gene", "raw_change", "consequence", "hgvs_c", "transcript")  # typed even when all empty
    frame = pl.DataFrame(rows, schema_overrides={"vaf": pl.Float64, "depth": pl.Int64, "alt_count": pl.Int64,
                                                 **dict.fromkeys(text_columns, pl.String)},
                         infer_schema_length=None) if rows else pl.DataFrame(
        schema={"gene": pl.String, "raw_change": pl.String, "line": pl.Int64, "sample": pl.String,
                "value": pl.String})
    if rows:
        frame = frame.with_columns(resolve_gene_column(frame, "gene", gk))
        changes = normalise_changes(frame.select("gene", "raw_change").unique(), gk)
        frame = frame.join(changes, on=["gene", "raw_change"], how="left", nulls_equal=True)
        bad = frame.filter(pl.col("change_error").is_not_null())
        rejected += [{"record": f"{name}:{r['line']}", "sample": r["sample"], "gene": r["gene"], "value": r["raw_change"],
                      "reason": f"protein change {r['raw_change']!r} is not HGVS p.: {r['change_error']}"}
                     for r in bad.iter_rows(named=True)]
        frame = frame.filter(pl.col("change_error").is_null())
    rej = pl.DataFrame(rejected, schema={"record": pl.String, "reason": pl.String, "gene": pl.String,
                                         "value": pl.String, "sample": pl.String}) if rejected else pl.DataFrame()
    notes = [f"{name}: sample {sample_name}; annotation {', '.join(sorted(flavours)) or 'none'}"]
    unannotated = sum(1 for r in rejected if str(r["reason"]).startswith("no CSQ"))
    text = (f"{by_locus} unannotated alleles at a cancerhotspots allele's locus were read as that allele from their "
            f"coordinates (build {' or '.join(builds)}); {unannotated} other unannotated alleles are rejected")
    if not fields:
        warnings.warn(f"{name}: no CSQ, ANN or BCSQ annotation in the header: {text}. Annotate the file (VEP, snpEff, "
                      "bcftools csq) to classify every allele.", NerasenseWarning, stacklevel=2)
    elif by_locus:
        notes.append(f"{name}: {text}")
    return AlterationTable(path=str(path), format="vcf", frame=frame, rejected=rej, input_records=records,
                           flavour="+".join(sorted(flavours)), notes=notes)


def _builds(header: str) -> tuple[str, ...]:
    """The genome build the header names (##reference, ##assembly or a contig's assembly=), or both to try."""
    named = " ".join(ln for ln in header.splitlines() if ln.startswith(("##reference", "##assembly", "##contig")))
    if re.search(r"GRCh38|hg38", named):
        return ("GRCh38",)
    if re.search(r"GRCh37|hg19|b37|hs37", named):
        return ("GRCh37",)
    return ("GRCh37", "GRCh38")


def _hotspot_annotation(gk: GenomicsKnowledge, builds: tuple[str, ...], chrom: str, pos: int, ref: str,
                        alt: str) -> dict[str, Any] | None:
    """The cancerhotspots allele at this VCF locus, its alleles written as MAF writes them (an insertion after
    the anchor base: '-' > inserted bases at POS; a deletion: deleted bases > '-' at POS + 1)."""
    if len(ref) == 1 < len(alt) and alt[0] == ref:
        key = (pos, "-", alt[1:])
    elif len(alt) == 1 < len(ref) and ref[0] == alt:
        key = (pos + 1, ref[1:], "-")
    else:
        key = (pos, ref, alt)
    for build in builds:
        hit = gk.hotspot_loci.get((build, chrom.removeprefix("chr"), *key))
        if hit is not None:
            return {"gene": hit[0], "change": hit[1], "consequence": None, "hgvs_c": None, "transcript": None,
                    "flavour": "coordinates"}
    return None


def _check_vcf_header(path: Path) -> None:
    """Refuse a header htslib would reject, naming the line, before cyvcf2 opens the file: the first line must
    be ``##fileformat=VCF...``, meta lines ``##key=value``, and the ``#CHROM`` line must come before any record."""
    name = str(path)
    for n, raw in enumerate(_header_lines(path), start=1):
        problem = encoding_problem(raw, name)
        if problem is not None:
            raise InputError(Problem("header", name, "a UTF-8 VCF header", f"line {n}: {problem.fix}"))
        line = raw.decode("utf-8").rstrip("\r\n")
        if n == 1 and not line.startswith("##fileformat=VCF"):
            raise InputError(Problem("header", name, "a VCF whose first line is ##fileformat=VCFv4.x",
                                     f"line 1 starts {line[:20]!r}"))
        if line.startswith("##"):
            if "=" not in line:
                raise InputError(Problem("header", name, "meta lines of the form ##key=value", f"line {n} has no '='"))
            continue
        if line.startswith("#"):
            columns = line[1:].split("\t")
            if columns[:8] != ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
                raise InputError(Problem("header", name, "a #CHROM line with CHROM POS ID REF ALT QUAL FILTER INFO "
                                         "(tab-separated), then FORMAT and samples", f"line {n}"))
            return
        raise InputError(Problem("header", name, "a #CHROM header line before the first record",
                                 f"line {n} is a record but no #CHROM line came before it"))
    raise InputError(Problem("header", name, "a VCF with a #CHROM header line", "the file ends inside the header"))


def _check_vcf_records(path: Path) -> None:
    """Refuse a record with a byte outside ASCII in any column but INFO, naming line and column, before htslib
    reads it: a non-ASCII byte in a sample's GT makes htslib (through cyvcf2) crash the whole process with a
    segmentation fault, which no Python code can catch (found by fuzzing, issue 17). INFO must be UTF-8."""
    name = str(path)
    columns = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
    for n, raw in enumerate(_all_lines(path), start=1):
        if raw.isascii() or raw.startswith(b"#"):
            continue
        for i, cell in enumerate(raw.rstrip(b"\r\n").split(b"\t")):
            if cell.isascii():
                continue
            if i == 7 and encoding_problem(cell, name) is None:
                continue  # UTF-8 text in INFO (an annotation) is read as text
            column = columns[i] if i < len(columns) else f"sample {i - len(columns) + 1}"
            raise InputError(Problem("record", name, "ASCII in every column but INFO (UTF-8 there)",
                                     f"line {n}, column {column} holds the byte(s) "
                                     f"{', '.join(f'0x{b:02x}' for b in cell if b > 127)}"))


def _all_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    opener: Any = gzip.open if gz else open
    try:
        with opener(path, "rb") as fh:
            yield from fh
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(Problem("file", str(path), "a complete gzip/BGZF file", f"the stream is damaged ({exc})")) from None


def _header_lines(path: Path) -> Iterator[bytes]:
    """The lines of the file up to and including the first that does not start with '##' (gunzipped/BGZF)."""
    with path.open("rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    opener: Any = gzip.open if gz else open
    try:
        with opener(path, "rb") as fh:
            for line in fh:
                yield line
                if not line.startswith(b"##"):
                    return
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(Problem("file", str(path), "a complete gzip/BGZF file", f"the stream is damaged ({exc})")) from None


def _count_header_lines(path: Path) -> int:
    """Lines before the first record, counted in the file itself (cyvcf2's header adds lines of its own)."""
    with path.open("rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    n = 0
    with opener(path, "rb") as fh:
        for line in fh:
            if not line.startswith(b"#"):
                break
            n += 1
    return n


def _sample_counts(rec: Any, idx: int | None, a_i: int) -> tuple[float | None, int | None, int | None]:
    """VAF, depth and alt reads of the chosen sample from FORMAT AF / AD / DP where present."""
    if idx is None:
        return None, None, None
    vaf = depth = alt_count = None
    try:
        ad = rec.format("AD")
        if ad is not None and ad.shape[1] > a_i + 1 and ad[idx][0] >= 0 and ad[idx][a_i + 1] >= 0:
            alt_count = int(ad[idx][a_i + 1])
            depth = int(sum(int(x) for x in ad[idx] if x >= 0))
    except KeyError:
        pass
    try:
        dp = rec.format("DP")
        if dp is not None and dp[idx][0] >= 0:
            depth = int(dp[idx][0])
    except KeyError:
        pass
    try:
        af = rec.format("AF")
        if af is not None and af.shape[1] > a_i and 0 <= float(af[idx][a_i]) <= 1:
            vaf = round(float(af[idx][a_i]), 6)  # FORMAT floats arrive as float32
    except KeyError:
        pass
    if vaf is None and alt_count is not None and depth:
        vaf = alt_count / depth
    return vaf, depth, alt_count


__all__ = ["bcsq_to_hgvs", "read_vcf"]
