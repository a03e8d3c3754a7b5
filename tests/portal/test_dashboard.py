"""The dashboard (portal/dashboard.py), its SVG charts (portal/charts.py), the inbox filters
its links use, and the screening splitter behind the conversation page
(portal/screenings.py). Tracker data is real Rasa events in a throw-away store; every
number's link is followed through the inbox's own query and must list exactly the
conversations counted."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from portal_helpers import (
    ADMIN,
    DISTRESS_FLAG,
    REVIEWER,
    inbox_ids,
    login,
    question,
    safety_net,
    save,
    screening,
    summary_row,
    tracker_store,
    unanswered,
)
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from portal import charts, dashboard, inbox, summaries
from portal.screenings import split_screenings
from portal.transcript import load_conversation


def utc(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


# ---- the SVG renderer ----------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_is_a_named_image_with_every_number_and_links():
    bars = [
        charts.Bar("Urgent <care>", 3, "/inbox?outcome=urgent_care&unfinished=show"),
        charts.Bar("None", 0, "/inbox?x=1"),
    ]
    svg = charts.bar_chart("c1", "Outcomes & more", bars)
    root = ET.fromstring(str(svg))  # well-formed XML: labels are escaped
    # role group, not img: links inside an image would be "nested interactive" (axe-core)
    assert root.get("role") == "group" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Outcomes & more"
    assert root.find(f"{SVG}desc").text == "Urgent <care>: 3; None: 0"
    links = root.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == ["/inbox?outcome=urgent_care&unfinished=show", "/inbox?x=1"]
    # the table next to the chart is the keyboard's way in; the bars' links are named
    assert [a.get("aria-label") for a in links] == ["Urgent <care>: 3", "None: 0"]
    assert all(a.get("tabindex") == "-1" for a in links)
    widths = [float(a.find(f"{SVG}rect").get("width")) for a in links]
    assert widths[0] > 100 and widths[1] == 1  # a zero keeps a 1 px mark
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-value"] == ["3", "0"]


def test_bar_lengths_are_proportional_to_the_values():
    root = ET.fromstring(str(charts.bar_chart("c", "t", [charts.Bar("a", 10), charts.Bar("b", 5)])))
    a, b = (float(r.get("width")) for r in root.iter(f"{SVG}rect"))
    assert a == pytest.approx(2 * b)
    assert root.find(f"{SVG}a") is None  # no href: no link


def test_column_chart_groups_series_with_a_legend():
    groups = [
        charts.Group("1 Jun", (charts.Bar("s1", 4, "/a"), charts.Bar("s2", 2, "/b"))),
        charts.Group("8 Jun", (charts.Bar("s1", 0, "/c"), charts.Bar("s2", 1, "/d"))),
    ]
    root = ET.fromstring(str(charts.column_chart("w", "Weekly", groups, ["Started", "Finished"])))
    assert root.find(f"{SVG}desc").text == "1 Jun: Started 4, Finished 2; 8 Jun: Started 0, Finished 1"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Started" in texts and "Finished" in texts and "1 Jun" in texts and "8 Jun" in texts
    bars = [a.find(f"{SVG}rect") for a in root.findall(f"{SVG}a")]
    assert [r.get("class") for r in bars] == ["series-0", "series-1", "series-0", "series-1"]
    heights = [float(r.get("height")) for r in bars]
    assert heights[0] == pytest.approx(2 * heights[1]) and heights[2] == 1


def test_empty_charts_still_render():
    assert "nothing to show" in charts.bar_chart("e", "t", [])
    assert "nothing to show" in charts.column_chart("e2", "t", [], ["a"])


# ---- the screening splitter -------------------------------------------------------------


def slot(name, value, t=0.0):
    return ("slot", t, {"name": name, "value": value})


def user(text="hi", t=0.0):
    return ("user", t, {"text": text})


def test_start_over_splits_and_keeps_the_earlier_red_flag():
    events = [
        user(t=1),
        slot("consent_given", True, 2),
        slot("requested_slot", "rf_emergency", 3),
        slot("rf_emergency", "chest", 4),
        slot("screening_outcome", "urgent_care", 5),
        slot("screening_reasons", ["rf_cardiac"], 6),
        ("reset_slots", 7, {}),
        user("start over", 8),
        slot("consent_given", True, 9),
        slot("requested_slot", "patient_age", 10),
        slot("rf_emergency", "none", 11),
        slot("requested_slot", "tmd_chewing", 12),
    ]
    first, second = split_screenings(events)
    assert (first.number, first.outcome, first.red_flags, first.ended_by_start_over) == (
        1,
        "urgent_care",
        ["rf_cardiac"],
        True,
    )
    assert first.dropped_at is None and first.started_at == 1
    assert second.number == 2 and second.outcome is None and second.red_flags == []
    assert second.dropped_at == "tmd_chewing" and second.slots["rf_emergency"] == "none"
    assert second.started_at == 8


def test_a_session_start_that_carries_the_slots_continues_the_screening():
    events = [
        user(t=1),
        slot("consent_given", True, 2),
        slot("patient_age", 40, 3),
        ("session_started", 4, {}),
        slot("consent_given", True, 5),  # action_session_start carries every slot over
        slot("patient_age", 40, 6),
        user("hello again", 7),
        slot("screening_outcome", "eligible_for_consultation", 8),
    ]
    (only,) = split_screenings(events)
    assert only.finished and only.slots["patient_age"] == 40


def test_a_session_start_without_carried_slots_starts_a_new_screening():
    events = [
        user(t=1),
        slot("consent_given", True, 2),
        slot("requested_slot", "pain_worst", 3),
        ("session_started", 4, {}),
        slot("clinic_name", "Example Jaw Clinic", 5),  # not a screening slot
        user("hi", 6),
        slot("consent_given", False, 7),
    ]
    first, second = split_screenings(events)
    assert first.dropped_at == "pain_worst" and not first.ended_by_start_over
    assert second.slots["consent_given"] is False and second.started_at == 6


def test_a_start_over_before_any_answer_adds_no_empty_screening():
    events = [user(t=1), ("reset_slots", 2, {}), user("hi", 3), slot("consent_given", True, 4)]
    (only,) = split_screenings(events)
    assert only.consented and only.number == 1
    assert len(split_screenings([user(t=1)])) == 1  # a greeting alone: one empty screening to show


def test_awaiting_confirmation_counts_as_stopped_at_the_summary():
    events = [
        slot("consent_given", True),
        slot("requested_slot", "facial_palsy"),
        slot("screening_status", "awaiting_confirmation"),
    ]
    assert split_screenings(events)[0].dropped_at == "summary"


# ---- crafted conversations for the counts ---------------------------------------------

NOW = utc(2026, 6, 3, 12)  # a Wednesday; Europe/London is on BST (UTC+1)
THIS_WEEK = "2026-06-01"


def restarted_events(cid: str, t: float) -> list:
    """An urgent red flag, "Start over", then a different, finished screening."""
    return screening(cid, start=t, outcome="urgent_care", reasons=["rf_cardiac"], restart_after=True) + screening(
        cid, start=t + 100, outcome="eligible_for_consultation"
    )


def abandoned_events(cid: str, t: float) -> list:
    events = screening(cid, start=t, outcome=None)
    return events + [
        SlotSet("requested_slot", "tmd_pain_duration", timestamp=t + 50),
        BotUttered("Does the pain come and go?", timestamp=t + 51),
        UserUttered("it comes and goes", {"name": "inform", "confidence": 1.0}, input_channel="rest", timestamp=t + 52),
        SlotSet("tmd_pain_duration", "intermittent", timestamp=t + 53),
        SlotSet("requested_slot", "tmd_chewing", timestamp=t + 54),
    ]


def greeting_events(t: float) -> list:
    return [
        ActionExecuted("action_session_start", timestamp=t),
        SessionStarted(timestamp=t + 1),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}, input_channel="rest", timestamp=t + 2),
        BotUttered("Hello!", timestamp=t + 3),
    ]


CONVERSATIONS = {
    "full": lambda: screening("full", start=utc(2026, 6, 2, 10), consultation=True),
    "restart": lambda: restarted_events("restart", utc(2026, 6, 2, 11)),
    # 23:30 UTC on Sunday 31 May is 00:30 on Monday 1 June in London: this week, locally
    "abandoned": lambda: abandoned_events("abandoned", utc(2026, 5, 31, 23, 30)),
    "greeting": lambda: greeting_events(utc(2026, 5, 26, 9)),
    "distress": lambda: (
        screening("distress", start=utc(2026, 5, 20, 9), outcome=None)
        + safety_net(utc(2026, 5, 20, 9, 10), [DISTRESS_FLAG])
        + unanswered([question("Can I drive home after?", utc(2026, 5, 20, 9, 20))])
    ),
    "old": lambda: screening("old", start=utc(2026, 1, 5, 9), outcome="urgent_care", reasons=["rf_jaw_locked"]),
}


@pytest.fixture
def stores(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    for cid, events in CONVERSATIONS.items():
        save(store, cid, events())
    summaries.summarise_new_events(stores.tracker, stores.portal)
    return stores


def listed(stores, href: str) -> tuple[list[str], int]:
    """What the inbox lists for a dashboard link: its query through the inbox's own parser."""
    args = dict(parse_qsl(urlsplit(href).query))
    assert args.get("unfinished") == "show"  # always explicit: never rely on the inbox's default
    rows, total = inbox.search(stores.portal, inbox.parse_filters(args), 100)
    return sorted(r["conversation_id"] for r in rows), total


