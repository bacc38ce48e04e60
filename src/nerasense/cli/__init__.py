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
import contextlib
import importlib
import json
import math
import os
import pkgutil
import sys
import warnings
from collections.abc import Sequence

from nerasense._version import software_version
from nerasense.cli import commands
from nerasense.cli._common import CommandResult, UsageError
from nerasense.errors import AnalysisError, InputError, KnowledgeError, NerasenseError, NerasenseWarning, Problem
from nerasense.safe_io import Limits, limits

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_KNOWLEDGE, EXIT_ANALYSIS = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and name what is allowed."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}; see `{self.prog} --help`")


# one line per verb for `nerasense --help`, so that the help (and --version) answer without importing a command
# module and the analysis stack behind it; tests/test_hostile_input.py holds it equal to each module's own help
VERBS = {
    "annotate": "classify every alteration in a MAF, VCF or copy-number table",
    "assess": "assess a patient file: a call, evidence and expected outcome per regimen",
    "audit": "verify or export the service's hash-chained audit trail",
    "batch": "assess many patient files; JSON per patient and a summary TSV",
    "call": "align reads (bwa mem, samtools) and call low-fraction variants with the LOD at every hotspot",
    "celllines": "build the CTRP drug-response × GDSC genomic-feature tables for discover/validate",
    "cohort": "cohort analyses (response, survival, RECIST, AEs, subgroups) as a report",
    "ctdna": "read serial plasma ctDNA: tumour fraction, molecular response, emergent resistance",
    "cutpoint": "optimal biomarker cut-point for survival with selection-adjusted p-values",
    "design": "single-arm and Simon two-stage phase II sample sizes",
    "discover": "find features that predict a response; model, rules, HTML report",
    "dosing": "doses and a dosing calendar for a neratinib regimen (label and trial schedules)",
    "her2": "interpret HER2 testing by tumour type (breast ASCO/CAP 2018; gastroesophageal; colorectal HERACLES)",
    "interactions": "check concomitant medications against neratinib's interaction classes",
    "kb": "validate, show or re-checksum the knowledge base",
    "meta": "pool response rates or hazard ratios across studies (DL, REML, PM; HKSJ)",
    "plan": "simulated power by sample size against a reconstructed control arm",
    "recist": "RECIST 1.1 best overall response per patient from a lesion table",
    "reconstruct": "rebuild patient-level survival data from a digitised Kaplan–Meier curve",
    "screen": "screen cohort mutation tables (GENIE/cBioPortal studies, MAFs, Parquet) for neratinib-relevant alterations",
    "serve": "run the API and the web page for the tumour board",
    "stats": "response rates with exact confidence intervals",
    "survival": "Kaplan–Meier, log-rank and Cox models that match R survival",
    "users": "add users, issue and revoke API tokens for the service",
    "validate": "apply a locked model or rule to a second table; discrimination, calibration, drop",
    "variant": "classify one alteration (domain, exon, hotspot, effect on neratinib, evidence)",
}


def build_parser(argv: Sequence[str] | None = None, *, stubs: bool = True) -> argparse.ArgumentParser:
    """The parser; when ``argv`` names a command, with that command alone.

    Each command module is named after its verb, so ``nerasense annotate ...`` imports only the
    annotate module, not the statistics stack the other commands pull in (about a second of start-up).
    Without a known verb (``nerasense --help``, a typo) the verbs are listed from :data:`VERBS` without
    importing any command module, unless ``stubs`` is false.
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
    if verb not in names and stubs and argv is not None:
        for name in names:
            sub.add_parser(name, help=VERBS.get(name, ""), add_help=False)
        return parser
    for name in [verb] if verb in names else names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        module.register(sub)
    return parser


def _check_numbers(args: argparse.Namespace) -> None:
    """No option takes NaN or infinity: refuse them by option name (argparse's float() accepts both)."""
    bad = [(name, value) for name, value in vars(args).items()
           if (isinstance(value, float) and not math.isfinite(value))
           or (isinstance(value, list) and any(isinstance(v, float) and not math.isfinite(v) for v in value))]
    if bad:
        raise InputError([Problem(f"--{name.replace('_', '-')}", value, "a finite number") for name, value in bad])


def _print_json(payload: dict[str, object]) -> None:
    """One JSON object on stdout, refused above the size limit with a pointer to -o."""
    text = json.dumps(payload, indent=2, default=str, allow_nan=False)
    limit_mb = limits().json_stdout_mb
    if len(text) > limit_mb * 1024 * 1024:
        raise InputError(Problem("--json", f"{len(text) / 1048576:.0f} MB of JSON",
                                 f"at most {limit_mb:g} MB on stdout",
                                 f"write the result to a file with -o, or set {Limits.ENV['json_stdout_mb']} to lift the limit"))
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _print_error(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except BrokenPipeError:  # `nerasense ... | head`: the reader left; say nothing more
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except (InputError, UsageError) as exc:  # raised while printing (JSON over the size limit)
        _print_error(str(exc))
        return EXIT_INPUT
    except Exception as exc:  # a bug of ours: one line, never a traceback (NERASENSE_DEBUG=1 shows it)
        if os.environ.get("NERASENSE_DEBUG"):
            raise
        _print_error(f"internal error ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); "
                     "please report it with the input (NERASENSE_DEBUG=1 shows the traceback)")
        return EXIT_ERROR


def _main(argv: list[str]) -> int:
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return EXIT_INPUT
        _check_numbers(args)
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
    except RecursionError as exc:
        _print_error(f"input nested too deeply to read ({exc})")
        return EXIT_INPUT
    except MemoryError:
        _print_error("out of memory; write large results with -o, or give a smaller input")
        return EXIT_ERROR
    if getattr(args, "json", False):
        payload = dict(result.payload)
        if result.warnings:
            existing = list(payload.get("warnings", []))
            payload["warnings"] = existing + [w for w in result.warnings if w not in existing]
        _print_json(payload)
    else:
        if result.text:
            print(result.text)
        for message in result.warnings:
            print(f"warning: {message}", file=sys.stderr)
        sys.stdout.flush()
    return result.exit_code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


__all__ = ["VERBS", "build_parser", "main", "run"]
