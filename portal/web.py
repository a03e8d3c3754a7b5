"""The Sanic app: built from the route blueprints (portal/routes/) and the helpers in
pages.py; start-up work, security headers, error pages and the periodic purge of expired
staff sessions.

Nothing imports this module but the entry point (__main__.py) and tests; it imports the
routes, never the other way round.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sanic import Sanic
from sanic.exceptions import MethodNotSupported, NotFound

from portal import db, storage
from portal.config import Settings
from portal.erasure import Stores
from portal.pages import HERE, SECURITY_HEADERS, error_page, make_templates, off_loop
from portal.routes import BLUEPRINTS

logger = logging.getLogger(__name__)


async def purge_expired_sessions_periodically(app: Sanic) -> None:
    """Every settings.session_purge_seconds, deletes staff sessions idle for longer than the
    session limit: a session abandoned without signing out is unusable after the limit
    anyway (resume_session refuses it), but its row would otherwise stay in the table."""
    settings: Settings = app.ctx.settings
    while True:
        await asyncio.sleep(settings.session_purge_seconds)
        try:
            removed = await off_loop(storage.purge_expired_sessions, app.ctx.stores, settings.session_idle_minutes * 60)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the purging for good
            logger.exception("Purging expired staff sessions failed; trying again later")
            continue
        if removed:
            logger.info(f"Purged {removed} expired staff session(s)")


def create_app(settings: Settings, name: str = "staff_portal") -> Sanic:
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "text"
    app.ctx.settings = settings
    app.ctx.stores = Stores(
        db.engine_for(settings.tracker_url),
        db.engine_for(settings.portal_url),
        db.engine_for(settings.consultation_url),
    )
    app.ctx.templates = make_templates()
    app.static("/static/portal.css", str(HERE / "static" / "portal.css"), name="css")

    @app.listener("before_server_start")
    async def prepare(app, _loop):
        started = time.monotonic()
        read = await off_loop(storage.prepare, app.ctx.stores)
        print(f"Conversation index up to date ({read} new events read in {time.monotonic() - started:.1f} s)")

    @app.listener("after_server_start")
    async def start_session_purge(app, loop):
        app.ctx.session_purge = loop.create_task(purge_expired_sessions_periodically(app))

    @app.listener("before_server_stop")
    async def stop_session_purge(app, _loop):
        task = getattr(app.ctx, "session_purge", None)
        if task is not None:
            task.cancel()

    @app.middleware("response")
    async def security_headers(request, resp):
        for header, value in SECURITY_HEADERS.items():
            resp.headers[header] = value
        # Pages carry health data: never keep them in a browser or proxy cache.
        resp.headers["Cache-Control"] = "public, max-age=3600" if request.path.startswith("/static/") else "no-store"

    @app.exception(NotFound, MethodNotSupported)
    async def not_found(request, exc):
        status = getattr(exc, "status_code", 404)
        return await error_page(request, status, "There is no such page." if status == 404 else str(exc))

    for blueprint in BLUEPRINTS:
        app.blueprint(blueprint)
    return app
