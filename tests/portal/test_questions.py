"""Questions the assistant could not answer, and people who asked to talk to a person: the
index (kept across a set-again and a start over, malformed items skipped), staff's status
and note (kept by a rebuilt index), the page, its filter and CSV, the conversation page's
block and marker, the inbox's marker, filter, count and CSV columns, the consultation
request's reason, and erasure and retention removing the words and the statuses.
Store tests run on SQLite and (marked postgres) on PostgreSQL; HTTP tests on the shared
running portal."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from portal_helpers import (
    ADMIN,
    REVIEWER,
    asks_for_person,
    inbox_ids,
    login,
    page_csrf,
    question,
    questions_start_over,
    save,
    screening,
    sqlite_databases,
    summary_row,
    tracker_store,
    unanswered,
)

from clinical import consultation_store
from portal import db, erasure, inbox, questions, summaries
from portal.questions import QuestionLog, parse_questions, where_asked
from portal.transcript import load_conversation

DAY = 86400


def _indexed(stores, conversation_id=None):
    """(conversation id, words, context) of the indexed questions, oldest first."""
    with stores.portal.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT conversation_id, words, context FROM portal_questions "
                "WHERE :c IS NULL OR conversation_id = :c ORDER BY asked_at"
            ),
            {"c": conversation_id},
        ).fetchall()
    return [tuple(r) for r in rows]


def _count(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def asked_then_restarted(t, first_words="Can I go to the sauna after the injections?"):
    """Two questions, a start over, then a third: afterwards Rasa's slot holds only the third."""
    q1 = question(first_words, t + 100, "outcome")
    q2 = question("Does it hurt?", t + 110, "consent")
    q3 = question("Is parking free?", t + 300, None)
    return (
        screening("x", start=t, outcome=None) + unanswered([q1, q2]) + questions_start_over(t + 200) + unanswered([q3])
    ), (q1, q2, q3)


# ---- reading the slots -------------------------------------------------------------------


def test_the_list_set_again_adds_no_duplicates_and_malformed_items_are_skipped():
    log = QuestionLog()
    a, b = question("Can I drink alcohol afterwards?", 1000.0, "outcome"), question("How much?", 1010.0)
    log.fold_slot("unanswered_questions", [a], 1001.0)
    log.fold_slot("unanswered_questions", [a, b], 1011.0)
    log.fold_slot("unanswered_questions", [a, b], 1020.0)
    assert [(q.words, q.asked_at, q.context) for q in log.questions] == [
        ("Can I drink alcohol afterwards?", 1000.0, "outcome"),
        ("How much?", 1010.0, None),
    ]
    assert parse_questions("Can I?") == [] and parse_questions(None) == [] and parse_questions({"words": "x"}) == []
    junk = [
        None,
        "a string",
        42,
        ["words"],
        {},
        {"words": ""},
        {"words": "   "},
        {"words": None},
        {"words": ["not", "text"]},
        {"words": {"x": 1}},
        {"at": 5, "context": "consent"},
    ]
    assert parse_questions(junk) == []
    odd = parse_questions(
        [
            {"words": "  x" * 400, "at": "yesterday", "context": {"q": 1}},
            {"words": "ok?", "at": True, "context": 7},
            {"words": "inf?", "at": float("inf"), "context": "  "},
        ],
        55.0,
    )
    assert [len(q.words) for q in odd] == [questions.WORDS_MAX, 3, 4]  # cut to 500 characters
    assert [(q.at, q.asked_at, q.context) for q in odd] == [(None, 55.0, None)] * 3  # the event's time instead
    assert all(q.key != odd[0].key for q in odd[1:])


def test_person_requested_counts_once_it_was_ever_true():
    log = QuestionLog()
    for value in (None, "yes", 1, False):
        log.fold_slot("person_requested", value)
    assert log.person_requested is False
    log.fold_slot("person_requested", True)
    log.fold_slot("person_requested", False)  # a start over clears the slot, not the fact
    assert log.person_requested is True


