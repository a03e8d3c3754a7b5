"""The Sanic app: security headers, sessions, CSRF checks and page rendering.

Routes are in views.py; this module holds what every route relies on.
"""
from __future__ import annotations

import functools
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader
from sanic import Sanic, response
from sanic.exceptions import MethodNotSupported, NotFound

from clinical.consultation_store import add_missing_columns
from portal import accounts, db, questions, summaries
from portal.config import Settings
from portal.erasure import Stores

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "portal_session"
LOGIN_CSRF_COOKIE = "portal_login_csrf"

# No scripts at all, styles only from our own stylesheet, no framing, forms only to us.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def format_time(ts: Optional[float]) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def make_templates() -> Environment:
    # autoescape=True for every template: patient text is untrusted and must render as text.
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)
    env.filters["ts"] = format_time
    env.filters["q"] = lambda value: quote(str(value), safe="")
    return env


def set_cookie(resp, settings: Settings, name: str, value: str, path: str = "/") -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = path
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    if settings.secure_cookies:
        cookie["secure"] = True


def render(request, template: str, status: int = 200, **context: Any):
    app = request.app
    session = getattr(request.ctx, "session", None)
    # The navigation shows how many unanswered questions are still open (from the index).
    open_questions = questions.open_count(app.ctx.stores.portal) if session else 0
    html = app.ctx.templates.get_template(template).render(
        session=session, csrf_token=session.csrf_token if session else "", open_questions=open_questions,
        **context)
    return response.html(html, status=status)


def error_page(request, status: int, message: str):
    return render(request, "error.html", status=status, status_code=status, message=message)


def client_ip(request) -> str:
    # The portal listens on 127.0.0.1 by default; behind a reverse proxy, configure Sanic's
    # FORWARDED_SECRET / REAL_IP_HEADER so request.ip is the real client.
    return request.ip or ""


def current_session(request) -> Optional[accounts.Session]:
    token = request.cookies.get(SESSION_COOKIE, "")
    settings: Settings = request.app.ctx.settings
    with request.app.ctx.stores.portal.begin() as conn:
        return accounts.resume_session(conn, token, settings.session_idle_minutes * 60)


def staff_only(admin: bool = False) -> Callable:
    """Route decorator: a live session (and the admin role) and, on POST, the CSRF token.

    Without a session a page request is sent to the sign-in page and a form post gets 401;
    a reviewer asking for an admin action gets 403; a POST whose csrf_token field does not
    match the session's gets 403 before anything changes.
    """
    def wrap(handler: Callable) -> Callable:
        @functools.wraps(handler)
        async def guarded(request, *args, **kwargs):
            session = current_session(request)
            if session is None:
                if request.method == "GET":
                    target = request.path + (f"?{request.query_string}" if request.query_string else "")
                    return response.redirect(f"/login?next={quote(target, safe='')}")
                return error_page(request, 401, "Your session has ended. Please sign in again.")
            request.ctx.session = session
            if admin and not session.staff.is_admin:
                return error_page(request, 403, "Only an admin can do this.")
            if request.method == "POST" and not accounts.tokens_match(
                    session.csrf_token, request.form.get("csrf_token", "")):
                return error_page(request, 403, "The form was out of date or not sent by the portal. "
                                                "Go back, reload the page and try again.")
            return await handler(request, *args, **kwargs)
        return guarded
    return wrap


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def create_app(settings: Settings, name: str = "staff_portal") -> Sanic:
    from portal import views  # the routes use the helpers above

    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "text"
    app.ctx.settings = settings
    app.ctx.stores = Stores(db.engine_for(settings.tracker_url), db.engine_for(settings.portal_url),
                            db.engine_for(settings.consultation_url))
    app.ctx.templates = make_templates()
    app.static("/static/portal.css", str(HERE / "static" / "portal.css"), name="css")

    @app.listener("before_server_start")
    async def prepare(app, _loop):
        db.migrate(app.ctx.stores.portal)
        # An action server older than the request_reason column may not have added it yet.
        add_missing_columns(app.ctx.stores.consultations)
        started = time.monotonic()
        read = summaries.summarise_new_events(app.ctx.stores.tracker, app.ctx.stores.portal,
                                              app.ctx.stores.consultations)
        print(f"Conversation index up to date ({read} new events read in {time.monotonic() - started:.1f} s)")

    @app.middleware("response")
    async def security_headers(request, resp):
        for header, value in SECURITY_HEADERS.items():
            resp.headers[header] = value
        # Pages carry health data: never keep them in a browser or proxy cache.
        resp.headers["Cache-Control"] = ("public, max-age=3600" if request.path.startswith("/static/")
                                         else "no-store")

    @app.exception(NotFound, MethodNotSupported)
    async def not_found(request, exc):
        status = getattr(exc, "status_code", 404)
        return error_page(request, status, "There is no such page." if status == 404 else str(exc))

    views.register(app)
    return app
