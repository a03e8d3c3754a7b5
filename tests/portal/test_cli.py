"""The command-line tool, run as staff would run it (a subprocess with the environment)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from portal_helpers import login, run_cli, save, screening, sqlite_databases, start_portal, stop_portal, tracker_store


@pytest.fixture
def dbs(tmp_path):
    return sqlite_databases(tmp_path)


def test_create_user_hashes_the_password_with_argon2(dbs):
    result = run_cli(
        dbs,
        "create-user",
        "--username",
        "Carol",
        "--role",
        "reviewer",
        "--password-stdin",
        stdin="a perfectly long password\n",
    )
    assert result.returncode == 0 and "Created reviewer 'carol'" in result.stdout
    with dbs.stores().portal.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM portal_staff WHERE username = 'carol'")).scalar()
        assert stored.startswith("$argon2id$") and "perfectly" not in stored
        assert conn.execute(sa.text("SELECT COUNT(*) FROM portal_audit WHERE action = 'create_user'")).scalar() == 1
    assert "carol\treviewer\tactive" in run_cli(dbs, "list-users").stdout


@pytest.mark.parametrize(
    "args,stdin,message",
    [
        (["--username", "dave", "--role", "admin"], "short\n", "at least 12 characters"),
        (["--username", "no spaces", "--role", "admin"], "long enough password\n", "username:"),
    ],
)
def test_create_user_rejects_bad_input_clearly(dbs, args, stdin, message):
    result = run_cli(dbs, "create-user", *args, "--password-stdin", stdin=stdin)
    assert result.returncode == 2 and message in result.stderr


def test_create_user_refuses_a_duplicate_and_an_unknown_role(dbs):
    assert (
        run_cli(
            dbs,
            "create-user",
            "--username",
            "erin",
            "--role",
            "admin",
            "--password-stdin",
            stdin="long enough password\n",
        ).returncode
        == 0
    )
    again = run_cli(
        dbs, "create-user", "--username", "erin", "--role", "admin", "--password-stdin", stdin="long enough password\n"
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    assert run_cli(dbs, "create-user", "--username", "x1", "--role", "owner", "--password-stdin").returncode == 2


def test_purge_needs_a_period(dbs):
    result = run_cli(dbs, "purge")
    assert result.returncode == 2 and "--older-than-days" in result.stderr


def test_purge_and_erase_from_the_command_line(dbs):
    store = tracker_store(dbs.tracker_url)
    save(store, "old-one", screening("x", start=time.time() - 40 * 86400))
    save(store, "new-one", screening("x"))
    save(store, "erase-one", screening("x"))
    purged = run_cli(dbs, "purge", extra_env={"PORTAL_RETENTION_DAYS": "30"})
    assert purged.returncode == 0 and "conversations=1" in purged.stdout
    erased = run_cli(dbs, "erase", "--conversation", "erase-one")
    assert erased.returncode == 0 and "Erased:" in erased.stdout
    with dbs.stores().tracker.connect() as conn:
        left = {s for (s,) in conn.execute(sa.text("SELECT DISTINCT sender_id FROM events"))}
    assert left == {"new-one"}
    with dbs.stores().portal.connect() as conn:
        actors = conn.execute(
            sa.text("SELECT action, actor FROM portal_audit WHERE action IN ('purge', 'erase') ORDER BY id")
        ).fetchall()
    assert [a for a, _ in actors] == ["purge", "erase"] and all(actor.startswith("cli:") for _, actor in actors)


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(dbs):
    run_cli(
        dbs,
        "create-user",
        "--username",
        "fay",
        "--role",
        "reviewer",
        "--password-stdin",
        stdin="long enough password\n",
    )
    portal = start_portal(dbs)
    try:
        http = login(portal.base, "fay", "long enough password")
        assert run_cli(dbs, "deactivate-user", "--username", "fay").returncode == 0
        assert http.get(f"{portal.base}/inbox", allow_redirects=False).status_code == 302
        login(portal.base, "fay", "long enough password", expect=401)
    finally:
        stop_portal(portal)
