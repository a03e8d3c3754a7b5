"""The inbox, its CSV export, and one conversation: its page, printout and the review forms
(reviewed, notes, tags, consultation request contacted)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from sanic import Blueprint

from clinical.questionnaire import load_questionnaire
from portal import inbox, questions, storage
from portal.dashboard import SUMMARY_LABEL
from portal.pages import actor, back_to, client_ip, csv_download, db, error_page, render, staff_only
from portal.paging import page_count
from portal.screenings import AT_SUMMARY
from portal.tiers import TIERS
from portal.transcript import safety_items, screening_summaries

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
NOTE_MAX = 5000

bp = Blueprint("conversations")


def question_names() -> dict[str, str]:
    """Question id -> its short wording, for "stopped at ..." (and the summary of answers)."""
    return {**{q.id: q.summary for q in load_questionnaire().questions}, AT_SUMMARY: SUMMARY_LABEL.lower()}


@bp.get("/inbox")
@staff_only()
async def inbox_page(request):
    settings = request.app.ctx.settings
    try:
        filters = inbox.parse_filters(request.args)
    except inbox.FilterError as exc:
        return await error_page(request, 400, str(exc))
    rows, total, channels, tags = await db(request, storage.inbox_page, filters, settings.page_size)
    hidden = await db(request, storage.inbox_hidden_unfinished, filters)
    pages = page_count(total, settings.page_size)
    return await render(
        request,
        "inbox.html",
        rows=rows,
        total=total,
        filters=filters,
        pages=pages,
        outcomes=inbox.OUTCOMES,
        channels=channels,
        tags=tags,
        yes_no_filters=inbox.YES_NO_FILTERS,
        hidden_unfinished=hidden,
        urlencode=urlencode,
        tiers=TIERS,
        question_names=question_names(),
    )


@bp.get("/inbox.csv")
@staff_only(admin=True)
async def export_csv(request):
    try:
        filters = inbox.parse_filters(request.args, unfinished_default=inbox.UNFINISHED_SHOW)
    except inbox.FilterError as exc:
        return await error_page(request, 400, str(exc))
    rows = await db(
        request,
        storage.export_inbox,
        filters,
        f"filters={urlencode(filters.query_args())}",
        actor(request),
        client_ip(request),
    )
    return csv_download(inbox.to_csv(rows), "screenings")


async def _show(request, template: str, action: str):
    conversation_id = request.args.get("id", "")
    records = (
        await db(request, storage.view_conversation, conversation_id, action, actor(request), client_ip(request))
        if conversation_id
        else None
    )
    if records is None:
        return await error_page(request, 404, "No conversation with that id (it may have been erased).")
    conversation, log = records.conversation, records.conversation.question_log
    return await render(
        request,
        template,
        conversation_id=conversation_id,
        printing=template == "print.html",
        conversation=conversation,
        screenings=screening_summaries(conversation.screenings),
        question_names=question_names(),
        safety=safety_items(conversation.safety_net),
        review=records.review,
        notes=records.notes,
        tags=records.tags,
        consultations=records.consultations,
        questions=questions.conversation_items(log, records.question_statuses),
        person_requested=log.person_requested
        or any(c.request_reason == "asked_for_person" for c in records.consultations),
    )


@bp.get("/conversation")
@staff_only()
async def conversation_page(request):
    return await _show(request, "conversation.html", "view_conversation")


@bp.get("/conversation/print")
@staff_only()
async def conversation_print(request):
    return await _show(request, "print.html", "print_conversation")


async def _posted_conversation(request) -> str:
    conversation_id = request.form.get("id", "")
    return conversation_id if await db(request, storage.conversation_exists, conversation_id) else ""


@bp.post("/conversation/review")
@staff_only()
async def mark_reviewed(request):
    conversation_id = await _posted_conversation(request)
    if not conversation_id:
        return await error_page(request, 404, "No conversation with that id.")
    reviewed = request.form.get("reviewed") == "yes"
    await db(request, storage.set_reviewed, conversation_id, reviewed, actor(request), client_ip(request))
    return back_to(conversation_id)


@bp.post("/conversation/note")
@staff_only()
async def add_note(request):
    conversation_id = await _posted_conversation(request)
    if not conversation_id:
        return await error_page(request, 404, "No conversation with that id.")
    body = (request.form.get("body") or "").strip()
    if not body or len(body) > NOTE_MAX:
        return await error_page(request, 400, f"A note needs some text, at most {NOTE_MAX} characters.")
    await db(request, storage.add_note, conversation_id, body, actor(request), client_ip(request))
    return back_to(conversation_id)


@bp.post("/conversation/tag")
@staff_only()
async def change_tag(request):
    conversation_id = await _posted_conversation(request)
    if not conversation_id:
        return await error_page(request, 404, "No conversation with that id.")
    tag = (request.form.get("tag") or "").strip().lower()
    if not TAG_RE.match(tag):
        return await error_page(
            request,
            400,
            "A tag is 1-40 characters: lower-case letters, digits, spaces, "
            "'-' or '_', starting with a letter or digit.",
        )
    remove = request.form.get("action") == "remove"
    await db(request, storage.change_tag, conversation_id, tag, remove, actor(request), client_ip(request))
    return back_to(conversation_id)


@bp.post("/conversation/contacted")
@staff_only()
async def mark_contacted(request):
    conversation_id = request.form.get("id", "")
    request_id = request.form.get("request_id", "")
    if not request_id.isdigit():
        return await error_page(request, 400, "request_id must be a number.")
    if not await db(request, storage.has_consultation_requests):
        return await error_page(request, 404, "No such consultation request.")
    if not await db(
        request, storage.mark_contacted, conversation_id, int(request_id), actor(request), client_ip(request)
    ):
        return await error_page(request, 404, "No such consultation request for this conversation.")
    return back_to(conversation_id)
