"""PORTAL_TRUSTED_PROXIES (issue 26): behind its https proxy the portal counts failed
sign-ins per staff member's address, not per proxy; without the setting, a client's own
X-Forwarded-For is never believed (it could escape its block by inventing addresses)."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa
from portal_helpers import ADMIN, csrf_from, run_cli, sqlite_databases, start_portal, stop_portal

MAX_FAILURES = 3


def running_portal(folder, **env):
    databases = sqlite_databases(folder)
    result = run_cli(
        databases, "create-user", "--username", ADMIN[0], "--role", "admin", "--password-stdin", stdin=ADMIN[1] + "\n"
    )
    assert result.returncode == 0, result.stderr
    return start_portal(databases, {"PORTAL_LOGIN_MAX_FAILURES": str(MAX_FAILURES), **env})


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory):
    # The tests connect from 127.0.0.1: here that is the https proxy.
    portal = running_portal(tmp_path_factory.mktemp("behind-proxy"), PORTAL_TRUSTED_PROXIES="127.0.0.1")
    yield portal
    stop_portal(portal)


@pytest.fixture(scope="module")
def direct(tmp_path_factory):
    portal = running_portal(tmp_path_factory.mktemp("direct"))
    yield portal
    stop_portal(portal)


def sign_in(portal, username, password, client):
    http = requests.Session()
    headers = {"X-Forwarded-For": client}
    form = http.get(f"{portal.base}/login", headers=headers)
    return http.post(
        f"{portal.base}/login",
        data={"csrf_token": csrf_from(form.text), "username": username, "password": password},
        headers=headers,
        allow_redirects=False,
    ).status_code


def audited_addresses(portal, action):
    with portal.databases.stores().portal.connect() as conn:
        rows = conn.execute(sa.text("SELECT ip FROM portal_audit WHERE action = :a ORDER BY id"), {"a": action})
        return [row.ip for row in rows]


def test_behind_the_proxy_one_address_guessing_does_not_lock_out_another(behind_proxy):
    guesser, colleague = "203.0.113.5", "203.0.113.6"
    # A different username each time: only the address is common to the guesses.
    statuses = [sign_in(behind_proxy, f"nobody{n}", "wrong guess", guesser) for n in range(MAX_FAILURES + 1)]
    assert statuses == [401] * MAX_FAILURES + [429]
    assert sign_in(behind_proxy, ADMIN[0], ADMIN[1], colleague) == 303  # before issue 26: 429, one shared address
    assert sign_in(behind_proxy, ADMIN[0], ADMIN[1], guesser) == 429  # the guesser's address stays blocked
    assert set(audited_addresses(behind_proxy, "sign_in_failed")) == {guesser}  # the audit log names the client
    assert audited_addresses(behind_proxy, "sign_in") == [colleague]


def test_without_the_setting_a_clients_own_forwarded_for_is_not_believed(direct):
    statuses = [sign_in(direct, f"nobody{n}", "wrong guess", f"198.51.100.{n}") for n in range(MAX_FAILURES + 1)]
    assert statuses == [401] * MAX_FAILURES + [429]  # invented addresses do not escape the block
    assert set(audited_addresses(direct, "sign_in_failed")) == {"127.0.0.1"}
