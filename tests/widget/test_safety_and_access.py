"""Markup stays text; keyboard-only use; a 375 px phone screen; readable contrast."""

import json
import struct

import pytest

from tests.support.servers import ROOT
from tests.widget.widget_page import WidgetPage, contrast_failures

pytestmark = pytest.mark.browser

MARKUP = "<img src=x onerror=alert(1)>"
SCREENSHOTS = ROOT / "results" / "widget"


def element_count(widget, css):
    return widget.page.evaluate(
        "(css) => document.querySelector('#jaw-screening-widget').shadowRoot.querySelectorAll(css).length", css
    )


def test_markup_typed_by_the_person_is_shown_as_text_and_stays_text_after_a_reload(widget):
    dialogs = []
    widget.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    widget.open()
    widget.say(MARKUP)
    mine = [m for m in widget.messages() if m["from"] == "user"]
    assert mine[-1]["text"] == MARKUP
    assert widget.page.evaluate("() => document.querySelectorAll('img').length") == 0
    assert element_count(widget, "img") == 0
    assert "a yes or no" in widget.text  # the assistant got it as text and asked again

    widget.page.reload()
    widget.panel.wait_for()
    assert [m for m in widget.messages() if m["from"] == "user"][-1]["text"] == MARKUP
    assert element_count(widget, "img") == 0
    widget.page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert dialogs == []


def test_markup_and_unsafe_links_from_the_server_are_shown_as_text(widget, context):
    # The real assistant never echoes markup, so this one reply comes from a stand-in,
    # which answers only when the test says so (to see the typing indicator meanwhile).
    reply = [
        {
            "text": "<b>Bold?</b> " + MARKUP + " Book at https://example.org/book. "
            "Not links: http://example.org/plain javascript:alert(2)",
            "buttons": [{"title": "<i>Yes</i>", "payload": "/affirm"}],
        }
    ]
    headers = {"Access-Control-Allow-Origin": widget.stack.site, "Access-Control-Allow-Headers": "Content-Type"}
    held = []

    def stand_in(route):
        if route.request.method == "OPTIONS":  # CORS preflight
            route.fulfill(status=204, headers=headers)
        else:
            held.append(route)

    context.route(f"{widget.stack.assistant.url}/webhooks/rest/webhook", stand_in)
    widget.launcher.click()
    for _ in range(50):
        if held:
            break
        widget.page.wait_for_timeout(100)
    assert held and widget.locator(".typing").is_visible()
    held[0].fulfill(status=200, headers=headers, content_type="application/json", body=json.dumps(reply))
    widget.wait_for_answer(0)
    assert widget.locator(".typing").is_hidden()
    message = widget.messages()[-1]
    assert message["text"] == reply[0]["text"]
    assert message["buttons"][0]["title"] == "<i>Yes</i>"
    assert element_count(widget, ".log img, .log b, .log i") == 0
    hrefs = widget.page.evaluate(
        "() => [...document.querySelector('#jaw-screening-widget')"
        ".shadowRoot.querySelectorAll('.log a')].map(a => a.href)"
    )
    assert hrefs == ["https://example.org/book"]  # trailing full stop left out; http/javascript: not linked


def test_keyboard_only_conversation_with_focus_moved_in_and_out(widget):
    page, launcher = widget.page, widget.launcher.text_content()
    for _ in range(15):  # from the top of the page: the site's own links, then the launcher
        page.keyboard.press("Tab")
        if widget.focused() == launcher:
            break
    assert widget.focused() == launcher
    page.keyboard.press("Enter")
    widget.wait_for_answer(0)
    assert widget.focused() == "jsw-input"  # focus moved into the panel

    page.keyboard.press("Shift+Tab")  # the quick replies sit just before the text box
    assert widget.focused() == "No"
    page.keyboard.press("Shift+Tab")
    assert widget.focused() == "Yes, that's okay"
    page.keyboard.press("Space")
    widget.wait_for_answer(3)
    assert [m["text"] for m in widget.messages() if m["from"] == "user"] == ["Yes, that's okay"]
    assert widget.focused() == "jsw-input"  # not lost on the now-disabled button

    page.keyboard.type("none of these")
    page.keyboard.press("Enter")
    widget.wait_for_answer(5)
    assert "How old are you?" in widget.text
    page.keyboard.type("I'm 33")
    page.keyboard.press("Enter")
    widget.wait_for_answer(7)
    assert "jaw locked" in widget.text

    order = []
    for _ in range(2):
        page.keyboard.press("Tab")
        order.append(widget.focused())
    assert order == ["Send", "999"]  # then the emergency number in the disclaimer

    page.keyboard.press("Escape")
    assert widget.panel.is_hidden()
    assert widget.focused() == launcher  # focus back on the launcher
    page.keyboard.press("Enter")
    assert widget.focused() == "jsw-input"
    assert "jaw locked" in widget.text  # the conversation is still there
    assert widget.slots()["patient_age"] == 33


def test_accessible_names_roles_and_live_region(widget):
    widget.open()
    page = widget.page
    assert page.get_by_role("dialog", name="Example Jaw Clinic assistant").is_visible()
    for name in ("Start over", "Close chat", "Send"):
        assert page.get_by_role("button", name=name, exact=True).is_visible()
    assert page.get_by_role("textbox", name="Your message").is_visible()
    log = widget.locator(".log")
    assert (log.get_attribute("role"), log.get_attribute("aria-live")) == ("log", "polite")
    assert widget.locator(".notice").get_attribute("role") == "status"
    assert widget.locator(".typing").get_attribute("aria-hidden") == "true"
    assert contrast_failures(page) == []


def png_size(path):
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def test_phone_screen_375px_wide_has_no_sideways_overflow(chromium, stack):
    context = chromium.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        widget = WidgetPage(context.new_page(), stack).goto("/")
        scroll_width = "() => document.scrollingElement.scrollWidth"
        assert widget.page.evaluate(scroll_width) <= 375
        widget.open()
        widget.tap("Yes, that's okay")  # the longest question, with seven buttons
        widget.tap("Not sure")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / "phone-375.png"
        widget.page.screenshot(path=str(shot))
        assert png_size(shot) == (750, 1480)

        assert widget.page.evaluate(scroll_width) <= 375
        log = widget.locator(".log")
        assert log.evaluate("(el) => el.scrollWidth <= el.clientWidth")  # nothing scrolls sideways
        box = widget.panel.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        for part in (".disclaimer", "#jsw-input", ".send", ".restart", ".close"):
            part_box = widget.locator(part).bounding_box()
            assert 0 <= part_box["x"] and part_box["x"] + part_box["width"] <= 375, part
            assert 0 <= part_box["y"] and part_box["y"] + part_box["height"] <= 740, part
        assert "In an emergency call 999" in widget.locator(".disclaimer").text_content()
        assert contrast_failures(widget.page) == []
    finally:
        context.close()
