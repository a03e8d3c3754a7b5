"""Conversations over the messaging channels, driven the way a patient would: post the
platform's signed webhook, read what the bot sent to the platform's (stand-in) API.

They offer the same say / tap / replies / text as tests/support/conversation.py, so
tests/support/screening.py can walk the questionnaire over them unchanged. A "tap" is whatever
a patient does on that platform: type the option's number or words, or tap a keyboard."""

from __future__ import annotations

import itertools
import re

import requests

from tests.support.platforms import TelegramPatient, TwilioPatient
from tests.support.standin import Call, StandIn

OPTION_LINE = re.compile(r"(\d+)\. (.+)")


class ChannelConversation:
    path = ""

    def __init__(self, assistant, standin: StandIn) -> None:
        self.assistant, self.standin = assistant, standin
        self.replies: list[dict] = []
        self.transcript: list[str] = []
        self.last_status = 0

    # what each platform's subclass provides
    def _request(self, text: str):
        raise NotImplementedError

    def _mine(self, call: Call) -> bool:
        raise NotImplementedError

    def _read(self, calls: list[Call]) -> None:
        raise NotImplementedError

    def post(self, request) -> requests.Response:
        body, headers = request
        return requests.post(f"{self.assistant.url}{self.path}", data=body, headers=headers, timeout=60)

    def _turn(self, request, shown: str) -> list[dict]:
        mark = self.standin.mark()
        response = self.post(request)
        self.last_status = response.status_code
        assert response.status_code == 200, (response.status_code, response.text)
        self.calls = [c for c in self.standin.calls_since(mark) if self._mine(c)]
        self._read([c for c in self.calls if c.accepted])
        self.transcript.append(f"USER: {shown}")
        self.transcript += [f"BOT: {r['text']}" for r in self.replies]
        return self.replies

    def say(self, text: str) -> list[dict]:
        return self._turn(self._request(text), text)

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)

    def dump(self) -> str:
        return "\n".join(self.transcript[-30:])


class TwilioConversation(ChannelConversation):
    """tap_by: "number" types the option's number, "words" its title in lower case."""

    path = "/webhooks/twilio_verified/webhook"

    def __init__(self, assistant, standin, patient: TwilioPatient, tap_by: str = "number") -> None:
        super().__init__(assistant, standin)
        self.patient, self.tap_by = patient, tap_by
        self.sender = patient.address
        self.options: dict[str, str] = {}

    def _request(self, text):
        return self.patient.message(text)

    def _mine(self, call):
        return call.form.get("To") == self.patient.address

    def _read(self, calls):
        # One SMS per turn; its paragraphs are the bot's messages, so a question's text
        # is a paragraph of its own (what screening.current_question looks for).
        self.bodies = [c.form["Body"] for c in calls]
        paragraphs = "\n\n".join(self.bodies).split("\n\n")
        self.replies = [{"text": p} for p in paragraphs if p]
        self.options = {
            m.group(2): m.group(1) for p in paragraphs for line in p.split("\n") if (m := OPTION_LINE.fullmatch(line))
        }

    def buttons(self) -> list[str]:
        return list(self.options)

    def tap(self, title: str) -> list[dict]:
        assert title in self.options, f"No option {title!r} in {self.buttons()}:\n{self.dump()}"
        return self.say(self.options[title] if self.tap_by == "number" else title.lower())


class TelegramConversation(ChannelConversation):
    """Taps alternate between the inline keyboard, the typed number and the typed words."""

    path = "/webhooks/telegram_verified/webhook"

    def __init__(self, assistant, standin, patient: TelegramPatient) -> None:
        super().__init__(assistant, standin)
        self.patient = patient
        self.sender = str(patient.chat_id)
        self.keyboard: dict[str, dict[str, str]] = {}
        self._ways = itertools.cycle(["keyboard", "keyboard", "number", "words"])
        self.taps_by_keyboard = 0

    def _request(self, text):
        return self.patient.message(text)

    def _mine(self, call):
        # acknowledgements name the tap, not the chat; tests run one conversation at a time
        return (call.json or {}).get("chat_id") == self.sender or call.method == "answerCallbackQuery"

    def _read(self, calls):
        self.replies = [{"text": c.json["text"]} for c in calls if c.method == "sendMessage"]
        self.acknowledged = [c.json for c in calls if c.method == "answerCallbackQuery"]
        self.keyboard = {}
        for call in calls:
            for row in (call.json.get("reply_markup") or {}).get("inline_keyboard", []):
                number, _, title = row[0]["text"].partition(". ")
                self.keyboard[title] = {"number": number, "data": row[0]["callback_data"]}

    def buttons(self) -> list[str]:
        return list(self.keyboard)

    def tap(self, title: str) -> list[dict]:
        assert title in self.keyboard, f"No button {title!r} in {self.buttons()}:\n{self.dump()}"
        way = next(self._ways)
        if way == "keyboard":
            self.taps_by_keyboard += 1
            return self._turn(self.patient.tap(self.keyboard[title]["data"]), f"[taps {title}]")
        return self.say(self.keyboard[title]["number"] if way == "number" else title.lower())
