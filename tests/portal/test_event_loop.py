"""The portal app in this process: database work runs off the event loop (a slow database
does not stall other requests), and expired staff sessions are purged at sign-in and
periodically. Uses real SQLite databases and a real server on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import threading
import time
import uuid
from dataclasses import replace

import pytest
import requests
import sqlalchemy as sa
from portal_helpers import ADMIN, csrf_from, free_port, save, screening, sqlite_databases, tracker_store
from sanic import Sanic

from portal import accounts, storage
from portal.config import Settings
from portal.web import create_app


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch):
    """Several apps in one process: Sanic then keeps its own methods as they were instead
    of rewriting them again for each app (which fails the second time)."""
    monkeypatch.setattr(Sanic, "test_mode", True)


def _settings(databases, **change) -> Settings:
    return replace(
        Settings(databases.tracker_url, databases.portal_url, databases.consultation_url, secure_cookies=False),
        **change,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings):
    """The app served on 127.0.0.1 in the running event loop; yields its base URL."""
    port = free_port()
    app = create_app(replace(settings, port=port), name=f"portal_{uuid.uuid4().hex[:8]}")
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


def _http(fn, *args, **kwargs):
    """A blocking requests call, made from a worker thread so the server's loop keeps running."""
    return asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def _staff(databases, with_admin: bool = True):
    stores = databases.stores()
    if with_admin:
        with stores.portal.begin() as conn:
            accounts.create_user(conn, ADMIN[0], ADMIN[1], "admin")
    return stores


async def _sign_in(base: str) -> requests.Session:
    http = requests.Session()
    form = await _http(http.get, f"{base}/login")
    resp = await _http(
        http.post,
        f"{base}/login",
        allow_redirects=False,
        data={"csrf_token": csrf_from(form.text), "username": ADMIN[0], "password": ADMIN[1]},
    )
    assert resp.status_code == 303, resp.text[:300]
    return http


def _session_rows(stores) -> int:
    with stores.portal.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM portal_sessions")).scalar()


def _abandoned_session(stores, minutes_ago: float) -> None:
    """A session whose staff member closed the browser minutes_ago without signing out."""
    with stores.portal.begin() as conn:
        staff_id = conn.execute(sa.text("SELECT id FROM portal_staff WHERE username = :u"), {"u": ADMIN[0]}).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO portal_sessions (token_hash, staff_id, csrf_token, created_at, last_seen_at) "
                "VALUES (:h, :s, 'x', :t, :t)"
            ),
            {"h": uuid.uuid4().hex, "s": staff_id, "t": time.time() - minutes_ago * 60},
        )


# ---- off the event loop ------------------------------------------------------------------


def test_every_storage_call_of_every_route_runs_off_the_event_loop(tmp_path, monkeypatch):
    databases = sqlite_databases(tmp_path)
    stores = _staff(databases)
    cid = "loop-check"
    save(tracker_store(databases.tracker_url), cid, screening(cid, messages=["hello"]))
    calls = []  # (storage function, thread it ran on)
    for name, fn in inspect.getmembers(storage, inspect.isfunction):
        if fn.__module__ == storage.__name__:

            def recorder(*args, _fn=fn, _name=name, **kwargs):
                calls.append((_name, threading.get_ident()))
                return _fn(*args, **kwargs)

            monkeypatch.setattr(storage, name, recorder)

    async def scenario():
        loop_thread = threading.get_ident()
        async with running(_settings(databases)) as base:
            http = await _sign_in(base)
            token = csrf_from((await _http(http.get, f"{base}/inbox")).text)
            for path in (
                "/inbox",
                "/inbox.csv",
                f"/conversation?id={cid}",
                f"/conversation/print?id={cid}",
                "/questions",
                "/questions.csv",
                "/audit",
                "/conversation/erase?id=x",
                "/callbacks",
                "/callbacks.csv",
                "/no-such-page",
            ):
                assert (await _http(http.get, base + path)).status_code in (200, 404), path
            for path, data in (
                ("/conversation/review", {"id": cid, "reviewed": "yes"}),
                ("/conversation/note", {"id": cid, "body": "called"}),
                ("/conversation/tag", {"id": cid, "tag": "checked"}),
                ("/conversation/contacted", {"id": cid, "request_id": "1"}),
                ("/questions/status", {"id": cid, "key": "k", "status": "done"}),
                ("/callbacks/contacted", {"id": cid, "request_id": "1"}),
                ("/callbacks/note", {"id": cid, "request_id": "1", "note": "rang"}),
                ("/callbacks/undo", {"id": cid, "request_id": "1"}),
                ("/conversation/erase", {"id": cid, "confirm": cid}),
                ("/logout", {}),
            ):
                resp = await _http(http.post, base + path, data={"csrf_token": token, **data}, allow_redirects=False)
                assert resp.status_code in (200, 303, 404), (path, resp.status_code)
        return loop_thread

    loop_thread = asyncio.run(scenario())
    used = {name for name, _ in calls}
    assert {
        "prepare",
        "sign_in",
        "resume_session",
        "open_question_count",
        "inbox_page",
        "export_inbox",
        "view_conversation",
        "set_reviewed",
        "add_note",
        "change_tag",
        "has_consultation_requests",
        "questions_page",
        "export_questions",
        "set_question_status",
        "erase_conversation",
        "audit_page",
        "sign_out",
        "conversation_exists",
        "callbacks_page",
        "export_callbacks",
        "record_contact",
        "waiting_callbacks",
        "inbox_hidden_unfinished",
    } <= used
    on_loop = sorted({name for name, thread in calls if thread == loop_thread})
    assert on_loop == [], f"ran on the event loop: {on_loop}"
    assert stores  # the databases stayed usable


