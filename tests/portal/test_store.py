"""The portal's data layer on real Rasa tracker-store rows: migrations, the incremental
index, inbox filters, CSV, erasure and purge. Runs on SQLite and (marked postgres) on
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import time

import sqlalchemy as sa
from portal_helpers import inbox_ids, save, screening, summary_row, tracker_store

from clinical.consultation_store import save_request
from portal import audit, db, erasure, inbox, summaries

DAY = 86400


def _count(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_migrations_apply_once_and_record_the_version(databases):
    engine = db.engine_for(databases.portal_url)
    assert db.schema_version(engine) == 0
    assert db.migrate(engine) == [1, 2, 3, 4, 5, 6, 7]
    assert db.migrate(engine) == []
    assert db.schema_version(engine) == 7
    tables = set(sa.inspect(engine).get_table_names())
    assert {
        "portal_staff",
        "portal_sessions",
        "portal_reviews",
        "portal_notes",
        "portal_tags",
        "portal_audit",
        "portal_summaries",
        "portal_summariser_state",
        "portal_questions",
        "portal_question_status",
        "portal_contact_events",
    } <= tables


def test_summary_row_is_built_from_rasa_events(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    start = time.time() - 3600
    save(
        store,
        "conv-a",
        screening(
            "conv-a",
            start=start,
            channel="rest",
            outcome="needs_medical_review",
            reasons=["unsure_rf_emergency", "rf_jaw_locked"],
            messages=["I take Warfarin daily"],
            consultation=True,
        ),
    )
    read = summaries.summarise_new_events(stores.tracker, stores.portal)
    assert read > 10
    row = summary_row(stores, "conv-a")
    assert row["started_at"] == start
    assert row["channel"] == "rest"
    assert row["outcome"] == "needs_medical_review"
    assert json.loads(row["reasons"]) == ["unsure_rf_emergency", "rf_jaw_locked"]
    assert json.loads(row["red_flags"]) == ["rf_jaw_locked"]
    assert row["consultation_requested"] == 1
    assert "i take warfarin daily" in row["search_text"]
    # the tapped button's payload and the bot's wording are not searchable text
    assert "inform" not in row["search_text"] and "safety questions" not in row["search_text"]


def test_refresh_reads_only_events_added_since_the_last_one(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    first = screening("conv-b", outcome="urgent_care", reasons=["rf_cardiac"], restart_after=True)
    save(store, "conv-b", first)
    save(store, "conv-c", screening("conv-c", outcome=None))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    assert summaries.summarise_new_events(stores.tracker, stores.portal) == 0  # nothing new: nothing read

    # The person starts over and finishes a second screening with no red flag.
    later = screening(
        "conv-b", start=time.time() + 100, outcome="eligible_for_consultation", reasons=[], messages=["second try"]
    )
    before = _count(stores.tracker, "SELECT MAX(id) FROM events")
    save(store, "conv-b", first + later)
    added = _count(stores.tracker, "SELECT COUNT(*) FROM events WHERE id > :i", i=before)
    assert added >= len(later)
    assert summaries.summarise_new_events(stores.tracker, stores.portal) == added
    row = summary_row(stores, "conv-b")
    assert row["outcome"] == "eligible_for_consultation"
    assert json.loads(row["reasons"]) == []
    assert json.loads(row["red_flags"]) == ["rf_cardiac"]  # a red flag stays visible
    assert "second try" in row["search_text"]
    assert summary_row(stores, "conv-c")["outcome"] is None


def test_inbox_filters_pages_and_orders_newest_first(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    day0 = time.mktime(time.strptime("2025-03-10 12:00", "%Y-%m-%d %H:%M")) - time.timezone
    save(store, "old-urgent", screening("x", start=day0, outcome="urgent_care", reasons=["rf_airway"]))
    save(
        store,
        "mid-review",
        screening(
            "x",
            start=day0 + 2 * DAY,
            channel="socketio",
            outcome="needs_medical_review",
            reasons=["pregnancy"],
            messages=["my bruxism is worse at night"],
        ),
    )
    save(store, "new-eligible", screening("x", start=day0 + 4 * DAY, consultation=True))
    save(store, "newest-open", screening("x", start=day0 + 5 * DAY, outcome=None))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    with stores.portal.begin() as conn:
        conn.execute(sa.text("INSERT INTO portal_tags VALUES ('mid-review', 'call back', 'a', 0)"))
        conn.execute(sa.text("INSERT INTO portal_reviews VALUES ('old-urgent', 1, 'a', 0)"))

    assert inbox_ids(stores) == ["newest-open", "new-eligible", "mid-review", "old-urgent"]
    assert inbox_ids(stores, outcome="urgent_care") == ["old-urgent"]
    assert inbox_ids(stores, outcome="none") == ["newest-open"]
    assert inbox_ids(stores, date_from="2025-03-12", date_to="2025-03-14") == ["new-eligible", "mid-review"]
    assert inbox_ids(stores, channel="socketio") == ["mid-review"]
    assert inbox_ids(stores, reviewed="yes") == ["old-urgent"]
    assert "old-urgent" not in inbox_ids(stores, reviewed="no")
    assert inbox_ids(stores, consultation="yes") == ["new-eligible"]
    assert inbox_ids(stores, tag="call back") == ["mid-review"]
    assert inbox_ids(stores, q="BRUXISM") == ["mid-review"]
    assert inbox_ids(stores, q="%") == []  # LIKE wildcards are searched for literally
    rows, total = inbox.search(stores.portal, inbox.Filters(page=2), 3)
    assert total == 4 and [r["conversation_id"] for r in rows] == ["old-urgent"]


def _consultation(databases, cid):
    return save_request(
        cid,
        "Sam Example",
        "sam@example.org",
        "email",
        "mornings",
        "eligible_for_consultation",
        [],
        url=databases.consultation_url,
    )


def test_erasure_removes_one_conversation_everywhere_and_is_audited(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    save(store, "erase-me", screening("x", consultation=True))
    save(store, "keep-me", screening("x", consultation=True))
    _consultation(databases, "erase-me")
    _consultation(databases, "keep-me")
    summaries.summarise_new_events(stores.tracker, stores.portal)
    with stores.portal.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO portal_notes (conversation_id, author, created_at, body) "
                "VALUES ('erase-me', 'a', 0, 'called')"
            )
        )
        conn.execute(sa.text("INSERT INTO portal_tags VALUES ('erase-me', 't', 'a', 0)"))

    with stores.portal.begin() as conn:
        audit.record(conn, "rob.reviewer", "view_conversation", "erase-me")
        audit.record(conn, "rob.reviewer", "view_conversation", "keep-me")
    erased = erasure.erase_conversation(stores, "erase-me", "alice.admin")
    counts = erased.counts
    assert counts["events"] > 10 and counts["consultation_requests"] == 1 and counts["portal_rows"] == 3
    for engine, sql in (
        (stores.tracker, "SELECT COUNT(*) FROM events WHERE sender_id = :c"),
        (stores.consultations, "SELECT COUNT(*) FROM consultation_requests WHERE conversation_id = :c"),
        (stores.portal, "SELECT COUNT(*) FROM portal_summaries WHERE conversation_id = :c"),
        (stores.portal, "SELECT COUNT(*) FROM portal_notes WHERE conversation_id = :c"),
        (stores.portal, "SELECT COUNT(*) FROM portal_tags WHERE conversation_id = :c"),
    ):
        assert _count(engine, sql, c="erase-me") == 0
        assert (
            _count(
                engine,
                sql.replace("portal_notes", "portal_summaries").replace("portal_tags", "portal_summaries"),
                c="keep-me",
            )
            >= 1
        )
    # The audit log keeps what happened, under a reference instead of the id (a phone
    # number on the messaging channels); other conversations' entries keep their ids.
    assert erased.reference.startswith("erased-") and "erase-me" not in erased.reference
    assert _count(stores.portal, "SELECT COUNT(*) FROM portal_audit WHERE conversation_id = 'erase-me'") == 0
    assert (
        _count(
            stores.portal,
            "SELECT COUNT(*) FROM portal_audit WHERE action = 'erase' "
            "AND conversation_id = :r AND actor = 'alice.admin'",
            r=erased.reference,
        )
        == 1
    )
    assert (
        _count(
            stores.portal,
            "SELECT COUNT(*) FROM portal_audit WHERE action = 'view_conversation' AND conversation_id = :r",
            r=erased.reference,
        )
        == 1
    )
    assert _count(stores.portal, "SELECT COUNT(*) FROM portal_audit WHERE conversation_id = 'keep-me'") == 1
    # the index does not bring it back
    summaries.summarise_new_events(stores.tracker, stores.portal)
    assert summary_row(stores, "erase-me") is None


def test_purge_deletes_only_conversations_idle_for_longer_than_the_period(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    save(store, "ancient", screening("x", start=time.time() - 400 * DAY, consultation=True))
    save(store, "recent", screening("x", start=time.time() - 2 * DAY))
    _consultation(databases, "recent")
    summaries.summarise_new_events(stores.tracker, stores.portal)

    with stores.portal.begin() as conn:
        audit.record(conn, "rob.reviewer", "view_conversation", "ancient")
        audit.record(conn, "rob.reviewer", "view_conversation", "recent")
    counts = erasure.purge(stores, 365, "cli:test")
    assert counts["conversations"] == 1
    assert _count(stores.portal, "SELECT COUNT(*) FROM portal_audit WHERE conversation_id = 'ancient'") == 0
    assert _count(stores.portal, "SELECT COUNT(*) FROM portal_audit WHERE conversation_id LIKE 'erased-%'") == 1
    assert _count(stores.portal, "SELECT COUNT(*) FROM portal_audit WHERE conversation_id = 'recent'") == 1
    assert _count(stores.tracker, "SELECT COUNT(DISTINCT sender_id) FROM events") == 1
    assert summary_row(stores, "ancient") is None and summary_row(stores, "recent") is not None
    assert _count(stores.consultations, "SELECT COUNT(*) FROM consultation_requests") == 1
    detail = _count(stores.portal, "SELECT detail FROM portal_audit WHERE action = 'purge'")
    assert "older_than_days=365" in detail and "conversations=1" in detail


def test_csv_has_the_documented_columns_and_defuses_formulas():
    rows = [
        {
            "conversation_id": '=HYPERLINK("http://x")',
            "started_at": 0.0,
            "last_event_at": 60.0,
            "channel": "rest",
            "outcome": "urgent_care",
            "reasons": ["rf_airway", "rf_cardiac"],
            "red_flags": ["rf_airway", "rf_cardiac"],
            "consultation_requested": 1,
            "reviewed": 0,
            "tags": ["a", "b"],
            "distress": 1,
            "safety_net_flags": ["airway"],
            "person_requested": 1,
            "unanswered_questions": 3,
            "unanswered_questions_open": 2,
            "ruleset_version": "rules 3f2a9c1b (sign-off pending)",
        }
    ]
    parsed = list(csv.reader(io.StringIO(inbox.to_csv(rows))))
    assert (
        tuple(parsed[0])
        == inbox.CSV_COLUMNS
        == (
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
    )
    assert parsed[1] == [
        '\'=HYPERLINK("http://x")',
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:01:00Z",
        "rest",
        "urgent_care",
        "rf_airway;rf_cardiac",
        "rf_airway;rf_cardiac",
        "yes",
        "no",
        "a;b",
        "yes",
        "airway",
        "yes",
        "3",
        "2",
        "rules 3f2a9c1b (sign-off pending)",
    ]


def test_bad_filter_values_get_a_clear_message():
    import pytest

    for args, message in (
        ({"outcome": "great"}, "outcome must be one of"),
        ({"date_from": "10/03/2025"}, "date_from must be a date written YYYY-MM-DD"),
        ({"date_from": "2025-03-10", "date_to": "2025-03-01"}, "date_to is before date_from"),
        ({"reviewed": "maybe"}, "reviewed must be yes or no"),
        ({"page": "0"}, "page must be a whole number"),
    ):
        with pytest.raises(inbox.FilterError, match=message):
            inbox.parse_filters(args)


def test_erasing_the_newest_conversation_does_not_hide_the_next_one_from_the_index(databases):
    """SQLite gives new rows the ids of the newest rows deleted (Rasa's events.id has no
    AUTOINCREMENT): after erasing the newest conversation, the next one's first events
    have ids at or below the index's position and must still be read."""
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    save(store, "older", screening("x", start=time.time() - 3000))
    save(store, "newest", screening("x", start=time.time() - 2000, messages=["one", "two", "three", "four"]))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    erasure.erase_conversation(stores, "newest", "alice.admin")
    start = time.time() - 1000
    save(
        store,
        "next",
        screening("x", start=start, outcome="urgent_care", reasons=["rf_airway"], messages=["my jaw is locked"]),
    )
    summaries.summarise_new_events(stores.tracker, stores.portal)
    row = summary_row(stores, "next")
    assert row is not None and row["started_at"] == start
    assert row["user_messages"] == 5 and row["outcome"] == "urgent_care"
    assert "my jaw is locked" in row["search_text"] and json.loads(row["red_flags"]) == ["rf_airway"]
    assert summaries.summarise_new_events(stores.tracker, stores.portal) == 0  # and nothing is read twice
    assert summary_row(stores, "next")["user_messages"] == 5
