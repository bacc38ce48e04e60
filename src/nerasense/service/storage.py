"""Uploaded files: content-addressed blobs (``blobs/ab/abcdef…``, named by SHA-256) and one case folder per
submission holding the patient document and the uploads under their checked names. Every file appears whole
or not at all (written to a temporary name in the same folder, then renamed); nothing a request names reaches
the file system except a name that passed :func:`upload_name`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from nerasense.errors import InputError, Problem
from nerasense.safe_io import check_id

KINDS = ("vcf", "maf", "cna", "table", "bam", "cram", "fastq", "fasta", "bai")
READS_KINDS = ("bam", "cram", "fastq")  # read by the low-fraction caller (``nerasense call``): the assessment is a job
# the file name endings the caller reads each kind by (it picks its reader from the name)
READS_SUFFIXES = {"bam": (".bam",), "cram": (".cram",), "fastq": (".fastq", ".fq", ".fastq.gz", ".fq.gz"),
                  "fasta": (".fa", ".fasta", ".fna", ".fa.gz", ".fasta.gz"), "bai": (".bai",)}
ALLOWED_TEXT = ("VCF (##fileformat=VCF), MAF (Hugo_Symbol ...), copy-number or CSV/TSV table, FASTQ ('@' records), "
                "FASTA ('>' records), plain or gzip")
ALLOWED = f"{ALLOWED_TEXT}; BAM (BGZF, 'BAM\\1'), CRAM (2.x or 3.x) or BAM index (BAI)"


class UnsupportedMedia(InputError):
    """An upload whose content is none of the kinds the service reads (answered 415, naming field and kinds)."""


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    sha256: str
    kind: str


def upload_name(name: str | None, field: str) -> str:
    """An uploaded file's name as the patient document may name it: a plain name (no folder, no '..')."""
    if not name:
        raise InputError(Problem(field, name, "a file name"))
    return check_id(name, field)


def _head_text(data: bytes) -> str:
    head = data[:65536]
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:1 << 20], 65536)
        except zlib.error:
            return ""
    return head.decode("utf-8", errors="replace")


def is_bgzf(data: bytes) -> bool:
    """A BGZF block (SAM/BAM specification 4.1): gzip with FLG.FEXTRA whose extra field holds the subfield
    SI1='B', SI2='C', SLEN=2 (the block size)."""
    if len(data) < 18 or data[:4] != b"\x1f\x8b\x08\x04":
        return False
    xlen = int.from_bytes(data[10:12], "little")
    extra, i = data[12:12 + xlen], 0
    while i + 4 <= len(extra):
        slen = int.from_bytes(extra[i + 2:i + 4], "little")
        if extra[i:i + 2] == b"BC" and slen == 2:
            return True
        i += 4 + slen
    return False


def _binary_kind(data: bytes) -> str | None:
    """BAM (a BGZF file whose first block decompresses to ``BAM\\1``), CRAM (``CRAM`` and major version 2 or 3),
    or a BAM index (``BAI\\1``); None for anything else."""
    if data[:4] == b"CRAM" and len(data) > 5 and data[4] in (2, 3):
        return "cram"
    if data[:4] == b"BAI\x01":
        return "bai"
    if is_bgzf(data):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:1 << 16], 4)
        except zlib.error:
            return None
        if head[:4] == b"BAM\x01":
            return "bam"
    return None


def _fastq(lines: list[str]) -> bool:
    """FASTQ records: '@name', bases, '+', qualities as long as the bases (the first two records checked)."""
    rec = lines[:8] if len(lines) >= 8 else lines[:4]
    if len(rec) < 4:
        return False
    for i in range(0, len(rec), 4):
        name, bases, plus, quals = rec[i:i + 4]
        if not name.startswith("@") or not plus.startswith("+") or len(bases.strip()) != len(quals.strip()):
            return False
    return True


