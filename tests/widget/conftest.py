"""Fixtures for the widget's browser tests: one running stack (assistant + widget app) and
one Chromium for the session, a fresh browser context (empty localStorage) per test."""

import pytest

from tests.widget.harness import launch_chromium, start_stack
from tests.widget.widget_page import WidgetPage


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("widget-stack"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright  # only the browser tests need Playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def widget(context, stack):
    """The demo clinic's home page with the widget loaded (panel still closed)."""
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield WidgetPage(page, stack).goto("/")
    assert errors == [], f"JavaScript errors on the page: {errors}"
