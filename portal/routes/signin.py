"""Signing in and out, the health check and the home page."""

from __future__ import annotations

from sanic import Blueprint, response

from portal import accounts, storage
from portal.pages import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    actor,
    client_ip,
    db,
    error_page,
    new_login_token,
    render,
    safe_next,
    set_cookie,
    staff_only,
)

bp = Blueprint("signin")


@bp.get("/health")
async def health(request):
    return response.json({"status": "ok"})


@bp.get("/")
async def home(request):
    return response.redirect("/inbox")


@bp.get("/login")
async def login_form(request):
    token = new_login_token()
    resp = await render(request, "login.html", login_token=token, next=safe_next(request.args.get("next", "")))
    set_cookie(resp, request.app.ctx.settings, LOGIN_CSRF_COOKIE, token, path="/login")
    return resp


@bp.post("/login")
async def login(request):
    settings = request.app.ctx.settings
    form = request.form
    if not accounts.tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("csrf_token", "")):
        return await error_page(request, 403, "The sign-in form was out of date. Please open the sign-in page again.")
    username = (form.get("username") or "").strip().lower()[:80]
    password = form.get("password") or ""
    result = await db(
        request,
        storage.sign_in,
        username,
        password,
        client_ip(request),
        settings.login_max_failures,
        settings.login_lockout_seconds,
        settings.session_idle_minutes * 60,
    )
    if result.wait > 0:
        resp = await render(
            request,
            "login.html",
            status=429,
            login_token=form.get("csrf_token"),
            next=safe_next(form.get("next", "")),
            error=f"Too many failed sign-ins. Try again in {int(result.wait) + 1} seconds.",
        )
        resp.headers["Retry-After"] = str(int(result.wait) + 1)
        return resp
    if result.staff is None:
        return await render(
            request,
            "login.html",
            status=401,
            login_token=form.get("csrf_token"),
            next=safe_next(form.get("next", "")),
            error="Wrong username or password.",
        )
    resp = response.redirect(safe_next(form.get("next", "")), status=303)
    set_cookie(resp, settings, SESSION_COOKIE, result.token)
    del resp.cookies[LOGIN_CSRF_COOKIE]
    return resp


@bp.post("/logout")
@staff_only()
async def logout(request):
    await db(request, storage.sign_out, request.cookies.get(SESSION_COOKIE, ""), actor(request), client_ip(request))
    resp = response.redirect("/login", status=303)
    del resp.cookies[SESSION_COOKIE]
    return resp
