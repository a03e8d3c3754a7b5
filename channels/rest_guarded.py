"""Rasa's REST channel with the public endpoint's limits: what the website widget talks to.

Its name() is "rest", so the URL stays POST /webhooks/rest/webhook (the widget,
deploy/nginx.conf and the tests use it), and a good request is answered exactly as the
stock channel answers it: 200 with a JSON list of {"recipient_id", "text", "buttons"...},
with one addition: "message_id" on each message with buttons (see the taps item below).

Unlike the stock channel (rasa/core/channels/rest.py), which reads request.json blindly:
- bodies over max_body_bytes are refused with 413 before they are read into memory;
- the body is checked before Rasa sees it (channels/request_body.py): nesting depth before
  it is parsed, then a JSON object with "sender" in the widget's own form ("web-" and 24-32
  hex digits, channels/sender_ids.py: never an SMS, WhatsApp or Telegram conversation's
  id, since all channels share one tracker store keyed by that id), a string "message" and
  optionally a small object "metadata", of which only the keys this project reads are
  passed on. Anything else is a 400 with {"error": "..."}, never a 500 or a traceback.
  (Stock Rasa puts a message without a sender into the shared conversation "default".)
- per-IP and per-sender rate limits: 429 with a friendly message and Retry-After (and
  "retry_after" in the body: a browser script cannot read Retry-After cross-origin). A
  loopback client address is not IP-limited: it is a local proxy (set trusted_proxies so
  the visitor's address is used) or a local tool;
- channels/guard.py: empty, too long, foreign commands, other languages get a polite
  reply (200, the usual list shape) and are not passed to the assistant;
- a button tap that names its message (metadata "reply_to", sent by the widget) answers
  only that question: if the conversation has moved on it gets the stale-button reply and
  the question still waiting, and nothing reaches the assistant; each reply message with buttons carries "message_id"
  for that (channels/taps.py);
- "input_channel" in the body is ignored (stock Rasa lets a client claim any channel);
- ?stream=true is refused (400): the widget does not use it.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.input_limits import MAX_BODY_BYTES, RATE_LIMIT_REPLY, InputGate, client_ip, is_local
from channels.outbound import sender_ref
from channels.request_body import BadBody, read_message
from channels.taps import agent_of, answer_tap, reply_to, stale_reply, tag_questions
from channels.turns import KeepsCustomWithText
from channels.webhook import gate_from_credentials
from serving.extensions import require_installed

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
_LOG_KEY = "rest-log-ids"  # sender ids in logs are hashed; this only separates them from other channels'


def error(status: int, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


def too_many(decision) -> HTTPResponse:
    return response.json(
        {"error": RATE_LIMIT_REPLY, "retry_after": decision.retry_after},
        status=429,
        headers={"Retry-After": str(decision.retry_after)},
    )


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to be longer than `limit`."""
    declared = request.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream:
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class GuardedRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GuardedRestInput:
        gate = gate_from_credentials(credentials, cls.name())
        # Started with `rasa run` instead of `python -m serving run`: no apology for failed
        # turns, no production check. Refuse, saying how to start it.
        require_installed(f"{cls.__module__}.{cls.__name__}")
        return cls(gate)

    def __init__(self, gate: InputGate | None = None, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.gate = gate or InputGate()
        self.max_body_bytes = max_body_bytes

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        # stream=True: the handler reads the body itself, so an oversized one is refused
        # without being held in memory.
        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return webhook

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        ip = client_ip(request.ip, request.headers.get("X-Forwarded-For"), self.gate.settings.trusted_proxies)
        if not is_local(ip):
            by_ip = self.gate.check_ip(ip)
            if not by_ip.allowed:
                return too_many(by_ip)
        body = await read_body(request, self.max_body_bytes)
        if body is None:
            return error(
                413,
                f"The request is too large (the limit is {self.max_body_bytes:,} bytes). "
                "Please send a shorter message.",
            )
        if request.args.get("stream", "").lower() == "true":
            return error(400, "Streaming replies are not supported; leave out ?stream=true.")
        try:
            parsed = read_message(body)
        except BadBody as problem:
            return error(400, str(problem))
        sender, text, metadata = parsed.sender, parsed.text, parsed.metadata
        by_sender = self.gate.check_sender(sender)
        if not by_sender.allowed:
            return too_many(by_sender)

        screened = self.gate.screen(text)
        if screened.reply is not None:
            logger.info(
                "rest: answered a message from sender %s without the assistant (%s)",
                sender_ref(sender, _LOG_KEY),
                screened.reason,
            )
            return response.json([{"recipient_id": sender, "text": screened.reply}])

        collector = KeepsCustomWithText()
        message = UserMessage(screened.text, collector, sender, input_channel=self.name(), metadata=metadata)
        tapped, agent = reply_to(metadata), agent_of(request)
        try:
            if tapped is None or agent is None:  # not a tap that names its question: as before
                await on_new_message(message)
            elif (stale := await answer_tap(agent, message, tapped)) is not None:
                logger.info("rest: answered a stale button tap from sender %s", sender_ref(sender, _LOG_KEY))
                return response.json(await stale_reply(sender, stale))
        except (CancelledError, Exception) as problem:  # as the stock channel: answer with what was collected
            logger.error(
                "rest: could not process a message from sender %s: %s",
                sender_ref(sender, _LOG_KEY),
                type(problem).__name__,
            )
        return response.json(tag_questions(collector.messages))
