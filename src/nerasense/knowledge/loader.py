"""Load, validate and version the knowledge base.

Nothing is read at import time. :func:`load_knowledge` reads every ``*.yaml`` in the data folder,
validates each entry into its strict model, checks every source id resolves, checks every file
against ``manifest.yaml`` and computes ``kb_version``. All problems are gathered before one
:class:`~nerasense.errors.KnowledgeError` is raised.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from nerasense.errors import KnowledgeError

if TYPE_CHECKING:
    from nerasense.knowledge import schema

# The model modules are imported where they are needed, not here: a command that reads the knowledge base
# from its cache imports only the models of the kinds it asks for (see load_knowledge_cached).

MANIFEST = "manifest.yaml"


def _read_yaml(path: Path) -> Any:
    import yaml  # imported here: a cached load (see load_knowledge_cached) reads no YAML

    # libyaml's C parser where PyYAML was built with it (about 10x faster than the pure-Python one)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # CSafeLoader or SafeLoader: safe


M = TypeVar("M", bound=BaseModel)


def default_data_dir() -> Path:
    """The data folder shipped inside the package."""
    from importlib import resources

    return Path(str(resources.files("nerasense.knowledge") / "data"))


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated knowledge: entries by kind, the sources registry and the version."""

    version: str
    content_hash: str
    data_dir: Path
    entries: Mapping[str, tuple[BaseModel, ...]]
    entry_files: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def kb_version(self) -> str:
        """Semantic version plus the first 12 hex digits of the content hash, e.g. ``0.1.0+3f2a…``."""
        return f"{self.version}+{self.content_hash[:12]}"

    def of(self, kind: str, model: type[M]) -> tuple[M, ...]:
        items = self.entries.get(kind, ())
        out = tuple(i for i in items if isinstance(i, model))
        if len(out) != len(items):  # pragma: no cover - registry and caller disagree
            raise KnowledgeError(f"kind {kind!r} does not hold {model.__name__} entries")
        return out

    @property
    def sources(self) -> dict[str, schema.Source]:
        from nerasense.knowledge import schema

        return {s.id: s for s in self.of("sources", schema.Source)}

    @property
    def trials(self) -> dict[str, schema.Trial]:
        from nerasense.knowledge import schema

        return {t.id: t for t in self.of("trials", schema.Trial)}

    def threshold(self, threshold_id: str) -> schema.Threshold:
        from nerasense.knowledge import schema

        for t in self.of("her2_thresholds", schema.Threshold):
            if t.id == threshold_id:
                return t
        raise KnowledgeError(f"her2_thresholds: no entry with id={threshold_id!r}")

    def cite(self, source_id: str) -> schema.Source:
        try:
            return self.sources[source_id]
        except KeyError:
            raise KnowledgeError(f"unknown source id {source_id!r}") from None


def _hash_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_files(data_dir: Path) -> list[Path]:
    """Every knowledge data file (YAML and TSV) except the manifest, sorted by name."""
    return sorted(
        p for p in data_dir.iterdir() if p.suffix in {".yaml", ".tsv"} and p.name != MANIFEST
    )


def content_hash(data_dir: Path) -> str:
    h = hashlib.sha256()
    for p in data_files(data_dir):
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def _format_validation(fname: str, label: str, err: ValidationError) -> Iterator[str]:
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(entry)"
        value = e.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        yield f"{fname}: {label}: field {loc}: {e['msg']}{shown}"