def sniff(data: bytes, name: str, field: str) -> str:
    """The kind of an upload, from its content (never from its name): VCF, MAF, copy-number or another table,
    FASTQ, FASTA, BAM, CRAM or a BAM index. Anything else is refused (:class:`UnsupportedMedia`, 415)."""
    if not data:
        raise InputError(Problem(field, name, f"a non-empty file: {ALLOWED}"))
    binary = _binary_kind(data)
    if binary is not None:
        return binary
    text = _head_text(data)
    if not text or "\x00" in text:
        raise UnsupportedMedia(Problem(field, name, ALLOWED, "the content is binary and none of these"))
    if text.startswith("##fileformat=VCF"):
        return "vcf"
    all_lines = text.split("\n")
    if text.startswith("@") and _fastq(all_lines):
        return "fastq"
    if text.startswith(">"):
        return "fasta"
    lines = [ln for ln in all_lines if ln and not ln.startswith("#")]
    header = lines[0] if lines else ""
    if "Hugo_Symbol" in header and ("HGVSp_Short" in header or "Variant_Classification" in header
                                    or "Tumor_Sample_Barcode" in header):
        return "maf"
    if header.startswith("Hugo_Symbol") or header.startswith("Sample_ID\t") or "copy_number" in header:
        return "cna"
    if "\t" in header or "," in header:
        return "table"
    raise UnsupportedMedia(Problem(field, name, ALLOWED, "the first line names no columns and starts no record"))


def check_reads_name(up: Upload, field: str) -> None:
    """The caller picks its reader by the file name, so a reads file's name must end as its content is."""
    endings = READS_SUFFIXES.get(up.kind)
    if endings and not up.name.lower().endswith(endings):
        raise InputError(Problem(field, up.name, f"a {up.kind.upper()} file named *{' or *'.join(endings)}",
                                 f"the content is {up.kind.upper()}; rename the file to match"))


def make_upload(name: str | None, data: bytes, field: str) -> Upload:
    clean = upload_name(name, field)
    up = Upload(clean, data, hashlib.sha256(data).hexdigest(), sniff(data, clean, field))
    check_reads_name(up, field)
    return up


def _atomic_bytes(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """The file store under the data folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for sub in ("blobs", "cases", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def blob_path(self, sha: str) -> Path:
        return self.root / "blobs" / sha[:2] / sha

    def put_blob(self, data: bytes, sha: str) -> Path:
        path = self.blob_path(sha)
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            _atomic_bytes(path, data)
        return path

    def scratch(self) -> Path:
        """A new empty folder for one request, removed by the caller (:meth:`discard`) or kept by :meth:`keep`."""
        return Path(tempfile.mkdtemp(dir=self.root / "tmp", prefix="case-"))

    def write_case(self, folder: Path, patient_text: str, uploads: list[Upload]) -> Path:
        """Lay out a case folder: ``patient.json`` and the uploads by name; returns the patient file's path."""
        for up in uploads:
            _atomic_bytes(folder / up.name, up.data)
        patient = folder / "patient.json"
        _atomic_bytes(patient, patient_text.encode())
        return patient

    def keep(self, scratch: Path, uploads: list[Upload], case_id: str) -> Path:
        """Store the uploads as blobs and move the scratch folder to ``cases/<case_id>`` in one rename."""
        for up in uploads:
            self.put_blob(up.data, up.sha256)
        target = self.root / "cases" / check_id(case_id, "case")
        if target.exists():
            shutil.rmtree(scratch, ignore_errors=True)
            return target
        os.replace(scratch, target)
        return target

    def case_folder(self, case_id: str, patient_text: str, files: list[tuple[str, str]]) -> Path:
        """The case folder, rebuilt from the blobs (checksums checked) when it is missing."""
        target = self.root / "cases" / check_id(case_id, "case")
        if target.exists():
            return target
        scratch = self.scratch()
        uploads = []
        for name, sha in files:
            data = self.blob_path(sha).read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                raise InputError(Problem("stored file", name, "a file matching its checksum", "the store is damaged"))
            uploads.append(Upload(upload_name(name, "stored file"), data, sha, "table"))
        self.write_case(scratch, patient_text, uploads)
        return self.keep(scratch, [], case_id)

    @staticmethod
    def discard(folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