def test_index_records_consent_and_where_a_screening_stopped(stores):
    assert summary_row(stores, "abandoned")["dropped_at"] == "tmd_chewing"
    assert summary_row(stores, "abandoned")["consented"] == 1
    assert summary_row(stores, "greeting")["consented"] == 0
    restart = summary_row(stores, "restart")
    # the latest outcome, the earlier red flag kept, nothing left "dropped"
    assert restart["outcome"] == "eligible_for_consultation" and restart["red_flags"] == '["rf_cardiac"]'
    assert restart["dropped_at"] is None


def test_dashboard_counts_per_week_in_the_clinic_time_zone(stores):
    board = dashboard.build(stores.portal, 12, NOW)
    assert (board.first_week, board.last_week, len(board.rows)) == ("2026-03-16", THIS_WEEK, 12)
    by_week = {r.monday: {k: b.value for k, b in r.counts.items()} for r in board.rows}
    assert by_week[THIS_WEEK] == {"started": 3, "consented": 3, "finished": 2, "booked": 1}
    assert by_week["2026-05-25"] == {"started": 1, "consented": 0, "finished": 0, "booked": 0}
    assert by_week["2026-05-18"] == {"started": 1, "consented": 1, "finished": 0, "booked": 0}
    assert sum(v["started"] for v in by_week.values()) == 5  # "old" is before the period
    assert {k: b.value for k, b in board.totals.items()} == {"started": 5, "consented": 4, "finished": 2, "booked": 1}
    outcomes = {b.label: b.value for b in board.outcomes}
    assert outcomes["Suitable for a consultation"] == 2 and outcomes["Screening not finished"] == 3
    assert outcomes["Urgent care advised"] == 0  # the restart's latest outcome is not urgent...
    tiers = {b.label.split(" (")[0]: b.value for b in board.tiers}
    assert tiers == {"Emergency": 1, "Same day": 0, "Medical review": 0}  # ...but its red flag counts
    assert [(b.label, b.value) for b in board.drop_off] == [("Chewing hard or tough food changes the pain", 1)]
    assert (board.unanswered.value, board.unanswered_questions, board.distress.value) == (1, 1, 1)


