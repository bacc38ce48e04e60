"""``nerasense serve``: the API and the web page (SQLite in the user data folder unless --database-url)."""

from __future__ import annotations

import argparse
from pathlib import Path

from nerasense.cli._common import CommandResult


def add_store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", metavar="URL", help="sqlite:///FILE or postgresql+psycopg://USER:PASS@HOST/DB "
                   "(else NERASENSE_DATABASE_URL, else a SQLite file in the data folder)")
    p.add_argument("--data-dir", type=Path, metavar="FOLDER",
                   help="uploaded files and the default SQLite file (else NERASENSE_DATA_DIR, else ~/.local/share/nerasense)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the API and the web page for the tumour board",
                       description="Serve the API (/v1, OpenAPI at /openapi.json) and the web page. Research use only.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--compute-workers", type=int, metavar="N",
                   help="processes that assess cases and draw reports, at a lower OS priority than the server, so "
                   "look-ups are answered first (else NERASENSE_COMPUTE_WORKERS, else the number of cores, at most "
                   "4; 0 = in the server process)")
    add_store_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    from nerasense.errors import InputError, Problem
    from nerasense.service.admin import serve
    from nerasense.service.settings import settings_from_env

    problems = []
    if not 0 < args.port < 65536:
        problems.append(Problem("--port", args.port, "1-65535"))
    if args.compute_workers is not None and not 0 <= args.compute_workers <= 64:
        problems.append(Problem("--compute-workers", args.compute_workers, "0 (in the server process) to 64"))
    if problems:
        raise InputError(problems)
    serve(settings_from_env(database_url=args.database_url, data_dir=args.data_dir,
                            compute_workers=args.compute_workers), args.host, args.port)
    return CommandResult({}, "")
