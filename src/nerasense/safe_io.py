"""Reading and writing files that come from the outside world, safely. Imports only :mod:`nerasense.errors`.

Every reader of nerasense goes through these checks, so hostile or damaged input ends as one
:class:`~nerasense.errors.InputError` naming the file, the value and what is allowed, never as a traceback,
a hang, a read outside the case folder or a half-written output:

* :func:`check_input` — the path must be a regular file (a named pipe, device, socket or folder is refused
  before it is opened, so a FIFO cannot hang a run) no larger than its limit;
* :func:`confine` — a file named *inside* another file (a patient file's ``sequencing`` paths) must lie under
  that file's folder, or under a folder the user allowed, after symlinks are resolved; a refused file is
  never opened, so no line of it can be echoed;
* :func:`decode` — UTF-8 with or without a byte-order mark; UTF-16/UTF-32 are named and refused; the first
  byte that is not UTF-8 is named by line and column;
* :func:`split_lines` — records end at ``\\n`` or ``\\r\\n`` only (``str.splitlines`` also splits at U+2028,
  U+0085, form feed and others, which would turn one damaged record into two);
* :func:`load_yaml` / :func:`load_json` — no aliases beyond a budget (the "billion laughs" bomb), no explicit
  tags, no deep nesting, no duplicate keys, no NaN/Infinity;
* :func:`check_id` — ids used in output file names;
* :func:`atomic_write` / :func:`atomic_output` — outputs appear whole or not at all (temporary name in the
  same folder, then an atomic rename);
* :func:`input_boundary` — any failure inside a reader becomes an InputError naming the file.

Limits (:class:`Limits`) come from environment variables, read when a check runs (never at import).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import os
import re
import stat
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, ParamSpec, TypeVar

from nerasense.errors import InputError, NerasenseError, Problem

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Size and shape limits on input; each one is lifted by the environment variable named beside it."""

    case_file_mb: float = 10.0  # NERASENSE_MAX_CASE_FILE_MB: patient files, cohort YAML
    table_mb: float = 2048.0  # NERASENSE_MAX_TABLE_MB: cohort, lesion, ctDNA and AE tables
    genomic_mb: float = 65536.0  # NERASENSE_MAX_GENOMIC_MB: MAF, VCF, copy-number tables
    yaml_aliases: int = 100  # NERASENSE_YAML_MAX_ALIASES: aliases (*name) in one YAML document
    yaml_nodes: int = 100_000  # NERASENSE_YAML_MAX_NODES: values after aliases are expanded
    nesting: int = 64  # NERASENSE_MAX_NESTING: depth of nested lists / mappings in YAML or JSON
    json_stdout_mb: float = 256.0  # NERASENSE_MAX_JSON_MB: JSON printed on stdout (larger: write with -o)

    ENV: ClassVar[dict[str, str]] = {
        "case_file_mb": "NERASENSE_MAX_CASE_FILE_MB",
        "table_mb": "NERASENSE_MAX_TABLE_MB",
        "genomic_mb": "NERASENSE_MAX_GENOMIC_MB",
        "yaml_aliases": "NERASENSE_YAML_MAX_ALIASES",
        "yaml_nodes": "NERASENSE_YAML_MAX_NODES",
        "nesting": "NERASENSE_MAX_NESTING",
        "json_stdout_mb": "NERASENSE_MAX_JSON_MB",
    }


def limits() -> Limits:
    """The limits in force: the defaults, each overridden by its environment variable when set."""
    values: dict[str, Any] = {}
    problems = []
    for name, var in Limits.ENV.items():
        text = os.environ.get(var)
        if text is None or not text.strip():
            continue
        kind = type(getattr(Limits, name))
        try:
            value = kind(text)
            if not value > 0 or value != value or value == float("inf"):
                raise ValueError(text)
        except ValueError:
            problems.append(Problem(var, text, f"a positive finite {'integer' if kind is int else 'number'}"))
            continue
        values[name] = value
    if problems:
        raise InputError(problems)
    return Limits(**values)


