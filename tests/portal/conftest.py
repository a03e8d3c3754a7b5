"""Fixtures: throw-away databases (SQLite, and PostgreSQL when reachable) and a running portal.

Helpers live in portal_helpers.py: other test folders have their own conftest.py, so test
modules must never import from "conftest".
"""

from __future__ import annotations

import uuid

import pytest
from portal_helpers import (
    ADMIN,
    PG,
    REVIEWER,
    Databases,
    login,
    pg_admin,
    run_cli,
    sqlite_databases,
    start_portal,
    stop_portal,
    tracker_store,
)

from portal import db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request, tmp_path):
    """The same tests on SQLite (three files) and on PostgreSQL (one throw-away database shared
    by the tracker store, the portal and the consultation requests, as in production)."""
    if request.param == "sqlite":
        yield sqlite_databases(tmp_path)
        return
    admin = pg_admin()
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    try:
        yield Databases(url, url, url)
    finally:
        db.engine_for(url).dispose()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def portal(tmp_path_factory):
    """One running portal on SQLite for the HTTP tests, with an admin and a reviewer made by the CLI."""
    databases = sqlite_databases(tmp_path_factory.mktemp("portal"))
    for (username, password), role in ((ADMIN, "admin"), (REVIEWER, "reviewer")):
        result = run_cli(
            databases, "create-user", "--username", username, "--role", role, "--password-stdin", stdin=password + "\n"
        )
        assert result.returncode == 0, result.stderr
    running = start_portal(databases)
    yield running
    stop_portal(running)


# The running portal's stores and its two signed-in staff, for the HTTP test modules (one
# sign-in per module; a module with fixtures of these names uses its own).
@pytest.fixture(scope="module")
def tracker(portal):
    return tracker_store(portal.databases.tracker_url)


@pytest.fixture(scope="module")
def stores(portal):
    return portal.databases.stores()


@pytest.fixture(scope="module")
def admin(portal):
    return login(portal.base, *ADMIN)


@pytest.fixture(scope="module")
def reviewer(portal):
    return login(portal.base, *REVIEWER)
