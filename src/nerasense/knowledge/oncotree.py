"""OncoTree tumour types (``data/oncotree.tsv``, derived from the 2025-10-03 release) and lineage facts."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nerasense.knowledge.loader import KnowledgeBase
from nerasense.knowledge.schema import TcgaStudyMap


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


TCGA_MAP_FILE = "tcga_oncotree.yaml"


def tcga_map(kb: KnowledgeBase) -> tuple[dict[str, TcgaStudyMap], str]:
    """TCGA study abbreviation -> its OncoTree mapping, and the map's version (``kb_version`` and the first
    12 hex digits of the file's SHA-256, as the manifest lists it)."""
    rows = {m.study: m for m in kb.of("tcga_oncotree", TcgaStudyMap)}
    digest = hashlib.sha256((kb.data_dir / TCGA_MAP_FILE).read_bytes()).hexdigest()[:12]
    return rows, f"{TCGA_MAP_FILE} sha256:{digest} (knowledge base {kb.kb_version})"
