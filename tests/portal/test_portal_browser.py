"""The staff portal in a real browser, on transcripts produced by real conversations.

Starts the assistant (Rasa + action server), has one patient finish a screening over REST
and another finish one and type a consultation request, starts the portal on that tracker
store, then a staff member signs in with Debian's Chromium (Playwright): filters the
inbox, opens the transcript, marks it reviewed and exports the CSV; works the call-back
queue (contacted with a note, undo, filters); reads the inbox on a 375 px phone; and
axe-core checks every page. All patient details are fictional.
"""

import csv
import io

import pytest

from tests.support.axe import assert_accessible
from tests.support.conversation import Conversation
from tests.support.screening import answer_questions, start
from tests.support.servers import start_assistant
from tests.support.staff_portal import portal_on
from tests.widget.harness import launch_chromium

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"  # a throw-away test account
PATIENT = "Robin Testperson"  # fictional


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("portal-browser")
    assistant = start_assistant(workdir)
    conversation = Conversation(assistant)
    start(conversation)
    answer_questions(conversation, {"rf_nerve": "yes, my face feels numb <b>really</b>"})
    conversation.tap("Yes, that's right")
    # A second patient: eligible, then asks for a consultation, typing their details.
    booking = Conversation(assistant)
    start(booking)
    answer_questions(booking)
    booking.tap("Yes, that's right")
    booking.tap("Yes, please")
    booking.say(f"My name is {PATIENT}")
    booking.say("020 7946 0123")  # Ofcom's drama range: never a real number
    booking.tap("Weekday mornings")
    booking.tap("Yes")
    assert "Your request has been passed to" in booking.text, booking.dump()
    assistant.stop()
    yield workdir, assistant, conversation.sender, booking.sender


@pytest.fixture(scope="module")
def portal(screened):
    assistant = screened[1]
    with portal_on(assistant, "sam", "admin", PASSWORD) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def test_staff_sign_in_filter_open_transcript_mark_reviewed_and_export(browser, portal, screened):
    sender = screened[2]
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{portal}/inbox")
    assert "/login" in page.url  # no session: sign in first
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/inbox**")

    page.select_option("select[name=outcome]", "needs_medical_review")
    page.click("button:has-text('Filter')")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "Facial numbness, tingling or weakness, or bite change" in rows.first.inner_text()  # not rf_nerve_signs

    rows.first.locator("a").first.click()
    page.wait_for_url("**/conversation?id=**")
    body = page.inner_text("body")
    assert "yes, my face feels numb <b>really</b>" in body  # the patient's markup, as text
    assert page.locator("b:has-text('really')").count() == 0
    assert "Numbness, tingling or weakness in the face" in body  # the reason's wording
    page.click("button:has-text('Mark reviewed')")
    assert page.locator("button:has-text('Mark not reviewed')").count() == 1

    page.goto(f"{portal}/inbox?reviewed=yes")
    with page.expect_download() as download:
        page.click("#export")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [r for r in rows if sender in r.values()], rows
    assert len(rows) == 1


def _signed_in(browser, portal, **context):
    page = browser.new_context(**context).new_page()
    page.goto(f"{portal}/login")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/inbox**")
    return page


def test_call_back_queue_contacted_with_a_note_undo_and_filters(browser, portal, screened):
    page = _signed_in(browser, portal)
    assert "(1 waiting)" in page.inner_text("#callbacks-link")
    page.click("#callbacks-link")
    page.wait_for_url("**/callbacks")
    row = page.locator("tr.callback", has_text=PATIENT)
    assert row.count() == 1
    assert row.locator("a[href='tel:+442079460123']").count() == 1  # typed "020 7946 0123"
    text = row.inner_text()
    assert "Suitable for a consultation" in text and "weekday mornings" in text.lower()
    assert "waiting" in text and ("GMT" in text or "BST" in text)

    row.locator("form[action='/callbacks/contacted'] input[name=note]").fill("Left a voicemail, will try at 10")
    row.locator("button:has-text('Mark contacted')").click()
    page.wait_for_url("**/callbacks?status=waiting**")
    assert page.locator("tr.callback", has_text=PATIENT).count() == 0
    assert "(0 waiting)" in page.inner_text("#callbacks-link")

    page.click("nav.queue-filters a:has-text('contacted')")
    row = page.locator("tr.callback", has_text=PATIENT)
    text = row.inner_text()
    assert "Contacted" in text and "by sam" in text and "Left a voicemail, will try at 10" in text
    row.locator("button:has-text('Undo contacted')").click()
    page.wait_for_url("**/callbacks?status=contacted**")
    assert page.locator("tr.callback", has_text=PATIENT).count() == 0
    page.click("nav.queue-filters a:has-text('all')")
    assert "Waiting" in page.locator("tr.callback", has_text=PATIENT).inner_text()

    # the conversation page shows the whole history, oldest first
    page.locator("tr.callback", has_text=PATIENT).locator("a:has-text('Conversation')").click()
    history = page.locator("ol.contact-history").inner_text()
    assert history.index("marked contacted") < history.index('took back "contacted"')
    assert "Left a voicemail" in history


PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.mark.parametrize(
    "path", ["/inbox", "/inbox?unfinished=show", "/callbacks?status=all", "/questions?status=all", "/audit"]
)
def test_portal_pages_fit_a_375px_phone(browser, portal, screened, path):
    page = _signed_in(browser, portal, **PHONE)
    page.goto(f"{portal}{path}")
    assert page.locator("tbody tr").count() >= 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width} px wide on a 375 px screen"
    # each row is a card with its cells labelled (an empty list has one unlabelled row)
    cells = page.locator("tbody tr td[data-label]")
    if path != "/questions?status=all":
        assert cells.count() >= 1
    for cell in cells.all()[:3]:
        label = cell.evaluate("el => getComputedStyle(el, '::before').content")
        assert label == f'"{cell.get_attribute("data-label")}: "'


def test_every_portal_page_passes_axe(browser, portal, screened):
    sender = screened[2]
    # The portal's CSP allows no script at all: only the test's own axe-core gets past it.
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{portal}/login")
    assert_accessible(page, "the sign-in page")
    page = _signed_in(browser, portal, bypass_csp=True)
    for path, where in (
        ("/inbox", "the inbox"),
        ("/inbox?unfinished=show&outcome=none", "the inbox, unfinished shown"),
        ("/callbacks?status=all", "the call-back queue"),
        ("/questions?status=all", "the questions page"),
        ("/audit", "the audit log"),
        (f"/conversation/erase?id={sender}", "the erase confirmation"),
        (f"/conversation?id={sender}", "a conversation"),
        (f"/conversation?id={screened[3]}", "a conversation with a call-back request"),
    ):
        page.goto(f"{portal}{path}")
        assert_accessible(page, where)
