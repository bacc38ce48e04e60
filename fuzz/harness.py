"""Mutation fuzzing of every nerasense reader through the command line, in-process.

Each input is a seed of ``fuzz/seeds`` damaged in one or more of the ways issue 17 lists (bit flips,
truncation, non-UTF-8 bytes, NUL and control bytes, byte-order marks, CR-only line ends, Unicode line
separators, duplicated and shuffled columns, huge / negative / NaN / inf numbers, corrupt gzip and BGZF,
YAML tags, anchors and deep nesting), written to a file and handed to the command that reads it. Outcomes:

* ``ok`` — exit 0; ``clean`` — exit 2 or 4 with one line on stderr (the promise);
* ``crash`` — any other exit or an exception that escaped (``NERASENSE_DEBUG=1`` lets the CLI's last-resort
  handler re-raise, so a traceback cannot hide behind exit 1); ``hang`` — no answer within ``--timeout``.

The inputs run one after another in a worker process (imports and knowledge loaded once), which the harness
kills and restarts when an answer is late; ``boundary`` counts clean errors that the readers' last-resort
boundary made of a library failure (a specific check would name the problem better).

Crashing inputs are saved under ``--crashes`` with the traceback, to become regression tests.

    python fuzz/harness.py --inputs 20000 [--seconds 900] [--seed 1] [--readers maf,vcf]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SEEDS = Path(__file__).resolve().parent / "seeds"
BOUNDARY: Counter[str] = Counter()  # library failures the reader boundary turned into InputErrors, by message


@dataclass(frozen=True)
class Reader:
    name: str
    seeds: tuple[str, ...]
    suffixes: tuple[str, ...]  # the damaged file is written under one of these names
    argv: Callable[[str], list[str]]
    text: str = "table"  # table (tab/comma separated), yaml, vcf


READERS = {
    r.name: r
    for r in (
        Reader("maf", ("mutations.maf",), ("x.maf", "x.maf.gz", "data_mutations.txt"),
               lambda f: ["annotate", f, "--format", "maf", "--json"]),
        Reader("vcf", ("tumour.vcf",), ("x.vcf", "x.vcf.gz"), lambda f: ["annotate", f, "--format", "vcf", "--json"], "vcf"),
        Reader("cna", ("data_cna.txt", "long_cna.txt"), ("data_cna.txt", "data_cna.txt.gz"),
               lambda f: ["annotate", f, "--format", "cna", "--json"]),
        Reader("patient", ("patient.yaml",), ("p.yaml", "p.json"), lambda f: ["assess", f, "--json"], "yaml"),
        Reader("ctdna", ("series.csv",), ("series.csv", "series.tsv"), lambda f: ["ctdna", f, "--json"]),
        Reader("lesions", ("lesions.csv",), ("lesions.csv",), lambda f: ["recist", f, "--json"]),
        Reader("survival", ("cohort.csv",), ("cohort.csv",),
               lambda f: ["survival", "km", f, "--time", "os_months", "--event", "os_event", "--group", "arm", "--json"]),
        Reader("cutpoint", ("cohort.csv",), ("cohort.csv",),
               lambda f: ["cutpoint", f, "--time", "os_months", "--event", "os_event", "--marker", "marker", "--json"]),
    )
}

NUMBERS = [b"inf", b"-inf", b"nan", b"NaN", b"-1", b"0", b"1e308", b"-1e308", b"9" * 400, b"1" * 4400, b"0.5e",
           b"1,5", b"", b"NA", b"."]
SEPARATORS = ["\u2028", "\u2029", "\u0085", "\x0c", "\x0b", "\r", "\x1c", "\x1d", "\x1e"]


# ----------------------------------------------------------------------------------------------- damage


def bit_flip(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def non_utf8(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice([b"\xff", b"\xe9", b"\xc3", b"\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]) + data[i:]


def control_bytes(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + bytes([rng.choice([0, 1, 7, 8, 27, 127])]) * rng.randint(1, 3) + data[i:]


def bom(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return b"\xef\xbb\xbf" + data
    text = data.decode("utf-8", "replace")
    return text.encode(["utf-16", "utf-16-be", "utf-32"][choice - 1])


def cr_only(rng: random.Random, data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", rng.choice([b"\r", b"\r\n", b"\n\r"]))


def unicode_separator(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    sep = rng.choice(SEPARATORS).encode()
    j = rng.randrange(len(lines[i]) + 1)
    lines[i] = lines[i][:j] + sep + lines[i][j:]
    return b"\n".join(lines)


def _split(line: bytes) -> tuple[list[bytes], bytes]:
    sep = b"\t" if b"\t" in line else b","
    return line.split(sep), sep


def duplicate_column(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    start = next((k for k, ln in enumerate(lines) if not ln.startswith(b"#")), 0)
    cells, sep = _split(lines[start])
    if not cells:
        return data
    i, j = rng.randrange(len(cells)), rng.randrange(len(cells))
    out = []
    for k, ln in enumerate(lines):
        if k < start or not ln:
            out.append(ln)
            continue
        row, _ = _split(ln)
        if k == start and i < len(row):
            row.append(row[i])  # a second column of the same name
        elif j < len(row):
            row.append(row[j])
        out.append(sep.join(row))
    return b"\n".join(out)


def shuffle_columns(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    start = next((k for k, ln in enumerate(lines) if not ln.startswith(b"#")), 0)
    cells, sep = _split(lines[start])
    order = list(range(len(cells)))
    rng.shuffle(order)
    out = []
    for k, ln in enumerate(lines):
        row, _ = _split(ln)
        if k < start or len(row) != len(cells):
            out.append(ln)
        else:
            out.append(sep.join(row[o] for o in order))
    return b"\n".join(out)


def odd_number(rng: random.Random, data: bytes) -> bytes:
    spans = [m.span() for m in re.finditer(rb"(?<![A-Za-z_.])\d+(\.\d+)?", data)]
    if not spans:
        return data
    a, b = rng.choice(spans)
    return data[:a] + rng.choice(NUMBERS) + data[b:]


def corrupt_gzip(rng: random.Random, data: bytes) -> bytes:
    packed = gzip.compress(data)
    return rng.choice([packed[: rng.randrange(2, len(packed))], bit_flip(rng, packed), packed[:10] + b"\0" * 20,
                       packed + b"garbage"])


def yaml_damage(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    choice = rng.randrange(7)
    if choice == 0:  # billion laughs
        bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
            f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=False))
        return (bomb + text).encode()
    if choice == 1:  # explicit tags
        tag = rng.choice(["!!timestamp 2025-13-45", "!!binary AAAA", "!!python/object:os.system x", "!custom 1",
                          "!!set {a, b}", "!!omap [a: 1]", "!!float inf", "!!int 99999999999999999999999"])
        return re.sub(r"(assessed_on|age_years|ecog|description): [^\n]*", rf"\1: {tag}", text, count=1).encode()
    if choice == 2:  # deep nesting
        depth = rng.choice([100, 1000, 5000])
        return (text + "extra: " + "[" * depth + "]" * depth + "\n").encode()
    if choice == 3:  # aliases and merge keys
        return (text + "x: &x {ihc: 3+}\nher2: *x\n<<: *x\n").encode()
    if choice == 4:  # duplicate key
        first = next((ln for ln in text.splitlines() if ":" in ln and not ln.startswith("#")), "patient_id: X")
        return (text + first + "\n").encode()
    if choice == 5:  # a misspelt key or value
        return text.replace(rng.choice(["ecog", "setting", "metastatic", "IDC", "female", "her2"]), "xx", 1).encode()
    return text.replace("long_cna.txt", rng.choice(["/etc/passwd", "../../../etc/hostname", "/proc/self/environ",
                                                     "/dev/zero", ".", "missing.txt"])).encode()


def vcf_damage(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    header = [k for k, ln in enumerate(lines) if ln.startswith(b"#")] or [0]
    k = rng.choice(header)
    lines[k] = bit_flip(rng, lines[k])
    return b"\n".join(lines)


DAMAGE: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "bit_flip": bit_flip, "truncate": truncate, "non_utf8": non_utf8, "control": control_bytes, "bom": bom,
    "cr_only": cr_only, "separator": unicode_separator, "duplicate_column": duplicate_column,
    "shuffle_columns": shuffle_columns, "number": odd_number,
}


def damage(rng: random.Random, reader: Reader, data: bytes) -> tuple[bytes, list[str]]:
    names = list(DAMAGE)
    if reader.text == "yaml":
        names += ["yaml"] * 4
    if reader.text == "vcf":
        names += ["vcf_header"] * 3
    applied = rng.sample(names, k=rng.choice([1, 1, 1, 2, 3]))
    for name in applied:
        fn = {"yaml": yaml_damage, "vcf_header": vcf_damage}.get(name) or DAMAGE[name]
        try:
            data = fn(rng, data) if data else data
        except (IndexError, ValueError):  # a damage that does not fit this input (a short or odd file): skip it
            continue
    return data, applied



# -------------------------------------------------------------------------------------------------- run


def run_one(argv: list[str], timeout: float = 0) -> tuple[str, str]:
    """(outcome, detail) of one CLI run in this process. ``timeout`` is enforced by :func:`fuzz`, which runs the
    inputs in a worker process it kills when an answer is late (an alarm signal cannot stop code running in a
    library's own threads, and a broad ``except`` could swallow it)."""
    from nerasense.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except BaseException:
        return "crash", traceback.format_exc()
    message = err.getvalue()
    if code == 0:
        return "ok", ""
    if code in (2, 4) and message.startswith("error: ") and "Traceback" not in message and message.count("\n") == 1:
        # a library failure the reader boundary turned into an InputError (safe_io.input_failure): clean for the
        # user, but a sign that a specific check is missing; counted apart
        return ("boundary" if "it could not be read: " in message else "clean"), message.strip()[:300]
    return "crash", f"exit {code}: {message[:2000]}"


def worker() -> None:
    """Read one JSON argv per line on stdin, answer one JSON [outcome, detail] per line on stdout."""
    os.environ["NERASENSE_DEBUG"] = "1"  # the CLI re-raises an unexpected exception instead of exit 1
    answers = sys.stdout
    for line in sys.stdin:
        outcome, detail = run_one(json.loads(line))
        answers.write(json.dumps([outcome, detail]) + "\n")
        answers.flush()


class _Worker:
    """A worker process that runs inputs one at a time; restarted after a hang or a hard crash."""

    def __init__(self) -> None:
        import subprocess

        self.proc = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def run(self, argv: list[str], timeout: float) -> tuple[str, str]:
        import select

        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(argv) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.close()
            return "hang", f"no answer in {timeout:g} s"
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            return "crash", f"the worker process died (exit {code}: a signal or a hard crash in a library)"
        outcome, detail = json.loads(line)
        return str(outcome), str(detail)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def fuzz(inputs: int, seconds: float, seed: int, readers: list[str], crashes: Path, timeout: float,
         log: Callable[[str], None] = print) -> dict[str, Counter[str]]:
    rng = random.Random(seed)
    counts: dict[str, Counter[str]] = {r: Counter() for r in readers}
    start = time.monotonic()
    n = 0
    first_timeout = max(timeout, 120.0)  # the worker's first input pays the imports and the knowledge base
    with tempfile.TemporaryDirectory(prefix="nerasense-fuzz-") as tmp:
        work = Path(tmp)
        for seed_file in SEEDS.iterdir():
            shutil.copy(seed_file, work / seed_file.name)  # files a patient seed names sit beside it
        proc = _Worker()
        fresh = True
        try:
            while n < inputs and time.monotonic() - start < seconds:
                reader = READERS[readers[n % len(readers)]]
                original = (SEEDS / rng.choice(reader.seeds)).read_bytes()
                name = rng.choice(reader.suffixes)
                data, applied = damage(rng, reader, original)
                if name.endswith(".json"):
                    data = _as_json(original, rng) if rng.random() < 0.7 else data
                if name.endswith(".gz"):
                    data = corrupt_gzip(rng, data) if rng.random() < 0.5 else gzip.compress(data)
                    applied.append("gzip")
                path = work / name
                path.write_bytes(data)
                outcome, detail = proc.run(reader.argv(str(path)), first_timeout if fresh else timeout)
                fresh = False
                if proc.proc.poll() is not None:  # killed after a hang, or died: a new worker for the next input
                    proc = _Worker()
                    fresh = True
                counts[reader.name][outcome] += 1
                if outcome == "boundary":
                    BOUNDARY[f"{reader.name}: {detail.split('it could not be read: ')[1][:90]}"] += 1
                if outcome in ("crash", "hang"):
                    crashes.mkdir(parents=True, exist_ok=True)
                    stem = f"{reader.name}-{n:06d}"
                    (crashes / f"{stem}-{name}").write_bytes(data)
                    (crashes / f"{stem}.txt").write_text(f"{' '.join(reader.argv(name))}\ndamage: {applied}\n{detail}\n")
                    log(f"{outcome}: {reader.name} #{n} ({', '.join(applied)}) -> {crashes / stem}")
                n += 1
        finally:
            proc.close()
    return counts


def _as_json(yaml_bytes: bytes, rng: random.Random) -> bytes:
    import yaml

    value = yaml.safe_load(yaml_bytes)
    text = json.dumps(value, default=str)
    return rng.choice([text, text.replace("61", "NaN"), text + text, text[:-1], '{"a":' * 3000 + "1" + "}" * 3000]).encode()


def report(counts: dict[str, Counter[str]], elapsed: float) -> str:
    rows = ["| reader | runs | clean errors | of which by the reader boundary | successes | crashes | hangs |",
            "|---|---|---|---|---|---|---|"]
    total: Counter[str] = Counter()
    for name, c in [*counts.items(), ("all", total)]:
        if name != "all":
            total.update(c)
        clean = c["clean"] + c["boundary"]
        rows.append(f"| {name} | {sum(c.values())} | {clean} | {c['boundary']} | {c['ok']} | {c['crash']} | {c['hang']} |")
    rows.append(f"\n{sum(total.values())} inputs in {elapsed:.0f} s")
    if BOUNDARY:
        rows.append("caught by the reader boundary (a specific check would name the problem better):")
        rows += [f"  {n} x {msg}" for msg, n in BOUNDARY.most_common(10)]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    if (argv if argv is not None else sys.argv[1:]) == ["--worker"]:
        worker()
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=3600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds one input may take before it is a hang")
    ap.add_argument("--readers", default=",".join(READERS))
    ap.add_argument("--crashes", type=Path, default=Path("out/fuzz-crashes"))
    args = ap.parse_args(argv)
    readers = [r.strip() for r in args.readers.split(",") if r.strip()]
    unknown = sorted(set(readers) - set(READERS))
    if unknown:
        ap.error(f"unknown readers {unknown}; allowed: {', '.join(READERS)}")
    start = time.monotonic()
    counts = fuzz(args.inputs, args.seconds, args.seed, readers, args.crashes, args.timeout)
    print(report(counts, time.monotonic() - start))
    bad = sum(c["crash"] + c["hang"] for c in counts.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
