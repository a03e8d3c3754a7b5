"""The call-back queue: its page, its CSV export, and staff's contact records (contacted,
undo, note), posted from the queue or from the conversation page."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from sanic import Blueprint, response

from portal import callbacks, storage
from portal.pages import actor, back_to, client_ip, csv_download, db, error_page, render, staff_only
from portal.paging import page_count

bp = Blueprint("callbacks")


@bp.get("/callbacks")
@staff_only()
async def queue_page(request):
    settings = request.app.ctx.settings
    try:
        status, page = callbacks.parse_status_filter(request.args)
    except callbacks.QueueFilterError as exc:
        return await error_page(request, 400, str(exc))
    rows, total, _waiting = await db(request, storage.callbacks_page, status, settings.page_size, page)
    return await render(
        request,
        "callbacks.html",
        rows=rows,
        total=total,
        status_filter=status,
        page=page,
        pages=page_count(total, settings.page_size),
        statuses=callbacks.STATUS_FILTERS,
        now=time.time(),
        urlencode=urlencode,
    )


@bp.get("/callbacks.csv")
@staff_only(admin=True)
async def export_csv(request):
    try:
        status, _page = callbacks.parse_status_filter(request.args)
    except callbacks.QueueFilterError as exc:
        return await error_page(request, 400, str(exc))
    items = await db(request, storage.export_callbacks, status, actor(request), client_ip(request))
    return csv_download(callbacks.to_csv(items, time.time()), "callbacks")


def _form_error(form, what: str) -> str:
    """What is wrong with a contact form, or "" when it can be used."""
    if not form.get("id", ""):
        return "Which conversation? The id is missing."
    if not form.get("request_id", "").isdigit():
        return "request_id must be a number."
    note = (form.get("note") or "").strip()
    if what == "note" and not note:
        return "A note needs some text."
    if len(note) > callbacks.NOTE_MAX:
        return f"A note is at most {callbacks.NOTE_MAX} characters."
    if form.get("back", "callbacks") not in ("callbacks", "conversation"):
        return "back must be callbacks or conversation."
    try:
        callbacks.parse_status_filter({"status": form.get("back_status", ""), "page": form.get("back_page", "")})
    except callbacks.QueueFilterError as exc:
        return str(exc)
    return ""


async def _contact(request, what: str):
    form = request.form
    problem = _form_error(form, what)
    if problem:
        return await error_page(request, 400, problem)
    conversation_id, request_id = form.get("id"), int(form.get("request_id"))
    # An undo or a plain "contacted" keeps its optional note too (e.g. "wrong number").
    note = (form.get("note") or "").strip()
    if not await db(
        request, storage.record_contact, conversation_id, request_id, what, note, actor(request), client_ip(request)
    ):
        return await error_page(request, 404, "No such call-back request (the conversation may have been erased).")
    if form.get("back") == "conversation":
        return back_to(conversation_id, "#callback")
    status, page = callbacks.parse_status_filter({"status": form.get("back_status"), "page": form.get("back_page")})
    return response.redirect("/callbacks?" + urlencode({"status": status, "page": page}), status=303)


@bp.post("/callbacks/contacted")
@staff_only()
async def mark_contacted(request):
    return await _contact(request, "contacted")


@bp.post("/callbacks/undo")
@staff_only()
async def undo_contacted(request):
    return await _contact(request, "undo")


@bp.post("/callbacks/note")
@staff_only()
async def add_note(request):
    return await _contact(request, "note")
