"""A tapped button answers only its own question (issue 26), over the REST channel.

Buttons carry payloads like "/affirm", and several questions offer the same one: the
summary's "Yes, that's right" and the consultation offer's "Yes, please". Five quick taps
at the summary (a double click, an API client retrying) used to give the outcome and then
answer the consultation offer with "yes". So:

- every bot message with buttons in a REST reply carries "message_id" (tag_questions), a
  hash of its words and buttons (clinical/offered_buttons.py: message_id);
- the widget sends that id back with a tap, as metadata {"reply_to": "<id>"}; the payload
  stays exactly the payload, since the actions read payloads as they are;
- the channel passes such a tap on only if the id is one of the questions of the
  conversation's latest bot turn *as stored* (answer_tap); otherwise the patient is told
  the question has moved on (the wording catalogue's guard.stale_button, as Telegram's
  stale taps are), followed by that latest turn as stored, and nothing reaches Rasa or is
  stored. The latest turn comes again because the stale tap may be a resend whose first
  reply was lost (the widget delivers at least once): without it the patient would be
  told to answer a question they never saw.

Why the stored conversation and not this process's memory: two Rasa servers behind a
balancer share the tracker store and the lock store, and either may get either tap. Why
the check holds the conversation's lock: two taps sent at once both read the summary as
the latest question if they look before the first one's turn is stored; holding the lock
(the one Rasa's Agent.handle_message takes, shared through Redis in production) makes the
second tap look only after the first one's turn, so it sees the consultation offer.

Taps without the metadata (an older widget still open in a tab, API clients) go on as
before: the actions still accept only a payload the bot just offered.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from channels import guard
from channels.turns import KeepsCustomWithText
from clinical.offered_buttons import (
    BUTTONS_OF,
    MESSAGE_ID_DIGITS,
    bot_messages_since_last_user_message,
    latest_question_ids,
    message_id,
)

logger = logging.getLogger(__name__)

REPLY_TO = "reply_to"  # the metadata key (channels/request_body.py allows it)
MESSAGE_ID = "message_id"  # the key on each REST reply message with buttons
STALE_TAP_REPLY = guard.text("guard.stale_button")  # the wording catalogue
_ID = re.compile(f"[0-9a-f]{{{MESSAGE_ID_DIGITS}}}")


def reply_to(metadata: dict[str, Any] | None) -> str | None:
    """The message id a tap says it answers; None when the message is not such a tap.
    A value of another form is kept (as "") rather than ignored: it can match no
    question, so the tap is stale, never silently passed on as an unchecked tap."""
    if not metadata or REPLY_TO not in metadata:
        return None
    value = metadata[REPLY_TO]
    return value if isinstance(value, str) and _ID.fullmatch(value) else ""


def tag_questions(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds "message_id" to each reply message with buttons, in place. An apology that
    offers a stored question's buttons again names that question (custom "buttons_of"),
    so tapping one of them after a failed turn answers the question still waiting."""
    for message in messages:
        if not message.get("buttons"):
            continue
        custom = message.get("custom")
        offered_again = custom.pop(BUTTONS_OF, None) if isinstance(custom, dict) else None
        if isinstance(custom, dict) and not custom:
            del message["custom"]  # it only carried the id: clients see the stock shape
        message[MESSAGE_ID] = offered_again or message_id(message.get("text"), message["buttons"])
    return messages


def agent_of(request: Any) -> Agent | None:
    """The Rasa agent serving this app (rasa/server.py puts it on app.ctx), or None when the
    channel runs without one (unit tests with a stand-in bot)."""
    ctx = getattr(getattr(request, "app", None), "ctx", None)
    agent = getattr(ctx, "agent", None)
    return agent if isinstance(agent, Agent) and agent.is_ready() else None


def latest_turn(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot's messages after the person's latest message, as a channel is sent them."""
    turn: list[dict[str, Any]] = []
    for event in bot_messages_since_last_user_message(events):
        data = event.get("data") or {}
        shown = {key: data[key] for key in ("buttons", "custom", "image", "attachment") if data.get(key)}
        turn.append({"text": event.get("text") or "", **shown})
    return turn


async def stale_against(agent: Agent, sender_id: str, tapped: str) -> list[dict[str, Any]] | None:
    """None when `tapped` names a question of the latest bot turn stored for this
    conversation; otherwise that turn (empty when nothing is stored). A conversation that
    cannot be read now is not judged here (None): the turn itself reads it next and, if the
    store is still down, answers with the apology (serving/fault_handling.py)."""
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception as problem:  # noqa: BLE001 - see the docstring
        logger.warning("rest: could not read a conversation to check a tap (%s)", type(problem).__name__)
        return None
    events = [event.as_dict() for event in tracker.events] if tracker else []
    return None if tapped in latest_question_ids(events) else latest_turn(events)


async def answer_tap(agent: Agent, message: UserMessage, tapped: str) -> list[dict[str, Any]] | None:
    """Runs the tap's turn if it answers a question of the latest bot turn (None); if the
    conversation has moved on, passes nothing to Rasa, stores nothing and returns the latest
    turn as stored. Does what Agent.handle_message does (the lock, then the processor),
    with the check inside the lock."""
    async with agent.lock_store.lock(message.sender_id):
        stale = await stale_against(agent, message.sender_id, tapped)
        if stale is None:
            await agent.processor.handle_message(message)
    return stale


async def stale_reply(sender_id: str, turn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a stale tap gets: the stale-button note, then the latest turn, collected as the
    REST channel collected it the first time (same items, same ids)."""
    collector = KeepsCustomWithText()
    for message in turn:
        await collector.send_response(sender_id, message)
    return tag_questions([{"recipient_id": sender_id, "text": STALE_TAP_REPLY}] + collector.messages)
