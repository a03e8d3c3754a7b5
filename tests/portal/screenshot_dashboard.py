"""Regenerates the screenshot in docs/staff-portal.md: the dashboard over twelve weeks of
fictional conversations (made-up ids, names and answers, written as Rasa events).

    .venv/bin/python -m tests.portal.screenshot_dashboard
"""

import random
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright
from rasa.shared.core.events import SlotSet

sys.path.insert(0, str(Path(__file__).resolve().parent))  # portal_helpers, as the tests import it

from portal_helpers import (  # noqa: E402
    ADMIN,
    DISTRESS_FLAG,
    question,
    run_cli,
    safety_net,
    save,
    screening,
    sqlite_databases,
    start_portal,
    stop_portal,
    tracker_store,
    unanswered,
)

from tests.support.servers import ROOT  # noqa: E402
from tests.widget.harness import launch_chromium  # noqa: E402

OUT = ROOT / "docs" / "portal-dashboard.png"
WEEK = 7 * 86400
OUTCOMES = [
    ("eligible_for_consultation", []),
    ("eligible_for_consultation", []),
    ("needs_medical_review", ["rf_nerve_signs"]),
    ("not_eligible_now", ["pregnancy"]),
    ("urgent_care", ["rf_cardiac"]),
    ("urgent_care", ["rf_jaw_locked"]),
]
DROP_POINTS = ["patient_age", "tmd_pain_duration", "pain_worst", "pain_worst", "medicines"]
QUESTIONS = ["Can I drive home afterwards?", "Do you have parking?", "Is it safe with a cold?"]


def fictional_conversations(now: float) -> dict[str, list]:
    rng = random.Random(13)  # the same picture every time
    conversations = {}
    for week in range(12):
        for n in range(rng.randint(4, 11)):
            cid = f"demo-{week:02d}-{n:02d}"
            start = now - week * WEEK - rng.randint(3600, 6 * 86400)
            roll = rng.random()
            if roll < 0.6:
                outcome, reasons = rng.choice(OUTCOMES)
                events = screening(cid, start=start, outcome=outcome, reasons=reasons, consultation=rng.random() < 0.5)
            else:
                events = screening(cid, start=start, outcome=None)
                events.append(SlotSet("requested_slot", rng.choice(DROP_POINTS), timestamp=start + 90))
            if rng.random() < 0.05:
                events += safety_net(start + 100, [DISTRESS_FLAG])
            if rng.random() < 0.1:
                events += unanswered([question(rng.choice(QUESTIONS), start + 200)])
            conversations[cid] = events
    return conversations


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        databases = sqlite_databases(Path(workdir))
        store = tracker_store(databases.tracker_url)
        for cid, events in fictional_conversations(time.time()).items():
            save(store, cid, events)
        run_cli(databases, "create-user", "--username", ADMIN[0], "--role", "admin", "--password-stdin", stdin=ADMIN[1])
        portal = start_portal(databases)
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                page.goto(f"{portal.base}/login")
                page.fill("input[name=username]", ADMIN[0])
                page.fill("input[name=password]", ADMIN[1])
                page.click("button:has-text('Sign in')")
                page.wait_for_url("**/inbox**")
                page.goto(f"{portal.base}/dashboard?weeks=12")
                page.screenshot(path=str(OUT), full_page=True)
                # 64 colours are plenty for flat charts and tables and keep the PNG small
                Image.open(OUT).convert("RGB").quantize(64).save(OUT, optimize=True)
                browser.close()
        finally:
            stop_portal(portal)
    print(f"Wrote {OUT}")


if __name__ == "__main__":
    main()
