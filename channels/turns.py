"""One patient message -> one bot turn, the same for every text channel: map the reply to
an offered button, let Rasa answer, remember the new buttons, hand the turn to the
channel to deliver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from channels.text_buttons import Offer, OfferMemory, TurnMessage, number_turn, turn_buttons

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# Given the sender's current offer, what to pass to Rasa (None: nothing, e.g. a stale tap).
Incoming = Callable[[Offer | None], str | None]
Deliver = Callable[[list[TurnMessage], Offer | None], Awaitable[None]]


class KeepsCustomWithText(CollectingOutputChannel):
    """A collector that keeps a message's `custom` object (what the message is: an alert,
    a list, the summary, the progress; actions/tracker_utils.py) in the same message as its
    text and buttons, and that text whole. Rasa's own collector would send the text (cut at
    blank lines) and then the custom object as a message of its own, leaving the client to
    guess which text it belonged to. Messages without one are collected as Rasa does."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom and (message.get("text") or message.get("buttons")):
            kept = self._message(recipient_id, text=message.get("text"), buttons=message.get("buttons") or None)
            await self._persist_message({**kept, "custom": custom})
            return
        await super().send_response(recipient_id, message)


class TurnCollector(KeepsCustomWithText):
    """Collects a turn's messages. Unlike Rasa's collector it keeps each text whole (Rasa's
    cuts at blank lines); the channel splits only where the platform's limit needs it."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._persist_message(self._message(recipient_id, text=text))


class SenderLocks:
    """One lock per sender, so a second message waits until the first one's turn has been
    answered and its buttons remembered; otherwise a quick "2" could be mapped against the
    previous question's buttons. Locks are dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, sender_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(sender_id, asyncio.Lock())
        self._users[sender_id] = self._users.get(sender_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[sender_id] -= 1
            if not self._users[sender_id]:
                del self._users[sender_id], self._locks[sender_id]


class TurnRunner:
    def __init__(self, channel_name: str, offers: OfferMemory | None = None) -> None:
        self.channel_name = channel_name
        self.offers = offers or OfferMemory()
        self._locks = SenderLocks()

    async def run(self, on_new_message: OnNewMessage, sender_id: str, incoming: Incoming, deliver: Deliver) -> bool:
        """False when `incoming` gave nothing to pass on; exceptions from Rasa propagate."""
        async with self._locks.hold(sender_id):
            text = incoming(self.offers.current(sender_id))
            if text is None:
                return False
            collector = TurnCollector()
            await on_new_message(UserMessage(text, collector, sender_id, input_channel=self.channel_name))
            turn = number_turn(collector.messages)
            offer = self.offers.remember(sender_id, turn_buttons(turn))
            await deliver(turn, offer)
        return True
