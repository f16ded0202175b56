"""Operator commands: `python -m chalicelib.cli migrate` and `... create-account`.

They use the same settings as the Lambdas: DATABASE_URL or DB_SECRET_ARN, and for create-account
TOKEN_SECRET or TOKEN_SECRET_ARN as well. For the local stack of `make run`, its banner prints them
(`eval "$(make -s operator-env)"` sets them).
"""

import argparse
import getpass
import json
import os
import sys

from chalicelib.identity import accounts
from chalicelib.platform import config, db, migrate


def run_migrations() -> list[str]:
    current = config.settings()
    conn = db.connect()
    try:
        return migrate.migrate(conn, current.statement_timeout_ms, current.idle_in_transaction_timeout_ms)
    finally:
        conn.close()


def _create_account(args: argparse.Namespace) -> dict:
    password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass("Password for the admin user: ")
    if len(password) < 8:
        raise SystemExit("The admin password must have at least 8 characters.")
    with db.transaction() as cur:
        created = accounts.bootstrap(
            cur, args.name, args.admin_email.lower(), password, args.project, args.app_id
        )
    return {
        "account_id": created["account"]["id"],
        "project_id": created["project"]["id"],
        "user_id": created["user"]["id"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending database migrations")
    create = commands.add_parser(
        "create-account",
        help="create an account, its admin and a first project (password: $ADMIN_PASSWORD or a prompt)",
    )
    create.add_argument("--name", required=True, help="account name")
    create.add_argument("--admin-email", required=True)
    create.add_argument("--project", required=True, help="first project's name")
    create.add_argument("--app-id", required=True, help="the mobile app id of the first project")
    args = parser.parse_args(argv)
    try:
        done = {"applied": run_migrations()} if args.command == "migrate" else _create_account(args)
    except RuntimeError as error:  # a missing setting: say which, without a traceback
        raise SystemExit(f"{parser.prog} {args.command}: {error}") from error
    print(json.dumps(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
