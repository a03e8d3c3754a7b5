"""Regenerates the screenshots in docs/website-widget.md against the real assistant:

- website-widget.png: the demo clinic page with the widget open a few questions into a
  screening, on a laptop-sized screen;
- widget-emergency.png: the panel showing emergency advice (an alert with the numbers to tap);
- widget-summary.png: the panel showing the summary by section, one section opened.

    .venv/bin/python -m tests.widget.docs_screenshot
"""

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support.screening import answer_questions
from tests.support.servers import ROOT
from tests.widget.harness import launch_chromium, start_stack
from tests.widget.widget_page import WidgetPage

DOCS = ROOT / "docs"


def page_shot(browser, stack) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    widget = WidgetPage(page, stack).goto("/")
    widget.open()
    widget.tap("Yes, that's okay")
    widget.tap("None of these")
    widget.say("I'm 34")
    page.screenshot(path=str(DOCS / "website-widget.png"))
    page.close()


def panel_shot(widget, name: str) -> None:
    # Just the panel, at 1x: small files, and the part the docs talk about.
    widget.panel.screenshot(path=str(DOCS / name))


def emergency_shot(browser, stack) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    widget = WidgetPage(page, stack).goto("/")
    widget.open()
    widget.tap("Yes, that's okay")
    widget.tap("Chest pain or breathlessness")
    widget.locator(".msg.alert").scroll_into_view_if_needed()
    panel_shot(widget, "widget-emergency.png")
    page.close()


def summary_shot(browser, stack) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    widget = WidgetPage(page, stack).goto("/")
    widget.open()
    widget.tap("Yes, that's okay")
    answer_questions(widget, {"treatments_tried": ("several", ["Night guard / splint", "Pain relief"])})
    summary = widget.locator(".msg.bot details.section")
    summary.nth(1).locator("summary").click()  # Symptoms, opened
    widget.locator(".msg.bot:has(details.section)").evaluate('(m) => m.scrollIntoView({block: "start"})')
    panel_shot(widget, "widget-summary.png")
    page.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        stack = start_stack(Path(workdir))
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for shot in (page_shot, emergency_shot, summary_shot):
                    shot(browser, stack)
                browser.close()
        finally:
            stack.stop()
    print(f"Wrote {DOCS}/website-widget.png, widget-emergency.png, widget-summary.png")


if __name__ == "__main__":
    main()
