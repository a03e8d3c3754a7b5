"""The dashboard and the conversation page in a real browser, on conversations had with the
real assistant (Rasa + action server, trained model) over REST:

- "booked": a full screening, then a consultation request;
- "restarted": an emergency red flag, "start over", then a different screening finished
  (a practitioner's review first);
- "abandoned": stopped answering a few questions in.

Then a staff member checks the dashboard's numbers against those conversations, follows
its links to the inbox, reads the restarted conversation (the earlier red flag still
shown), prints the full screening (at most 5 A4 pages, measured with page.pdf()), and
axe-core finds nothing moderate or worse on the dashboard, conversation and print pages.
"""

from __future__ import annotations

import re

import pytest

from tests.support.axe import assert_accessible
from tests.support.conversation import Conversation
from tests.support.screening import answer_questions, current_question, start
from tests.support.servers import start_assistant
from tests.support.staff_portal import portal_on
from tests.widget.harness import launch_chromium

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"  # a throw-away test account
MAX_PRINTED_PAGES = 5


def finish_summary(conversation: Conversation) -> None:
    assert "Here is a summary of your answers" in conversation.text, conversation.dump()
    conversation.tap("Yes, that's right")


@pytest.fixture(scope="module")
def conversations(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dashboard-browser")
    assistant = start_assistant(workdir)
    try:
        booked = Conversation(assistant)
        start(booked)
        answer_questions(booked)
        finish_summary(booked)
        booked.tap("Yes, please")
        booked.say("My name is Sam Example")
        booked.say("sam@example.org")
        booked.tap("Weekday mornings")
        booked.tap("Yes")
        assert "Your request has been passed to" in booked.text, booked.dump()

        restarted = Conversation(assistant)
        start(restarted)
        restarted.tap("Chest pain or breathlessness")
        assert restarted.slots()["screening_outcome"] == "urgent_care", restarted.dump()
        restarted.say("start over")
        restarted.tap("Yes, that's okay")
        answer_questions(restarted, {"rf_nerve": "yes, my face feels numb"})
        finish_summary(restarted)
        restarted.tap("No, thanks")
        assert restarted.slots()["screening_outcome"] == "needs_medical_review", restarted.dump()

        abandoned = Conversation(assistant)
        start(abandoned)
        abandoned.tap("None of these")
        abandoned.say("I'm 34")
        abandoned.say("no")
        stopped_at = current_question(abandoned)
        assert stopped_at and abandoned.slots()["screening_outcome"] is None, abandoned.dump()
    finally:
        assistant.stop()
    yield (
        workdir,
        assistant,
        {"booked": booked.sender, "restarted": restarted.sender, "abandoned": abandoned.sender},
        (stopped_at),
    )


@pytest.fixture(scope="module")
def portal(conversations):
    assistant = conversations[1]
    with portal_on(assistant, "sam", "reviewer", PASSWORD) as url:
        yield url


@pytest.fixture(scope="module")
def page(portal):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        # bypass_csp: the portal allows no scripts at all, so axe-core (injected by the
        # test, tests/support/axe.py) could not run otherwise; the pages use none themselves.
        page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
        page.goto(f"{portal}/login")
        page.fill("input[name=username]", "sam")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_url("**/inbox**")
        yield page
        browser.close()


def cell(page, table: str, row: str, column: int) -> str:
    """The text of a number in a dashboard table: the row whose header is `row`."""
    return page.locator(f"#{table} tr", has=page.locator("th", has_text=row)).locator("td").nth(column).inner_text()


def listed_ids(page) -> set[str]:
    hrefs = page.locator("table.inbox tbody a[href^='/conversation']").evaluate_all("els => els.map(e => e.href)")
    return {re.search(r"id=([^&]+)", h).group(1) for h in hrefs}


def test_dashboard_counts_the_conversations_that_were_run(page, portal, conversations):
    _, _, ids, stopped_at = conversations
    page.goto(f"{portal}/dashboard?weeks=4")
    totals = page.locator("#table-weekly tfoot td").all_inner_texts()
    assert totals == ["3", "3", "2", "1"]  # started, consented, finished, booked
    assert cell(page, "table-outcomes", "Suitable for a consultation", 0) == "1"
    assert cell(page, "table-outcomes", "Needs a practitioner", 0) == "1"
    assert cell(page, "table-outcomes", "Screening not finished", 0) == "1"
    assert cell(page, "table-outcomes", "Urgent care advised", 0) == "0"  # restarted since...
    assert cell(page, "table-tiers", "Emergency", 0) == "1"  # ...but its red flag still counts
    assert cell(page, "table-tiers", "Medical review", 0) == "1"
    assert cell(page, "table-tiers", "Same day", 0) == "0"
    assert page.locator("#table-dropoff tbody tr").count() == 1
    assert page.locator("#table-dropoff tbody td").inner_text() == "1"
    assert page.locator("svg#chart-weekly[role=group] title").count() >= 1
    assert_accessible(page, "the dashboard")

    page.locator("#table-weekly tfoot td a").first.click()  # started, all 4 weeks
    page.wait_for_url("**/inbox?**")
    assert "unfinished=show" in page.url
    assert listed_ids(page) == set(ids.values())

    page.goto(f"{portal}/dashboard?weeks=4")
    page.locator("#table-tiers tr", has=page.locator("th", has_text="Emergency")).locator("a").click()
    page.wait_for_url("**/inbox?**")
    assert listed_ids(page) == {ids["restarted"]}

    page.goto(f"{portal}/dashboard?weeks=4")
    page.locator("#table-dropoff a").click()
    page.wait_for_url("**/inbox?**")
    assert f"dropped_at={stopped_at}" in page.url and listed_ids(page) == {ids["abandoned"]}


def test_restarted_conversation_keeps_the_earlier_red_flag_in_view(page, portal, conversations):
    _, _, ids, _ = conversations
    page.goto(f"{portal}/conversation?id={ids['restarted']}")
    flags = page.locator(".all-red-flags")
    assert flags.is_visible()
    assert "Chest pain, tightness or breathlessness" in flags.inner_text() and "Emergency" in flags.inner_text()
    latest = page.locator("section.screening.latest")
    assert "Needs a practitioner" in latest.inner_text() and "Facial numbness" in latest.inner_text()
    earlier = page.locator("details.screening.earlier")
    assert earlier.count() == 1 and earlier.get_attribute("open") is None  # folded...
    summary = earlier.locator("summary").inner_text()
    assert "Urgent care advised" in summary and "Chest pain, tightness or breathlessness" in summary  # ...not hidden
    # what matters first: the request block, then the screenings, the transcript last
    order = page.evaluate(
        "() => ['section.consultation', 'section.summary', '#transcript-heading']"
        ".map(s => document.querySelector(s).getBoundingClientRect().top)"
    )
    assert order == sorted(order)
    earlier.locator("summary").click()
    assert_accessible(page, "a restarted conversation (earlier screening open)")


def test_full_screening_page_is_compact_and_prints_on_five_pages(page, portal, conversations):
    _, _, ids, _ = conversations
    page.goto(f"{portal}/conversation?id={ids['booked']}")
    request = page.locator("section.consultation").bounding_box()
    assert request["y"] < 400  # the request is at the top, not below the answers
    hi = page.locator(".turn.user").filter(has=page.locator(".text", has_text=re.compile(r"^hi$"))).first
    assert hi.bounding_box()["height"] < 40 and hi.bounding_box()["width"] < 400  # "hi" is small
    height = page.evaluate("() => document.documentElement.scrollHeight")
    print(f"\nconversation page of a full screening: {height} px high at 1280 px wide")
    assert height < 9000
    assert_accessible(page, "the conversation page of a full screening")

    page.goto(f"{portal}/conversation/print?id={ids['booked']}")
    assert_accessible(page, "the printable page")
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    print(f"printable page of a full screening: {pages} A4 pages")
    assert 1 <= pages <= MAX_PRINTED_PAGES
    text = page.inner_text("body")
    assert "Sam Example" in text and "Suitable for a consultation" in text
