"""Admin only: erasing a conversation and reading the audit log."""

from __future__ import annotations

from sanic import Blueprint

from portal import storage
from portal.pages import actor, client_ip, db, error_page, render, staff_only
from portal.paging import page_count

AUDIT_PAGE = 100

bp = Blueprint("admin")


@bp.get("/conversation/erase")
@staff_only(admin=True)
async def erase_form(request):
    conversation_id = request.args.get("id", "")
    if not conversation_id:
        return await error_page(request, 400, "Which conversation? The id is missing.")
    return await render(request, "erase.html", conversation_id=conversation_id)


@bp.post("/conversation/erase")
@staff_only(admin=True)
async def erase(request):
    conversation_id = request.form.get("id", "")
    if not conversation_id:
        return await error_page(request, 400, "Which conversation? The id is missing.")
    if request.form.get("confirm", "") != conversation_id:
        return await render(
            request,
            "erase.html",
            status=400,
            conversation_id=conversation_id,
            error="Type the conversation id exactly to confirm the erasure.",
        )
    erased = await db(request, storage.erase_conversation, conversation_id, actor(request), client_ip(request))
    return await render(
        request, "erased.html", conversation_id=conversation_id, counts=erased.counts, reference=erased.reference
    )


@bp.get("/audit")
@staff_only(admin=True)
async def audit_page(request):
    page_raw = request.args.get("page", "1")
    if not page_raw.isdigit() or int(page_raw) < 1:
        return await error_page(request, 400, "page must be a whole number from 1")
    page = int(page_raw)
    entries, total = await db(request, storage.audit_page, AUDIT_PAGE, (page - 1) * AUDIT_PAGE)
    return await render(
        request, "audit.html", entries=entries, page=page, pages=page_count(total, AUDIT_PAGE), total=total
    )
