"""Derive ``knowledge/data/hotspots_cancerhotspots_v2.tsv`` from the cancerhotspots v2 tables.

The source files (bundled with the maftools R package, MIT licence; alleles from Chang et al., Cancer
Discov 2018) sit in ``../shared/data/cancerhotspots/`` and are not copied into the repository; this
script keeps only the genes that bear on neratinib, normalises the protein change to HGVS p. and joins
the GRCh38 position (the two files list the same alleles in the same order; checked row by row).

Run from the repository root:  .venv/bin/python tools/derive_hotspots.py [SHARED_DATA_DIR]
then update ``hotspot_tables.yaml`` with the printed counts and run ``nerasense kb rehash``.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

from nerasense.ingest.hgvs_protein import parse_protein_change
from nerasense.knowledge.genomics import HOTSPOT_COLUMNS

GENES = ("ERBB2", "ERBB3", "PIK3CA", "AKT1", "KRAS", "BRAF")
ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
    folder = shared / "cancerhotspots"
    with (folder / "cancerhotspots_v2_GRCh37.tsv").open() as f37, \
         (folder / "cancerhotspots_v2_GRCh38.tsv").open() as f38:
        rows37 = list(csv.reader(f37, delimiter="\t"))
        rows38 = list(csv.reader(f38, delimiter="\t"))
    if len(rows37) != len(rows38):
        raise SystemExit("GRCh37 and GRCh38 tables differ in length")
    out = []
    for r37, r38 in zip(rows37, rows38, strict=True):
        if r37[4:7] != r38[4:7]:
            raise SystemExit(f"row mismatch: {r37} vs {r38}")
        if r37[4] not in GENES:
            continue
        change = parse_protein_change(r37[6]).text
        out.append([r37[4], change, r37[5], r37[0], r37[1], r37[2], r37[3], r38[1]])
    out.sort(key=lambda r: (r[0], int(r[4]), r[1], r[5], r[6]))
    target = ROOT / "src" / "nerasense" / "knowledge" / "data" / "hotspots_cancerhotspots_v2.tsv"
    with target.open("w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(HOTSPOT_COLUMNS)
        w.writerows(out)
    counts = Counter(r[0] for r in out)
    print(f"wrote {len(out)} rows of {len(rows37)} to {target}")
    print({g: counts[g] for g in GENES})
    return 0


if __name__ == "__main__":
    sys.exit(main())
