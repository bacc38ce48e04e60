"""``nerasense users add|token|revoke``: accounts, for admins on the command line."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from nerasense.cli._common import CommandResult, add_json_flag
from nerasense.cli.commands.serve import add_store_options
from nerasense.errors import InputError, Problem


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="add users, issue and revoke API tokens for the service",
                       description="Accounts of the service. Roles: clinician (own team's patients), researcher "
                       "(reads its team's patients), admin (users and teams).")
    verbs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = verbs.add_parser("add", help="a new user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["clinician", "researcher", "admin"])
    add.add_argument("--team", help="team name (created when new); needed for clinicians and researchers")
    add.add_argument("--password-file", type=Path, metavar="FILE",
                     help="read the password from FILE (else NERASENSE_PASSWORD, else asked on the terminal)")
    token = verbs.add_parser("token", help="a new API token for a user (printed once)")
    token.add_argument("username")
    token.add_argument("--days", type=float, default=None, help="lifetime in days (default NERASENSE_TOKEN_DAYS or 90)")
    token.add_argument("--label", default="", help="a note on what the token is for")
    revoke = verbs.add_parser("revoke", help="revoke an API token (its id, the part before the dot)")
    revoke.add_argument("token_id")
    for q in (add, token, revoke):
        add_store_options(q)
        add_json_flag(q)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> CommandResult:
    from nerasense.service import admin
    from nerasense.service.settings import settings_from_env

    settings = settings_from_env(database_url=args.database_url, data_dir=args.data_dir)
    if args.action == "add":
        password = admin.read_password(args.password_file, os.environ.get("NERASENSE_PASSWORD"))
        if password is None:
            if not sys.stdin.isatty():
                raise InputError(Problem("password", None, "--password-file FILE, NERASENSE_PASSWORD, or a terminal"))
            password = getpass.getpass("password: ")
        out = admin.add_user(settings, args.username, password, args.role, args.team)
        return CommandResult(out, f"added {out['username']} ({out['role']}) to {out['database']}")
    if args.action == "token":
        out = admin.issue_token(settings, args.username, args.days or settings.token_days, args.label)
        return CommandResult(out, f"{out['token']}\n(token id {out['token_id']}, expires {out['expires']}; shown once)")
    out = admin.revoke_token(settings, args.token_id)
    return CommandResult(out, f"revoked token {out['token_id']}")
