"""The trained assistant in this process: Rasa's own Agent (NLU, rules, forms) with the
project's actions run in process instead of over HTTP, and the input guard every public
channel applies in front of it.

Fast enough to run hundreds of phrasings and hundreds of whole conversations in CI (one
turn is tens of milliseconds, not the round trips of a REST conversation), while every
turn still goes through the real model, rules, forms and actions. The HTTP path itself is
covered by tests/e2e and tests/channels.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection

from channels import guard
from channels.turns import KeepsCustomWithText
from serving.extensions import install_server_extensions
from serving.wording_nlg import WordingNLG

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("SCREENING_MODEL", ROOT / "models" / "screening.tar.gz"))


class InProcessActions(EndpointConfig):
    """An action endpoint that runs rasa-sdk's executor directly (no server, no HTTP),
    answering exactly as the action server would, including a rejection's 400."""

    def __init__(self) -> None:
        super().__init__(url="http://in-process")
        self.executor = ActionExecutor()
        self.executor.register_package("actions")

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        **kwargs: Any,
    ) -> Any:
        try:
            return await self.executor.run(kwargs["json"])
        except ActionExecutionRejection as e:
            raise ClientResponseError(
                400,
                "Bad Request",
                json.dumps({"error": e.message, "action_name": kwargs["json"].get("next_action")}),
            ) from e


class InProcessAssistant:
    def __init__(self, model: Path = MODEL) -> None:
        # What `python -m serving run` installs before Rasa starts (serving/extensions.py):
        # fault handling, action-response validation, log redaction... This process builds
        # its own stores, so there is no endpoints file to record them from.
        install_server_extensions(argv=(), endpoints=None)
        # The same response generator as endpoints.yml: domain.yml's utter_* from the wording catalogue.
        self.agent = Agent.load(str(model), action_endpoint=InProcessActions(), generator=WordingNLG())
        self.agent.tracker_store = InMemoryTrackerStore(self.agent.domain)
        self.agent.processor.tracker_store = self.agent.tracker_store
        self.loop = asyncio.new_event_loop()

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """One message as a public channel would pass it on: screened by the guard first."""
        screened = guard.screen(text)
        if screened.reply is not None:
            return [{"text": screened.reply}]
        # The collector our REST, SMS, WhatsApp and Telegram channels use: a message's custom
        # object (alert, list, summary, progress) stays with its text and buttons, as patients get it.
        channel = KeepsCustomWithText()
        message = UserMessage(screened.text, channel, sender)
        self.loop.run_until_complete(self.agent.handle_message(message))
        return channel.messages

    def tracker(self, sender: str) -> DialogueStateTracker:
        return self.loop.run_until_complete(self.agent.tracker_store.get_or_create_tracker(sender))

    def slots(self, sender: str) -> dict[str, Any]:
        return self.tracker(sender).current_slot_values()

    def add_events(self, sender: str, events: Sequence[Event]) -> None:
        tracker = self.tracker(sender)
        for event in events:
            tracker.update(event, self.agent.domain)
        self.loop.run_until_complete(self.agent.tracker_store.save(tracker))

    def position(
        self, sender: str, *, slots: dict[str, Any], loop: str | None, bot_messages: Sequence[dict[str, Any]]
    ) -> None:
        """Puts a conversation (already greeted) at a point: these slots, this form active,
        and these bot messages (with their buttons) as the last thing the bot said."""
        events: list[Event] = [SlotSet(k, v) for k, v in slots.items()]
        events.append(ActiveLoop(loop))
        for message in bot_messages:
            events.append(BotUttered(message.get("text"), {"buttons": message.get("buttons") or None}))
        events.append(ActionExecuted("action_listen"))
        self.add_events(sender, events)
