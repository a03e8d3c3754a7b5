"""The call-back queue: who is waiting for the clinic to get in touch, and staff's record
of each contact.

What is in the queue:
- every consultation request (clinical/consultation_store.py), whether made after a
  screening or because the person asked to talk to a person (request_reason
  "asked_for_person");
- every conversation where the person asked for a person (the index's ``person_requested``)
  but left no request, so no name or contact details: staff reply in the same channel (on
  SMS and WhatsApp the conversation id is the person's number) or read the conversation.
  They are listed so that such a person is never silently forgotten.

Contact records (``portal_contact_events``): one row per staff action on an item,
"contacted", "undone" (contacted taken back) or "note", with who, when and an optional
note. Nothing is updated or deleted, so an undo keeps the history. An item's state is
derived: contacted when its latest contacted/undone row is "contacted". The consultation
table's own ``contacted`` column is kept in step (other code may read it); a request marked
contacted before contact records existed (the column set, no rows) reads as contacted by
an unknown member of staff.

An item is identified by its conversation and request id; ``PERSON_ONLY`` (0) stands for
the conversation's ask for a person without a request (request ids start at 1).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from clinical.consultation_store import consultation_requests
from portal.clock import ClinicClock, waited
from portal.inbox import csv_document
from portal.labels import Labels, load_labels
from portal.paging import status_and_page

PERSON_ONLY = 0
WAITING, CONTACTED, ALL = "waiting", "contacted", "all"
STATUS_FILTERS = (WAITING, CONTACTED, ALL)
ACTIONS = ("contacted", "undone", "note")
NOTE_MAX = 500
# Columns of the call-back export (docs/staff-portal.md); add new ones at the end only.
CSV_COLUMNS = (
    "conversation_id",
    "request_id",
    "requested_at",
    "waited",
    "reason",
    "name",
    "contact_kind",
    "contact",
    "preferred_times",
    "channel",
    "outcome",
    "red_flags",
    "safety_net_flags",
    "status",
    "contacted_by",
    "contacted_at",
    "latest_note",
    "outcome_code",
    "red_flag_codes",
)


class QueueFilterError(ValueError):
    """A queue filter value that cannot be used; the message says which and why."""


@dataclass
class ContactEvent:
    action: str  # one of ACTIONS
    actor: str
    at: float
    note: str


@dataclass
class CallbackItem:
    """One entry of the queue (and one request on the conversation page)."""

    conversation_id: str
    request_id: int  # PERSON_ONLY: asked for a person, no request
    requested_at: Any  # datetime (request) or Unix seconds (asked for a person)
    request_reason: str  # "screening" / "asked_for_person"
    name: str = ""
    contact: str = ""
    contact_kind: str = ""  # "phone" / "email" / "" (none left)
    preferred_times: str = ""
    consent_at: Any = None
    consent_wording: str | None = None
    channel: str | None = None
    outcome: str | None = None
    red_flags: list[str] = field(default_factory=list)
    safety_net_flags: list[str] = field(default_factory=list)
    distress: bool = False
    legacy_contacted: bool = False  # the consultation table's column, with no contact records
    history: list[ContactEvent] = field(default_factory=list)  # oldest first

    @property
    def id(self) -> int:  # the name the conversation page's forms have always used
        return self.request_id

    @property
    def person_only(self) -> bool:
        return self.request_id == PERSON_ONLY

    @property
    def last_contact(self) -> ContactEvent | None:
        """The latest "contacted" or "undone" record."""
        changes = [e for e in self.history if e.action in ("contacted", "undone")]
        return changes[-1] if changes else None

    @property
    def contacted(self) -> bool:
        last = self.last_contact
        return last.action == "contacted" if last else self.legacy_contacted

    @property
    def contacted_event(self) -> ContactEvent | None:
        last = self.last_contact
        return last if last and last.action == "contacted" else None

    @property
    def latest_note(self) -> ContactEvent | None:
        notes = [e for e in self.history if e.note]
        return notes[-1] if notes else None

    @property
    def dial(self) -> str:
        """A tel: or mailto: address for the contact, or "" when there is none to use."""
        if self.contact_kind == "phone" and self.contact:
            return "tel:" + "".join(ch for ch in self.contact if ch.isdigit() or ch == "+")
        if self.contact_kind == "email" and "@" in self.contact:
            return "mailto:" + self.contact
        return ""

    @property
    def sort_time(self) -> float:
        moment = self.requested_at
        if isinstance(moment, datetime):  # naive: UTC, as SQLite hands it back
            return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
        return float(moment or 0)


def parse_status_filter(args: Mapping[str, str]) -> tuple[str, int]:
    """The queue's ?status= (waiting by default, contacted or all) and ?page=."""
    return status_and_page(args, STATUS_FILTERS, WAITING, QueueFilterError)