def test_every_dashboard_number_links_to_exactly_those_conversations(stores):
    board = dashboard.build(stores.portal, 12, NOW)
    bars = [b for r in board.rows for b in r.counts.values()]
    bars += [*board.totals.values(), *board.outcomes, *board.tiers, *board.drop_off, board.unanswered, board.distress]
    for bar in bars:
        ids, total = listed(stores, bar.href)
        assert total == bar.value, (bar.label, bar.href, ids)
    week = {k: b.href for k, b in next(r for r in board.rows if r.monday == THIS_WEEK).counts.items()}
    assert listed(stores, week["started"])[0] == ["abandoned", "full", "restart"]
    assert listed(stores, week["booked"])[0] == ["full"]
    assert listed(stores, board.tiers[0].href)[0] == ["restart"]
    assert listed(stores, board.drop_off[0].href)[0] == ["abandoned"]
    none = next(b for b in board.outcomes if "not finished" in b.label)
    assert listed(stores, none.href)[0] == ["abandoned", "distress", "greeting"]
    assert listed(stores, board.distress.href)[0] == listed(stores, board.unanswered.href)[0] == ["distress"]


def test_an_empty_period_counts_nothing(stores):
    board = dashboard.build(stores.portal, 4, utc(2025, 1, 8))
    assert board.conversations == 0 and board.drop_off == []
    assert all(b.value == 0 for r in board.rows for b in r.counts.values())


# ---- the inbox filters the links use ---------------------------------------------------


