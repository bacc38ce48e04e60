"""nerasense screen on GENIE-scale MAF text: MC3 replicated with renamed samples (prints only; no asserts).

The TCGA MC3 non-silent table (``../shared/data/tcga-mc3/mc3_nonsilent.parquet``, 707,427 rows) is written as
MAF text to a temporary folder ``SCALE`` times over, each copy with its sample barcodes suffixed ``-R<i>``
(x8 = 5,659,416 rows, x30 = 21,222,810 rows). Each measurement runs in its own child process, so its peak
resident memory (``ru_maxrss``, which covers the child's own children: the Dask workers) is its own:

* ``plain read`` — ``polars.read_csv`` of the file, every column as text (the floor any reader pays);
* ``screen local`` — ``nerasense screen FILE -o OUT --tumour-column Cohort --tumour-vocabulary label`` through
  the command's own entry point (planning, every part read and checked with the annotate readers, every row
  classified, the per-sample / per-tumour-type / per-allele tables and the HTML summary written);
* ``screen dask`` — the same with ``--engine dask`` on a LocalCluster (its start-up is part of the time).

Plain reads and screens alternate (a busy spell on the shared machine then falls on both); the printout
gives every run, the best of each and the median paired ratio, with the load average before each run.
Targets (issue 19): x8 screened in under 10 s and within 2x of the plain read; x30 under 2 GB peak.

    .venv/bin/python benchmarks/screen.py [--scale 8] [--big 30] [--pairs 3] [--scaling] [--cache DIR]

``--cache DIR`` keeps the MAF files in DIR and reuses them on the next run (writing x30 takes a while).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]
MC3 = ROOT.parent / "shared" / "data" / "tcga-mc3" / "mc3_nonsilent.parquet"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
step, path, out, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
if step == "plain":
    import polars as pl
    frame = pl.read_csv(path, separator="\t", quote_char=None, infer_schema=False)
    rows = frame.height
else:
    from nerasense.cli import main
    code = main(["screen", path, "-o", out, "--tumour-column", "Cohort", "--tumour-vocabulary", "label", "--json",
                 *extra])
    assert code == 0, code
    rows = None
seconds = time.perf_counter() - t0
self_ = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "rows": rows, "cpu": self_.ru_utime + self_.ru_stime + kids.ru_utime + kids.ru_stime,
                  "peak_mb": max(self_.ru_maxrss, kids.ru_maxrss) / 1024}), file=sys.stderr)
"""