def _walk_sources(obj: Any) -> Iterator[str]:
    """Every source id referenced anywhere inside a validated model."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if name == "source" and isinstance(value, str):
                yield value
            elif name == "sources" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _walk_sources(value)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _walk_sources(v)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _walk_sources(v)


def _numbers_without_source(obj: Any, cited: bool, path: str) -> Iterator[str]:
    """Paths of numeric facts with no source on themselves or an enclosing entry."""
    if isinstance(obj, BaseModel):
        has_source = cited or bool(getattr(obj, "source", None)) or bool(getattr(obj, "sources", None))
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if isinstance(value, float | int) and not isinstance(value, bool) and not has_source:
                yield f"{path}.{name}"
            else:
                yield from _numbers_without_source(value, has_source, f"{path}.{name}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _numbers_without_source(v, cited, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers_without_source(v, cited, f"{path}.{k}")


def load_knowledge(data_dir: Path | None = None) -> KnowledgeBase:
    """Read and validate every knowledge file; raise one KnowledgeError listing all problems."""
    import yaml

    from nerasense.knowledge import schema
    from nerasense.knowledge.registry import KINDS

    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    problems: list[str] = []
    if not data_dir.is_dir():
        raise KnowledgeError(f"knowledge data folder {data_dir} does not exist")

    entries: dict[str, list[BaseModel]] = {}
    files_by_kind: dict[str, list[str]] = {}
    for path in data_files(data_dir):
        if path.suffix != ".yaml":
            continue  # TSV tables are read by the module that owns them; still hashed and listed
        try:
            doc = _read_yaml(path)
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML: {exc}".replace("\n", " "))
            continue
        if not isinstance(doc, dict) or set(doc) - {"kind", "description", "entries"}:
            problems.append(
                f"{path.name}: top level must be a mapping with keys kind, description, entries"
                + (f"; unexpected keys {sorted(set(doc) - {'kind', 'description', 'entries'})}"
                   if isinstance(doc, dict) else "")
            )
            continue
        kind = doc.get("kind")
        model = KINDS.get(str(kind))
        if model is None:
            problems.append(f"{path.name}: field kind={kind!r} is not allowed; allowed: {sorted(KINDS)}")
            continue
        raw_entries = doc.get("entries")
        if not isinstance(raw_entries, list) or not raw_entries:
            problems.append(f"{path.name}: field entries must be a non-empty list")
            continue
        files_by_kind.setdefault(str(kind), []).append(path.name)
        for i, raw in enumerate(raw_entries):
            label = schema.entry_label(raw, i)
            try:
                entries.setdefault(str(kind), []).append(model.model_validate(raw))
            except ValidationError as err:
                problems.extend(_format_validation(path.name, label, err))

    problems.extend(_cross_check(entries, files_by_kind))
    problems.extend(_check_tcga_map(entries, data_dir))
    version, manifest_problems = _check_manifest(data_dir)
    problems.extend(manifest_problems)
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(
        version=version,
        content_hash=content_hash(data_dir),
        data_dir=data_dir,
        entries={k: tuple(v) for k, v in entries.items()},
        entry_files={k: tuple(v) for k, v in files_by_kind.items()},
    )


def _cross_check(entries: dict[str, list[BaseModel]], files_by_kind: dict[str, list[str]]) -> list[str]:
    from nerasense.knowledge import schema
    problems: list[str] = []
    source_ids = {s.id for s in entries.get("sources", []) if isinstance(s, schema.Source)}
    if not source_ids:
        problems.append("sources.yaml: the sources registry is missing or empty")
    for kind, items in entries.items():
        fname = "/".join(files_by_kind.get(kind, [kind]))
        seen: set[str] = set()
        for i, item in enumerate(items):
            key = getattr(item, "id", None)
            if isinstance(key, str):
                if key in seen:
                    problems.append(f"{fname}: entry {i} (id={key!r}): duplicate id")
                seen.add(key)
            for sid in _walk_sources(item):
                if sid not in source_ids:
                    problems.append(
                        f"{fname}: entry {i}{f' (id={key!r})' if key else ''}: source {sid!r} "
                        "is not in sources.yaml; add it there or fix the id"
                    )
            if kind != "sources":
                for p in _numbers_without_source(item, False, f"entry {i}"):
                    problems.append(f"{fname}: {p}: a number with no source; add source: <id>")
    problems.extend(_check_evidence_links(entries))
    return problems


def _check_tcga_map(entries: dict[str, list[BaseModel]], data_dir: Path) -> list[str]:
    """tcga_oncotree.yaml: one row per study, and every OncoTree code it names is a code of oncotree.tsv."""
    import csv

    from nerasense.knowledge import schema
    rows = [e for e in entries.get("tcga_oncotree", []) if isinstance(e, schema.TcgaStudyMap)]
    if not rows:
        return []
    problems: list[str] = []
    try:
        with (data_dir / "oncotree.tsv").open(encoding="utf-8") as fh:
            codes = {r["code"] for r in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")}
    except (OSError, KeyError) as exc:
        return [f"tcga_oncotree.yaml: oncotree.tsv cannot be read to check the codes ({exc})"]
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.study in seen:
            problems.append(f"tcga_oncotree.yaml: entry {i} (study={row.study!r}): duplicate study")
        seen.add(row.study)
        if row.oncotree is not None and row.oncotree not in codes:
            problems.append(f"tcga_oncotree.yaml: entry {i} (study={row.study!r}): oncotree={row.oncotree!r} "
                            "is not a code of oncotree.tsv")
    return problems


def _check_evidence_links(entries: dict[str, list[BaseModel]]) -> list[str]:
    """Evidence items must point at regimens, levels, trials and trial results that exist."""
    from nerasense.knowledge import schema
    problems: list[str] = []
    regimens = {r.id for r in entries.get("regimens", []) if isinstance(r, schema.Regimen)}
    levels = {lv.id for lv in entries.get("evidence_levels", []) if isinstance(lv, schema.LevelDefinition)}
    trials = {t.id: t for t in entries.get("trials", []) if isinstance(t, schema.Trial)}
    for i, item in enumerate(entries.get("evidence", [])):
        if not isinstance(item, schema.EvidenceItem):
            continue
        where = f"evidence.yaml: entry {i} (id={item.id!r})"
        for rid in item.regimens:
            if rid != "*" and rid not in regimens:
                problems.append(f"{where}: regimen {rid!r} is not in regimens.yaml")
        if levels and item.level not in levels:
            problems.append(f"{where}: level {item.level!r} is not in evidence_levels.yaml")
        if item.trial is not None and item.trial not in trials:
            problems.append(f"{where}: trial {item.trial!r} is not in trials.yaml")
        if item.result is not None:
            owner = trials.get(item.trial or "")
            if owner is None or item.result not in {r.id for r in owner.results}:
                problems.append(f"{where}: result {item.result!r} is not a result of trial {item.trial!r}")
    return problems


def _check_manifest(data_dir: Path) -> tuple[str, list[str]]:
    import yaml

    from nerasense.knowledge import schema
    path = data_dir / MANIFEST
    if not path.is_file():
        return "0.0.0", [f"{MANIFEST}: missing; run `nerasense kb rehash`"]
    try:
        manifest = schema.Manifest.model_validate(_read_yaml(path))
    except (ValidationError, yaml.YAMLError) as err:
        return "0.0.0", [f"{MANIFEST}: invalid: {err}".replace("\n", " ")]
    problems = []
    listed = {f.name: f.sha256 for f in manifest.files}
    present = {p.name: p for p in data_files(data_dir)}
    for name in sorted(set(present) - set(listed)):
        problems.append(f"{MANIFEST}: {name} is not listed; run `nerasense kb rehash` after bumping version")
    for name in sorted(set(listed) - set(present)):
        problems.append(f"{MANIFEST}: lists {name}, which does not exist")
    for name in sorted(set(listed) & set(present)):
        if _hash_file(present[name]) != listed[name]:
            problems.append(
                f"{MANIFEST}: {name} changed since the manifest was written; review the change, bump "
                "version and run `nerasense kb rehash`"
            )
    return manifest.version, problems


def write_manifest(data_dir: Path, version: str | None = None, curated: str | None = None) -> schema.Manifest:
    """Rewrite ``manifest.yaml`` with the current checksums (a curator's tool, not used at run time)."""
    import yaml

    from nerasense.knowledge import schema
    path = data_dir / MANIFEST
    old: dict[str, Any] = {}
    if path.is_file():
        old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    manifest = schema.Manifest(
        version=version or str(old.get("version", "0.1.0")),
        curated=curated or str(old.get("curated", "")),
        files=[schema.ManifestFile(name=p.name, sha256=_hash_file(p)) for p in data_files(data_dir)],
    )
    path.write_text(
        "# Knowledge-base manifest: bump version when any file changes, then `nerasense kb rehash`.\n"
        + yaml.safe_dump(manifest.model_dump(mode="json"), sort_keys=False),
        encoding="utf-8",
    )
    return manifest


# --------------------------------------------------------------------------- the validated-load cache
#
# Validating ~300 entries into strict models costs about 0.1 s, paid by every command before it does any
# work. The bundled knowledge base is therefore validated once and the result kept in a pickle whose
# name is a hash of everything the result depends on: the bytes of every data file (and the manifest),
# the source of the modules that define and check the models, and the pydantic and Python versions. Any
# edit to any of these gives a new name, so a stale entry can never be read; only a load that passed
# every check is written. Set NERASENSE_NO_CACHE=1 to validate every time; NERASENSE_CACHE_DIR moves the
# folder (default: $XDG_CACHE_HOME/nerasense, else ~/.cache/nerasense). The folder is the user's own,
# as for any tool's cache: its files are loaded with pickle and must not come from anyone else.
#
# Each kind is pickled on its own inside the file and unpickled when first asked for (_PickledEntries):
# unpickling a model imports its module, so ``annotate``, which asks only for the genomics kinds, never
# imports or builds the HER2, dosing, ctDNA or trial models (about 0.04 s of its start-up).

CACHE_ENV, NO_CACHE_ENV = "NERASENSE_CACHE_DIR", "NERASENSE_NO_CACHE"
_MODEL_PACKAGES = ("knowledge", "domain")  # the modules whose source decides what a valid load is


def cache_dir() -> Path | None:
    """Where validated knowledge bases are kept, or None when caching is switched off."""
    if os.environ.get(NO_CACHE_ENV, "").strip() not in ("", "0"):
        return None
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # no home folder to be found: validate every time
        return None
    return Path(base) / "nerasense"


def cache_key(data_dir: Path) -> str:
    """A hash of the data files, the model code and the library versions (see the comment above)."""
    import pydantic

    h = hashlib.sha256()
    h.update(content_hash(data_dir).encode())
    h.update(_hash_file(data_dir / MANIFEST).encode() if (data_dir / MANIFEST).is_file() else b"no manifest")
    package = Path(__file__).resolve().parents[1]
    for sub in _MODEL_PACKAGES:
        for src in sorted((package / sub).glob("*.py")):
            h.update(src.name.encode())
            h.update(src.read_bytes())
    h.update(f"{pydantic.VERSION}|{sys.version}".encode())
    return h.hexdigest()


_CACHE_LAYOUT = 2  # the cache file's shape; a file of another shape is validated afresh and rewritten
_UNREADABLE = (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError)  # what a bad pickle raises


class _PickledEntries(Mapping[str, tuple[BaseModel, ...]]):
    """Entries by kind from the cache, each kind unpickled the first time it is asked for."""

    def __init__(self, pickled: dict[str, bytes], origin: Path) -> None:
        self._pickled = pickled
        self._origin = origin
        self._loaded: dict[str, tuple[BaseModel, ...]] = {}

    def __getitem__(self, kind: str) -> tuple[BaseModel, ...]:
        if kind not in self._loaded:
            blob = self._pickled[kind]  # KeyError for a kind the knowledge base has no file for, as a dict
            try:
                self._loaded[kind] = pickle.loads(blob)
            except _UNREADABLE as exc:
                raise KnowledgeError(f"knowledge cache {self._origin}: kind {kind!r} cannot be read ({exc}); "
                                     f"delete the file, or set {NO_CACHE_ENV}=1") from None
        return self._loaded[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pickled)

    def __len__(self) -> int:
        return len(self._pickled)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))  # pickled (e.g. sent to a worker process) as a plain dict