def test_where_it_was_asked_reads_as_plain_words():
    assert where_asked("patient_age") == "During the question: Age"
    assert where_asked("rf_emergency") == "During the question: Emergency warning signs right now"
    assert where_asked("consent") == "At the consent question, before the screening"
    assert where_asked("booking") == "While giving contact details for a consultation"
    assert where_asked("summary").startswith("While checking the summary")
    assert where_asked("outcome") == "After the screening's outcome"
    assert where_asked(None) == "Outside the screening questions"
    assert where_asked("renamed_question") == "During the question renamed_question"


# ---- the index -----------------------------------------------------------------------------


def test_index_holds_every_question_ever_set_across_a_start_over(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    q1 = question("Can I go to the sauna after the injections?", t + 100, "outcome")
    save(store, "asker", screening("x", start=t, outcome=None) + unanswered([q1]))
    save(store, "quiet", screening("x", start=t))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    assert _indexed(stores) == [("asker", q1["words"], "outcome")]

    # Read by a later refresh: the list set again with a second question, a start over, a third.
    events, (_, q2, q3) = asked_then_restarted(t, q1["words"])
    save(store, "asker", events)
    summaries.summarise_new_events(stores.tracker, stores.portal)
    expected = [("asker", q1["words"], "outcome"), ("asker", q2["words"], "consent"), ("asker", q3["words"], None)]
    assert _indexed(stores) == expected
    conversation = load_conversation(stores.tracker, "asker")
    assert [q["words"] for q in conversation.slots["unanswered_questions"]] == [q3["words"]]
    assert [q.words for q in conversation.question_log.questions] == [w for _, w, _ in expected]

    summaries.rebuild(stores.tracker, stores.portal)  # a rebuild from scratch gives the same rows
    assert _indexed(stores) == expected
    rows, total = questions.listing(stores.portal)
    assert total == 3 and [r["words"] for r in rows] == [q3["words"], q2["words"], q1["words"]]  # newest first
    assert rows[0]["asked_at"] == q3["at"] and rows[0]["status"] == "open"


def test_malformed_items_never_stop_the_index(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    good = question("Can my husband come with me?", t + 100, "booking")
    from rasa.shared.core.events import SlotSet

    save(
        store,
        "messy",
        screening("x", start=t, outcome=None)
        + [
            SlotSet("unanswered_questions", "not a list", timestamp=t + 90),
            SlotSet("unanswered_questions", [None, {"words": 3}, {"at": t}, good, ["x"]], timestamp=t + 101),
            SlotSet("person_requested", "yes", timestamp=t + 102),
        ],
    )
    save(store, "after", screening("x", start=t + 10))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    assert _indexed(stores) == [("messy", good["words"], "booking")]
    assert summary_row(stores, "messy")["person_requested"] == 0 and summary_row(stores, "after") is not None


def test_status_and_note_are_kept_when_the_index_is_rebuilt(databases):
    stores = databases.stores()
    t = time.time() - 3600
    events, (q1, q2, _) = asked_then_restarted(t)
    save(tracker_store(databases.tracker_url), "asker", events)
    summaries.summarise_new_events(stores.tracker, stores.portal)
    by_words = {r["words"]: r for r in questions.listing(stores.portal)[0]}
    with stores.portal.begin() as conn:
        questions.set_status(
            conn,
            "asker",
            by_words[q1["words"]]["question_key"],
            "done",
            "added as entry aftercare_sauna",
            "rob.reviewer",
        )
        questions.set_status(conn, "asker", by_words[q2["words"]]["question_key"], "done", "", "rob.reviewer")
        questions.set_status(conn, "asker", by_words[q2["words"]]["question_key"], "open", "", "alice.admin")
        with pytest.raises(ValueError):
            questions.set_status(conn, "asker", by_words[q2["words"]]["question_key"], "closed", "", "x")

    def state():
        return {r["words"]: (r["status"], r["note"]) for r in questions.listing(stores.portal)[0]}

    before = state()
    assert before[q1["words"]] == ("done", "added as entry aftercare_sauna")
    assert before[q2["words"]] == ("open", None)
    summaries.rebuild(stores.tracker, stores.portal)
    assert _count(stores.portal, "SELECT COUNT(*) FROM portal_questions") == 3
    assert state() == before
    assert questions.open_count(stores.portal) == 2
    assert [r["words"] for r in questions.listing(stores.portal, "done")[0]] == [q1["words"]]
    assert {r["words"] for r in questions.listing(stores.portal, "open")[0]} == {w for w in before if w != q1["words"]}


def test_upgrading_an_indexed_version_3_database_indexes_the_questions(databases, monkeypatch):
    """A portal at schema 3 had indexed the conversation without the new slots; version 4
    adds the tables and the column and has the next refresh index everything again."""
    engine = db.engine_for(databases.portal_url)
    monkeypatch.setattr(db, "MIGRATIONS", db.MIGRATIONS[:3])
    assert db.migrate(engine) == [1, 2, 3]
    monkeypatch.undo()
    t = time.time() - 3600
    events, _ = asked_then_restarted(t)
    save(tracker_store(databases.tracker_url), "before-upgrade", events + asks_for_person(t + 400))
    with db.engine_for(databases.tracker_url).connect() as conn:
        high = conn.execute(sa.text("SELECT MAX(id) FROM events")).scalar()
    with engine.begin() as conn:  # what the old portal's index held
        conn.execute(
            sa.text(
                "INSERT INTO portal_summaries (conversation_id, started_at, last_event_at, "
                "user_messages) VALUES ('before-upgrade', :t, :t, 7)"
            ),
            {"t": t},
        )
        conn.execute(sa.text("UPDATE portal_summariser_state SET last_event_id = :h"), {"h": high})

    assert db.migrate(engine) == [4, 5, 6, 7]  # 5 (rule set version) and 7 (dashboard) rebuild it as 4 does
    stores = databases.stores()
    assert summaries.summarise_new_events(stores.tracker, stores.portal) > 0
    assert len(_indexed(stores, "before-upgrade")) == 3
    row = summary_row(stores, "before-upgrade")
    assert row["person_requested"] == 1 and row["user_messages"] == 9  # counted once, not on top of the old 7


def test_person_requested_from_the_slot_or_a_request_reason_and_the_inbox_filter(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    save(
        store, "slot", screening("x", start=t, outcome=None) + asks_for_person(t + 100) + questions_start_over(t + 200)
    )
    save(store, "request", screening("x", start=t + 10, consultation=True))
    save(store, "screened", screening("x", start=t + 20, consultation=True))
    save(store, "plain", screening("x", start=t + 30))
    for cid, reason in (("request", "asked_for_person"), ("screened", "screening")):
        consultation_store.save_request(
            cid,
            "Sam Example",
            "sam@example.org",
            "email",
            "mornings",
            None,
            [],
            url=databases.consultation_url,
            request_reason=reason,
        )
    summaries.summarise_new_events(stores.tracker, stores.portal, stores.consultations)
    assert {cid: summary_row(stores, cid)["person_requested"] for cid in ("slot", "request", "screened", "plain")} == {
        "slot": 1,
        "request": 1,
        "screened": 0,
        "plain": 0,
    }
    assert inbox_ids(stores, person="yes") == ["request", "slot"]
    assert inbox_ids(stores, person="no") == ["plain", "screened"]
    with pytest.raises(inbox.FilterError, match="person must be yes or no"):
        inbox.parse_filters({"person": "maybe"})
    assert inbox.parse_filters({"person": "yes"}).query_args(page=2) == {"person": "yes", "page": 2}
    # Without the consultation database only the slot counts; the rebuild with it agrees.
    summaries.rebuild(stores.tracker, stores.portal)
    assert inbox_ids(stores, person="yes") == ["slot"]
    summaries.rebuild(stores.tracker, stores.portal, stores.consultations)
    assert inbox_ids(stores, person="yes") == ["request", "slot"]


def test_inbox_rows_count_the_questions_and_open_ones(databases):
    stores = databases.stores()
    t = time.time() - 3600
    events, (q1, _, _) = asked_then_restarted(t)
    save(tracker_store(databases.tracker_url), "asker", events)
    save(tracker_store(databases.tracker_url), "quiet", screening("x", start=t + 5))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    key = next(r["question_key"] for r in questions.listing(stores.portal)[0] if r["words"] == q1["words"])
    with stores.portal.begin() as conn:
        questions.set_status(conn, "asker", key, "done", "", "a")
    rows = {r["conversation_id"]: r for r in inbox.search(stores.portal, inbox.Filters(), 10)[0]}
    assert (rows["asker"]["unanswered_questions"], rows["asker"]["unanswered_questions_open"]) == (3, 2)
    assert (rows["quiet"]["unanswered_questions"], rows["quiet"]["unanswered_questions_open"]) == (0, 0)
    exported = {r["conversation_id"]: r for r in csv.DictReader(io.StringIO(inbox.to_csv(list(rows.values()))))}
    assert [
        exported["asker"][c] for c in ("asked_for_person", "unanswered_questions", "unanswered_questions_open")
    ] == ["no", "3", "2"]
    assert "sauna" not in inbox.to_csv(list(rows.values()))  # the inbox export never has the words


# ---- CSV -------------------------------------------------------------------------------------


def test_questions_csv_has_the_columns_and_defuses_formulas():
    rows = [
        {
            "asked_at": 60.0,
            "conversation_id": "+447700900123",
            "where": "After the screening's outcome",
            "context": "outcome",
            "words": '=HYPERLINK("http://x", "free botox")',
            "status": "done",
            "note": "@added as entry",
        },
        {
            "asked_at": 0.0,
            "conversation_id": "web-1",
            "where": "Outside the screening questions",
            "context": None,
            "words": 'Is, "parking"\nfree?',
            "status": "open",
            "note": None,
        },
    ]
    parsed = list(csv.reader(io.StringIO(questions.to_csv(rows))))
    assert (
        tuple(parsed[0])
        == questions.CSV_COLUMNS
        == ("asked_at_utc", "conversation_id", "asked_where", "context", "words", "status", "note")
    )
    assert parsed[1] == [
        "1970-01-01T00:01:00Z",
        "'+447700900123",
        "After the screening's outcome",
        "outcome",
        '\'=HYPERLINK("http://x", "free botox")',
        "done",
        "'@added as entry",
    ]
    assert parsed[2] == [
        "1970-01-01T00:00:00Z",
        "web-1",
        "Outside the screening questions",
        "",
        'Is, "parking"\nfree?',
        "open",
        "",
    ]


# ---- erasure and retention ---------------------------------------------------------------------


def _with_statuses(stores, conversation_id):
    with stores.portal.begin() as conn:
        for r in questions.listing(stores.portal)[0]:
            if r["conversation_id"] == conversation_id:
                questions.set_status(conn, conversation_id, r["question_key"], "done", "answered on the phone", "a")


def test_erasure_removes_the_questions_and_their_statuses(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    for cid in ("erase-me", "keep-me"):
        save(store, cid, asked_then_restarted(t)[0])
    summaries.summarise_new_events(stores.tracker, stores.portal)
    _with_statuses(stores, "erase-me")
    _with_statuses(stores, "keep-me")
    assert _count(stores.portal, "SELECT COUNT(*) FROM portal_question_status") == 6

    counts = erasure.erase_conversation(stores, "erase-me", "alice.admin").counts
    assert counts["portal_rows"] == 1 + 3 + 3  # the summary, three questions, three statuses
    for table in ("portal_questions", "portal_question_status"):
        assert _count(stores.portal, f"SELECT COUNT(*) FROM {table} WHERE conversation_id = 'erase-me'") == 0
        assert _count(stores.portal, f"SELECT COUNT(*) FROM {table} WHERE conversation_id = 'keep-me'") == 3
    summaries.summarise_new_events(stores.tracker, stores.portal)  # the index does not bring them back
    assert _indexed(stores, "erase-me") == []
    assert {r["conversation_id"] for r in questions.listing(stores.portal)[0]} == {"keep-me"}


def test_retention_removes_old_questions_and_statuses_and_keeps_recent_ones(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    save(store, "ancient", asked_then_restarted(time.time() - 400 * DAY)[0])
    save(store, "recent", asked_then_restarted(time.time() - 2 * DAY)[0])
    summaries.summarise_new_events(stores.tracker, stores.portal)
    _with_statuses(stores, "ancient")
    _with_statuses(stores, "recent")
    with stores.portal.begin() as conn:  # staff's note on a conversation whose events went some other way
        questions.set_status(conn, "gone", "0" * 64, "done", "called her back", "a")
        conn.execute(
            sa.text("UPDATE portal_question_status SET updated_at = :t WHERE conversation_id IN ('gone', 'recent')"),
            {"t": time.time() - 400 * DAY},
        )  # recent: still active
    assert erasure.purge(stores, 365, "cli:test")["conversations"] == 2
    for table in ("portal_questions", "portal_question_status"):
        assert _count(stores.portal, f"SELECT COUNT(*) FROM {table} WHERE conversation_id IN ('ancient', 'gone')") == 0
        assert _count(stores.portal, f"SELECT COUNT(*) FROM {table} WHERE conversation_id = 'recent'") == 3


def test_erased_questions_and_notes_do_not_linger_in_the_sqlite_file(tmp_path):
    databases = sqlite_databases(tmp_path)
    stores = databases.stores()
    words = "Can Pelican-8823 have the injections while pregnant?"  # fictional, easy to find in the bytes
    t = time.time() - 3600
    save(
        tracker_store(databases.tracker_url),
        "erase-me",
        screening("x", start=t, outcome=None) + unanswered([question(words, t + 100, "pregnancy")]),
    )
    summaries.summarise_new_events(stores.tracker, stores.portal)
    with stores.portal.begin() as conn:
        key = questions.listing(stores.portal)[0][0]["question_key"]
        questions.set_status(conn, "erase-me", key, "done", "Told Pelican-8823 to ask the doctor", "a")
    portal_file = Path(databases.portal_url[len("sqlite:///") :])
    assert b"Pelican-8823" in portal_file.read_bytes()
    erasure.erase_conversation(stores, "erase-me", "alice.admin")
    assert b"pelican-8823" not in portal_file.read_bytes().lower()


# ---- the pages -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def asked(portal):
    """On the running portal: a conversation with three questions (one with markup) across a
    start over and a request to talk to a person; one whose consultation request came from
    asking for a person; one with a plain screening request."""
    store = tracker_store(portal.databases.tracker_url)
    tag = uuid.uuid4().hex[:8]
    t = time.time() - 600
    ids = {"asker": f"q-asker-{tag}", "request": f"q-request-{tag}", "screened": f"q-screened-{tag}"}
    words = [f"Can I go to the <b>sauna</b> after? {tag}", f"Does it hurt? {tag}", f"Is parking free? {tag}"]
    q1, q2, q3 = (
        question(words[0], t + 100, "outcome"),
        question(words[1], t + 110, "patient_age"),
        question(words[2], t + 300, None),
    )
    save(
        store,
        ids["asker"],
        screening("x", start=t, outcome=None, messages=[f"marker {tag}"])
        + unanswered([q1, q2])
        + asks_for_person(t + 150)
        + questions_start_over(t + 200)
        + unanswered([q3]),
    )
    for name, reason in (("request", "asked_for_person"), ("screened", "screening")):
        save(store, ids[name], screening("x", start=t + 10, messages=[f"marker {tag}"], consultation=True))
        consultation_store.save_request(
            ids[name],
            "Sam Example",
            "sam@example.org",
            "email",
            "mornings",
            "eligible_for_consultation",
            [],
            url=portal.databases.consultation_url,
            request_reason=reason,
        )
    return tag, ids, words


def _row(page: str, cid: str) -> str:
    return page.split(f"/conversation?id={cid}")[1].split("</tr>")[0]


def _question_row(page: str, words_escaped: str) -> str:
    """The questions page's table row holding these words."""
    return next(row.split("</tr>")[0] for row in page.split("<tr>") if words_escaped in row)


def _open_in_nav(page: str) -> int:
    return int(
        re.search(r'id="questions-link">Questions without an answer <span class="count">\((\d+) open\)', page).group(1)
    )


def _set(http, base, cid, key, status, note="", back="questions", **extra):
    return http.post(
        f"{base}/questions/status",
        data={
            "csrf_token": page_csrf(http, base),
            "id": cid,
            "key": key,
            "status": status,
            "note": note,
            "back": back,
            **extra,
        },
        allow_redirects=False,
    )


def _keys(page: str):
    return re.findall(r'name="key" value="([0-9a-f]{64})"', page)


def test_questions_page_lists_them_newest_first_with_link_where_and_escaped_words(portal, asked):
    tag, ids, words = asked
    http = login(portal.base, *REVIEWER)
    page = http.get(f"{portal.base}/questions").text
    assert "<h1>Questions without an answer" in page
    escaped = [w.replace("<", "&lt;").replace(">", "&gt;") for w in words]
    assert "<b>sauna</b>" not in page and escaped[0] in page  # the person's words, as text
    assert page.index(escaped[2]) < page.index(escaped[1]) < page.index(escaped[0])  # newest first
    row = _question_row(page, escaped[1])
    assert "During the question: Age" in row and "open" in row
    assert f'href="/conversation?id={ids["asker"]}#questions"' in row
    assert "Outside the screening questions" in _question_row(page, escaped[2])
    assert "After the screening&#39;s outcome" in _question_row(page, escaped[0])
    # The portal's time format: weekday, date, minutes and the clinic's zone (Europe/London)
    assert re.search(r"\w{3} \d\d \w{3} \d{4}, \d\d:\d\d (GMT|BST)", row)
    assert _open_in_nav(page) >= 3
    assert "Export CSV" not in page  # reviewers do not export
    assert http.get(f"{portal.base}/questions", params={"status": "closed"}).status_code == 400
    assert "status must be one of open, done, all" in http.get(f"{portal.base}/questions", params={"status": "x"}).text


def test_staff_mark_a_question_done_with_a_note_and_open_again(portal, asked):
    tag, ids, words = asked
    http = login(portal.base, *REVIEWER)
    page = http.get(f"{portal.base}/questions").text
    escaped = words[2]
    key = _keys(_question_row(page, escaped))[0]
    open_before = _open_in_nav(page)

    resp = _set(
        http, portal.base, ids["asker"], key, "done", "added as entry <i>parking</i>", back_status="open", back_page="1"
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/questions?status=open&page=1"
    open_page = http.get(f"{portal.base}/questions").text
    assert escaped not in open_page and _open_in_nav(open_page) == open_before - 1
    done = http.get(f"{portal.base}/questions", params={"status": "done"}).text
    row = _question_row(done, escaped)
    assert '<div class="question-note">added as entry &lt;i&gt;parking&lt;/i&gt;</div>' in row  # staff text, escaped
    assert "<i>parking" not in done and "rob.reviewer" in row
    assert "Mark open again" in row and "Save note" in row
    conversation = http.get(f"{portal.base}/conversation", params={"id": ids["asker"]}).text
    block = conversation.split('<section class="questions"')[1].split("</section>")[0]
    assert '<dd class="question-note">added as entry &lt;i&gt;parking&lt;/i&gt;</dd>' in block
    assert "<i>parking" not in conversation
    # A done question gets a new note and stays done.
    assert _set(http, portal.base, ids["asker"], key, "done", "added as entry <i>parking</i> v2").status_code == 303
    assert "v2</div>" in _question_row(http.get(f"{portal.base}/questions", params={"status": "done"}).text, escaped)
    everything = http.get(f"{portal.base}/questions", params={"status": "all"}).text
    assert all(w.replace("<", "&lt;").replace(">", "&gt;") in everything for w in words)

    # Re-indexing from scratch keeps the status and the note.
    stores = portal.databases.stores()
    summaries.rebuild(stores.tracker, stores.portal, stores.consultations)
    assert "added as entry &lt;i&gt;parking&lt;/i&gt; v2</div>" in _question_row(
        http.get(f"{portal.base}/questions", params={"status": "done"}).text, escaped
    )

    resp = _set(http, portal.base, ids["asker"], key, "open", "added as entry <i>parking</i> v2", back="conversation")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/conversation?id={ids['asker']}#questions"
    again = http.get(f"{portal.base}/questions").text
    assert escaped in again and _open_in_nav(again) == open_before
    with stores.portal.connect() as conn:
        details = [
            d
            for (d,) in conn.execute(
                sa.text(
                    "SELECT detail FROM portal_audit WHERE action IN ('mark_question_done', 'mark_question_open') "
                    "AND conversation_id = :c ORDER BY id"
                ),
                {"c": ids["asker"]},
            )
        ]
    assert details == [f"question={key[:12]}"] * 3  # no note, no words in the audit log


@pytest.mark.parametrize(
    "data,status,message",
    [
        ({"status": "closed"}, 400, "status must be one of open, done"),
        ({"status": "done", "note": "x" * 201}, 400, "A note is at most 200 characters"),
        ({"status": "done", "key": "0" * 64}, 404, "No such question"),
        ({"status": "done", "back_status": "maybe"}, 400, "status must be one of"),
    ],
)
def test_bad_status_changes_are_refused(portal, asked, data, status, message):
    _, ids, words = asked
    data = dict(data)
    http = login(portal.base, *REVIEWER)
    key = _keys(_question_row(http.get(f"{portal.base}/questions", params={"status": "all"}).text, words[1]))[0]
    resp = _set(http, portal.base, ids["asker"], data.pop("key", key), **data)
    assert resp.status_code == status and message in resp.text
    forged = http.post(
        f"{portal.base}/questions/status",
        data={"id": ids["asker"], "key": key, "status": "done", "csrf_token": "forged"},
        allow_redirects=False,
    )
    assert forged.status_code == 403
    assert "open" in _question_row(http.get(f"{portal.base}/questions").text, words[1])


def test_admin_exports_the_questions_as_csv(portal, asked):
    tag, ids, words = asked
    admin = login(portal.base, *ADMIN)
    assert 'href="/questions.csv?status=open"' in admin.get(f"{portal.base}/questions").text
    resp = admin.get(f"{portal.base}/questions.csv", params={"status": "all"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"] and resp.headers["Cache-Control"] == "no-store"
    rows = [r for r in csv.DictReader(io.StringIO(resp.text)) if r["conversation_id"] == ids["asker"]]
    assert [r["words"] for r in rows] == list(reversed(words))  # newest first, the words as typed
    assert [r["context"] for r in rows] == ["", "patient_age", "outcome"]
    assert rows[1]["asked_where"] == "During the question: Age" and rows[1]["status"] == "open"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rows[0]["asked_at_utc"])
    reviewer = login(portal.base, *REVIEWER)
    assert reviewer.get(f"{portal.base}/questions.csv").status_code == 403
    with portal.databases.stores().portal.connect() as conn:
        detail = conn.execute(
            sa.text("SELECT detail FROM portal_audit WHERE action = 'export_questions_csv' ORDER BY id DESC")
        ).scalar()
    assert detail.startswith("rows=") and detail.endswith("status=all")


def test_conversation_page_lists_its_questions_and_the_person_marker(portal, asked):
    tag, ids, words = asked
    http = login(portal.base, *REVIEWER)
    for path in ("/conversation", "/conversation/print"):
        page = http.get(f"{portal.base}{path}", params={"id": ids["asker"]}).text
        assert '<strong class="person">Asked to talk to a person</strong>' in page
        block = page.split('<section class="questions"')[1].split("</section>")[0]
        items = block.split("<li>")[1:]
        assert len(items) == 3  # kept across the start over, in the order asked
        assert "Can I go to the &lt;b&gt;sauna&lt;/b&gt; after?" in items[0] and "<b>sauna" not in page
        assert "After the screening&#39;s outcome" in items[0]
        assert "During the question: Age" in items[1] and words[2] in items[2]
        assert ("Mark done" in block) is (path == "/conversation")  # no forms on the printed page
    plain = http.get(f"{portal.base}/conversation", params={"id": ids["screened"]}).text
    assert '<section class="questions"' not in plain and "Asked to talk to a person</strong>" not in plain


def test_the_consultation_request_shows_its_reason(portal, asked):
    _, ids, _ = asked
    http = login(portal.base, *REVIEWER)
    by_person = http.get(f"{portal.base}/conversation", params={"id": ids["request"]}).text
    section = by_person.split('<section class="consultation">')[1].split("</section>")[0]
    assert '<dd class="request-reason">Asked to talk to a person</dd>' in section
    assert '<strong class="person">Asked to talk to a person</strong>' in by_person  # from the reason alone
    screened = http.get(f"{portal.base}/conversation", params={"id": ids["screened"]}).text
    section = screened.split('<section class="consultation">')[1].split("</section>")[0]
    assert '<dd class="request-reason">Asked to book a consultation (after a screening)</dd>' in section


def test_inbox_marks_asking_for_a_person_counts_questions_and_filters(portal, asked):
    tag, ids, _ = asked
    http = login(portal.base, *REVIEWER)
    page = http.get(f"{portal.base}/inbox", params={"q": f"marker {tag}"}).text
    assert '<select name="person">' in page
    assert '<strong class="person">Asked for a person</strong>' in _row(page, ids["asker"])
    assert '<strong class="person">Asked for a person</strong>' in _row(page, ids["request"])
    assert "Asked for a person" not in _row(page, ids["screened"])
    assert re.search(r'<td class="question-count"[^>]*>3 \(\d open\)</td>', _row(page, ids["asker"]))
    assert '<td class="question-count" data-label="Unanswered questions"></td>' in _row(page, ids["screened"])
    only = http.get(f"{portal.base}/inbox", params={"q": f"marker {tag}", "person": "yes"}).text
    assert ids["asker"] in only and ids["request"] in only and ids["screened"] not in only
    assert '<option value="yes" selected>' in only.split('name="person"')[1].split("</select>")[0]
    bad = http.get(f"{portal.base}/inbox", params={"person": "maybe"})
    assert bad.status_code == 400 and "person must be yes or no" in bad.text

    resp = login(portal.base, *ADMIN).get(f"{portal.base}/inbox.csv", params={"q": f"marker {tag}"})
    rows = {r["conversation_id"]: r for r in csv.DictReader(io.StringIO(resp.text))}
    assert (rows[ids["asker"]]["asked_for_person"], rows[ids["asker"]]["unanswered_questions"]) == ("yes", "3")
    assert (rows[ids["request"]]["asked_for_person"], rows[ids["request"]]["unanswered_questions"]) == ("yes", "0")
    assert rows[ids["screened"]]["asked_for_person"] == "no"
    assert "sauna" not in resp.text and "parking" not in resp.text  # no patient words in the inbox export
    only = login(portal.base, *ADMIN).get(f"{portal.base}/inbox.csv", params={"q": f"marker {tag}", "person": "no"})
    assert [r["conversation_id"] for r in csv.DictReader(io.StringIO(only.text))] == [ids["screened"]]


def test_erasing_on_the_portal_removes_the_questions_from_the_page(portal, asked):
    tag, ids, words = asked
    admin = login(portal.base, *ADMIN)
    cid = f"q-erase-{tag}"
    t = time.time() - 300
    private_words = f"Will my employer know? {tag}"
    save(
        tracker_store(portal.databases.tracker_url),
        cid,
        screening("x", start=t, outcome=None) + unanswered([question(private_words, t + 100, "booking")]),
    )
    page = admin.get(f"{portal.base}/questions").text
    key = _keys(_question_row(page, private_words))[0]
    assert _set(admin, portal.base, cid, key, "done", "called back").status_code == 303
    erased = admin.post(
        f"{portal.base}/conversation/erase",
        data={"csrf_token": page_csrf(admin, portal.base), "id": cid, "confirm": cid},
    )
    assert erased.status_code == 200
    assert private_words not in admin.get(f"{portal.base}/questions", params={"status": "all"}).text
    stores = portal.databases.stores()
    for table in ("portal_questions", "portal_question_status"):
        assert _count(stores.portal, f"SELECT COUNT(*) FROM {table} WHERE conversation_id = :c", c=cid) == 0