def write_maf(scale: int, folder: Path) -> Path:
    """MC3 x ``scale`` as MAF text, streamed (polars sink), samples renamed per copy."""
    import polars as pl

    path = folder / f"mc3_x{scale}.maf"
    if path.exists():
        return path
    base = pl.scan_parquet(MC3)
    copies = [base.with_columns(pl.col("Tumor_Sample_Barcode") + f"-R{i}") for i in range(scale)]
    pl.concat(copies).sink_csv(path, separator="\t", quote_style="never")
    return path


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(step: str, path: Path, out: Path, *extra: str) -> dict[str, float]:
    # Python's bytecode is cached (outside the checkout), as for an installed package, which pip compiles at
    # install: a shell with PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module in every child
    # (about a second of CPU for the screen's imports, a third of that for polars alone)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(out.parent / "pycache")
    before = load()
    done = subprocess.run([sys.executable, "-c", CHILD, step, str(path), str(out), *extra], capture_output=True,
                          text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"{step} failed: {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stderr.strip().splitlines()[-1])
    result["load"] = before  # type: ignore[assignment]
    if step != "plain":
        result["json"] = json.loads(done.stdout)  # type: ignore[assignment]
    return result


def show(label: str, r: dict) -> None:
    print(f"  {label:<34} {r['seconds']:7.2f} s  cpu {r['cpu']:7.2f} s  peak {r['peak_mb']:7.0f} MB  "
          f"(load before: {r['load']})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=8)
    ap.add_argument("--big", type=int, default=30, help="the memory run (0: skip)")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--scaling", action="store_true", help="also the 1/2-worker and part-size table")
    ap.add_argument("--cache", type=Path, default=None, help="keep (and reuse) the MAF files in this folder")
    args = ap.parse_args()
    if not MC3.is_file():
        raise SystemExit(f"{MC3} is absent")
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}; load {load()}")
    with tempfile.TemporaryDirectory(prefix="nerasense-screen-bench-") as tmp:
        folder = Path(tmp)
        maf_folder = args.cache or folder
        maf_folder.mkdir(parents=True, exist_ok=True)
        path = write_maf(args.scale, maf_folder)
        print(f"x{args.scale}: {path.stat().st_size / 2**20:,.0f} MB of MAF text")
        warm = folder / "warm.maf"  # one small screen and read first, untimed: the bytecode cache is written
        with path.open("rb") as fh:
            warm.write_bytes(b"".join(fh.readline() for _ in range(2000)))
        run("plain", warm, folder / "o")
        run("screen", warm, folder / "warm")
        plains, screens, ratios = [], [], []
        for i in range(args.pairs):
            p = run("plain", path, folder / "o")
            s = run("screen", path, folder / f"s{i}")
            plains.append(p)
            screens.append(s)
            ratios.append(s["seconds"] / p["seconds"])
            show(f"plain read x{args.scale} ({p['rows']:,} rows)", p)
            show(f"screen local x{args.scale}", s)
        a = screens[-1]["json"]["accounting"]
        print(f"  accounted: {a['accounted']}, input {a['input_records']:,}, refused {a['refused']}, "
              f"duplicated rows {a['duplicate_rows']:,}, parts {a['parts']}")
        best_p, best_s = min(x["seconds"] for x in plains), min(x["seconds"] for x in screens)
        print(f"  best plain {best_p:.2f} s, best screen {best_s:.2f} s; median paired ratio "
              f"{statistics.median(ratios):.2f}x (target: < 10 s and < 2x)")
        d = run("screen", path, folder / "dask", "--engine", "dask", "--workers", "2")
        show(f"screen dask x{args.scale} (LocalCluster, 2 procs)", d)
        print(f"  dask overhead over the best local run: {d['seconds'] - best_s:+.2f} s")
        if args.scaling:
            print(f"scaling (x{args.scale}):")
            for label, extra in (("local, 1 part in flight, 24 MB parts", ("--workers", "1")),
                                 ("local, 2 parts in flight, 24 MB parts", ("--workers", "2")),
                                 ("local, 2 in flight, 24 MB, no HTML", ("--workers", "2", "--no-html")),
                                 ("local, 2 in flight, 8 MB parts", ("--workers", "2", "--chunk-mb", "8")),
                                 ("local, 2 in flight, 96 MB parts", ("--workers", "2", "--chunk-mb", "96")),
                                 ("dask, 1 worker process", ("--engine", "dask", "--workers", "1")),
                                 ("dask, 2 worker processes", ("--engine", "dask", "--workers", "2")),
                                 ("dask, 2 workers, 96 MB parts", ("--engine", "dask", "--workers", "2",
                                                                   "--chunk-mb", "96"))):
                r = run("screen", path, folder / "scale", *extra)
                show(label + f" ({r['json']['accounting']['parts']} parts)", r)
        if args.cache is None:
            path.unlink()
        if args.big:
            big = write_maf(args.big, maf_folder)
            print(f"x{args.big}: {big.stat().st_size / 2**20:,.0f} MB of MAF text")
            r = run("screen", big, folder / "big")
            show(f"screen local x{args.big}", r)
            a = r["json"]["accounting"]
            print(f"  accounted: {a['accounted']}, input {a['input_records']:,}, parts {a['parts']} "
                  "(target: peak < 2 GB)")


if __name__ == "__main__":
    main()