# ----------------------------------------------------------------------------------------- files in

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_input(path: str | Path, what: str, *, field: str = "file", limit_mb: float | None = None,
                limit_var: str = "") -> int:
    """Refuse a path that is missing, not a regular file, or larger than ``limit_mb``; return its size.

    Runs before the file is opened: opening a FIFO for reading blocks until a writer comes, forever.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(Problem(field, str(path), f"an existing {what} file", _os_reason(exc))) from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise InputError(Problem(field, str(path), f"a regular {what} file, not {kind.removeprefix('not ')}",
                                 "name the file itself" if kind == "a folder" else "copy the data into a file"))
    if limit_mb is not None and st.st_size > limit_mb * _MB:
        lift = f"; set {limit_var} (megabytes) to lift the limit" if limit_var else ""
        raise InputError(Problem(field, str(path), f"a {what} file of at most {limit_mb:g} MB",
                                 f"the file has {st.st_size / _MB:.1f} MB{lift}"))
    return st.st_size


def read_input(path: str | Path, what: str, *, field: str = "file", kind: str = "table") -> bytes:
    """The bytes of a checked input file; ``kind`` (case_file / table / genomic) picks the size limit."""
    lim = limits()
    mb = {"case_file": lim.case_file_mb, "table": lim.table_mb, "genomic": lim.genomic_mb}[kind]
    check_input(path, what, field=field, limit_mb=mb, limit_var=Limits.ENV[f"{kind}_mb"])
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(Problem(field, str(path), f"a readable {what} file", _os_reason(exc))) from None


def confine(name: str, base: Path, *, field: str, allowed: Sequence[Path] = (), where: str = "") -> Path:
    """The path ``name`` (relative to ``base``, the folder of the file that names it), resolved, if it lies
    under ``base`` or one of ``allowed`` after every symlink is followed; else InputError.

    The refused file is not opened, so nothing of it reaches the message.
    """
    given = Path(name)
    candidate = given if given.is_absolute() else base / given
    try:
        resolved = candidate.resolve()
        roots = [Path(base).resolve(), *(Path(a).resolve() for a in allowed)]
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before Python 3.13)
        raise InputError(Problem(field, name, "a path that resolves", str(exc), where=where)) from None
    if any(resolved == root or resolved.is_relative_to(root) for root in roots):
        return resolved
    folders = ", ".join(str(r) for r in roots)
    raise InputError(Problem(field, name, f"a file inside {folders} (the folder of the file that names it"
                             f"{' or a folder given with --allow-dir' if not allowed else ', or an allowed folder'})",
                             "the file was not read; move it beside the patient file or pass --allow-dir FOLDER",
                             where=where))


_BOMS = ((b"\xef\xbb\xbf", "UTF-8"), (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
         (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"), (b"\xff\xfe", "UTF-16 (little-endian)"),
         (b"\xfe\xff", "UTF-16 (big-endian)"))


def encoding_problem(data: bytes, name: str, *, field: str = "file", partial: bool = False) -> Problem | None:
    """Why ``data`` is not UTF-8 text (a UTF-16/32 byte-order mark, or the first bad byte by line and column).

    ``partial``: ``data`` is the head of a longer file, so a character cut at its end is not a fault.
    """
    for bom, label in _BOMS:
        if data.startswith(bom):
            if label == "UTF-8":
                data = data[len(bom):]
                break
            return Problem(field, name, "UTF-8 text (with or without a byte-order mark)",
                           f"the file is {label}; save it as UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if partial and exc.end == len(data) and exc.reason == "unexpected end of data":
            return None
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return Problem(field, name, "UTF-8 text (with or without a byte-order mark)",
                       f"line {line}, column {column}: byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8")
    return None


def decode(data: bytes, name: str, *, field: str = "file") -> str:
    """UTF-8 text without its byte-order mark; InputError naming the encoding or the first bad byte."""
    problem = encoding_problem(data, name, field=field)
    if problem is not None:
        raise InputError(problem)
    return data.decode("utf-8").removeprefix("\ufeff")


def split_lines(text: str) -> list[str]:
    """Lines ended by ``\\n`` or ``\\r\\n`` only (no split at U+2028, U+0085, form feed, lone ``\\r``)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def check_columns(names: Sequence[object], name: str) -> None:
    """Refuse a header that names one column twice (a reader would silently use one of them)."""
    seen: dict[str, int] = {}
    dupes = []
    for i, n in enumerate(names, start=1):
        key = str(n)
        if key in seen and key not in dupes:
            dupes.append(key)
        seen.setdefault(key, i)
    if dupes:
        raise InputError([Problem("column", d, "each column name once", f"{name}: the header names {d!r} more than once; "
                                  "rename or drop the copy") for d in dupes])


def read_delimited(path: str | Path, what: str, *, sep: str, field: str = "file", comment: str | None = None,
                   **options: Any) -> Any:
    """A pandas DataFrame from a CSV/TSV input checked here first: a regular file within the table limit,
    UTF-8 (byte-order mark allowed), records ended by ``\n`` or ``\r\n`` only, each column named once."""
    import csv
    import io

    import pandas as pd

    name = str(path)
    text = decode(read_input(path, what, field=field, kind="table"), name, field=field)
    if "\r" in text and "\n" not in text:
        raise InputError(Problem(field, name, "lines ended by \\n or \\r\\n", "the file ends its lines with \\r alone "
                                 "(old Mac style); convert it, e.g. with `tr '\\r' '\\n'`"))
    lines = split_lines(text)
    header = next((ln for ln in lines if not (comment and ln.startswith(comment))), None)
    if header is None or not header.strip():
        raise InputError(Problem(field, name, f"a {what} with a header line", "the file is empty"))
    try:
        columns = next(csv.reader([header], delimiter=sep))
    except csv.Error as exc:
        raise InputError(Problem(field, name, f"a {what} whose header line is {sep!r}-separated text",
                                 f"line 1: {exc}")) from None
    check_columns([c.strip() for c in columns], Path(name).name)
    try:
        return pd.read_csv(io.StringIO("\n".join(lines) + "\n"), sep=sep, comment=comment, lineterminator="\n",
                           **options)
    except pd.errors.EmptyDataError:
        raise InputError(Problem(field, name, f"a {what} with a header line", "the file holds no columns")) from None
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        raise InputError(Problem(field, name, f"a well-formed {what}", _short(exc))) from None