def test_a_slow_database_call_does_not_stall_other_requests(tmp_path, monkeypatch):
    databases = sqlite_databases(tmp_path)
    _staff(databases)
    real = storage.resume_session

    def slow_resume_session(stores, token, idle_seconds):
        if token == "slow":
            time.sleep(1.5)  # a database that takes its time answering
        return real(stores, token, idle_seconds)

    monkeypatch.setattr(storage, "resume_session", slow_resume_session)

    async def scenario():
        async with running(_settings(databases)) as base:
            started = time.monotonic()
            slow = asyncio.ensure_future(
                _http(requests.get, f"{base}/inbox", cookies={"portal_session": "slow"}, allow_redirects=False)
            )
            await asyncio.sleep(0.2)  # the slow request is now waiting on the database
            health = await _http(requests.get, f"{base}/health")
            health_done = time.monotonic() - started
            slow_resp = await slow
            return health.status_code, health_done, slow_resp.status_code, time.monotonic() - started

    health_status, health_done, slow_status, slow_done = asyncio.run(scenario())
    assert health_status == 200 and slow_status == 302
    assert slow_done >= 1.5
    assert health_done < 1.0, f"/health waited {health_done:.2f} s for the slow database call"


# ---- expired sessions ------------------------------------------------------------------


def test_signing_in_purges_expired_sessions(tmp_path):
    databases = sqlite_databases(tmp_path)
    stores = _staff(databases)
    _abandoned_session(stores, minutes_ago=31)  # the limit is 30 minutes
    _abandoned_session(stores, minutes_ago=5)  # still live: kept

    async def scenario():
        async with running(_settings(databases, session_purge_seconds=3600)) as base:
            await _sign_in(base)

    asyncio.run(scenario())
    with stores.portal.connect() as conn:
        ages = sorted(time.time() - t for (t,) in conn.execute(sa.text("SELECT last_seen_at FROM portal_sessions")))
    assert len(ages) == 2 and ages[0] < 60 and 4 * 60 < ages[1] < 6 * 60  # the new one and the live one


def test_expired_sessions_are_purged_periodically(tmp_path):
    databases = sqlite_databases(tmp_path)
    stores = _staff(databases)

    async def scenario():
        async with running(_settings(databases, session_purge_seconds=0.2)) as base:
            await _sign_in(base)
            _abandoned_session(stores, minutes_ago=31)
            assert _session_rows(stores) == 2
            deadline = time.monotonic() + 5
            while _session_rows(stores) > 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            return _session_rows(stores)

    assert asyncio.run(scenario()) == 1  # only the live session is left


def test_the_purge_interval_comes_from_the_environment(monkeypatch):
    from portal.config import ConfigError, load_settings

    monkeypatch.setenv("PORTAL_SESSION_PURGE_SECONDS", "120")
    assert load_settings().session_purge_seconds == 120
    monkeypatch.setenv("PORTAL_SESSION_PURGE_SECONDS", "0")
    try:
        load_settings()
    except ConfigError as exc:
        assert "PORTAL_SESSION_PURGE_SECONDS" in str(exc)
    else:
        raise AssertionError("an interval of 0 was accepted")
    monkeypatch.delenv("PORTAL_SESSION_PURGE_SECONDS")
    assert load_settings().session_purge_seconds == 600
