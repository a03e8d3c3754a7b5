"""The version of the screening rules that decided the outcome (the assistant's
``ruleset_version`` slot): on the conversation page next to the outcome and in the inbox
CSV's ``ruleset_version`` column; "not recorded" for conversations from before the slot."""

from __future__ import annotations

import csv
import io
import time
import uuid

from portal_helpers import ADMIN, login, save, screening, tracker_store
from rasa.shared.core.events import SlotSet

from portal import inbox, summaries

VERSION = "rules 3f2a9c1b… (sign-off pending)"


def _decided(cid: str, t: float, version=VERSION):
    """A screening whose outcome was decided under the rule set `version` (set with it)."""
    return screening(cid, start=t) + [SlotSet("ruleset_version", version, timestamp=t + 500)]


def test_the_index_and_the_export_carry_the_version(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 3600
    save(store, "decided", _decided("decided", t))
    save(store, "older", screening("older", start=t + 10))  # before the assistant recorded it
    summaries.summarise_new_events(stores.tracker, stores.portal)
    rows, _ = inbox.search(stores.portal, inbox.Filters(), None)
    by_id = {r["conversation_id"]: r for r in rows}
    assert by_id["decided"]["ruleset_version"] == VERSION and by_id["older"]["ruleset_version"] is None
    exported = {r["conversation_id"]: r for r in csv.DictReader(io.StringIO(inbox.to_csv(rows)))}
    assert exported["decided"]["ruleset_version"] == VERSION
    assert exported["older"]["ruleset_version"] == "not recorded"
    assert inbox.CSV_COLUMNS[-1] == "ruleset_version"  # added at the end: older columns keep their place


def test_a_start_over_keeps_the_version_of_the_last_outcome_in_the_index(databases):
    stores = databases.stores()
    t = time.time() - 3600
    save(
        tracker_store(databases.tracker_url),
        "again",
        _decided("again", t) + screening("again", start=t + 1000, outcome=None, restart_after=True),
    )
    summaries.summarise_new_events(stores.tracker, stores.portal)
    rows, _ = inbox.search(stores.portal, inbox.Filters(), None)
    assert {r["conversation_id"]: r["ruleset_version"] for r in rows}["again"] == VERSION


def test_the_conversation_page_and_the_csv_show_the_version(portal):
    store = tracker_store(portal.databases.tracker_url)
    t = time.time() - 600
    decided, older = f"rs-{uuid.uuid4().hex[:8]}", f"rs-old-{uuid.uuid4().hex[:8]}"
    save(store, decided, _decided(decided, t))
    save(store, older, screening(older, start=t + 5))
    admin = login(portal.base, *ADMIN)

    def shown(cid):
        page = admin.get(f"{portal.base}/conversation?id={cid}").text
        summary = page.split('<section class="summary">')[1].split("</section>")[0]
        outcome_at, version_at = summary.index("<dt>Outcome</dt>"), summary.index("<dt>Rule set</dt>")
        assert 0 < version_at - outcome_at < 300  # right after the outcome
        return summary.split('<dd class="ruleset-version">')[1].split("</dd>")[0]

    assert shown(decided) == VERSION
    assert shown(older) == "not recorded"
    printed = admin.get(f"{portal.base}/conversation/print?id={decided}").text
    assert f'<dd class="ruleset-version">{VERSION}</dd>' in printed
    resp = admin.get(f"{portal.base}/inbox.csv")
    assert resp.status_code == 200
    exported = {r["conversation_id"]: r for r in csv.DictReader(io.StringIO(resp.text))}
    assert exported[decided]["ruleset_version"] == VERSION
    assert exported[older]["ruleset_version"] == "not recorded"
