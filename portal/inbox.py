"""Inbox queries over portal_summaries: filters, paging, tags and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from clinical.rules import OUTCOMES
from portal.clock import ClinicClock
from portal.paging import PAGE_MAX
from portal.screenings import AT_SUMMARY, question_ids
from portal.tiers import TIERS, flags_in_tier

NO_OUTCOME = "none"  # filter value: conversations that never reached an outcome
UNFINISHED_HIDE, UNFINISHED_SHOW = "hide", "show"
# A conversation without an outcome is hidden by default only when nothing in it needs
# staff: distress, a safety-net flag, asking for a person, a consultation request or an
# unanswered question keep it listed (a person in crisis rarely finishes a screening).
FOLLOW_UP = (
    "(s.distress = 1 OR s.person_requested = 1 OR s.consultation_requested = 1 "
    "OR s.safety_net_flags <> '[]' "
    "OR EXISTS (SELECT 1 FROM portal_questions fq WHERE fq.conversation_id = s.conversation_id))"
)
TAG_MAX = 40
# The export's columns, in order. Documented in docs/staff-portal.md; add new columns at the
# end only, so spreadsheets and scripts built on the export keep working.
CSV_COLUMNS = (
    "conversation_id",
    "started_at_utc",
    "last_activity_utc",
    "channel",
    "outcome",
    "reasons",
    "red_flags",
    "consultation_requested",
    "reviewed",
    "tags",
    "distress",
    "safety_net_flags",
    "asked_for_person",
    "unanswered_questions",
    "unanswered_questions_open",
    "ruleset_version",
)
# What the export and the conversation page say when no rule set version was recorded
# (conversations from before the assistant recorded it).
NOT_RECORDED = "not recorded"


class FilterError(ValueError):
    """A filter value the inbox cannot use; the message says which and why."""


# The inbox's yes/no filters: query argument, label, and the column (or expression) it tests.
YES_NO_FILTERS = (
    ("reviewed", "Reviewed", "COALESCE(r.reviewed, 0)"),
    ("consultation", "Consultation requested", "s.consultation_requested"),
    ("distress", "Distress", "s.distress"),
    ("person", "Asked for a person", "s.person_requested"),
    # for the dashboard's links (portal/dashboard.py)
    ("consented", "Consented", "s.consented"),
    ("finished", "Finished (reached an outcome)", "CASE WHEN s.outcome IS NULL THEN 0 ELSE 1 END"),
    (
        "unanswered",
        "Has unanswered questions",
        "CASE WHEN EXISTS (SELECT 1 FROM portal_questions uq WHERE uq.conversation_id = s.conversation_id) "
        "THEN 1 ELSE 0 END",
    ),
)
WEEKS_MAX = 104  # the week filter's longest span (two years)


@dataclass(frozen=True)
class Filters:
    outcome: str = ""
    date_from: str = ""
    date_to: str = ""
    channel: str = ""
    reviewed: str = ""
    consultation: str = ""
    tag: str = ""
    q: str = ""
    page: int = 1
    distress: str = ""  # after page: the fields before it are also passed by position
    person: str = ""  # asked to talk to a person: "yes" / "no"
    # The dashboard's filters. week: the Monday (YYYY-MM-DD) starting a week in the clinic's
    # time zone; weeks: how many weeks from it (default 1). tier: a red-flag tier
    # (portal/tiers.py). dropped_at: the question an unfinished screening stopped at.
    consented: str = ""
    finished: str = ""
    unanswered: str = ""
    week: str = ""
    weeks: int = 0
    tier: str = ""
    dropped_at: str = ""
    # Conversations that never reached an outcome (most of them: people who left early):
    # "hide" is the page's default (parse_filters), "show" lists them too. Built in code the
    # default is "show", so every other caller keeps seeing every conversation.
    unfinished: str = UNFINISHED_SHOW
    errors: tuple[str, ...] = field(default_factory=tuple)

    def query_args(self, **change: Any) -> dict[str, Any]:
        """The non-empty filter values, for links that keep the filters (paging, export)."""
        values = {
            k: getattr(self, k)
            for k in (
                "outcome",
                "date_from",
                "date_to",
                "channel",
                "reviewed",
                "consultation",
                "tag",
                "q",
                "distress",
                "person",
                "consented",
                "finished",
                "unanswered",
                "week",
                "weeks",
                "tier",
                "dropped_at",
            )
        }
        # Hiding them is the page's default: links only carry "show".
        if self.unfinished == UNFINISHED_SHOW:
            values["unfinished"] = UNFINISHED_SHOW
        values.update(change)
        return {k: v for k, v in values.items() if v not in ("", None, 0)}


def week_bounds(week: str, weeks: int = 1) -> tuple[float, float]:
    """Unix start and end (exclusive) of `weeks` weeks from the Monday `week`, midnight to
    midnight in the clinic's time zone (a week with a clock change is 167 or 169 hours)."""
    zone = ClinicClock.for_clinic().zone
    monday = datetime.strptime(week, "%Y-%m-%d")
    start = monday.replace(tzinfo=zone)
    end = (monday + timedelta(weeks=max(1, weeks))).replace(tzinfo=zone)
    return start.timestamp(), end.timestamp()


