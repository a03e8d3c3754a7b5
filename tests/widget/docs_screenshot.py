"""Regenerates the screenshot in docs/website-widget.md: the demo clinic page with the
widget open a few questions into a screening, on a laptop-sized screen.

    .venv/bin/python -m tests.widget.docs_screenshot
"""

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support.servers import ROOT
from tests.widget.harness import launch_chromium, start_stack
from tests.widget.widget_page import WidgetPage

OUT = ROOT / "docs" / "website-widget.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        stack = start_stack(Path(workdir))
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1100, "height": 760})
                widget = WidgetPage(page, stack).goto("/")
                widget.open()
                widget.tap("Yes, that's okay")
                widget.tap("None of these")
                widget.say("I'm 34")
                page.screenshot(path=str(OUT))
                browser.close()
        finally:
            stack.stop()
    print(f"Wrote {OUT}")


if __name__ == "__main__":
    main()
