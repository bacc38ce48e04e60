"""OncoTree tumour types (``data/oncotree.tsv``, derived from the 2025-10-03 release) and lineage facts."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nerasense.knowledge.loader import KnowledgeBase


@dataclass(frozen=True)
class OncoTree:
    parent: dict[str, str]
    name: dict[str, str]
    main_type: dict[str, str]

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Codes from the tissue down to (not including) ``code``."""
        chain: list[str] = []
        node = self.parent.get(code)
        while node and node != "TISSUE":
            chain.append(node)
            node = self.parent.get(node)
        return tuple(reversed(chain))

    def __contains__(self, code: object) -> bool:
        return code in self.parent


@lru_cache(maxsize=4)
def _read(path: Path) -> OncoTree:
    parent, name, main = {}, {}, {}
    with path.open(encoding="utf-8") as fh:
        lines = (ln for ln in fh if not ln.startswith("#"))
        for row in csv.DictReader(lines, delimiter="\t"):
            parent[row["code"]] = row["parent"]
            name[row["code"]] = row["name"]
            main[row["code"]] = row["main_type"]
    return OncoTree(parent, name, main)


def oncotree(kb: KnowledgeBase) -> OncoTree:
    return _read(kb.data_dir / "oncotree.tsv")
