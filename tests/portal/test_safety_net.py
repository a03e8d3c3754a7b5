"""The assistant's safety net in the portal: distress and safety-net flags in the index (kept
across a start over), the inbox's marker, filter and CSV column, the conversation page's
block with the person's words, the schema upgrade, and erasure and retention removing them.
Store tests run on SQLite and (marked postgres) on PostgreSQL; HTTP tests on the shared
running portal."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from portal_helpers import (
    ADMIN,
    CHEST_FLAG,
    DISTRESS_FLAG,
    REVIEWER,
    inbox_ids,
    login,
    safety_net,
    save,
    screening,
    sqlite_databases,
    start_over,
    summary_row,
    tracker_store,
)

from portal import db, erasure, inbox, summaries
from portal.safety import SafetyNet, parse_flags
from portal.transcript import load_conversation

DAY = 86400


def flagged_then_restarted(t, restarted=False):
    """A screening in which the person says both things, starts over and finishes a second
    screening with no red flag: afterwards Rasa's slots hold no flag at all."""
    return (
        screening("x", start=t, outcome=None)
        + safety_net(t + 100, [CHEST_FLAG, DISTRESS_FLAG])
        + start_over(t + 200, restarted=restarted)
        + screening("x", start=t + 300, outcome="eligible_for_consultation", messages=["second try"])
    )


# ---- the index -----------------------------------------------------------------


@pytest.mark.parametrize("restarted", [False, True], ids=["reset_slots", "restart"])
def test_index_keeps_distress_and_flags_after_a_start_over(databases, restarted):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    first = screening("x", start=t, outcome=None) + safety_net(t + 100, [CHEST_FLAG, DISTRESS_FLAG])
    save(store, "upset", first)
    save(store, "calm", screening("x", start=t, reasons=["rf_cardiac"], outcome="urgent_care"))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    row = summary_row(stores, "upset")
    assert row["distress"] == 1 and json.loads(row["safety_net_flags"]) == ["chest"]

    # Starting over is read by a later refresh, after the row was saved.
    save(store, "upset", flagged_then_restarted(t, restarted))
    assert summaries.summarise_new_events(stores.tracker, stores.portal) > 0
    conversation = load_conversation(stores.tracker, "upset")
    assert "safety_flags" not in conversation.slots or conversation.slots["safety_flags"] == []
    row = summary_row(stores, "upset")
    assert row["distress"] == 1 and json.loads(row["safety_net_flags"]) == ["chest"]
    assert row["outcome"] == "eligible_for_consultation"
    assert json.loads(row["red_flags"]) == []  # rule ids stay separate from the safety net's
    calm = summary_row(stores, "calm")
    assert calm["distress"] == 0 and json.loads(calm["safety_net_flags"]) == []
    assert json.loads(calm["red_flags"]) == ["rf_cardiac"]

    # A rebuild from scratch gives the same row.
    summaries.rebuild(stores.tracker, stores.portal)
    rebuilt = summary_row(stores, "upset")
    assert (rebuilt["distress"], rebuilt["safety_net_flags"]) == (1, '["chest"]')


def test_distress_flagged_alone_or_an_uncertain_distress_flag_counts():
    net = SafetyNet()
    net.fold_slot("distress_flagged", True)
    assert net.distress and net.flags == []
    unsure = SafetyNet()
    unsure.fold_slot("safety_flags", [{**DISTRESS_FLAG, "certain": False}])
    assert unsure.distress and unsure.flags[0].certain is False
    none = SafetyNet()
    none.fold_slot("distress_flagged", False)
    none.fold_slot("safety_flags", [CHEST_FLAG])
    assert not none.distress and [f.flag for f in none.flags] == ["chest"]


