"""Operator Lambdas, invoked with `aws lambda invoke` (never by a route): `migrate`, which
infra/deploy.sh runs after every deploy, and `create_account`, for the first admin of a new account.
They do what `python -m chalicelib.cli` does on a machine that can reach the database."""

import secrets

from chalicelib import cli
from chalicelib.identity import accounts
from chalicelib.platform import db
from chalicelib.platform.observability import logger

ACCOUNT_FIELDS = ("name", "admin_email", "project", "app_id")


def migrate(event: dict) -> dict:
    applied = cli.run_migrations()
    logger().info("migrations applied", extra={"applied": applied})
    return {"applied": applied}


def create_account(event: dict) -> dict:
    """An account, its admin and a first project. The admin's password is generated here and returned
    once, so that it never travels in an invoke payload or a shell history; the admin changes it."""
    missing = [name for name in ACCOUNT_FIELDS if not str(event.get(name) or "").strip()]
    if missing:
        raise ValueError(f"create_account needs {', '.join(ACCOUNT_FIELDS)}; missing: {', '.join(missing)}")
    email = event["admin_email"].strip().lower()
    password = secrets.token_urlsafe(18)
    with db.transaction() as cur:
        created = accounts.bootstrap(cur, event["name"], email, password, event["project"], event["app_id"])
    logger().info("account created", extra={"account_id": created["account"]["id"], "admin_email": email})
    return {
        "account_id": created["account"]["id"],
        "project_id": created["project"]["id"],
        "user_id": created["user"]["id"],
        "admin_email": email,
        "admin_password": password,
        "next": "log in with POST /api/auth/login, then change the password with POST /api/me/password",
    }
