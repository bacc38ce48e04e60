"""The ``nerasense`` command line: the only place that prints results and sets exit codes.

Each module in :mod:`nerasense.cli.commands` adds one verb through ``register(subparsers)``; the
handler returns a JSON-ready dict and a text rendering. ``--json`` prints exactly one JSON object on
stdout. Errors print one line on stderr and exit non-zero:

=====  =========================================
code   meaning
=====  =========================================
0      success
1      an unexpected nerasense error
2      bad input or bad usage (field, value, allowed)
3      the knowledge base is broken
4      valid input the analysis cannot handle
=====  =========================================
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import warnings
from collections.abc import Sequence

from nerasense._version import software_version
from nerasense.cli import commands
from nerasense.cli._common import CommandResult, UsageError
from nerasense.errors import AnalysisError, InputError, KnowledgeError, NerasenseError, NerasenseWarning

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_KNOWLEDGE, EXIT_ANALYSIS = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and name what is allowed."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}; see `{self.prog} --help`")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or, when ``argv`` names a command, with that command alone.

    Each command module is named after its verb, so ``nerasense annotate ...`` imports only the
    annotate module, not the statistics stack the other commands pull in (about a second of start-up).
    """
    parser = _Parser(
        prog="nerasense",
        description="Neratinib response prediction and trial statistics. Research use only.",
    )
    parser.add_argument("--version", action="version", version=f"nerasense {software_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    names = [m.name for m in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name)
             if not m.name.startswith("_")]
    verb = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    for name in [verb] if verb in names else names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        module.register(sub)
    return parser


def _print_error(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return EXIT_INPUT
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NerasenseWarning)
            result: CommandResult = args.handler(args)
        for caught_warning in caught:
            if issubclass(caught_warning.category, NerasenseWarning):
                result.warnings.append(str(caught_warning.message))
            else:  # a library's own warning: show it, do not hide it
                print(f"warning: {caught_warning.message}", file=sys.stderr)
    except (InputError, UsageError) as exc:
        _print_error(str(exc))
        return EXIT_INPUT
    except KnowledgeError as exc:
        _print_error(f"knowledge base: {exc}")
        return EXIT_KNOWLEDGE
    except AnalysisError as exc:
        _print_error(str(exc))
        return EXIT_ANALYSIS
    except NerasenseError as exc:
        _print_error(str(exc))
        return EXIT_ERROR
    if getattr(args, "json", False):
        payload = dict(result.payload)
        if result.warnings:
            existing = list(payload.get("warnings", []))
            payload["warnings"] = existing + [w for w in result.warnings if w not in existing]
        print(json.dumps(payload, indent=2, default=str, allow_nan=False))
    else:
        if result.text:
            print(result.text)
        for message in result.warnings:
            print(f"warning: {message}", file=sys.stderr)
    return result.exit_code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


__all__ = ["build_parser", "main", "run"]