def messaging_number(channel: str | None, conversation_id: str) -> str:
    """On SMS and WhatsApp (the Twilio channel) the conversation id is the person's number:
    the one way to reach someone who asked for a person without leaving details."""
    if channel != "twilio_verified":
        return ""
    number = conversation_id.removeprefix("whatsapp:")
    return number if number.startswith("+") and number[1:].isdigit() else ""


# ---- reading ------------------------------------------------------------------------


def _has_requests(engine: sa.engine.Engine) -> bool:
    return sa.inspect(engine).has_table(consultation_requests.name)


def request_rows(consultations: sa.engine.Engine, conversation_id: str | None = None) -> list[Any]:
    if not _has_requests(consultations):
        return []
    query = consultation_requests.select().order_by(consultation_requests.c.id)
    if conversation_id is not None:
        query = query.where(consultation_requests.c.conversation_id == conversation_id)
    with consultations.connect() as conn:
        return conn.execute(query).fetchall()


def _summaries(conn, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    query = sa.text(
        "SELECT conversation_id, started_at, channel, outcome, red_flags, safety_net_flags, distress "
        "FROM portal_summaries WHERE conversation_id IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    return {r.conversation_id: dict(r._mapping) for r in conn.execute(query, {"ids": ids})}


def _history(conn, ids: list[str]) -> dict[tuple[str, int], list[ContactEvent]]:
    if not ids:
        return {}
    query = sa.text(
        "SELECT conversation_id, request_id, action, actor, at, note FROM portal_contact_events "
        "WHERE conversation_id IN :ids ORDER BY id"
    ).bindparams(sa.bindparam("ids", expanding=True))
    found: dict[tuple[str, int], list[ContactEvent]] = {}
    for r in conn.execute(query, {"ids": ids}):
        found.setdefault((r.conversation_id, int(r.request_id)), []).append(
            ContactEvent(r.action, r.actor, float(r.at), r.note or "")
        )
    return found


def _person_only_ids(conn, excluding: set[str]) -> list[str]:
    rows = conn.execute(sa.text("SELECT conversation_id FROM portal_summaries WHERE person_requested = 1"))
    return sorted({cid for (cid,) in rows} - excluding)


def person_asked_at(tracker: sa.engine.Engine, ids: list[str]) -> dict[str, float]:
    """When each conversation's ``person_requested`` slot was first set true (the tracker
    store's slot events; the index keeps only that it happened)."""
    if not ids or not sa.inspect(tracker).has_table("events"):
        return {}
    query = sa.text(
        "SELECT sender_id, timestamp, data FROM events WHERE sender_id IN :ids "
        "AND type_name = 'slot' AND action_name = 'person_requested' ORDER BY id"
    ).bindparams(sa.bindparam("ids", expanding=True))
    first: dict[str, float] = {}
    with tracker.connect() as conn:
        for sender, ts, data in conn.execute(query, {"ids": ids}):
            try:
                value = json.loads(data).get("value")
            except (TypeError, ValueError, AttributeError):
                continue
            if value is True and sender not in first:
                first[sender] = float(ts)
    return first


def _item_from_request(row, summary: Mapping[str, Any] | None) -> CallbackItem:
    summary = summary or {}
    reasons = _json_list(row.screening_reasons)
    return CallbackItem(
        conversation_id=row.conversation_id,
        request_id=int(row.id),
        requested_at=row.created_at,
        request_reason=row.request_reason or "screening",
        name=row.name,
        contact=row.contact,
        contact_kind=row.contact_kind,
        preferred_times=row.preferred_times,
        consent_at=row.consent_at,
        consent_wording=row.consent_wording,
        channel=summary.get("channel"),
        # The index has the latest outcome and every red flag ever raised; a request whose
        # conversation is not indexed (yet) keeps what it was saved with.
        outcome=summary.get("outcome", row.screening_outcome),
        red_flags=_json_list(summary.get("red_flags")) if summary else [r for r in reasons if r.startswith("rf_")],
        safety_net_flags=_json_list(summary.get("safety_net_flags")),
        distress=bool(summary.get("distress")),
        legacy_contacted=bool(row.contacted),
    )


def _item_for_person(conversation_id: str, summary: Mapping[str, Any], asked_at: float | None) -> CallbackItem:
    number = messaging_number(summary.get("channel"), conversation_id)
    return CallbackItem(
        conversation_id=conversation_id,
        request_id=PERSON_ONLY,
        requested_at=asked_at or summary.get("started_at"),
        request_reason="asked_for_person",
        contact=number,
        contact_kind="phone" if number else "",
        channel=summary.get("channel"),
        outcome=summary.get("outcome"),
        red_flags=_json_list(summary.get("red_flags")),
        safety_net_flags=_json_list(summary.get("safety_net_flags")),
        distress=bool(summary.get("distress")),
    )


def _json_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return [str(v) for v in parsed] if isinstance(parsed, list) else []


def all_items(
    tracker: sa.engine.Engine, portal: sa.engine.Engine, consultations: sa.engine.Engine, with_times: bool = True
) -> list[CallbackItem]:
    """Every item of the queue, with its history. The requests live in another database
    than the portal's tables, so they are joined here rather than in SQL.
    with_times False: skip reading when people asked for a person (only counting)."""
    requests = request_rows(consultations)
    with portal.connect() as conn:
        person_ids = _person_only_ids(conn, {r.conversation_id for r in requests})
        ids = sorted({r.conversation_id for r in requests} | set(person_ids))
        summaries = _summaries(conn, ids)
        history = _history(conn, ids)
    asked = person_asked_at(tracker, person_ids) if with_times else {}
    items = [_item_from_request(r, summaries.get(r.conversation_id)) for r in requests]
    items += [_item_for_person(cid, summaries[cid], asked.get(cid)) for cid in person_ids if cid in summaries]
    for item in items:
        item.history = history.get((item.conversation_id, item.request_id), [])
    return items


def for_conversation(portal: sa.engine.Engine, consultations: sa.engine.Engine, conversation_id: str) -> list[Any]:
    """One conversation's requests with their contact history (the conversation page)."""
    requests = request_rows(consultations, conversation_id)
    with portal.connect() as conn:
        summary = _summaries(conn, [conversation_id]).get(conversation_id)
        history = _history(conn, [conversation_id])
    items = [_item_from_request(r, summary) for r in requests]
    for item in items:
        item.history = history.get((conversation_id, item.request_id), [])
    return items


def select(items: list[CallbackItem], status: str) -> list[CallbackItem]:
    """Waiting: oldest request first (the longest wait is called first). Contacted: the most
    recently contacted first. All: the waiting ones, then the contacted ones."""
    waiting = sorted((i for i in items if not i.contacted), key=lambda i: (i.sort_time, i.request_id))
    done = sorted(
        (i for i in items if i.contacted),
        key=lambda i: (-(i.contacted_event.at if i.contacted_event else 0), i.sort_time),
    )
    return {WAITING: waiting, CONTACTED: done, ALL: waiting + done}[status]


def waiting_count(tracker: sa.engine.Engine, portal: sa.engine.Engine, consultations: sa.engine.Engine) -> int:
    return sum(1 for i in all_items(tracker, portal, consultations, with_times=False) if not i.contacted)


# ---- writing ------------------------------------------------------------------------


def item_exists(portal_conn, consultations: sa.engine.Engine, conversation_id: str, request_id: int) -> bool:
    if request_id == PERSON_ONLY:
        found = portal_conn.execute(
            sa.text("SELECT 1 FROM portal_summaries WHERE conversation_id = :c AND person_requested = 1"),
            {"c": conversation_id},
        ).first()
        return found is not None
    return any(r.id == request_id for r in request_rows(consultations, conversation_id))


def record(portal_conn, conversation_id: str, request_id: int, action: str, actor: str, note: str = "") -> None:
    """One contact record, inside the caller's transaction (with its audit entry)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    portal_conn.execute(
        sa.text(
            "INSERT INTO portal_contact_events (conversation_id, request_id, action, actor, at, note) "
            "VALUES (:c, :r, :a, :by, :at, :n)"
        ),
        {"c": conversation_id, "r": request_id, "a": action, "by": actor, "at": time.time(), "n": note or None},
    )


def set_request_column(consultations: sa.engine.Engine, conversation_id: str, request_id: int, contacted: bool) -> None:
    """Keeps consultation_requests.contacted in step with the contact records."""
    if request_id == PERSON_ONLY:
        return
    table = consultation_requests
    with consultations.begin() as conn:
        conn.execute(
            table.update()
            .where(table.c.id == request_id)
            .where(table.c.conversation_id == conversation_id)
            .values(contacted=contacted)
        )


# ---- export -------------------------------------------------------------------------


def to_csv(items: list[CallbackItem], now: float, labels: Labels | None = None) -> str:
    labels = labels or load_labels()
    clock = ClinicClock.for_clinic()
    lines = []
    for i in items:
        contacted = i.contacted_event
        lines.append(
            (
                i.conversation_id,
                i.request_id or "",
                clock.iso(i.requested_at),
                "" if i.contacted else waited(i.requested_at, now),
                labels.request_reason(i.request_reason),
                i.name,
                i.contact_kind,
                i.contact,
                i.preferred_times,
                labels.channel(i.channel, i.conversation_id) if i.channel else "",
                labels.outcome(i.outcome),
                "; ".join(labels.reason(f) for f in i.red_flags),
                "; ".join(labels.flag(f) for f in i.safety_net_flags),
                CONTACTED if i.contacted else WAITING,
                contacted.actor if contacted else ("unknown" if i.contacted else ""),
                clock.iso(contacted.at) if contacted else "",
                i.latest_note.note if i.latest_note else "",
                i.outcome or "",
                ";".join(i.red_flags),
            )
        )
    return csv_document(list(CSV_COLUMNS), lines)
