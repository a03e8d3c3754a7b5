"""Questions the assistant could not answer: the list, its CSV export, and staff's status."""

from __future__ import annotations

from urllib.parse import urlencode

from sanic import Blueprint, response

from portal import questions, storage
from portal.pages import actor, back_to, client_ip, csv_download, db, error_page, render, staff_only
from portal.paging import page_count

bp = Blueprint("unanswered")


@bp.get("/questions")
@staff_only()
async def questions_page(request):
    settings = request.app.ctx.settings
    try:
        status, page = questions.parse_status_filter(request.args)
    except questions.StatusFilterError as exc:
        return await error_page(request, 400, str(exc))
    rows, total = await db(request, storage.questions_page, status, settings.page_size, page)
    return await render(
        request,
        "questions.html",
        rows=rows,
        total=total,
        status_filter=status,
        page=page,
        pages=page_count(total, settings.page_size),
        statuses=questions.STATUS_FILTERS,
        note_max=questions.NOTE_MAX,
        urlencode=urlencode,
    )


@bp.get("/questions.csv")
@staff_only(admin=True)
async def export_questions_csv(request):
    try:
        status, _page = questions.parse_status_filter(request.args)
    except questions.StatusFilterError as exc:
        return await error_page(request, 400, str(exc))
    rows = await db(request, storage.export_questions, status, actor(request), client_ip(request))
    return csv_download(questions.to_csv(rows), "unanswered-questions")


@bp.post("/questions/status")
@staff_only()
async def question_status(request):
    form = request.form
    conversation_id, key = form.get("id", ""), form.get("key", "")
    status = form.get("status", "")
    note = (form.get("note") or "").strip()
    if status not in questions.STATUSES:
        return await error_page(request, 400, f"status must be one of {', '.join(questions.STATUSES)}.")
    if len(note) > questions.NOTE_MAX:
        return await error_page(request, 400, f"A note is at most {questions.NOTE_MAX} characters.")
    try:  # where to go back to: the conversation, or the list with the filter it had
        back_status, back_page = questions.parse_status_filter(
            {"status": form.get("back_status", ""), "page": form.get("back_page", "")}
        )
    except questions.StatusFilterError as exc:
        return await error_page(request, 400, str(exc))
    if not await db(
        request, storage.set_question_status, conversation_id, key, status, note, actor(request), client_ip(request)
    ):
        return await error_page(request, 404, "No such question (the conversation may have been erased).")
    if form.get("back") == "conversation":
        return back_to(conversation_id, "#questions")
    return response.redirect("/questions?" + urlencode({"status": back_status, "page": back_page}), status=303)