def _cache_blob(kb: KnowledgeBase) -> bytes:
    """The cache file's bytes: the version fields as plain values, each kind's entries pickled apart."""
    entries = {k: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL) for k, v in kb.entries.items()}
    return pickle.dumps({"layout": _CACHE_LAYOUT, "version": kb.version, "content_hash": kb.content_hash,
                         "entry_files": kb.entry_files, "entries": entries}, protocol=pickle.HIGHEST_PROTOCOL)


def _from_cache(target: Path, data_dir: Path) -> KnowledgeBase | None:
    """The knowledge base kept in ``target``, or None when it is absent, unreadable or of another layout."""
    try:
        # the outer pickle holds only strings, bytes and dicts: reading it imports no model
        blob = pickle.loads(target.read_bytes())
    except (OSError, *_UNREADABLE):
        return None
    if not isinstance(blob, dict) or blob.get("layout") != _CACHE_LAYOUT:
        return None
    return KnowledgeBase(version=blob["version"], content_hash=blob["content_hash"], data_dir=data_dir,
                         entries=_PickledEntries(blob["entries"], target), entry_files=blob["entry_files"])


def load_knowledge_cached(data_dir: Path | None = None) -> KnowledgeBase:
    """:func:`load_knowledge`, answered from the cache when an identical load has passed before."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    folder = cache_dir()
    if folder is None or not data_dir.is_dir():
        return load_knowledge(data_dir)
    target = folder / f"kb-{cache_key(data_dir)[:32]}.pickle"
    cached = _from_cache(target, data_dir)
    if cached is not None:
        return cached
    kb = load_knowledge(data_dir)  # absent, unreadable or from another layout: validate afresh, write again
    try:
        import tempfile

        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".kb-", suffix=".tmp", delete=False) as fh:
            fh.write(_cache_blob(kb))
        os.replace(fh.name, target)  # atomic: a reader sees the whole file or none
    except OSError:
        pass  # a read-only or full disk costs speed, never correctness
    return kb


@lru_cache(maxsize=1)
def default_knowledge() -> KnowledgeBase:
    """The bundled knowledge base, loaded once per process (through the validated-load cache)."""
    return load_knowledge_cached()
