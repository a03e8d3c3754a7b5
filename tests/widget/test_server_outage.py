"""The Rasa server goes away mid-conversation and comes back: nothing typed is lost."""

import pytest

from tests.widget.harness import restart_rasa, stop_rasa
from tests.widget.widget_page import contrast_failures

pytestmark = pytest.mark.browser


def unsent(widget):
    return [m["text"] for m in widget.messages() if m["unsent"]]


def test_messages_typed_while_the_server_is_down_are_kept_and_delivered_in_order(widget):
    widget.open()
    widget.tap("Yes, that's okay")
    widget.tap("None of these")
    assert "How old are you?" in widget.text

    stop_rasa(widget.stack.assistant)  # the action server and the tracker store stay
    try:
        widget.input.fill("I'm 40")
        widget.input.press("Enter")
        notice = widget.locator(".notice")
        notice.get_by_text("Can't reach the assistant").wait_for()
        assert unsent(widget) == ["I'm 40"]
        assert widget.locator(".msg.unsent .status").text_content() == "Not sent yet"
        assert widget.locator(".notice .retry").is_visible()
        assert contrast_failures(widget.page) == []

        widget.page.reload()  # even a reload while offline keeps the queue
        widget.panel.wait_for()
        notice.get_by_text("Can't reach the assistant").wait_for()
        assert unsent(widget) == ["I'm 40"]
        widget.input.fill("no")  # the answer to the next question, typed ahead
        widget.input.press("Enter")
        widget.page.wait_for_function(
            "() => document.querySelector('#jaw-screening-widget').shadowRoot"
            ".querySelectorAll('.msg.unsent').length === 2"
        )
        assert unsent(widget) == ["I'm 40", "no"]
    finally:
        restart_rasa(widget.stack.assistant)  # same port, model and SQLite tracker store

    # Delivered by the widget's own retries (at most 15 s apart), without any click.
    widget.page.wait_for_function(
        "() => document.querySelector('#jaw-screening-widget').shadowRoot"
        ".querySelector('.panel').dataset.state === 'idle'",
        timeout=60_000,
    )
    assert unsent(widget) == []
    assert widget.locator(".notice").is_hidden()
    assert widget.received()[-2:] == ["I'm 40", "no"]  # each once, in the order typed
    assert widget.received().count("I'm 40") == 1
    slots = widget.slots()
    assert (slots["patient_age"], slots["rf_locked_jaw"]) == (40, "no")

    # Each answer sits under the question it answered.
    said = [(m["from"], m["text"]) for m in widget.messages()]
    age = said.index(("user", "I'm 40"))
    assert said[age + 1][0] == "bot" and "jaw locked" in said[age + 1][1]
    assert said[age + 2] == ("user", "no")
    assert said[age + 3][0] == "bot" and said[-1] == said[age + 3]
