"""Issue 26: the widget sends, with a tapped button, the id the server gave the message it
belongs to (metadata "reply_to"; the payload stays the payload), so a tap on a question that
has moved on is answered "that question has moved on" and never answers the next one.
Requests are read as the browser sent them (Playwright's request events)."""

import json

import pytest

from channels.taps import STALE_TAP_REPLY
from clinical.offered_buttons import message_id
from tests.widget.widget_page import WidgetPage

pytestmark = pytest.mark.browser

CONSENT = "Yes, that's okay"


def sent_bodies(page) -> list[dict]:
    """Every body the page posts to the webhook, as it goes out."""
    bodies: list[dict] = []

    def keep(request) -> None:
        if request.method == "POST" and request.url.endswith("/webhooks/rest/webhook"):
            bodies.append(json.loads(request.post_data))

    page.on("request", keep)
    return bodies


def stored_question_id(widget, title: str) -> str:
    """The id the stored conversation gives the bot message with this button."""
    for event in widget.stack.assistant.tracker(widget.sender())["events"]:
        buttons = (event.get("data") or {}).get("buttons") or [] if event["event"] == "bot" else []
        if title in [b["title"] for b in buttons]:
            return message_id(event["text"], buttons)
    raise AssertionError(f"no stored bot message with {title!r}")


def test_a_tap_sends_the_id_of_its_message_and_typed_text_sends_none(widget):
    bodies = sent_bodies(widget.page)
    widget.open()
    widget.tap(CONSENT)
    widget.say("none of these")

    greeting, tap, typed = bodies
    assert "metadata" not in greeting and "metadata" not in typed
    assert tap["message"].startswith("/")  # the payload, exactly as the button carries it
    assert tap["metadata"] == {"reply_to": stored_question_id(widget, CONSENT)}


def test_a_tap_in_another_tab_after_the_question_moved_on_is_stale(widget, context):
    widget.open()
    other = WidgetPage(context.new_page(), widget.stack)  # the same conversation (localStorage)
    other.page.goto(widget.stack.site + "/")
    other.panel.wait_for()  # reopened as it was left: open
    other.locator(".choice:enabled").first.wait_for()
    assert other.buttons() == widget.buttons() and CONSENT in other.buttons()

    widget.tap(CONSENT)  # here the conversation moves on to the safety questions
    assert "First, a few safety questions" in widget.text
    other.tap(CONSENT)  # there the consent question is still on screen

    # told why, then shown the question that is waiting now, its buttons ready to tap
    assert other.text.startswith(STALE_TAP_REPLY) and "First, a few safety questions" in other.text
    assert other.buttons() == widget.buttons()
    taps = [text for text in widget.received() if text.startswith("/")]
    assert len(taps) == 1, widget.received()  # the second tap never reached the assistant
