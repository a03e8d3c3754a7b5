"""The portal's routes. Every page except sign-in and /health needs a staff session
(web.staff_only); admin-only routes are marked admin=True."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from sanic import response

from clinical.consultation_store import consultation_requests
from portal import accounts, audit, erasure, inbox, questions, summaries
from portal.transcript import conversation_exists, load_conversation, safety_items, screening_summary
from portal.web import (LOGIN_CSRF_COOKIE, SESSION_COOKIE, client_ip, error_page, new_login_token,
                        render, set_cookie, staff_only)

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
NOTE_MAX = 5000
AUDIT_PAGE = 100


def _safe_next(target: str) -> str:
    """Only a path on this site: never an absolute or protocol-relative URL (open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/inbox"


def _back_to(conversation_id: str):
    return response.redirect(f"/conversation?id={quote(conversation_id, safe='')}", status=303)


def _actor(request) -> str:
    return request.ctx.session.staff.username


def register(app) -> None:  # noqa: C901 - one place listing every route reads best here
    stores = app.ctx.stores
    settings = app.ctx.settings

    @app.get("/health")
    async def health(request):
        return response.json({"status": "ok"})

    @app.get("/")
    async def home(request):
        return response.redirect("/inbox")

    # ---- signing in and out -------------------------------------------------
    @app.get("/login")
    async def login_form(request):
        token = new_login_token()
        resp = render(request, "login.html", login_token=token, next=_safe_next(request.args.get("next", "")))
        set_cookie(resp, settings, LOGIN_CSRF_COOKIE, token, path="/login")
        return resp

    @app.post("/login")
    async def login(request):
        form = request.form
        if not accounts.tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("csrf_token", "")):
            return error_page(request, 403, "The sign-in form was out of date. Please open the sign-in page again.")
        username = (form.get("username") or "").strip().lower()[:80]
        password = form.get("password") or ""
        ip = client_ip(request)
        keys = accounts.throttle_keys(username, ip)
        now = time.time()
        with stores.portal.begin() as conn:
            wait = accounts.blocked_for(conn, keys, now)
            if wait > 0:
                audit.record(conn, username or "(blank)", "sign_in_throttled", ip=ip)
        if wait > 0:
            resp = render(request, "login.html", status=429, login_token=form.get("csrf_token"),
                          next=_safe_next(form.get("next", "")),
                          error=f"Too many failed sign-ins. Try again in {int(wait) + 1} seconds.")
            resp.headers["Retry-After"] = str(int(wait) + 1)
            return resp
        with stores.portal.begin() as conn:
            staff = accounts.check_password(conn, username, password) if username and password else None
            if staff is None:
                accounts.record_failure(conn, keys, now, settings.login_max_failures,
                                        settings.login_lockout_seconds)
                audit.record(conn, username or "(blank)", "sign_in_failed", ip=ip)
            else:
                accounts.clear_failures(conn, keys)
                token = accounts.start_session(conn, staff)
                audit.record(conn, staff.username, "sign_in", ip=ip)
        if staff is None:
            return render(request, "login.html", status=401, login_token=form.get("csrf_token"),
                          next=_safe_next(form.get("next", "")), error="Wrong username or password.")
        resp = response.redirect(_safe_next(form.get("next", "")), status=303)
        set_cookie(resp, settings, SESSION_COOKIE, token)
        del resp.cookies[LOGIN_CSRF_COOKIE]
        return resp

    @app.post("/logout")
    @staff_only()
    async def logout(request):
        with stores.portal.begin() as conn:
            accounts.end_session(conn, request.cookies.get(SESSION_COOKIE, ""))
            audit.record(conn, _actor(request), "sign_out", ip=client_ip(request))
        resp = response.redirect("/login", status=303)
        del resp.cookies[SESSION_COOKIE]
        return resp

    # ---- inbox and export ---------------------------------------------------
    def _refresh():
        summaries.summarise_new_events(stores.tracker, stores.portal, stores.consultations)

    def _filtered(request):
        _refresh()
        return inbox.parse_filters(request.args)

    @app.get("/inbox")
    @staff_only()
    async def inbox_page(request):
        try:
            filters = _filtered(request)
        except inbox.FilterError as exc:
            return error_page(request, 400, str(exc))
        rows, total = inbox.search(stores.portal, filters, settings.page_size)
        pages = max(1, -(-total // settings.page_size))
        return render(request, "inbox.html", rows=rows, total=total, filters=filters, pages=pages,
                      outcomes=inbox.OUTCOMES, channels=inbox.channels(stores.portal),
                      tags=inbox.all_tags(stores.portal), yes_no_filters=inbox.YES_NO_FILTERS, urlencode=urlencode)

    @app.get("/inbox.csv")
    @staff_only(admin=True)
    async def export_csv(request):
        try:
            filters = _filtered(request)
        except inbox.FilterError as exc:
            return error_page(request, 400, str(exc))
        rows, total = inbox.search(stores.portal, filters, None)
        with stores.portal.begin() as conn:
            audit.record(conn, _actor(request), "export_csv",
                         detail=f"rows={total} filters={urlencode(filters.query_args())}", ip=client_ip(request))
        name = datetime.now(timezone.utc).strftime("screenings-%Y%m%d-%H%M%S.csv")
        return response.text(inbox.to_csv(rows), content_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})

    # ---- one conversation ---------------------------------------------------
    def _conversation_context(conversation_id: str):
        conversation = load_conversation(stores.tracker, conversation_id)
        if conversation is None:
            return None
        with stores.portal.connect() as conn:
            review = conn.execute(sa.text("SELECT reviewed, reviewed_by, reviewed_at FROM portal_reviews "
                                          "WHERE conversation_id = :c"), {"c": conversation_id}).first()
            notes = conn.execute(sa.text("SELECT author, created_at, body FROM portal_notes "
                                         "WHERE conversation_id = :c ORDER BY id"), {"c": conversation_id}).fetchall()
            tags = inbox.tags_for(conn, [conversation_id]).get(conversation_id, [])
        consultations = _consultations(conversation_id)
        log = conversation.question_log
        return {"conversation": conversation, "summary": screening_summary(conversation.slots),
                "safety": safety_items(conversation.safety_net),
                "review": review, "notes": notes, "tags": tags, "consultations": consultations,
                "questions": questions.conversation_items(log, questions.statuses_for(stores.portal, conversation_id)),
                "person_requested": log.person_requested or any(
                    c.request_reason == "asked_for_person" for c in consultations)}

    def _consultations(conversation_id: str):
        if not sa.inspect(stores.consultations).has_table(consultation_requests.name):
            return []
        with stores.consultations.connect() as conn:
            return conn.execute(consultation_requests.select().where(
                consultation_requests.c.conversation_id == conversation_id).order_by(
                consultation_requests.c.id)).fetchall()

    async def _show(request, template: str, action: str):
        conversation_id = request.args.get("id", "")
        context = _conversation_context(conversation_id) if conversation_id else None
        if context is None:
            return error_page(request, 404, "No conversation with that id (it may have been erased).")
        with stores.portal.begin() as conn:
            audit.record(conn, _actor(request), action, conversation_id, ip=client_ip(request))
        return render(request, template, conversation_id=conversation_id,
                      printing=template == "print.html", **context)

    @app.get("/conversation")
    @staff_only()
    async def conversation_page(request):
        return await _show(request, "conversation.html", "view_conversation")

    @app.get("/conversation/print")
    @staff_only()
    async def conversation_print(request):
        return await _show(request, "print.html", "print_conversation")

    def _posted_conversation(request) -> str:
        conversation_id = request.form.get("id", "")
        return conversation_id if conversation_exists(stores.tracker, conversation_id) else ""

    @app.post("/conversation/review")
    @staff_only()
    async def mark_reviewed(request):
        conversation_id = _posted_conversation(request)
        if not conversation_id:
            return error_page(request, 404, "No conversation with that id.")
        reviewed = request.form.get("reviewed") == "yes"
        with stores.portal.begin() as conn:
            conn.execute(sa.text("DELETE FROM portal_reviews WHERE conversation_id = :c"), {"c": conversation_id})
            conn.execute(sa.text("INSERT INTO portal_reviews (conversation_id, reviewed, reviewed_by, reviewed_at) "
                                 "VALUES (:c, :r, :by, :at)"),
                         {"c": conversation_id, "r": int(reviewed), "by": _actor(request), "at": time.time()})
            audit.record(conn, _actor(request), "mark_reviewed" if reviewed else "mark_unreviewed",
                         conversation_id, ip=client_ip(request))
        return _back_to(conversation_id)

    @app.post("/conversation/note")
    @staff_only()
    async def add_note(request):
        conversation_id = _posted_conversation(request)
        if not conversation_id:
            return error_page(request, 404, "No conversation with that id.")
        body = (request.form.get("body") or "").strip()
        if not body or len(body) > NOTE_MAX:
            return error_page(request, 400, f"A note needs some text, at most {NOTE_MAX} characters.")
        with stores.portal.begin() as conn:
            conn.execute(sa.text("INSERT INTO portal_notes (conversation_id, author, created_at, body) "
                                 "VALUES (:c, :a, :t, :b)"),
                         {"c": conversation_id, "a": _actor(request), "t": time.time(), "b": body})
            audit.record(conn, _actor(request), "add_note", conversation_id, ip=client_ip(request))
        return _back_to(conversation_id)

    @app.post("/conversation/tag")
    @staff_only()
    async def change_tag(request):
        conversation_id = _posted_conversation(request)
        if not conversation_id:
            return error_page(request, 404, "No conversation with that id.")
        tag = (request.form.get("tag") or "").strip().lower()
        if not TAG_RE.match(tag):
            return error_page(request, 400, "A tag is 1-40 characters: lower-case letters, digits, spaces, "
                                            "'-' or '_', starting with a letter or digit.")
        remove = request.form.get("action") == "remove"
        with stores.portal.begin() as conn:
            params = {"c": conversation_id, "t": tag}
            conn.execute(sa.text("DELETE FROM portal_tags WHERE conversation_id = :c AND tag = :t"), params)
            if not remove:
                conn.execute(sa.text("INSERT INTO portal_tags (conversation_id, tag, added_by, added_at) "
                                     "VALUES (:c, :t, :by, :at)"), {**params, "by": _actor(request), "at": time.time()})
            audit.record(conn, _actor(request), "remove_tag" if remove else "add_tag", conversation_id,
                         detail=f"tag={tag}", ip=client_ip(request))
        return _back_to(conversation_id)

    @app.post("/conversation/contacted")
    @staff_only()
    async def mark_contacted(request):
        conversation_id = request.form.get("id", "")
        request_id = request.form.get("request_id", "")
        if not request_id.isdigit():
            return error_page(request, 400, "request_id must be a number.")
        if not sa.inspect(stores.consultations).has_table(consultation_requests.name):
            return error_page(request, 404, "No such consultation request.")
        table = consultation_requests
        with stores.consultations.begin() as conn:
            changed = conn.execute(table.update().where(table.c.id == int(request_id)).where(
                table.c.conversation_id == conversation_id).values(contacted=True)).rowcount
        if not changed:
            return error_page(request, 404, "No such consultation request for this conversation.")
        with stores.portal.begin() as conn:
            audit.record(conn, _actor(request), "mark_contacted", conversation_id,
                         detail=f"request_id={request_id}", ip=client_ip(request))
        return _back_to(conversation_id)

    # ---- questions the assistant could not answer ------------------------------
    def _questions_filter(request):
        _refresh()
        return questions.parse_status_filter(request.args)

    @app.get("/questions")
    @staff_only()
    async def questions_page(request):
        try:
            status, page = _questions_filter(request)
        except questions.StatusFilterError as exc:
            return error_page(request, 400, str(exc))
        rows, total = questions.listing(stores.portal, status, settings.page_size, page)
        return render(request, "questions.html", rows=rows, total=total, status_filter=status, page=page,
                      pages=max(1, -(-total // settings.page_size)), statuses=questions.STATUS_FILTERS,
                      note_max=questions.NOTE_MAX, urlencode=urlencode)

    @app.get("/questions.csv")
    @staff_only(admin=True)
    async def export_questions_csv(request):
        try:
            status, _page = _questions_filter(request)
        except questions.StatusFilterError as exc:
            return error_page(request, 400, str(exc))
        rows, total = questions.listing(stores.portal, status)
        with stores.portal.begin() as conn:
            audit.record(conn, _actor(request), "export_questions_csv", detail=f"rows={total} status={status}",
                         ip=client_ip(request))
        name = datetime.now(timezone.utc).strftime("unanswered-questions-%Y%m%d-%H%M%S.csv")
        return response.text(questions.to_csv(rows), content_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/questions/status")
    @staff_only()
    async def question_status(request):
        form = request.form
        conversation_id, key = form.get("id", ""), form.get("key", "")
        status = form.get("status", "")
        note = (form.get("note") or "").strip()
        if status not in questions.STATUSES:
            return error_page(request, 400, f"status must be one of {', '.join(questions.STATUSES)}.")
        if len(note) > questions.NOTE_MAX:
            return error_page(request, 400, f"A note is at most {questions.NOTE_MAX} characters.")
        try:  # where to go back to: the conversation, or the list with the filter it had
            back_status, back_page = questions.parse_status_filter(
                {"status": form.get("back_status", ""), "page": form.get("back_page", "")})
        except questions.StatusFilterError as exc:
            return error_page(request, 400, str(exc))
        _refresh()
        with stores.portal.begin() as conn:
            if not questions.is_indexed(conn, conversation_id, key):
                return error_page(request, 404, "No such question (the conversation may have been erased).")
            questions.set_status(conn, conversation_id, key, status, note, _actor(request))
            # The key only, never the note or the question: the audit log holds no patient text.
            audit.record(conn, _actor(request), f"mark_question_{status}", conversation_id,
                         detail=f"question={key[:12]}", ip=client_ip(request))
        if form.get("back") == "conversation":
            return response.redirect(f"/conversation?id={quote(conversation_id, safe='')}#questions", status=303)
        return response.redirect("/questions?" + urlencode({"status": back_status, "page": back_page}), status=303)

    # ---- admin: erasure and audit log -----------------------------------------
    @app.get("/conversation/erase")
    @staff_only(admin=True)
    async def erase_form(request):
        conversation_id = request.args.get("id", "")
        if not conversation_id:
            return error_page(request, 400, "Which conversation? The id is missing.")
        return render(request, "erase.html", conversation_id=conversation_id)

    @app.post("/conversation/erase")
    @staff_only(admin=True)
    async def erase(request):
        conversation_id = request.form.get("id", "")
        if not conversation_id:
            return error_page(request, 400, "Which conversation? The id is missing.")
        if request.form.get("confirm", "") != conversation_id:
            return render(request, "erase.html", status=400, conversation_id=conversation_id,
                          error="Type the conversation id exactly to confirm the erasure.")
        erased = erasure.erase_conversation(stores, conversation_id, _actor(request), client_ip(request))
        return render(request, "erased.html", conversation_id=conversation_id, counts=erased.counts,
                      reference=erased.reference)

    @app.get("/audit")
    @staff_only(admin=True)
    async def audit_page(request):
        page_raw = request.args.get("page", "1")
        if not page_raw.isdigit() or int(page_raw) < 1:
            return error_page(request, 400, "page must be a whole number from 1")
        page = int(page_raw)
        total = audit.count(stores.portal)
        entries = audit.entries(stores.portal, AUDIT_PAGE, (page - 1) * AUDIT_PAGE)
        return render(request, "audit.html", entries=entries, page=page,
                      pages=max(1, -(-total // AUDIT_PAGE)), total=total)
