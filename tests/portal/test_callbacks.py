"""The call-back queue over HTTP (ordering, filters, contacted / undo / notes with their
audit entries, CSRF, bad input, the CSV export, local times) and its data layer (contact
records derived into a state, the consultation table kept in step, erasure and purge).
Every name, number and address here is fictional (Ofcom drama ranges, example.org)."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from portal_helpers import (
    asks_for_person,
    page_csrf,
    save,
    screening,
    tracker_store,
)

from clinical.consultation_store import consultation_requests, save_request
from portal import callbacks, erasure, storage, summaries

DAY = 86400


def _request(url, cid, name="Sam Example", contact="+447700900123", kind="phone", times="weekday mornings", **kw):
    return save_request(cid, name, contact, kind, times, "eligible_for_consultation", [], url=url, **kw)


def _age(url, request_id, hours):
    """Makes a request look `hours` old (save_request stamps it now)."""
    with sa.create_engine(url).begin() as conn:
        conn.execute(
            consultation_requests.update()
            .where(consultation_requests.c.id == request_id)
            .values(created_at=datetime.now(timezone.utc) - timedelta(hours=hours))
        )


@pytest.fixture
def queued(portal, tracker, stores):
    """Three conversations waiting: a request 30 h old (by phone), one 2 h old (by e-mail,
    asked for a person), and a WhatsApp person who asked for a person without a request."""
    tag = uuid.uuid4().hex[:8]
    url = portal.databases.consultation_url
    ids = {"old": f"cb-old-{tag}", "new": f"cb-new-{tag}", "wa": f"whatsapp:+44770090{int(tag[:4], 16) % 10000:04d}"}
    save(
        tracker,
        ids["old"],
        screening("x", outcome="needs_medical_review", reasons=["rf_giant_cell_arteritis", "swallow_breath"]),
    )
    save(tracker, ids["new"], screening("x", start=time.time() - 7200) + asks_for_person(time.time() - 7100))
    save(
        tracker,
        ids["wa"],
        screening("x", outcome=None, channel="twilio_verified") + asks_for_person(time.time(), "twilio_verified"),
    )
    requests_ = {
        "old": _request(url, ids["old"], name=f"Old {tag}", times="after 5pm"),
        "new": _request(
            url,
            ids["new"],
            name=f"New {tag}",
            contact="new@example.org",
            kind="email",
            request_reason="asked_for_person",
        ),
    }
    _age(url, requests_["old"], 30)
    _age(url, requests_["new"], 2)
    yield tag, ids, requests_
    # Out of the waiting list afterwards, so the next test's items are on its first page.
    for name, rid in (*requests_.items(), ("wa", callbacks.PERSON_ONLY)):
        storage.record_contact(stores, ids[name], rid, "contacted", "", "cleanup", "")


def _link(cid: str) -> str:
    """How the queue links to a conversation (its id quoted, as the |q filter does)."""
    return "/conversation?id=" + quote(cid, safe="")


def _rows(page: str) -> list[str]:
    return page.split("<tbody>")[1].split("</tbody>")[0].split('<tr class="callback')[1:]


def _row(page: str, text: str) -> str:
    found = [r for r in _rows(page) if text in r]
    assert len(found) == 1, f"{text!r} in {len(found)} rows"
    return found[0]


def _post(http, base, path, **data):
    return http.post(f"{base}{path}", data={"csrf_token": page_csrf(http, base), **data}, allow_redirects=False)


def _events(stores, cid):
    with stores.portal.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT request_id, action, actor, note FROM portal_contact_events "
                "WHERE conversation_id = :c ORDER BY id"
            ),
            {"c": cid},
        ).fetchall()


def _audit(stores, action, cid):
    with stores.portal.connect() as conn:
        return conn.execute(
            sa.text("SELECT detail FROM portal_audit WHERE action = :a AND conversation_id = :c ORDER BY id"),
            {"a": action, "c": cid},
        ).fetchall()


def _contacted_column(stores, request_id):
    with stores.consultations.connect() as conn:
        return conn.execute(
            sa.select(consultation_requests.c.contacted).where(consultation_requests.c.id == request_id)
        ).scalar()


def test_queue_lists_requests_and_askers_oldest_first_with_contact_links_and_plain_words(portal, reviewer, queued):
    tag, ids, _ = queued
    page = reviewer.get(f"{portal.base}/callbacks").text
    order = [page.index(f"Old {tag}"), page.index(f"New {tag}"), page.index(_link(ids["wa"]))]
    assert order == sorted(order)  # the longest wait first; the WhatsApp ask is the newest
    old = _row(page, f"Old {tag}")
    assert '<a href="tel:+447700900123" class="contact">+447700900123</a>' in old
    assert "after 5pm" in old and "waiting 1 day 6 h" in old
    assert "Needs a practitioner&#39;s review first" in old and "Possible giant cell arteritis" in old
    assert "rf_giant_cell_arteritis" not in old and "needs_medical_review</" not in old  # no codes
    assert re.search(r"\d\d:\d\d (GMT|BST)", old) and "Europe/London" in page  # the clinic's time zone
    assert "Asked to book a consultation" in old
    new = _row(page, f"New {tag}")
    assert '<a href="mailto:new@example.org" class="contact">new@example.org</a>' in new
    assert "Asked to talk to a person" in new and "waiting 2 h 0 min" in new
    # asked for a person without leaving details: listed, with the number the message came from
    wa = _row(page, _link(ids["wa"]))
    assert "No name or contact details left" in wa and "Reply by WhatsApp" in wa
    assert f'href="tel:{ids["wa"].removeprefix("whatsapp:")}"' in wa
    # "new" asked for a person AND left a request: listed once, as its request
    assert len([r for r in _rows(page) if ids["new"] in r]) == 1


def test_a_website_asker_without_details_says_they_cannot_be_called(portal, reviewer, tracker):
    cid = f"cb-web-{uuid.uuid4().hex[:8]}"
    save(tracker, cid, screening("x", outcome=None) + asks_for_person(time.time()))
    row = _row(reviewer.get(f"{portal.base}/callbacks").text, f"/conversation?id={cid}")
    assert "None: read the conversation" in row and "tel:" not in row and "Website chat" in row
    page = " ".join(reviewer.get(f"{portal.base}/conversation", params={"id": cid}).text.split())
    assert 'without leaving contact details: they are in the <a href="/callbacks">call-back queue</a>' in page


def test_mark_contacted_with_a_note_then_undo_keeps_the_history_audited_and_in_step(portal, reviewer, stores, queued):
    tag, ids, requests_ = queued
    cid, rid = ids["old"], requests_["old"]
    nav = re.compile(r"Call-backs <span class=\"count\">\((\d+) waiting\)")
    waiting_before = int(nav.search(reviewer.get(f"{portal.base}/callbacks").text).group(1))

    resp = _post(reviewer, portal.base, "/callbacks/contacted", id=cid, request_id=str(rid), note="left a voicemail")
    assert resp.status_code == 303 and resp.headers["Location"] == "/callbacks?status=waiting&page=1"
    waiting = reviewer.get(f"{portal.base}/callbacks").text
    assert f"Old {tag}" not in waiting
    assert int(nav.search(waiting).group(1)) == waiting_before - 1
    done = _row(reviewer.get(f"{portal.base}/callbacks?status=contacted").text, f"Old {tag}")
    assert "Contacted</strong>" in done and "by rob.reviewer" in done and "left a voicemail" in done
    assert re.search(r"by rob.reviewer, \w{3} \d\d \w{3} \d{4}, \d\d:\d\d (GMT|BST)", done)
    assert "Undo contacted" in done
    assert _contacted_column(stores, rid) is True

    assert (
        _post(reviewer, portal.base, "/callbacks/note", id=cid, request_id=str(rid), note="rang again").status_code
        == 303
    )
    assert _post(reviewer, portal.base, "/callbacks/undo", id=cid, request_id=str(rid)).status_code == 303
    assert _contacted_column(stores, rid) is False
    again = _row(reviewer.get(f"{portal.base}/callbacks").text, f"Old {tag}")
    assert "Waiting</strong>" in again and "rang again" in again  # the latest note stays visible
    assert [tuple(e) for e in _events(stores, cid)] == [
        (rid, "contacted", "rob.reviewer", "left a voicemail"),
        (rid, "note", "rob.reviewer", "rang again"),
        (rid, "undone", "rob.reviewer", None),
    ]
    # every action audited, by request id: never the note (it may quote the person)
    for action in ("mark_contacted", "add_contact_note", "undo_contacted"):
        assert [d for (d,) in _audit(stores, action, cid)] == [f"request_id={rid}"]
    # all of it on the conversation page too
    page = reviewer.get(f"{portal.base}/conversation", params={"id": cid}).text
    history = page.split('<ol class="contact-history">')[1].split("</ol>")[0]
    assert history.index("left a voicemail") < history.index("rang again") < history.index("took back")


def test_contacted_from_the_conversation_page_goes_back_there(portal, reviewer, stores, queued):
    _, ids, requests_ = queued
    cid, rid = ids["new"], requests_["new"]
    resp = _post(reviewer, portal.base, "/callbacks/contacted", id=cid, request_id=str(rid), back="conversation")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/conversation?id={cid}#callback"
    block = reviewer.get(f"{portal.base}/conversation", params={"id": cid}).text.split(
        '<section class="consultation">'
    )[1]
    assert "by rob.reviewer" in block and "Undo contacted" in block and 'href="mailto:new@example.org"' in block


def test_an_asker_without_a_request_can_be_marked_contacted(portal, reviewer, stores, queued):
    _, ids, _ = queued
    resp = _post(
        reviewer, portal.base, "/callbacks/contacted", id=ids["wa"], request_id="0", note="replied on WhatsApp"
    )
    assert resp.status_code == 303
    done = reviewer.get(f"{portal.base}/callbacks?status=contacted").text
    assert "replied on WhatsApp" in _row(done, _link(ids["wa"]))
    assert _link(ids["wa"]) not in reviewer.get(f"{portal.base}/callbacks").text


def test_filters_waiting_contacted_and_all(portal, reviewer, queued):
    tag, ids, requests_ = queued
    _post(reviewer, portal.base, "/callbacks/contacted", id=ids["new"], request_id=str(requests_["new"]))
    pages = {s: reviewer.get(f"{portal.base}/callbacks?status={s}").text for s in callbacks.STATUS_FILTERS}
    assert f"Old {tag}" in pages["waiting"] and f"New {tag}" not in pages["waiting"]
    assert f"Old {tag}" not in pages["contacted"] and f"New {tag}" in pages["contacted"]
    assert pages["all"].index(f"Old {tag}") < pages["all"].index(f"New {tag}")  # waiting ones first
    assert '<strong aria-current="page">contacted</strong>' in pages["contacted"]


def test_posts_need_the_csrf_token_and_change_nothing_without_it(portal, reviewer, stores, queued):
    _, ids, requests_ = queued
    for token in (None, "forged"):
        data = {"id": ids["old"], "request_id": str(requests_["old"]), "note": "x"}
        if token:
            data["csrf_token"] = token
        resp = reviewer.post(f"{portal.base}/callbacks/contacted", data=data, allow_redirects=False)
        assert resp.status_code == 403
    assert _events(stores, ids["old"]) == [] and _contacted_column(stores, requests_["old"]) is False


@pytest.mark.parametrize(
    "path, data, message",
    [
        ("/callbacks/contacted", {"request_id": "abc"}, "request_id must be a number"),
        ("/callbacks/contacted", {"request_id": "-1"}, "request_id must be a number"),
        ("/callbacks/contacted", {"note": "x" * 501}, "A note is at most 500 characters"),
        ("/callbacks/note", {"note": "   "}, "A note needs some text"),
        ("/callbacks/undo", {"id": ""}, "The id is missing"),
        ("/callbacks/contacted", {"back": "https://evil.example"}, "back must be callbacks or conversation"),
        ("/callbacks/contacted", {"back_status": "everything"}, "status must be one of waiting, contacted, all"),
    ],
)
def test_bad_form_input_gets_400_and_writes_nothing(portal, reviewer, stores, queued, path, data, message):
    _, ids, requests_ = queued
    form = {"id": ids["old"], "request_id": str(requests_["old"]), **data}
    resp = _post(reviewer, portal.base, path, **form)
    assert resp.status_code == 400 and message in resp.text
    assert _events(stores, ids["old"]) == []


def test_unknown_request_or_another_conversations_request_gets_404(portal, reviewer, stores, queued):
    _, ids, requests_ = queued
    resp = _post(reviewer, portal.base, "/callbacks/contacted", id=ids["new"], request_id=str(requests_["old"]))
    assert resp.status_code == 404
    assert _post(reviewer, portal.base, "/callbacks/contacted", id="nobody", request_id="0").status_code == 404
    assert _events(stores, ids["new"]) == [] and _contacted_column(stores, requests_["old"]) is False


def test_bad_queue_filter_gets_400(portal, reviewer):
    resp = reviewer.get(f"{portal.base}/callbacks", params={"status": "maybe"})
    assert resp.status_code == 400 and "status must be one of waiting, contacted, all" in resp.text
    assert reviewer.get(f"{portal.base}/callbacks", params={"page": "0"}).status_code == 400


def test_csv_export_is_admin_only_audited_and_spreadsheet_safe(portal, admin, reviewer, stores, tracker):
    cid = f"cb-csv-{uuid.uuid4().hex[:8]}"
    save(tracker, cid, screening("x", outcome="needs_medical_review", reasons=["rf_giant_cell_arteritis"]))
    rid = _request(portal.databases.consultation_url, cid, name='=HYPERLINK("http://evil.example")', times="@noon")
    assert reviewer.get(f"{portal.base}/callbacks.csv").status_code == 403
    assert "callbacks.csv" not in reviewer.get(f"{portal.base}/callbacks").text
    resp = admin.get(f"{portal.base}/callbacks.csv", params={"status": "waiting"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert tuple(rows[0].keys()) == callbacks.CSV_COLUMNS
    row = next(r for r in rows if r["conversation_id"] == cid)
    assert row["name"] == '\'=HYPERLINK("http://evil.example")' and row["preferred_times"] == "'@noon"
    assert row["contact"] == "'+447700900123" and row["contact_kind"] == "phone"
    assert row["request_id"] == str(rid) and row["status"] == "waiting" and row["contacted_by"] == ""
    assert row["outcome"] == "Needs a practitioner's review first" and row["outcome_code"] == "needs_medical_review"
    assert row["red_flags"].startswith("Possible giant cell arteritis")
    assert row["red_flag_codes"] == "rf_giant_cell_arteritis"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d\+0[01]:00", row["requested_at"])  # local, with its offset
    assert row["waited"] == "0 min"
    with stores.portal.connect() as conn:
        detail = conn.execute(
            sa.text("SELECT detail FROM portal_audit WHERE action = 'export_callbacks_csv' ORDER BY id DESC")
        ).scalar()
    assert detail == f"rows={len(rows)} status=waiting"


# ---- the data layer -------------------------------------------------------------------


def test_state_is_derived_from_the_latest_record_and_a_legacy_column_still_counts(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    for cid in ("legacy", "fresh"):
        save(store, cid, screening("x"))
    legacy = _request(databases.consultation_url, "legacy")
    fresh = _request(databases.consultation_url, "fresh")
    with stores.consultations.begin() as conn:  # marked contacted before contact records existed
        conn.execute(consultation_requests.update().where(consultation_requests.c.id == legacy).values(contacted=True))
    items = {i.conversation_id: i for i in storage.callback_items(stores)}
    assert items["legacy"].contacted and items["legacy"].contacted_event is None
    assert not items["fresh"].contacted
    assert storage.record_contact(stores, "fresh", fresh, "contacted", "", "amy", "")
    assert storage.record_contact(stores, "fresh", fresh, "undo", "", "ben", "")
    assert storage.record_contact(stores, "fresh", fresh, "contacted", "second call", "cat", "")
    item = next(i for i in storage.callback_items(stores) if i.conversation_id == "fresh")
    assert item.contacted and item.contacted_event.actor == "cat" and len(item.history) == 3
    assert [i.conversation_id for i in callbacks.select(storage.callback_items(stores), "contacted")][-1] == "legacy"
    assert not storage.record_contact(stores, "fresh", legacy, "contacted", "", "amy", "")  # not its request


def test_erasure_and_purge_delete_contact_records_and_their_notes(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    save(store, "erase-me", screening("x"))
    save(store, "ancient", screening("x", start=time.time() - 400 * DAY))
    save(store, "keep-me", screening("x"))
    ids = {cid: _request(databases.consultation_url, cid) for cid in ("erase-me", "ancient", "keep-me")}
    summaries.summarise_new_events(stores.tracker, stores.portal, stores.consultations)
    for cid, rid in ids.items():
        assert storage.record_contact(stores, cid, rid, "contacted", f"spoke to Sam about {cid}", "amy", "")

    def left(cid):
        with stores.portal.connect() as conn:
            return conn.execute(
                sa.text("SELECT COUNT(*) FROM portal_contact_events WHERE conversation_id = :c"), {"c": cid}
            ).scalar()

    erased = erasure.erase_conversation(stores, "erase-me", "alice.admin")
    assert left("erase-me") == 0 and erased.counts["portal_rows"] >= 2  # summary and contact record
    # a contact record made recently does not keep an idle conversation: it is purged whole
    assert erasure.purge(stores, 365, "cli:test")["conversations"] == 1
    assert left("ancient") == 0 and left("keep-me") == 1
    if databases.portal_url.startswith("sqlite"):  # secure_delete: the words do not linger in the file
        path = databases.portal_url.removeprefix("sqlite:///")
        stores.portal.dispose()
        data = open(path, "rb").read()
        assert b"about erase-me" not in data and b"about ancient" not in data and b"about keep-me" in data
