"""channels/sender_ids.py: the REST channel names only the widget's own conversations.

Issue 26: every channel shares one tracker store keyed by the sender id, and the REST
channel used to accept any id, so a visitor who knew a patient's phone number or Telegram
chat id could read and change that patient's screening from the web chat."""

import re
from pathlib import Path

import pytest

from channels.sender_ids import WEB_SENDER, is_web_sender, new_web_sender

ROOT = Path(__file__).resolve().parents[2]
WIDGET = (ROOT / "widget" / "static" / "widget.js").read_text()

# What the other channels use as the conversation id (channels/twilio.py, telegram.py).
OTHER_CHANNELS_IDS = [
    "+447700900123",  # SMS: Twilio's From
    "whatsapp:+447700900123",  # WhatsApp through Twilio
    "900000001",  # a Telegram private chat
    "-1001234567890",  # a Telegram group (refused by that channel, and here too)
]


@pytest.mark.parametrize("sender", OTHER_CHANNELS_IDS)
def test_no_other_channels_conversation_id_is_a_web_id(sender):
    assert not is_web_sender(sender)


@pytest.mark.parametrize(
    "sender",
    [
        "web-" + "0" * 23,  # too short: fewer than 92 bits
        "web-" + "a" * 33,  # too long
        "web-" + "A" * 24,  # upper case: one spelling per conversation
        "web-" + "g" * 24,  # not hex
        "WEB-" + "a" * 24,
        "web-" + "a" * 24 + "\n",  # fullmatch, not match
        " web-" + "a" * 24,
        "e2e-" + "a" * 24,  # the tests' old form
        "terminal-1a2b3c4d",  # scripts/chat.py's old form
        "default",  # stock Rasa's conversation for a body without a sender
        "",
        None,
        42,
        ["web-" + "a" * 24],
    ],
)
def test_anything_but_the_widgets_form_is_refused(sender):
    assert not is_web_sender(sender)


@pytest.mark.parametrize("digits", [24, 28, 32])
def test_the_widgets_form_is_accepted_from_96_to_128_bits(digits):
    assert is_web_sender("web-" + ("0123456789abcdef" * 2)[:digits])


def test_new_ids_are_random_96_bit_ids_of_the_widgets_form():
    ids = {new_web_sender() for _ in range(1000)}
    assert len(ids) == 1000 and all(is_web_sender(i) and len(i) == 4 + 24 for i in ids)


def test_the_widget_makes_ids_of_the_form_the_channel_accepts():
    # The browser tests (tests/widget/test_conversation.py) check a real id; this keeps the
    # widget's rule and the channel's in step where no browser is installed.
    assert "new Uint8Array(12)" in WIDGET  # 96 bits
    assert 'sender: "web-" + newId()' in WIDGET
    [widget_rule] = re.findall(r"var SENDER_FORM = /(.*)/;", WIDGET)
    assert widget_rule == f"^{WEB_SENDER.pattern}$"
    # a stored conversation whose id is of another form is not resumed
    assert "SENDER_FORM.test(s.sender)" in WIDGET
