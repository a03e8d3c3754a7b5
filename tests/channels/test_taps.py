"""A tap answers only its own question (issue 26): the message id both sides compute, and the
stale check inside the conversation's lock, with Rasa's in-memory stores and a stand-in
processor. End to end over HTTP: tests/e2e/test_double_taps.py; the widget: tests/widget/test_widget_taps.py."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.compat import Header

from channels.request_body import METADATA_KEYS
from channels.rest_guarded import GuardedRestInput
from channels.taps import REPLY_TO, STALE_TAP_REPLY, answer_tap, reply_to, tag_questions
from clinical.offered_buttons import BUTTONS_OF, latest_question_ids, message_id

SENDER = "web-" + "ab" * 12
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
SUMMARY = BotUttered("Is this all correct?", {"buttons": [{"title": "Yes, that's right", "payload": "/affirm"}]})
OFFER = BotUttered("Would you like a consultation?", {"buttons": [{"title": "Yes, please", "payload": "/affirm"}]})


def stored_id(event: BotUttered) -> str:
    return latest_question_ids([event.as_dict()])[0]


# ---- the id -------------------------------------------------------------------------------


def test_the_reply_and_the_stored_event_give_the_same_id():
    # Rasa sends a channel event.message() and stores event.as_dict(): one id from either.
    sent = SUMMARY.message()
    assert message_id(sent["text"], sent["buttons"]) == stored_id(SUMMARY)
    assert len(stored_id(SUMMARY)) == 16 and int(stored_id(SUMMARY), 16) >= 0


def test_questions_with_the_same_buttons_or_the_same_words_get_different_ids():
    first = message_id("Is your jaw locked right now?", YES_NO)
    assert first != message_id("Do you have a fever?", YES_NO)
    assert first != message_id("Is your jaw locked right now?", list(reversed(YES_NO)))
    assert first != message_id("Is your jaw locked right now?", [{"title": "Yes!", "payload": "/affirm"}, YES_NO[1]])
    assert stored_id(SUMMARY) != stored_id(OFFER)  # both offer "/affirm": the double tap


def test_only_the_latest_bot_turns_questions_can_be_answered():
    events = [e.as_dict() for e in (SUMMARY, UserUttered("/affirm"), BotUttered("Thank you."), OFFER)]
    assert latest_question_ids(events) == [stored_id(OFFER)]
    assert latest_question_ids(events + [UserUttered("hello").as_dict()]) == []


def test_reply_messages_with_buttons_are_tagged_and_an_apology_names_the_waiting_question():
    messages = [
        {"recipient_id": SENDER, "text": "Thanks."},
        {"recipient_id": SENDER, **SUMMARY.message()},
        {"recipient_id": SENDER, "text": "Sorry...", "buttons": YES_NO, "custom": {BUTTONS_OF: "0123456789abcdef"}},
    ]
    tagged = tag_questions(messages)
    assert "message_id" not in tagged[0]
    assert tagged[1]["message_id"] == stored_id(SUMMARY)
    assert tagged[2]["message_id"] == "0123456789abcdef" and "custom" not in tagged[2]


def test_the_metadata_key_is_allowed_and_a_malformed_value_can_match_nothing():
    assert REPLY_TO in METADATA_KEYS
    assert reply_to(None) is None and reply_to({}) is None
    assert reply_to({REPLY_TO: "0123456789abcdef"}) == "0123456789abcdef"
    assert reply_to({REPLY_TO: ["x"]}) == "" and reply_to({REPLY_TO: "SUMMARY"}) == ""


# ---- the stale check, inside the lock -------------------------------------------------------


class StandInProcessor:
    """Answers a tap at the summary with the outcome and the consultation offer, taking a
    moment between reading and storing the conversation, as Rasa's turn does."""

    def __init__(self, store):
        self.store, self.turns = store, []

    async def handle_message(self, message: UserMessage) -> None:
        tracker = await self.store.retrieve(message.sender_id)
        await asyncio.sleep(0.05)  # a second tap not held back by the lock would read the summary too
        self.turns.append(message.text)
        replies = (BotUttered("Nothing rules it out."), OFFER)
        for event in (UserUttered(message.text), *replies):
            tracker.update(event)
        await self.store.save(tracker)
        for reply in replies:  # Rasa sends a channel each stored bot event's message()
            await message.output_channel.send_response(message.sender_id, reply.message())


