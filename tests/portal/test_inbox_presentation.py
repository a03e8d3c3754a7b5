"""The inbox as staff read it: plain words for every code (outcomes, red flags listed once,
safety-net flags, channels by the names people use), and conversations that never reached
an outcome and need nothing hidden by default, with the number hidden said."""

from __future__ import annotations

import csv
import io
import time
import uuid

import pytest
from portal_helpers import (
    ADMIN,
    CHEST_FLAG,
    REVIEWER,
    asks_for_person,
    inbox_ids,
    login,
    safety_net,
    save,
    screening,
    tracker_store,
)

from portal import inbox, summaries


@pytest.fixture
def mixed(portal, tracker):
    """One search marker shared by: a finished screening with a red flag and another reason,
    an unfinished one with nothing to follow up, an unfinished one whose person asked for a
    person, one with a safety-net flag, and finished ones on SMS, WhatsApp and Telegram."""
    tag = uuid.uuid4().hex[:8]
    marker = [f"marker {tag}"]
    t = time.time() - 3600
    ids = {
        "flagged": f"in-flag-{tag}",
        "left": f"in-left-{tag}",
        "asker": f"in-ask-{tag}",
        "chest": f"in-chest-{tag}",
        "sms": f"+4477009{int(tag[:5], 16) % 100000:05d}",
        "whatsapp": f"whatsapp:+4477008{int(tag[:5], 16) % 100000:05d}",
        "telegram": f"{int(tag, 16) % 10**9}",
    }
    save(
        tracker,
        ids["flagged"],
        screening(
            "x", start=t, outcome="needs_medical_review", reasons=["rf_jaw_locked", "swallow_breath"], messages=marker
        ),
    )
    save(tracker, ids["left"], screening("x", start=t, outcome=None, messages=marker))
    save(tracker, ids["asker"], screening("x", start=t, outcome=None, messages=marker) + asks_for_person(t + 500))
    save(
        tracker,
        ids["chest"],
        screening("x", start=t, outcome=None, messages=marker) + safety_net(t + 500, [CHEST_FLAG]),
    )
    for name, channel in (
        ("sms", "twilio_verified"),
        ("whatsapp", "twilio_verified"),
        ("telegram", "telegram_verified"),
    ):
        save(tracker, ids[name], screening("x", start=t, channel=channel, messages=marker))
    return tag, ids


def _row(page: str, cid: str) -> str:
    return page.split(f"/conversation?id={cid.replace(':', '%3A').replace('+', '%2B')}")[1].split("</tr>")[0]


def test_inbox_shows_plain_words_and_each_red_flag_once(portal, mixed):
    tag, ids = mixed
    page = login(portal.base, *REVIEWER).get(f"{portal.base}/inbox", params={"q": f"marker {tag}"}).text
    row = _row(page, ids["flagged"])
    assert "Needs a practitioner&#39;s review first" in row and "needs_medical_review<" not in row
    locked = "Locked jaw or unable to eat or drink"
    assert row.count(locked) == 1  # in the red-flag column, not again among the reasons
    other = row.split('data-label="Other reasons">')[1].split("</td>")[0]
    assert "Existing swallowing or breathing problems" in other and locked not in other
    assert "rf_jaw_locked" not in row and "swallow_breath" not in row
    assert "Described chest pain or breathlessness" in _row(page, ids["chest"])
    assert ">Website chat<" in row
    assert ">SMS<" in _row(page, ids["sms"])
    assert ">WhatsApp<" in _row(page, ids["whatsapp"])
    assert ">Telegram<" in _row(page, ids["telegram"])
    assert ">rest<" not in page and "twilio_verified<" not in page.split("<table")[1]
    # the channel filter names them too (one Twilio channel carries SMS and WhatsApp)
    assert '<option value="twilio_verified" >SMS or WhatsApp</option>' in page
    assert '<option value="needs_medical_review" >Needs a practitioner&#39;s review first</option>' in page


def test_unfinished_conversations_with_nothing_to_follow_up_are_hidden_by_default(portal, mixed):
    tag, ids = mixed
    http = login(portal.base, *REVIEWER)
    page = http.get(f"{portal.base}/inbox", params={"q": f"marker {tag}"}).text
    assert ids["left"] not in page
    assert "1 conversation that never reached an outcome and has nothing to follow up" in page
    # what needs staff stays listed even without an outcome
    assert ids["asker"] in page and ids["chest"] in page and ids["flagged"] in page
    shown = http.get(f"{portal.base}/inbox", params={"q": f"marker {tag}", "unfinished": "show"}).text
    assert ids["left"] in shown and "Hide them" in shown
    assert f"q=marker+{tag}&amp;unfinished=show&amp;page=1" in page  # the "Show them too" link keeps the search
    only = http.get(f"{portal.base}/inbox", params={"q": f"marker {tag}", "outcome": "none"}).text
    assert ids["left"] in only and ids["flagged"] not in only  # asking for "no outcome" shows them
    bad = http.get(f"{portal.base}/inbox", params={"unfinished": "sometimes"})
    assert bad.status_code == 400 and "unfinished must be hide or show" in bad.text


def test_the_export_keeps_every_conversation_unless_the_page_hid_some(portal, mixed):
    tag, ids = mixed
    http = login(portal.base, *ADMIN)
    page = http.get(f"{portal.base}/inbox", params={"q": f"marker {tag}"}).text
    link = page.split('id="export"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "unfinished=hide" in link
    as_shown = [r["conversation_id"] for r in csv.DictReader(io.StringIO(http.get(portal.base + link).text))]
    assert ids["left"] not in as_shown and ids["flagged"] in as_shown
    plain = http.get(f"{portal.base}/inbox.csv", params={"q": f"marker {tag}"}).text
    assert ids["left"] in [r["conversation_id"] for r in csv.DictReader(io.StringIO(plain))]


def test_filters_default_to_hiding_only_from_the_query_string(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    save(store, "done", screening("x"))
    save(store, "left", screening("x", outcome=None))
    summaries.summarise_new_events(stores.tracker, stores.portal)
    assert sorted(inbox_ids(stores)) == ["done", "left"]  # built in code: every conversation
    page = inbox.parse_filters({})
    assert page.unfinished == "hide" and page.query_args() == {}
    assert [r["conversation_id"] for r in inbox.search(stores.portal, page, 10)[0]] == ["done"]
    assert inbox.hidden_unfinished(stores.portal, page) == 1
    assert inbox.hidden_unfinished(stores.portal, inbox.parse_filters({"unfinished": "show"})) == 0
    assert inbox.parse_filters({}, unfinished_default="show").unfinished == "show"
