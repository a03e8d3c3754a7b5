"""Issue 26: a tap answers only its own question, over HTTP against the running servers.

The reproduction: five concurrent "/affirm" taps at the summary gave the outcome once and
then answered the consultation offer with "Yes, please", because both questions' buttons
send "/affirm". With the widget's message id in the tap's metadata, the later taps are
stale: answered "that question has moved on" and shown the offer again, nothing stored,
the offer still waiting."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from channels.taps import STALE_TAP_REPLY
from clinical.offered_buttons import message_id
from tests.support.conversation import Conversation
from tests.support.screening import answer_questions, start

OUTCOME = "Nothing in this screening rules the treatment out"
OFFER_BUTTON = "Yes, please"


@pytest.fixture
def at_the_summary(assistant):
    conversation = Conversation(assistant)
    start(conversation)
    answer_questions(conversation)
    assert "Here is a summary of your answers" in conversation.text, conversation.dump()
    return conversation


def summary_tap(conversation) -> tuple[str, str]:
    """The payload of "Yes, that's right" and the id the REST reply gave its message."""
    [summary] = [r for r in conversation.replies if "Yes, that's right" in [b["title"] for b in r.get("buttons") or []]]
    # The id is the one the stored conversation gives the same message (clinical/offered_buttons.py).
    assert summary.get("message_id") == message_id(summary["text"], summary["buttons"]), summary
    [payload] = [b["payload"] for b in summary["buttons"] if b["title"] == "Yes, that's right"]
    return payload, summary["message_id"]


def tap(conversation, payload: str, reply_to: str) -> list[dict]:
    response = requests.post(
        f"{conversation.assistant.url}/webhooks/rest/webhook",
        json={"sender": conversation.sender, "message": payload, "metadata": {"reply_to": reply_to}},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:300]
    return response.json()


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def user_messages(conversation) -> list[str]:
    return [e["text"] for e in conversation.assistant.tracker(conversation.sender)["events"] if e["event"] == "user"]


def assert_the_offer_still_waits(conversation, stored_before: list[str]) -> None:
    tracker = conversation.assistant.tracker(conversation.sender)
    assert user_messages(conversation) == stored_before + ["/affirm"]  # one tap stored, not two
    assert tracker["slots"].get("consultation_requested") is None
    assert not (tracker.get("active_loop") or {}).get("name")  # the booking form did not start


def test_a_second_tap_on_the_summary_does_not_answer_the_consultation_offer(at_the_summary):
    conversation = at_the_summary
    payload, summary_id = summary_tap(conversation)
    stored_before = user_messages(conversation)

    first = tap(conversation, payload, summary_id)
    assert OUTCOME in texts(first)
    offer = [r for r in first if OFFER_BUTTON in [b["title"] for b in r.get("buttons") or []]]
    assert offer and offer[0]["message_id"] != summary_id  # both send "/affirm"; their ids differ

    second = tap(conversation, payload, summary_id)
    assert second[0] == {"recipient_id": conversation.sender, "text": STALE_TAP_REPLY}
    assert second[1:] == first  # the outcome and the offer shown again (a resend may have lost them)
    assert_the_offer_still_waits(conversation, stored_before)


def test_five_concurrent_taps_at_the_summary_give_the_outcome_once(at_the_summary):
    conversation = at_the_summary
    payload, summary_id = summary_tap(conversation)
    stored_before = user_messages(conversation)

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: tap(conversation, payload, summary_id), range(5)))

    note = {"recipient_id": conversation.sender, "text": STALE_TAP_REPLY}
    stale = [a for a in answers if a[0] == note]
    [answered] = [a for a in answers if a[0] != note]
    assert OUTCOME in texts(answered) and len(stale) == 4, answers
    assert all(a[1:] == answered for a in stale)  # each shown the outcome and the offer again
    assert_the_offer_still_waits(conversation, stored_before)
