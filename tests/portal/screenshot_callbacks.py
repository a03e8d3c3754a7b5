"""Regenerates the screenshot in docs/staff-portal.md: the call-back queue with a few
fictional people waiting (names made up, numbers from Ofcom's drama ranges, example.org
addresses), on a laptop-sized screen. No assistant needed: the conversations are Rasa
events written as the tracker store holds them (portal_helpers).

    .venv/bin/python -m tests.portal.screenshot_callbacks
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))  # portal_helpers, as pytest finds it

from portal_helpers import (  # noqa: E402
    ADMIN,
    ROOT,
    asks_for_person,
    run_cli,
    save,
    screening,
    sqlite_databases,
    start_portal,
    stop_portal,
    tracker_store,
)

from clinical.consultation_store import consultation_requests, save_request  # noqa: E402

OUT = ROOT / "docs" / "portal-callbacks.png"
# (conversation id, name, contact, kind, preferred times, outcome, reasons, hours ago, reason)
PEOPLE = [
    ("demo-1", "Alex Sample", "+442079460101", "phone", "weekday mornings", "eligible_for_consultation", [], 26, None),
    (
        "demo-2",
        "Jo Placeholder",
        "jo@example.org",
        "email",
        "after 5pm",
        "needs_medical_review",
        ["rf_giant_cell_arteritis", "swallow_breath"],
        5,
        None,
    ),
    ("demo-3", "Chris Fictional", "+442079460202", "phone", "any time", None, [], 1, "asked_for_person"),
]


def _fill(folder: Path):
    databases = sqlite_databases(folder)
    store = tracker_store(databases.tracker_url)
    now = time.time()
    for cid, name, contact, kind, times, outcome, reasons, hours, reason in PEOPLE:
        save(store, cid, screening(cid, start=now - hours * 3600, outcome=outcome, reasons=reasons))
        rid = save_request(
            cid,
            name,
            contact,
            kind,
            times,
            outcome,
            reasons,
            url=databases.consultation_url,
            request_reason=reason or "screening",
        )
        with sa.create_engine(databases.consultation_url).begin() as conn:
            conn.execute(
                consultation_requests.update()
                .where(consultation_requests.c.id == rid)
                .values(created_at=datetime.now(timezone.utc) - timedelta(hours=hours))
            )
    whatsapp = "whatsapp:+447700900303"
    save(
        store,
        whatsapp,
        screening("x", start=now - 1800, outcome=None, channel="twilio_verified")
        + asks_for_person(now - 1700, "twilio_verified"),
    )
    run_cli(databases, "create-user", "--username", ADMIN[0], "--role", "admin", "--password-stdin", stdin=ADMIN[1])
    return databases


def _shrink(path: Path) -> None:
    """A palette PNG: a page of flat colours loses nothing visible and weighs a third."""
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=64).save(path, optimize=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        portal = start_portal(_fill(Path(folder)))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=shutil.which("chromium"), args=["--headless=new", "--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1200, "height": 640})
                page.goto(f"{portal.base}/login")
                page.fill("input[name=username]", ADMIN[0])
                page.fill("input[name=password]", ADMIN[1])
                page.click("button:has-text('Sign in')")
                page.goto(f"{portal.base}/callbacks")
                page.screenshot(path=str(OUT), full_page=True)
                browser.close()
            _shrink(OUT)
        finally:
            stop_portal(portal)
    print(f"Wrote {OUT}")


if __name__ == "__main__":
    main()