def read_parquet_checked(path: str | Path, what: str, *, field: str = "file") -> Any:
    """A pandas DataFrame from a checked Parquet input whose columns are each named once."""
    import pandas as pd

    lim = limits()
    check_input(path, what, field=field, limit_mb=lim.table_mb, limit_var=Limits.ENV["table_mb"])
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(Problem(field, str(path), f"a Parquet {what}", _short(exc))) from None
    check_columns(list(frame.columns), Path(path).name)
    return frame


# ------------------------------------------------------------------------------------------- YAML / JSON


class _Refused(Exception):
    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.mark = mark


def _yaml_loader(lim: Limits) -> type:
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """SafeLoader with a budget on aliases and expanded size, a nesting limit, no explicit tags, no
        implicit timestamps (dates stay text for the models to check) and no duplicate keys."""

        yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's own class attribute)
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._nodes = 0
            self._aliases = 0
            self._sizes: dict[str, int] = {}

        def _count(self, n: int, mark: Any) -> None:
            self._nodes += n
            if self._nodes > lim.yaml_nodes:
                raise _Refused(f"more than {lim.yaml_nodes} values once aliases are expanded "
                               f"({Limits.ENV['yaml_nodes']} lifts the limit)", mark)

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > lim.yaml_aliases:
                    raise _Refused(f"more than {lim.yaml_aliases} aliases (*name) ({Limits.ENV['yaml_aliases']} "
                                   "lifts the limit)", event.start_mark)
                self._count(self._sizes.get(str(event.anchor), 1), event.start_mark)
                return super().compose_node(parent, index)
            tag = getattr(event, "tag", None)
            if tag not in (None, "!"):
                raise _Refused(f"explicit YAML tags ({tag}) are not read; write a plain value", event.start_mark)
            self._depth += 1
            if self._depth > lim.nesting:
                raise _Refused(f"nested deeper than {lim.nesting} levels ({Limits.ENV['nesting']} lifts the limit)",
                               event.start_mark)
            start = self._nodes
            self._count(1, event.start_mark)
            try:
                node = super().compose_node(parent, index)
            finally:
                self._depth -= 1
            anchor = getattr(event, "anchor", None)
            if anchor:
                self._sizes[str(anchor)] = self._nodes - start
            return node

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen = set()
                for key_node, _value in node.value:
                    key = getattr(key_node, "value", None)
                    if isinstance(key, str) and key != "<<":
                        if key in seen:
                            raise _Refused(f"the key {key!r} appears twice in one mapping", key_node.start_mark)
                        seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return BoundedLoader


