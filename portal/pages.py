"""What every route relies on: running database work off the event loop, page rendering,
cookies, sessions and the CSRF check (staff_only).

The routes (portal/routes/) and the app (web.py) import this module; it imports neither.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader
from sanic import response

from portal import accounts, callbacks, storage
from portal.clock import ClinicClock, waited
from portal.config import Settings
from portal.labels import load_labels
from security import proxies

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "portal_session"
LOGIN_CSRF_COOKIE = "portal_login_csrf"

# No scripts at all, styles only from our own stylesheet, no framing, forms only to us.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}

T = TypeVar("T")


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs a synchronous (database) function on a worker thread, so a slow query or a
    database that does not answer never holds up the event loop and every other request
    with it. The one way handlers reach the databases."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def db(request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """off_loop for a storage function taking the app's Stores first: db(request, storage.x, ...)."""
    return await off_loop(fn, request.app.ctx.stores, *args, **kwargs)


def format_time(ts: float | None) -> str:
    """Every time a page shows, in the clinic's time zone (portal/clock.py)."""
    return ClinicClock.for_clinic().show(ts)


def _local(ts: float | None, pattern: str) -> str:
    local = ClinicClock.for_clinic().local(ts)
    return local.strftime(pattern) if local else ""


def make_templates() -> Environment:
    # autoescape=True for every template: patient text is untrusted and must render as text.
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)
    env.filters["ts"] = format_time
    env.filters["waited"] = waited
    # The compact transcript: the clock time alone, and the day to see when it changes.
    env.filters["hm"] = lambda ts: _local(ts, "%H:%M")
    env.filters["day"] = lambda ts: _local(ts, "%Y-%m-%d")
    env.globals["labels"] = load_labels()
    env.filters["q"] = lambda value: quote(str(value), safe="")
    env.globals["contact_note_max"] = callbacks.NOTE_MAX
    env.globals["time_zone"] = ClinicClock.for_clinic().zone.key
    return env


def csv_download(text: str, prefix: str):
    """A CSV file to save, named by what it holds and when it was made (UTC, so two staff in
    different places never get clashing names)."""
    name = datetime.now(timezone.utc).strftime(f"{prefix}-%Y%m%d-%H%M%S.csv")
    return response.text(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def set_cookie(resp, settings: Settings, name: str, value: str, path: str = "/") -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = path
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    if settings.secure_cookies:
        cookie["secure"] = True


async def render(request, template: str, status: int = 200, **context: Any):
    app = request.app
    session = getattr(request.ctx, "session", None)
    # The navigation shows how many unanswered questions are still open (from the index).
    open_questions = await db(request, storage.open_question_count) if session else 0
    # ... and how many people are waiting for a call-back.
    waiting_callbacks = await db(request, storage.waiting_callbacks) if session else 0
    html = app.ctx.templates.get_template(template).render(
        session=session,
        csrf_token=session.csrf_token if session else "",
        open_questions=open_questions,
        waiting_callbacks=waiting_callbacks,
        **context,
    )
    return response.html(html, status=status)


async def error_page(request, status: int, message: str):
    return await render(request, "error.html", status=status, status_code=status, message=message)


def client_ip(request) -> str:
    """The staff member's address, for sign-in throttling and the audit log. Behind the
    https proxy every request comes from the proxy: PORTAL_TRUSTED_PROXIES names it, and
    only then is its X-Forwarded-For believed (security/proxies.py)."""
    trusted = request.app.ctx.settings.trusted_proxies
    return proxies.client_address(request.ip or "", request.headers.get("X-Forwarded-For"), trusted)


def actor(request) -> str:
    return request.ctx.session.staff.username


def safe_next(target: str) -> str:
    """Only a path on this site: never an absolute or protocol-relative URL (open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/inbox"


def back_to(conversation_id: str, anchor: str = ""):
    return response.redirect(f"/conversation?id={quote(conversation_id, safe='')}{anchor}", status=303)


async def current_session(request) -> accounts.Session | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    settings: Settings = request.app.ctx.settings
    return await db(request, storage.resume_session, token, settings.session_idle_minutes * 60)


def staff_only(admin: bool = False) -> Callable:
    """Route decorator: a live session (and the admin role) and, on POST, the CSRF token.

    Without a session a page request is sent to the sign-in page and a form post gets 401;
    a reviewer asking for an admin action gets 403; a POST whose csrf_token field does not
    match the session's gets 403 before anything changes.
    """

    def wrap(handler: Callable) -> Callable:
        @functools.wraps(handler)
        async def guarded(request, *args, **kwargs):
            session = await current_session(request)
            if session is None:
                if request.method == "GET":
                    target = request.path + (f"?{request.query_string}" if request.query_string else "")
                    return response.redirect(f"/login?next={quote(target, safe='')}")
                return await error_page(request, 401, "Your session has ended. Please sign in again.")
            request.ctx.session = session
            if admin and not session.staff.is_admin:
                return await error_page(request, 403, "Only an admin can do this.")
            if request.method == "POST" and not accounts.tokens_match(
                session.csrf_token, request.form.get("csrf_token", "")
            ):
                return await error_page(
                    request,
                    403,
                    "The form was out of date or not sent by the portal. Go back, reload the page and try again.",
                )
            return await handler(request, *args, **kwargs)

        return guarded

    return wrap


def new_login_token() -> str:
    return secrets.token_urlsafe(32)
