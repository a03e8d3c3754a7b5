"""Telegram's bot webhook as a Rasa input channel that checks the secret-token header
before anything reaches the bot.

Webhook: POST /webhooks/telegram_verified/webhook (Telegram's Update JSON), registered with
setWebhook(url=..., secret_token=TELEGRAM_WEBHOOK_SECRET); Telegram then sends the secret
in X-Telegram-Bot-Api-Secret-Token with every update.
Replies: sendMessage; buttons as an inline keyboard whose labels carry the option numbers,
so typing "2" or the option's words works as well as tapping.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard
from channels.input_limits import InputGate
from channels.outbound import ApiClient, sender_ref
from channels.replay import RecentIds
from channels.text_buttons import Offer, TurnMessage, numbered_options, resolve_text, split_message
from channels.turns import OnNewMessage, TurnRunner
from channels.webhook import (
    MAX_BODY_BYTES,
    TEXT_ONLY_NOTE,
    ChannelConfigError,
    env_url,
    gate_from_credentials,
    reject,
    required_setting,
    webhook_blueprint,
)
from serving.extensions import require_installed

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
MAX_CHARS = 4096  # sendMessage text limit
# What setWebhook accepts as secret_token; checked at start-up so a typo fails early.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
STALE_TAP_NOTE = guard.text("guard.stale_button")  # the wording catalogue
# Telegram sends "/start" when someone opens the bot; the assistant knows a greeting.
START_COMMAND, GREETING = "/start", "hi"


class MalformedUpdate(ValueError):
    pass


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _chat_of(message: Any) -> dict[str, Any]:
    chat = message.get("chat") if isinstance(message, dict) else None
    if not isinstance(chat, dict) or not _is_int(chat.get("id")):
        raise MalformedUpdate("a message without a chat id")
    return chat


def parse_update(body: bytes) -> dict[str, Any]:
    try:
        update = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise MalformedUpdate("not JSON") from None
    if not isinstance(update, dict) or not _is_int(update.get("update_id")):
        raise MalformedUpdate("no update_id")
    return update


def keyboard(message: TurnMessage, offer: Offer) -> dict[str, Any]:
    """One button per row (long option labels stay readable), labelled "1. Yes"."""
    return {
        "inline_keyboard": [
            [{"text": f"{number}. {button.title}", "callback_data": offer.callback_data(number)}]
            for number, button in message.options
        ]
    }


class TelegramVerifiedInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "telegram_verified"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramVerifiedInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        channel = cls.name()
        secret = required_setting(credentials, "secret_token", "TELEGRAM_WEBHOOK_SECRET", channel)
        if not _SECRET.fullmatch(secret):
            raise ChannelConfigError(
                f"{channel}: TELEGRAM_WEBHOOK_SECRET must be 1-256 characters "
                "of A-Z, a-z, 0-9, _ and - (Telegram's rule)."
            )
        configured = cls(
            bot_token=required_setting(credentials, "bot_token", "TELEGRAM_BOT_TOKEN", channel),
            secret_token=secret,
            api_base_url=env_url("TELEGRAM_API_BASE_URL", DEFAULT_API_BASE_URL, channel),
            gate=gate_from_credentials(credentials, channel),
        )
        require_installed(f"{cls.__module__}.{cls.__name__}")  # started by `rasa run`: refuse
        return configured

    def __init__(
        self,
        bot_token: str,
        secret_token: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        client: ApiClient | None = None,
        runner: TurnRunner | None = None,
        seen: RecentIds | None = None,
        gate: InputGate | None = None,
    ) -> None:
        self.secret_token = secret_token.encode("utf-8")
        self._log_key = secret_token
        self.api_url = f"{api_base_url}/bot{bot_token}"  # never logged: it holds the token
        self.client = client or ApiClient(self.name())
        self.runner = runner or TurnRunner(self.name())
        self.seen = seen or RecentIds()
        self.gate = gate or InputGate()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return webhook_blueprint(
            "telegram_verified_webhook", lambda request: self._receive(request, on_new_message), self.client
        )

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return reject(413, "Request body too large.")
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode("utf-8")
        if not hmac.compare_digest(given, self.secret_token):
            return reject(403, "Missing or wrong X-Telegram-Bot-Api-Secret-Token.")
        try:
            update = parse_update(body)
            if "message" in update:
                chat = _chat_of(update["message"])
            elif "callback_query" in update:
                chat = _chat_of((update["callback_query"] or {}).get("message"))
            else:
                return _ok()  # edits, channel posts, polls...: nothing for the assistant
        except MalformedUpdate as problem:
            return reject(400, f"Malformed Telegram update: {problem}.")

        # A screening asks health questions: only in a private chat with the person.
        if chat.get("type") != "private":
            return _ok()
        if not self.seen.first_time(str(update["update_id"])):
            logger.info("%s: ignored a repeated update_id from sender %s", self.name(), self._ref(str(chat["id"])))
            return _ok()
        try:
            if "message" in update:
                await self._on_message(update["message"], str(chat["id"]), on_new_message)
            else:
                await self._on_tap(update["callback_query"], str(chat["id"]), on_new_message)
        except Exception as error:  # the bot failed; Telegram retries, so let that through
            self.seen.forget(str(update["update_id"]))
            logger.error(
                "%s: could not process a message from sender %s: %s",
                self.name(),
                self._ref(str(chat["id"])),
                type(error).__name__,
            )
            return reject(500, "The assistant could not process this update.")
        return _ok()

    def _ref(self, chat_id: str) -> str:
        return sender_ref(chat_id, self._log_key)

    async def _on_message(self, message: dict[str, Any], chat_id: str, on_new_message: OnNewMessage) -> None:
        if (message.get("from") or {}).get("is_bot"):
            return
        text = message.get("text")
        text = text.strip() if isinstance(text, str) else ""  # no text: a photo, a sticker...
        if text == START_COMMAND or text.startswith(START_COMMAND + " "):
            text = GREETING
        admission = self.gate.admit(chat_id, text, empty_reply=TEXT_ONLY_NOTE)
        if admission.text is None:
            if admission.reply:
                await self._send_text(chat_id, admission.reply)
            return
        text = admission.text
        await self.runner.run(
            on_new_message,
            chat_id,
            lambda offer: resolve_text(offer, text),
            lambda turn, offer: self._deliver(chat_id, turn, offer),
        )

    async def _on_tap(self, query: dict[str, Any], chat_id: str, on_new_message: OnNewMessage) -> None:
        data = query.get("data")
        admission = self.gate.admit(chat_id, None)
        if admission.reason == "rate_limited":
            if isinstance(query.get("id"), str):  # stops the spinner; says why once
                note = {"text": admission.reply} if admission.reply else {}
                await self._call(
                    "answerCallbackQuery",
                    chat_id,
                    "a button acknowledgement",
                    {"callback_query_id": query["id"], **note},
                )
            return

        def incoming(offer: Offer | None) -> str | None:
            return offer.payload_for_callback(data) if offer and isinstance(data, str) else None

        answered = await self.runner.run(
            on_new_message, chat_id, incoming, lambda turn, offer: self._deliver(chat_id, turn, offer)
        )
        # Answering stops the button's loading spinner; a stale tap gets told why nothing happened.
        if isinstance(query.get("id"), str):
            note = {} if answered else {"text": STALE_TAP_NOTE}
            await self._call(
                "answerCallbackQuery", chat_id, "a button acknowledgement", {"callback_query_id": query["id"], **note}
            )

    async def _deliver(self, chat_id: str, turn: list[TurnMessage], offer: Offer | None) -> None:
        for message in turn:
            parts = split_message(message.text or numbered_options(message.options), MAX_CHARS)
            for number, part in enumerate(parts, start=1):
                payload: dict[str, Any] = {"chat_id": chat_id, "text": part}
                if number == len(parts) and message.options and offer:
                    payload["reply_markup"] = keyboard(message, offer)
                if not await self._call("sendMessage", chat_id, f"reply part {number} of {len(parts)}", payload):
                    return  # later messages would arrive without their context

    async def _send_text(self, chat_id: str, text: str) -> None:
        await self._call("sendMessage", chat_id, "a reply", {"chat_id": chat_id, "text": text})

    async def _call(self, method: str, chat_id: str, what: str, payload: dict[str, Any]) -> bool:
        answer = await self.client.post(f"{self.api_url}/{method}", json=payload, sender=self._ref(chat_id), what=what)
        return answer is not None


def _ok() -> HTTPResponse:
    return response.json({"ok": True})