def test_week_filter_uses_the_clinic_time_zone(stores):
    assert "abandoned" in inbox_ids(stores, week=THIS_WEEK)  # local Monday 00:30
    assert "abandoned" not in inbox_ids(stores, week="2026-05-25")
    assert "abandoned" in inbox_ids(stores, date_from="2026-05-31", date_to="2026-05-31")  # a UTC day
    assert sorted(inbox_ids(stores, week="2026-05-18", weeks=3)) == [
        "abandoned",
        "distress",
        "full",
        "greeting",
        "restart",
    ]


def test_tier_dropped_at_consented_finished_and_unanswered_filters(stores):
    assert inbox_ids(stores, tier="emergency") == ["restart"]
    assert inbox_ids(stores, tier="same_day") == ["old"]  # rf_jaw_locked
    assert inbox_ids(stores, tier="review") == []
    assert inbox_ids(stores, dropped_at="tmd_chewing") == ["abandoned"]
    assert "greeting" in inbox_ids(stores, consented="no") and "greeting" not in inbox_ids(stores, consented="yes")
    assert sorted(inbox_ids(stores, finished="yes")) == ["full", "old", "restart"]
    assert inbox_ids(stores, unanswered="yes") == ["distress"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"week": "2026-06-02"}, "week must be a Monday"),
        ({"week": "June"}, "week must be a date written YYYY-MM-DD"),
        ({"weeks": "3"}, "weeks needs a week to start from"),
        ({"week": "2026-06-01", "weeks": "0"}, "weeks must be a whole number from 1 to 104"),
        ({"tier": "urgent"}, "tier must be one of emergency, same_day, review"),
        ({"dropped_at": "shoe_size"}, "dropped_at must be a question id"),
        ({"finished": "maybe"}, "finished must be yes or no"),
    ],
)
def test_bad_filter_values_say_what_is_wrong(args, message):
    with pytest.raises(inbox.FilterError, match=message):
        inbox.parse_filters(args)


def test_the_conversation_reads_back_every_screening(databases, stores):
    conversation = load_conversation(stores.tracker, "restart")
    first, second = conversation.screenings
    assert first.outcome == "urgent_care" and first.red_flags == ["rf_cardiac"] and first.ended_by_start_over
    assert second.outcome == "eligible_for_consultation" and second.red_flags == []


# ---- over HTTP --------------------------------------------------------------------------


def test_dashboard_page_links_numbers_to_the_inbox_and_refuses_bad_periods(portal):
    http = login(portal.base, *REVIEWER)
    page = http.get(f"{portal.base}/dashboard", params={"weeks": "4"})
    assert page.status_code == 200
    assert '<a href="/dashboard">Dashboard</a>' in page.text  # in the navigation
    assert (
        'role="group" aria-labelledby="chart-weekly-title' in page.text
        and '<table class="chart-table" id="table-weekly">' in page.text
    )
    hrefs = re.findall(r'<a href="(/inbox\?[^"]+)">\d+</a>', page.text)
    assert hrefs and all("unfinished=show" in h for h in hrefs)
    for bad, message in (("5", "weeks must be one of 4, 12, 26, 52"), ("x", "weeks must be one of")):
        resp = http.get(f"{portal.base}/dashboard", params={"weeks": bad})
        assert resp.status_code == 400 and message in resp.text
    resp = http.get(f"{portal.base}/dashboard", params={"until": "2026-06-03"})
    assert resp.status_code == 400 and "until must be a Monday" in resp.text
    old = login(portal.base, *ADMIN).get(f"{portal.base}/dashboard", params={"weeks": "4", "until": "2001-01-01"})
    assert "No conversations started in this period." in old.text


def test_inbox_refuses_a_week_that_is_not_a_monday(portal):
    resp = login(portal.base, *REVIEWER).get(f"{portal.base}/inbox", params={"week": "2026-06-03"})
    assert resp.status_code == 400 and "week must be a Monday" in resp.text


def test_inbox_form_keeps_the_dashboard_filters(portal):
    page = login(portal.base, *REVIEWER).get(
        f"{portal.base}/inbox",
        params={
            "week": "2026-06-01",
            "weeks": "4",
            "tier": "same_day",
            "dropped_at": "pain_worst",
            "unfinished": "show",
        },
    )
    assert page.status_code == 200
    assert '<option value="same_day" selected>Same day' in page.text
    assert 'name="week" value="2026-06-01"' in page.text and 'name="weeks" min="1" max="104" value="4"' in page.text
    assert '<option value="pain_worst" selected>Worst pain in the last week' in page.text
