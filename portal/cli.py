"""Command-line tool for the portal (accounts, retention, erasure, the index).

    python -m portal.cli create-user --username alice --role admin   (asks for the password)
    echo "$PW" | python -m portal.cli create-user --username bob --role reviewer --password-stdin
    python -m portal.cli list-users
    python -m portal.cli deactivate-user --username bob
    python -m portal.cli purge --older-than-days 365      (or PORTAL_RETENTION_DAYS)
    python -m portal.cli erase --conversation <id>
    python -m portal.cli migrate
    python -m portal.cli rebuild-index

Databases come from the same environment as the server (TRACKER_DB_URL, PORTAL_DB_URL,
CONSULTATION_DB_URL). Exit status 2 and a one-line message on bad input.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from portal import accounts, audit, db, erasure, summaries
from portal.config import ConfigError, load_settings


def _stores(settings) -> erasure.Stores:
    stores = erasure.Stores(
        db.engine_for(settings.tracker_url),
        db.engine_for(settings.portal_url),
        db.engine_for(settings.consultation_url),
    )
    db.migrate(stores.portal)
    return stores


def _cli_actor() -> str:
    # Commands run on the server by whoever has a shell there; record the OS account.
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "unknown"
    return f"cli:{user}"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if first != getpass.getpass("Same password again: "):
        raise accounts.AccountError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.cli", description="Staff portal administration")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a staff account")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=accounts.ROLES)
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    commands.add_parser("list-users", help="list staff accounts")
    deactivate = commands.add_parser("deactivate-user", help="stop an account signing in (ends its sessions)")
    deactivate.add_argument("--username", required=True)
    purge = commands.add_parser("purge", help="delete conversations with no activity for N days")
    purge.add_argument("--older-than-days", type=float, help="defaults to PORTAL_RETENTION_DAYS")
    erase = commands.add_parser("erase", help="delete one conversation everywhere")
    erase.add_argument("--conversation", required=True)
    commands.add_parser("migrate", help="create or update the portal's tables")
    commands.add_parser("rebuild-index", help="rebuild the inbox index from the tracker store")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
        stores = _stores(settings)
        if args.command == "create-user":
            password = _read_password(args.password_stdin)
            with stores.portal.begin() as conn:
                username = accounts.create_user(conn, args.username, password, args.role)
                audit.record(conn, _cli_actor(), "create_user", detail=f"username={username} role={args.role}")
            print(f"Created {args.role} {username!r}.")
        elif args.command == "list-users":
            with stores.portal.connect() as conn:
                for user in accounts.list_users(conn):
                    print(f"{user['username']}\t{user['role']}\t{'active' if user['active'] else 'deactivated'}")
        elif args.command == "deactivate-user":
            with stores.portal.begin() as conn:
                accounts.deactivate_user(conn, args.username)
                audit.record(conn, _cli_actor(), "deactivate_user", detail=f"username={args.username}")
            print(f"Deactivated {args.username!r}.")
        elif args.command == "purge":
            days = args.older_than_days if args.older_than_days is not None else settings.retention_days
            if not days or days <= 0:
                raise ConfigError("give --older-than-days N (N > 0) or set PORTAL_RETENTION_DAYS")
            counts = erasure.purge(stores, days, _cli_actor())
            print("Purged: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        elif args.command == "erase":
            erased = erasure.erase_conversation(stores, args.conversation, _cli_actor())
            if not any(erased.counts.values()):
                print(
                    f"Nothing stored for conversation {args.conversation!r} (the request is audited "
                    f"as {erased.reference})."
                )
            else:
                print(
                    "Erased: "
                    + ", ".join(f"{k}={v}" for k, v in erased.counts.items())
                    + f". The audit log calls it {erased.reference} from now on."
                )
        elif args.command == "migrate":
            print(f"Portal schema at version {db.schema_version(stores.portal)}.")
        elif args.command == "rebuild-index":
            read = summaries.rebuild(stores.tracker, stores.portal, stores.consultations)
            print(f"Index rebuilt from {read} events.")
    except (accounts.AccountError, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    sys.exit(main())
