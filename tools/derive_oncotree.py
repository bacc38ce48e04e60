"""Derive knowledge/data/oncotree.tsv (code, parent, tissue, main type, name) from the OncoTree release
in ../shared/data/oncotree/ (CC BY 4.0, attribution in the TSV header and knowledge/data/README.md).

A curator's tool: run it when a new OncoTree release is adopted, then `nerasense kb rehash`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "data" / "oncotree" / "oncotree_2025_10_03.json"
TARGET = REPO / "src" / "nerasense" / "knowledge" / "data" / "oncotree.tsv"


def main() -> int:
    tree = json.loads(SOURCE.read_text(encoding="utf-8"))["TISSUE"]
    rows: list[tuple[str, str, str, str, str]] = []

    def walk(node: dict, parent: str) -> None:
        for child in node.get("children", {}).values():
            rows.append((child["code"], parent, child.get("tissue") or "", child.get("mainType") or "",
                         (child.get("name") or "").replace("\t", " ")))
            walk(child, child["code"])

    walk(tree, "TISSUE")
    rows.sort()
    with TARGET.open("w", encoding="utf-8") as fh:
        fh.write("# OncoTree release 2025-10-03 (cBioPortal oncotree), CC BY 4.0; derived by tools/derive_oncotree.py\n")
        fh.write("code\tparent\ttissue\tmain_type\tname\n")
        for row in rows:
            fh.write("\t".join(row) + "\n")
    print(f"wrote {len(rows)} codes to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