def _mark(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def load_yaml(text: str, name: str, *, field: str = "(file)") -> Any:
    """One YAML document, parsed with the limits of :class:`Limits`; InputError naming line and column."""
    import yaml

    lim = limits()
    loader = None
    try:
        loader = _yaml_loader(lim)(text)  # the reader refuses control characters here, before parsing
        return loader.get_single_data()
    except _Refused as exc:
        raise InputError(Problem(field, name, "plain YAML: no explicit tags, a bounded number of aliases, "
                                 f"at most {lim.nesting} levels of nesting, each key once",
                                 f"{_mark(exc.mark)}{exc}")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        why = " ".join(str(exc.problem or exc.context or "").split())
        raise InputError(Problem(field, name, "valid YAML", f"{_mark(mark)}{why}")) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError) as exc:
        raise InputError(Problem(field, name, "valid YAML", f"{type(exc).__name__}: {_short(exc)}")) from None
    finally:
        if loader is not None:
            loader.dispose()


def _depth(value: Any, limit: int) -> bool:
    """True when ``value`` nests deeper than ``limit`` (iterative: a deep document must not exhaust the stack)."""
    stack = [(value, 1)]
    while stack:
        item, d = stack.pop()
        if d > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return False


def load_json(text: str, name: str, *, field: str = "(file)") -> Any:
    """A JSON document without NaN/Infinity, duplicate keys or nesting beyond the limit."""
    lim = limits()
    # a cheap bound before parsing: json's recursive parser would hit Python's recursion limit first
    depth = max_depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            max_depth = max(max_depth, depth)
            if max_depth > lim.nesting:
                raise InputError(Problem(field, name, f"JSON nested at most {lim.nesting} levels",
                                         f"{Limits.ENV['nesting']} lifts the limit"))
        elif ch in "]}":
            depth -= 1

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise _Refused(f"the key {k!r} appears twice in one object")
            out[k] = v
        return out

    def constant(word: str) -> float:
        raise _Refused(f"{word} is not a JSON number")

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except _Refused as exc:
        raise InputError(Problem(field, name, "plain JSON: each key once, finite numbers", str(exc))) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(Problem(field, name, "valid JSON", _short(exc))) from None
    if _depth(value, lim.nesting):  # strings holding brackets do not count above; values do here
        raise InputError(Problem(field, name, f"JSON nested at most {lim.nesting} levels"))
    return value


# -------------------------------------------------------------------------------------------------- ids

_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def check_id(value: str, field: str = "patient_id", where: str = "") -> str:
    """An id that is safe as a file name: 1-128 of ``A-Z a-z 0-9 . _ -``, not ``.`` or ``..``."""
    if not isinstance(value, str) or not _ID.fullmatch(value) or set(value) == {"."}:
        raise InputError(Problem(field, value, "1-128 characters from A-Z, a-z, 0-9, '.', '_', '-' (not '.' or '..')",
                                 "the id names output files", where=where))
    return value


# --------------------------------------------------------------------------------------------- files out


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def output_error(path: str | Path, exc: OSError) -> InputError:
    return InputError(Problem("output", str(path), "a file path nerasense can write", _os_reason(exc)))


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block ends without error, else removed.

    For writers that need a path (matplotlib, WeasyPrint, polars). The rename is atomic on one file system,
    so ``path`` holds either its old content or the whole new file, never a part.
    """
    target = Path(path)
    try:
        if target.is_symlink() or target.exists():
            target.resolve(strict=True)  # a symlink loop or a dangling link fails here
            if not target.is_file():  # never rename over a folder, a device (/dev/full) or a pipe
                raise OSError(f"{target} exists and is not a regular file")
        folder = target.parent
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
        os.close(fd)
    except (OSError, RuntimeError) as exc:
        raise output_error(target, exc if isinstance(exc, OSError) else OSError(str(exc))) from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        raise output_error(target, exc) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file and an atomic rename."""
    with atomic_output(path) as tmp:
        try:
            with tmp.open("wb") as fh:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise output_error(path, exc) from None
    return Path(path)


# ---------------------------------------------------------------------------------------------- boundary

P = ParamSpec("P")
R = TypeVar("R")


def _short(exc: BaseException, n: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= n else text[:n] + "…"


def input_failure(path: str | Path, what: str, exc: BaseException) -> InputError:
    """The InputError for an unexpected failure while reading ``path``: the encoding first, else the library's
    own words, shortened."""
    with contextlib.suppress(OSError, EOFError, zlib.error):
        with open(path, "rb") as fh:
            head = fh.read(4 * _MB)
        if head.startswith(b"\x1f\x8b"):
            with gzip.open(path, "rb") as gz:
                head = gz.read(4 * _MB)
        problem = encoding_problem(head, str(path), partial=len(head) == 4 * _MB)
        if problem is not None:
            return InputError(problem)
    return InputError(Problem("file", str(path), f"a well-formed {what}",
                              f"it could not be read: {type(exc).__name__}: {_short(exc)}"))


def input_boundary(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a reader whose first argument is the path: any failure that is not already a nerasense error
    becomes an InputError naming the file (the boundary the CLI relies on: no traceback on bad input)."""

    def wrap(reader: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(reader)
        def read(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return reader(*args, **kwargs)
            except NerasenseError:
                raise
            except (KeyboardInterrupt, SystemExit, GeneratorExit):
                raise
            except Exception as exc:
                path = args[0] if args else kwargs.get("path", "")
                raise input_failure(str(path), what, exc) from exc

        return read

    return wrap


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Collect what C libraries (htslib) print on file descriptor 2 while the block runs, instead of showing it.

    Yields a list that holds the captured lines once the block ends.
    """
    lines: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a daemon): nothing to capture
        yield lines
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read(65536).decode("utf-8", "replace").splitlines())


__all__ = [
    "Limits",
    "atomic_output",
    "atomic_write",
    "captured_stderr",
    "check_columns",
    "check_id",
    "check_input",
    "confine",
    "decode",
    "encoding_problem",
    "input_boundary",
    "input_failure",
    "limits",
    "load_json",
    "load_yaml",
    "output_error",
    "read_delimited",
    "read_input",
    "read_parquet_checked",
    "split_lines",
]
