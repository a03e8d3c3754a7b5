"""The server refuses a message (429 too fast, 413 too large, 400 malformed): the widget
shows the server's own friendly message, not a generic error; a 429 is sent again later,
a 400/413 is not (it would be refused again). The refusals are made by the page's network
layer (Playwright routes), with the body and CORS headers the guarded REST channel sends."""

import json

import pytest

from channels.input_limits import RATE_LIMIT_REPLY

pytestmark = pytest.mark.browser

WEBHOOK = "**/webhooks/rest/webhook"


def refuse_once(widget, status, message, retry_after=None):
    """The next message to the webhook is refused; later ones reach the assistant."""
    refused = []

    def handle(route):
        if refused:
            return route.continue_()
        refused.append(route.request.post_data)
        body = {"error": message, **({"retry_after": retry_after} if retry_after else {})}
        route.fulfill(
            status=status,
            body=json.dumps(body),
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": widget.stack.site},
        )

    widget.page.route(WEBHOOK, handle)
    return refused


def test_too_many_requests_shows_the_servers_message_and_sends_again(widget):
    widget.open()
    refused = refuse_once(widget, 429, RATE_LIMIT_REPLY, retry_after=1)
    count = len(widget.messages())
    widget.input.fill("yes")
    widget.input.press("Enter")
    widget.locator(".notice").get_by_text("faster than I can answer").wait_for()
    assert "Your message is kept here" in widget.locator(".notice").text_content()
    widget.wait_for_answer(count + 1)  # sent again by itself once the server allows it
    assert len(refused) == 1 and widget.received()[-1] == "yes"
    assert "First, a few safety questions" in widget.text
    assert widget.locator(".notice").is_hidden()


@pytest.mark.parametrize(
    "status, message",
    [
        (413, "The request is too large (the limit is 65,536 bytes). Please send a shorter message."),
        (400, '"message" must be a string.'),
    ],
)
def test_a_refused_message_is_not_sent_again_and_the_reason_is_shown(widget, status, message):
    widget.open()
    refused = refuse_once(widget, status, message)
    widget.input.fill("yes")
    widget.input.press("Enter")
    widget.locator(".notice").get_by_text(message).wait_for()
    widget.locator(".msg.refused .status").get_by_text("Not sent").wait_for()
    assert widget.locator(".notice .retry").is_hidden()
    assert len(refused) == 1 and widget.received() == ["hi"]  # dropped, not retried
    widget.say("yes")  # the next message goes through as usual
    assert "First, a few safety questions" in widget.text
    assert widget.received() == ["hi", "yes"]
