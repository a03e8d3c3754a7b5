"""The staff portal in a real browser, on a transcript produced by a real conversation.

Starts the assistant (Rasa + action server), has a patient finish a screening over REST,
starts the portal on that tracker store, then a staff member signs in with Debian's
Chromium (Playwright), filters the inbox, opens the transcript, marks it reviewed and
exports the CSV.
"""

import csv
import io
import os
import shutil
import subprocess
import sys

import pytest

from tests.support.conversation import Conversation
from tests.support.screening import answer_questions, start
from tests.support.servers import ROOT, free_port, start_assistant, wait_until_up

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"  # a throw-away test account


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("portal-browser")
    assistant = start_assistant(workdir)
    conversation = Conversation(assistant)
    start(conversation)
    answer_questions(conversation, {"rf_nerve": "yes, my face feels numb <b>really</b>"})
    conversation.tap("Yes, that's right")
    assistant.stop()
    yield workdir, assistant, conversation.sender


@pytest.fixture(scope="module")
def portal(screened):
    workdir, assistant, _ = screened
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_DB_URL": f"sqlite:///{workdir / 'rasa.db'}",
        "PORTAL_DB_URL": f"sqlite:///{workdir / 'portal.db'}",
        "CONSULTATION_DB_URL": assistant.consultation_db_url,
        "PORTAL_PORT": str(port),
        "PORTAL_INSECURE_COOKIES": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "create-user", "--username", "sam", "--role", "admin", "--password-stdin"],
        input=PASSWORD,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    log = workdir / "portal.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "portal"], env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/login", process, log)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium is missing: run scripts/install_browser.sh")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


def test_staff_sign_in_filter_open_transcript_mark_reviewed_and_export(browser, portal, screened):
    _, _, sender = screened
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
    assert "rf_nerve_signs" in rows.first.inner_text()

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
