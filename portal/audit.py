"""The audit log: who did what, when. Entries hold ids and counts, never health data."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

# Every action the portal records (docs/staff-portal.md lists what each means).
ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_in_throttled",
    "sign_out",
    "view_conversation",
    "print_conversation",
    "export_csv",
    "mark_reviewed",
    "mark_unreviewed",
    "add_note",
    "add_tag",
    "remove_tag",
    "mark_contacted",
    "erase",
    "purge",
    "create_user",
    "deactivate_user",
    "mark_question_done",
    "mark_question_open",
    "export_questions_csv",
    "undo_contacted",
    "add_contact_note",
    "export_callbacks_csv",
)


def record(conn, actor: str, action: str, conversation_id: str | None = None, detail: str = "", ip: str = "") -> None:
    """Writes one entry, inside the caller's transaction so the action and its record
    are committed together or not at all."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    conn.execute(
        sa.text(
            "INSERT INTO portal_audit (at, actor, action, conversation_id, detail, ip) "
            "VALUES (:at, :actor, :action, :cid, :detail, :ip)"
        ),
        {
            "at": time.time(),
            "actor": actor[:80],
            "action": action,
            "cid": conversation_id,
            "detail": detail[:2000],
            "ip": (ip or "")[:64],
        },
    )


def entries(engine: sa.engine.Engine, limit: int, offset: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, at, actor, action, conversation_id, detail, ip FROM portal_audit "
                "ORDER BY id DESC LIMIT :limit OFFSET :offset"
            ),
            {"limit": limit, "offset": offset},
        )
        return [dict(r._mapping) for r in rows]


def count(engine: sa.engine.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT COUNT(*) FROM portal_audit")).scalar())
