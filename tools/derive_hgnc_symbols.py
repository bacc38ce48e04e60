"""Derive ``knowledge/data/hgnc_symbols.tsv``: the approved symbols of human protein-coding genes.

Source: the Bioconductor annotation package org.Hs.eg.db (NCBI Gene, whose human symbols are the HGNC-approved
ones), as Debian ships it (``apt-get install r-bioc-org.hs.eg.db``; 3.16.0, NCBI Gene of 2022-09-12). Nothing is
downloaded at run time: the command line reads the derived list to refuse a symbol that names no gene and to
suggest the closest one (``nerasense variant FOO ...``).

Run from the repository root:
    .venv/bin/python tools/derive_hgnc_symbols.py [/usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite]
then update ``hgnc_symbols.md`` with the printed count and run ``nerasense kb rehash``.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = Path("/usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite")


def main() -> int:
    db = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    meta = dict(con.execute("select name, value from metadata").fetchall())
    rows = con.execute(
        "select i.symbol from gene_info i join genetype t on t._id = i._id "
        "where t.gene_type = 'protein-coding' order by i.symbol").fetchall()
    out = ROOT / "src" / "nerasense" / "knowledge" / "data" / "hgnc_symbols.tsv"
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"# protein-coding gene symbols, NCBI Gene {meta['EGSOURCEDATE']} via org.Hs.eg.db; see hgnc_symbols.md\n")
        fh.write("symbol\n")
        for (symbol,) in rows:
            fh.write(f"{symbol}\n")
    print(f"{len(rows)} symbols written to {out.relative_to(ROOT)} (NCBI Gene {meta['EGSOURCEDATE']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