def test_the_list_set_again_adds_no_duplicates_and_junk_is_skipped():
    net = SafetyNet()
    net.fold_slot("safety_flags", [CHEST_FLAG], 1.0)
    net.fold_slot("safety_flags", [CHEST_FLAG, DISTRESS_FLAG], 2.0)
    assert [(f.kind, f.at) for f in net.flags] == [("red_flag", 1.0), ("distress", 2.0)]
    assert parse_flags("chest") == [] and parse_flags(None) == []
    assert parse_flags([None, "x", {"kind": "red_flag"}, {"flag": "chest"}, {"kind": [], "flag": "x"}]) == []
    odd = parse_flags([{"kind": "red_flag", "flag": "airway", "question": {"x": 1}, "words": ["not", "text"]}])
    assert (odd[0].question, odd[0].words, odd[0].certain) == (None, "", True)


def test_inbox_filters_on_distress(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    save(store, "distressed", screening("x", start=t, outcome=None) + safety_net(t + 100, [DISTRESS_FLAG]))
    save(store, "chest-only", screening("x", start=t + 10, outcome=None) + safety_net(t + 100, [CHEST_FLAG]))
    save(store, "plain", screening("x", start=t + 20))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    assert inbox_ids(stores, distress="yes") == ["distressed"]
    assert inbox_ids(stores, distress="no") == ["plain", "chest-only"]
    rows, _ = inbox.search(stores.portal, inbox.Filters(), 100)
    by_id = {r["conversation_id"]: r for r in rows}
    assert by_id["chest-only"]["safety_net_flags"] == ["chest"] and by_id["distressed"]["safety_net_flags"] == []
    with pytest.raises(inbox.FilterError, match="distress must be yes or no"):
        inbox.parse_filters({"distress": "maybe"})
    parsed = inbox.parse_filters({"distress": "yes", "page": "2"})
    assert (parsed.distress, parsed.page) == ("yes", 2)
    assert parsed.query_args(page=3) == {"distress": "yes", "page": 3}  # paging and export keep it


def test_upgrading_an_indexed_database_reindexes_the_safety_net(databases, monkeypatch):
    """A portal at schema 2 had indexed the conversation without the new slots; version 3
    adds the columns and has the next refresh index everything again, counted once."""
    engine = db.engine_for(databases.portal_url)
    monkeypatch.setattr(db, "MIGRATIONS", db.MIGRATIONS[:2])
    assert db.migrate(engine) == [1, 2]
    monkeypatch.undo()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    save(store, "before-upgrade", screening("x", start=t, outcome=None) + safety_net(t + 100, [DISTRESS_FLAG]))
    tracker = db.engine_for(databases.tracker_url)
    with tracker.connect() as conn:
        high = conn.execute(sa.text("SELECT MAX(id) FROM events")).scalar()
    with engine.begin() as conn:  # what the old portal's index held
        conn.execute(
            sa.text(
                "INSERT INTO portal_summaries (conversation_id, started_at, last_event_at, "
                "user_messages) VALUES ('before-upgrade', :t, :t, 5)"
            ),
            {"t": t},
        )
        conn.execute(sa.text("UPDATE portal_summariser_state SET last_event_id = :h"), {"h": high})

    # 4 (unanswered questions), 5 (rule set) and 7 (dashboard) rebuild it too
    assert db.migrate(engine) == [3, 4, 5, 6, 7]
    assert db.schema_version(engine) == 7
    stores = databases.stores()
    assert summaries.summarise_new_events(stores.tracker, stores.portal) > 0
    row = summary_row(stores, "before-upgrade")
    assert row["distress"] == 1
    assert row["user_messages"] == 5  # four in the screening, one in the safety net: counted once


# ---- CSV -----------------------------------------------------------------------


def test_csv_ends_with_distress_and_safety_net_columns():
    base = {
        "conversation_id": "c",
        "started_at": 0.0,
        "last_event_at": 0.0,
        "channel": "rest",
        "outcome": None,
        "reasons": [],
        "red_flags": [],
        "consultation_requested": 0,
        "reviewed": 0,
        "tags": [],
        "person_requested": 0,
        "unanswered_questions": 0,
        "unanswered_questions_open": 0,
        "ruleset_version": None,
    }
    rows = [
        {**base, "distress": 1, "safety_net_flags": ["airway", "chest"]},
        {**base, "distress": 0, "safety_net_flags": []},
    ]
    parsed = list(csv.DictReader(io.StringIO(inbox.to_csv(rows))))
    assert inbox.CSV_COLUMNS[10:12] == ("distress", "safety_net_flags")
    assert [(r["distress"], r["safety_net_flags"]) for r in parsed] == [("yes", "airway;chest"), ("no", "")]
    assert "i want to die" not in inbox.to_csv(rows)  # ids only: the words never go into an export


# ---- erasure and retention ---------------------------------------------------------


def test_erasure_removes_the_flags_and_the_words(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    save(store, "erase-me", flagged_then_restarted(t))
    save(store, "keep-me", flagged_then_restarted(t))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    assert inbox_ids(stores, distress="yes") == ["erase-me", "keep-me"]

    counts = erasure.erase_conversation(stores, "erase-me", "alice.admin").counts
    assert counts["portal_rows"] == 1  # the summary row, which holds distress and the flag ids
    assert summary_row(stores, "erase-me") is None
    assert load_conversation(stores.tracker, "erase-me") is None  # the words were in its slot events
    with stores.tracker.connect() as conn:
        words = conn.execute(
            sa.text("SELECT COUNT(*) FROM events WHERE data LIKE :w"), {"w": f"%{CHEST_FLAG['words']}%"}
        ).scalar()
    assert words > 0  # only keep-me's events are left
    assert inbox_ids(stores, distress="yes") == ["keep-me"]
    assert load_conversation(stores.tracker, "keep-me").safety_net.distress
    summaries.summarise_new_events(stores.tracker, stores.portal)  # the index does not bring it back
    assert summary_row(stores, "erase-me") is None


def test_retention_purge_removes_old_flags_and_keeps_recent_ones(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    save(store, "ancient", flagged_then_restarted(time.time() - 400 * DAY))
    save(store, "recent", flagged_then_restarted(time.time() - 2 * DAY))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    assert erasure.purge(stores, 365, "cli:test")["conversations"] == 1
    assert summary_row(stores, "ancient") is None and load_conversation(stores.tracker, "ancient") is None
    assert inbox_ids(stores, distress="yes") == ["recent"]


def test_erased_words_do_not_linger_in_the_sqlite_files(tmp_path):
    databases = sqlite_databases(tmp_path)
    stores = databases.stores()
    words = "Heron-4471 cannot go on like this"  # fictional, easy to find in a file's bytes
    flag = {**DISTRESS_FLAG, "words": words}
    t = time.time() - 3600
    save(
        tracker_store(databases.tracker_url),
        "erase-me",
        screening("x", start=t, outcome=None) + safety_net(t + 100, [flag]),
    )
    summaries.summarise_new_events(stores.tracker, stores.portal)
    files = [Path(u[len("sqlite:///") :]) for u in (databases.tracker_url, databases.portal_url)]
    assert words.encode() in files[0].read_bytes()
    erasure.erase_conversation(stores, "erase-me", "alice.admin")
    for path in files:
        assert words.lower().encode() not in path.read_bytes().lower(), path


# ---- the pages -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def flagged(portal):
    """Three conversations on the running portal: distress and chest pain then a start over,
    chest pain alone, and nothing."""
    store = tracker_store(portal.databases.tracker_url)
    tag = uuid.uuid4().hex[:8]
    t = time.time() - 600
    ids = {"both": f"sn-both-{tag}", "chest": f"sn-chest-{tag}", "plain": f"sn-plain-{tag}"}
    markup = {**CHEST_FLAG, "words": f"my chest <b>hurts</b> {tag}"}
    save(
        store,
        ids["both"],
        screening("x", start=t, outcome=None, messages=[f"marker {tag}"])
        + safety_net(t + 100, [markup, DISTRESS_FLAG])
        + start_over(t + 200)
        + screening("x", start=t + 300, outcome="eligible_for_consultation"),
    )
    save(
        store,
        ids["chest"],
        screening("x", start=t, outcome=None, messages=[f"marker {tag}"])
        + safety_net(t + 100, [{**CHEST_FLAG, "question": None, "value": None, "certain": False}]),
    )
    save(store, ids["plain"], screening("x", start=t, messages=[f"marker {tag}"]))
    return tag, ids


def _row(page: str, cid: str) -> str:
    return page.split(f"/conversation?id={cid}")[1].split("</tr>")[0]


def test_inbox_marks_distress_on_its_row_and_filters_on_it(portal, flagged):
    tag, ids = flagged
    http = login(portal.base, *REVIEWER)
    page = http.get(f"{portal.base}/inbox", params={"q": f"marker {tag}"}).text
    assert '<select name="distress">' in page
    assert '<strong class="distress">Distress</strong>' in _row(page, ids["both"])
    chest = '<li class="flag">Described chest pain or breathlessness</li>'  # plain words, not the id
    assert chest in _row(page, ids["both"])
    assert 'class="distress"' not in _row(page, ids["chest"]) and chest in _row(page, ids["chest"])
    assert 'class="distress"' not in _row(page, ids["plain"]) and 'class="flag"' not in _row(page, ids["plain"])
    only = http.get(f"{portal.base}/inbox", params={"q": f"marker {tag}", "distress": "yes"}).text
    assert ids["both"] in only and ids["chest"] not in only and ids["plain"] not in only
    assert '<option value="yes" selected>' in only.split('name="distress"')[1].split("</select>")[0]
    bad = http.get(f"{portal.base}/inbox", params={"distress": "maybe"})
    assert bad.status_code == 400 and "distress must be yes or no" in bad.text


def test_conversation_page_puts_the_flags_and_words_first(portal, flagged):
    tag, ids = flagged
    http = login(portal.base, *REVIEWER)
    for path in ("/conversation", "/conversation/print"):
        page = http.get(f"{portal.base}{path}", params={"id": ids["both"]}).text
        assert page.index('<section class="safety"') < page.index('<section class="summary">')
        block = page.split('<section class="safety"')[1].split("</section>")[0]
        assert "Distress</strong>: the person said they want to die" in block
        assert "safeguarding procedure" in block
        items = block.split("<li>")[1:]
        assert len(items) == 2
        assert "<h3>Red flag: chest</h3>" in items[0]
        assert "Emergency warning signs right now (<code>rf_emergency</code>)" in items[0]
        assert "Chest pain or breathlessness" in items[0]
        assert f"my chest &lt;b&gt;hurts&lt;/b&gt; {tag}" in items[0]  # the person's words, as text
        assert "<h3>Distress: Said they want to die or harm themselves</h3>" in items[1] and "i want to die" in items[1]
        assert "not an answer to a screening question" in items[1]
    # The second screening's summary has no flag, yet the block above still lists them.
    assert "eligible_for_consultation" in page


def test_conversation_page_says_when_the_assistant_was_not_sure(portal, flagged):
    _, ids = flagged
    http = login(portal.base, *REVIEWER)
    page = http.get(f"{portal.base}/conversation", params={"id": ids["chest"]}).text
    block = page.split('<section class="safety"')[1].split("</section>")[0]
    assert "no: the assistant was not sure" in block and "distress-notice" not in block
    plain = http.get(f"{portal.base}/conversation", params={"id": ids["plain"]}).text
    assert '<section class="safety"' not in plain


def test_csv_export_has_the_distress_column(portal, flagged):
    tag, ids = flagged
    resp = login(portal.base, *ADMIN).get(f"{portal.base}/inbox.csv", params={"q": f"marker {tag}"})
    rows = {r["conversation_id"]: r for r in csv.DictReader(io.StringIO(resp.text))}
    assert set(rows) == set(ids.values())
    assert (rows[ids["both"]]["distress"], rows[ids["both"]]["safety_net_flags"]) == ("yes", "chest")
    assert (rows[ids["chest"]]["distress"], rows[ids["chest"]]["safety_net_flags"]) == ("no", "chest")
    assert (rows[ids["plain"]]["distress"], rows[ids["plain"]]["safety_net_flags"]) == ("no", "")
    assert "hurts" not in resp.text  # the words stay out of exports
    only = login(portal.base, *ADMIN).get(f"{portal.base}/inbox.csv", params={"q": f"marker {tag}", "distress": "yes"})
    assert [r["conversation_id"] for r in csv.DictReader(io.StringIO(only.text))] == [ids["both"]]