def _week(value: str) -> str:
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise FilterError(f"week must be a date written YYYY-MM-DD, got {value!r}") from None
    if day.weekday() != 0:
        raise FilterError(f"week must be a Monday (the first day of a week), got {value!r}")
    return value


def _day(value: str, name: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise FilterError(f"{name} must be a date written YYYY-MM-DD, got {value!r}") from None


def parse_filters(args: Mapping[str, str], unfinished_default: str = UNFINISHED_HIDE) -> Filters:
    """Reads the inbox's query string; raises FilterError with a readable message.
    unfinished_default: whether conversations with no outcome and nothing to follow up are
    left out when the query does not say (the page: hidden; the CSV export: shown, so a
    script reading /inbox.csv keeps getting every conversation)."""
    get = lambda k: (args.get(k) or "").strip()  # noqa: E731
    outcome, reviewed, consultation = get("outcome"), get("reviewed"), get("consultation")
    distress, person = get("distress"), get("person")
    if outcome and outcome not in OUTCOMES + (NO_OUTCOME,):
        raise FilterError(f"outcome must be one of {', '.join(OUTCOMES + (NO_OUTCOME,))}")
    for name, _, _ in YES_NO_FILTERS:
        if get(name) and get(name) not in ("yes", "no"):
            raise FilterError(f"{name} must be yes or no")
    date_from, date_to = get("date_from"), get("date_to")
    start = _day(date_from, "date_from") if date_from else None
    end = _day(date_to, "date_to") if date_to else None
    if start and end and end < start:
        raise FilterError("date_to is before date_from")
    page_raw = get("page") or "1"
    if not page_raw.isdigit() or not 1 <= int(page_raw) <= PAGE_MAX:
        raise FilterError("page must be a whole number from 1")
    unfinished = get("unfinished") or unfinished_default
    if unfinished not in (UNFINISHED_HIDE, UNFINISHED_SHOW):
        raise FilterError(f"unfinished must be {UNFINISHED_HIDE} or {UNFINISHED_SHOW}")
    q = get("q")
    if len(q) > 200:
        raise FilterError("search text is limited to 200 characters")
    week = _week(get("week")) if get("week") else ""
    weeks_raw = get("weeks")
    if weeks_raw and not week:
        raise FilterError("weeks needs a week to start from")
    if weeks_raw and (not weeks_raw.isdigit() or not 1 <= int(weeks_raw) <= WEEKS_MAX):
        raise FilterError(f"weeks must be a whole number from 1 to {WEEKS_MAX}")
    tier, dropped_at = get("tier"), get("dropped_at")
    if tier and tier not in TIERS:
        raise FilterError(f"tier must be one of {', '.join(TIERS)}")
    if dropped_at and dropped_at not in question_ids() + (AT_SUMMARY,):
        raise FilterError(f"dropped_at must be a question id of clinical/questionnaire.yml or {AT_SUMMARY}")
    return Filters(
        outcome,
        date_from,
        date_to,
        get("channel")[:64],
        reviewed,
        consultation,
        get("tag")[:TAG_MAX],
        q,
        int(page_raw),
        distress=distress,
        person=person,
        consented=get("consented"),
        finished=get("finished"),
        unanswered=get("unanswered"),
        week=week,
        weeks=int(weeks_raw) if weeks_raw else 0,
        tier=tier,
        dropped_at=dropped_at,
        unfinished=unfinished,
    )


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(filters: Filters) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    if filters.outcome == NO_OUTCOME:
        clauses.append("s.outcome IS NULL")
    elif filters.outcome:
        clauses.append("s.outcome = :outcome")
        params["outcome"] = filters.outcome
    elif filters.unfinished == UNFINISHED_HIDE:
        clauses.append(f"(s.outcome IS NOT NULL OR {FOLLOW_UP})")
    if filters.date_from:
        clauses.append("s.started_at >= :start")
        params["start"] = _day(filters.date_from, "date_from").timestamp()
    if filters.date_to:
        # date_to is inclusive: everything before the start of the next day
        clauses.append("s.started_at < :end")
        params["end"] = (_day(filters.date_to, "date_to") + timedelta(days=1)).timestamp()
    if filters.channel:
        clauses.append("s.channel = :channel")
        params["channel"] = filters.channel
    for name, _, column in YES_NO_FILTERS:
        if getattr(filters, name):
            clauses.append(f"{column} = :{name}")  # column from the table above, never from input
            params[name] = 1 if getattr(filters, name) == "yes" else 0
    if filters.tag:
        clauses.append(
            "EXISTS (SELECT 1 FROM portal_tags t WHERE t.conversation_id = s.conversation_id AND t.tag = :tag)"
        )
        params["tag"] = filters.tag
    if filters.q:
        clauses.append("s.search_text LIKE :q ESCAPE '\\'")
        params["q"] = _like_pattern(filters.q)
    if filters.week:
        clauses.append("s.started_at >= :week_start AND s.started_at < :week_end")
        params["week_start"], params["week_end"] = week_bounds(filters.week, filters.weeks or 1)
    if filters.tier:
        # red_flags is a JSON list of rule ids: match any id of the tier, quotes included
        flags = flags_in_tier(filters.tier)
        tests = [f"s.red_flags LIKE :tier_{i} ESCAPE '\\'" for i in range(len(flags))]
        clauses.append("(" + (" OR ".join(tests) or "1 = 0") + ")")
        params.update({f"tier_{i}": '%"' + flag.replace("_", "\\_") + '"%' for i, flag in enumerate(flags)})
    if filters.dropped_at:
        clauses.append("s.dropped_at = :dropped_at")
        params["dropped_at"] = filters.dropped_at
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


FROM = "FROM portal_summaries s LEFT JOIN portal_reviews r ON r.conversation_id = s.conversation_id"
COLUMNS = (
    "s.conversation_id, s.started_at, s.last_event_at, s.channel, s.outcome, s.reasons, "
    "s.red_flags, s.consultation_requested, COALESCE(r.reviewed, 0) AS reviewed, s.distress, "
    "s.safety_net_flags, s.person_requested, s.ruleset_version, "
    # the conversation's unanswered questions (portal/questions.py), all and still open
    "(SELECT COUNT(*) FROM portal_questions q WHERE q.conversation_id = s.conversation_id) "
    "AS unanswered_questions, "
    "(SELECT COUNT(*) FROM portal_questions q LEFT JOIN portal_question_status st "
    "ON st.conversation_id = q.conversation_id AND st.question_key = q.question_key "
    "WHERE q.conversation_id = s.conversation_id AND COALESCE(st.status, 'open') = 'open') "
    "AS unanswered_questions_open"
)


def _decode(row) -> dict[str, Any]:
    out = dict(row._mapping)
    out["reasons"] = json.loads(out["reasons"] or "[]")
    out["red_flags"] = json.loads(out["red_flags"] or "[]")
    out["safety_net_flags"] = json.loads(out["safety_net_flags"] or "[]")
    return out


def tags_for(conn, conversation_ids: list[str]) -> dict[str, list[str]]:
    if not conversation_ids:
        return {}
    query = sa.text(
        "SELECT conversation_id, tag FROM portal_tags WHERE conversation_id IN :ids ORDER BY tag"
    ).bindparams(sa.bindparam("ids", expanding=True))
    tags: dict[str, list[str]] = {}
    for cid, tag in conn.execute(query, {"ids": conversation_ids}):
        tags.setdefault(cid, []).append(tag)
    return tags


def search(engine: sa.engine.Engine, filters: Filters, page_size: int | None) -> tuple[list[dict[str, Any]], int]:
    """One page of matching conversations, newest first, and the number of matches.
    page_size None: every match (the export)."""
    where, params = _where(filters)
    order = " ORDER BY s.started_at DESC, s.conversation_id"
    with engine.connect() as conn:
        total = int(conn.execute(sa.text(f"SELECT COUNT(*) {FROM}{where}"), params).scalar())
        sql = f"SELECT {COLUMNS} {FROM}{where}{order}"
        if page_size:
            sql += " LIMIT :limit OFFSET :offset"
            params = {**params, "limit": page_size, "offset": (filters.page - 1) * page_size}
        rows = [_decode(r) for r in conn.execute(sa.text(sql), params)]
        tags = tags_for(conn, [r["conversation_id"] for r in rows])
    for row in rows:
        row["tags"] = tags.get(row["conversation_id"], [])
    return rows, total


def channels(engine: sa.engine.Engine) -> list[str]:
    with engine.connect() as conn:
        return [
            c
            for (c,) in conn.execute(
                sa.text("SELECT DISTINCT channel FROM portal_summaries WHERE channel IS NOT NULL ORDER BY channel")
            )
        ]


def all_tags(engine: sa.engine.Engine) -> list[str]:
    with engine.connect() as conn:
        return [t for (t,) in conn.execute(sa.text("SELECT DISTINCT tag FROM portal_tags ORDER BY tag"))]


def iso_utc(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_cell(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets; conversation ids and
    # the person's questions come from the chat channel and tags and notes from staff, so
    # none of them is trusted.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_document(columns: list[str], lines: list[tuple]) -> str:
    """A spreadsheet-safe CSV: a header and one line per tuple, every cell through csv_cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for line in lines:
        writer.writerow([csv_cell(str(v)) for v in line])
    return out.getvalue()


def to_csv(rows: list[dict[str, Any]]) -> str:
    return csv_document(
        CSV_COLUMNS,
        [
            (
                r["conversation_id"],
                iso_utc(r["started_at"]),
                iso_utc(r["last_event_at"]),
                r["channel"] or "",
                r["outcome"] or "",
                ";".join(r["reasons"]),
                ";".join(r["red_flags"]),
                "yes" if r["consultation_requested"] else "no",
                "yes" if r["reviewed"] else "no",
                ";".join(r["tags"]),
                "yes" if r["distress"] else "no",
                ";".join(r["safety_net_flags"]),
                "yes" if r["person_requested"] else "no",
                r["unanswered_questions"],
                r["unanswered_questions_open"],
                r["ruleset_version"] or NOT_RECORDED,
            )
            for r in rows
        ],
    )


def hidden_unfinished(engine: sa.engine.Engine, filters: Filters) -> int:
    """How many conversations the default hides from these filters' results (no outcome and
    nothing to follow up), for the page to say so; 0 when they are shown or an outcome is
    chosen."""
    if filters.unfinished != UNFINISHED_HIDE or filters.outcome:
        return 0
    where, params = _where(replace(filters, unfinished=UNFINISHED_SHOW))
    hidden = f"s.outcome IS NULL AND NOT {FOLLOW_UP}"
    where = f"{where} AND {hidden}" if where else f" WHERE {hidden}"
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) {FROM}{where}"), params).scalar())