def agent_at_the_summary() -> Agent:
    agent = Agent(Domain.empty(), tracker_store=InMemoryTrackerStore(Domain.empty()), lock_store=InMemoryLockStore())
    events = [ActionExecuted("action_listen"), UserUttered("no"), SUMMARY, ActionExecuted("action_listen")]
    asyncio.run(agent.tracker_store.save(DialogueStateTracker.from_events(SENDER, events)))
    agent.processor = StandInProcessor(agent.tracker_store)
    return agent


def tap(agent: Agent, tapped: str) -> list[dict] | None:
    """None: passed on; a list: stale, with the latest turn as stored."""
    message = UserMessage("/affirm", CollectingOutputChannel(), SENDER, metadata={REPLY_TO: tapped})
    return asyncio.run(answer_tap(agent, message, tapped))


def test_a_tap_on_the_latest_question_is_answered_and_a_second_one_is_stale():
    agent = agent_at_the_summary()
    assert tap(agent, stored_id(SUMMARY)) is None
    # the first tap's turn asked the consultation offer: that is shown again, not answered
    assert tap(agent, stored_id(SUMMARY)) == [{"text": "Nothing rules it out."}, {"text": OFFER.text, **OFFER.data}]
    assert agent.processor.turns == ["/affirm"]
    assert tap(agent, stored_id(OFFER)) is None


def test_taps_sent_at_once_are_checked_one_after_another():
    agent = agent_at_the_summary()

    async def five_taps():
        messages = [
            UserMessage("/affirm", CollectingOutputChannel(), SENDER, metadata={REPLY_TO: stored_id(SUMMARY)})
            for _ in range(5)
        ]
        return await asyncio.gather(*(answer_tap(agent, m, stored_id(SUMMARY)) for m in messages))

    assert [stale is None for stale in asyncio.run(five_taps())].count(True) == 1
    assert agent.processor.turns == ["/affirm"]


def test_a_tap_in_a_conversation_with_nothing_stored_is_stale():
    agent = agent_at_the_summary()
    other = UserMessage("/affirm", CollectingOutputChannel(), "web-" + "cd" * 12)
    assert asyncio.run(answer_tap(agent, other, stored_id(SUMMARY))) == []


# ---- the REST channel ----------------------------------------------------------------------


class TapRequest:
    def __init__(self, agent: Agent, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
        self.headers, self.ip, self.args = Header({}), "127.0.0.1", {}
        self.stream = self._chunks(raw)

    @staticmethod
    async def _chunks(raw: bytes):
        yield raw


def post(agent: Agent, body: dict):
    async def never_called(message):  # with an agent, a tap goes through answer_tap
        raise AssertionError("a tap naming its message must be checked, not passed on unchecked")

    answer = asyncio.run(GuardedRestInput().receive(TapRequest(agent, body), never_called))
    return answer.status, json.loads(answer.body)


def test_the_rest_channel_answers_a_stale_tap_itself_and_tags_the_next_question():
    agent = agent_at_the_summary()
    body = {"sender": SENDER, "message": "/affirm", "metadata": {REPLY_TO: stored_id(SUMMARY)}}
    status, first = post(agent, body)
    assert status == 200 and first[-1]["message_id"] == stored_id(OFFER)
    status, second = post(agent, body)
    assert status == 200 and second[0] == {"recipient_id": SENDER, "text": STALE_TAP_REPLY}
    assert second[1:] == first  # the latest turn again, the question waiting with its id
    assert agent.processor.turns == ["/affirm"]
    stored = asyncio.run(agent.tracker_store.retrieve(SENDER))
    assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["no", "/affirm"]  # nothing stored
