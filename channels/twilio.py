"""Twilio's messaging webhook (SMS and WhatsApp share it), as a Rasa input channel that
checks X-Twilio-Signature before anything reaches the bot.

Rasa's built-in Twilio connector does not check signatures, so anyone who knows the URL
could talk to the bot as any phone number; this channel replaces it.

Webhook: POST /webhooks/twilio_verified/webhook (form-encoded, Twilio's format).
Replies: Twilio's REST API, Messages.json, from the number the patient wrote to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import aiohttp
from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.input_limits import InputGate
from channels.outbound import ApiClient, sender_ref
from channels.replay import RecentIds
from channels.text_buttons import Offer, TurnMessage, resolve_text, split_message, turn_as_text
from channels.turns import OnNewMessage, TurnRunner
from channels.webhook import (
    MAX_BODY_BYTES,
    TEXT_ONLY_NOTE,
    env_url,
    gate_from_credentials,
    reject,
    required_setting,
    url_setting,
    webhook_blueprint,
)
from serving.extensions import require_installed

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
# Twilio's Messages API takes at most 1600 characters in Body, for SMS and for WhatsApp
# alike (Twilio errors 21617 / 21658), although WhatsApp itself allows 4096.
MAX_CHARS = {"sms": 1600, "whatsapp": 1600}
# An empty TwiML answer: Twilio sends nothing itself; replies go through the REST API.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_DEFAULT_PORTS = {"https": 443, "http": 80}

Params = Mapping[str, Sequence[str]]


# --------------------------------------------------------------------------------------
# X-Twilio-Signature (https://www.twilio.com/docs/usage/security#validating-requests)
# --------------------------------------------------------------------------------------


def compute_signature(auth_token: str, url: str, params: Params) -> str:
    """Base64 of HMAC-SHA1, keyed with the auth token, over the full URL Twilio called
    followed by every POST parameter's name and value, sorted by name (and by distinct
    value when a name repeats, as Twilio's helper libraries do)."""
    data = url + "".join(name + value for name in sorted(params) for value in sorted(set(params[name])))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """The URL as configured, and with its default port written out or left out: Twilio
    has signed both forms (its own helper libraries accept either)."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if default is None or parts.port not in (None, default):
        return [url]
    without = urlunsplit(parts._replace(netloc=host))
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{default}"))
    return [url] + [u for u in (without, with_port) if u != url]


def is_valid_signature(auth_token: str, url: str, params: Params, signature: str) -> bool:
    given = signature.encode("utf-8")
    return any(
        hmac.compare_digest(compute_signature(auth_token, u, params).encode("ascii"), given) for u in _url_variants(url)
    )


def parse_form(body: bytes) -> dict[str, list[str]] | None:
    """A form-encoded body as name -> values, empty values kept (they are signed too);
    None if it is not valid UTF-8 form data."""
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        return None


def _one(params: Params, name: str) -> str:
    values = params.get(name) or [""]
    return values[0].strip()


def fix_sms_at_sign(text: str) -> str:
    # Some carriers deliver "@" as "¡" (GSM 03.38 code 0x40 read as Latin-1), which breaks
    # the email addresses patients type for a consultation request.
    return text.replace("¡", "@")


# --------------------------------------------------------------------------------------
# The channel
# --------------------------------------------------------------------------------------


class TwilioVerifiedInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "twilio_verified"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TwilioVerifiedInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        channel = cls.name()
        configured = cls(
            account_sid=required_setting(credentials, "account_sid", "TWILIO_ACCOUNT_SID", channel),
            auth_token=required_setting(credentials, "auth_token", "TWILIO_AUTH_TOKEN", channel),
            webhook_url=url_setting(
                required_setting(credentials, "webhook_url", "TWILIO_WEBHOOK_URL", channel),
                "TWILIO_WEBHOOK_URL",
                channel,
            ),
            api_base_url=env_url("TWILIO_API_BASE_URL", DEFAULT_API_BASE_URL, channel),
            gate=gate_from_credentials(credentials, channel),
        )
        require_installed(f"{cls.__module__}.{cls.__name__}")  # started by `rasa run`: refuse
        return configured

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        webhook_url: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        client: ApiClient | None = None,
        runner: TurnRunner | None = None,
        seen: RecentIds | None = None,
        gate: InputGate | None = None,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        # The public URL Twilio calls: behind a proxy the request's own URL differs, and the
        # signature covers the URL, so it has to come from configuration.
        self.webhook_url = webhook_url
        self.messages_url = f"{api_base_url}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.client = client or ApiClient(self.name())
        self.runner = runner or TurnRunner(self.name())
        self.seen = seen or RecentIds()
        self.gate = gate or InputGate()

    def _ref(self, sender_id: str) -> str:
        return sender_ref(sender_id, self.auth_token)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return webhook_blueprint(
            "twilio_verified_webhook", lambda request: self._receive(request, on_new_message), self.client
        )

    def _verified_params(self, request: Request) -> dict[str, list[str]] | HTTPResponse:
        """The webhook's parameters, or the response refusing it. Checks run cheapest first,
        and the signature before any field is looked at, so nobody without the auth token
        learns anything about the webhook."""
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return reject(413, "Request body too large.")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return reject(403, "Missing X-Twilio-Signature header.")
        if request.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return reject(400, "Expected a form-encoded body (application/x-www-form-urlencoded).")
        params = parse_form(body)
        if params is None:
            return reject(400, "Malformed form body.")
        if not is_valid_signature(self.auth_token, self.webhook_url, params, signature):
            return reject(403, "Invalid X-Twilio-Signature.")
        if _one(params, "AccountSid") != self.account_sid:
            return reject(403, "This webhook belongs to a different Twilio account.")
        if not _SID.fullmatch(_one(params, "MessageSid")) or not _one(params, "From") or not _one(params, "To"):
            return reject(400, "MessageSid, From and To are required.")
        return params

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        params = self._verified_params(request)
        if isinstance(params, HTTPResponse):
            return params
        message_sid, sender, our_number = (_one(params, n) for n in ("MessageSid", "From", "To"))
        status = _one(params, "SmsStatus") or _one(params, "MessageStatus")
        if status and status != "received":
            return _twiml()  # a delivery status callback pointed here: nothing to answer
        if not self.seen.first_time(message_sid):
            logger.info("%s: ignored a repeated MessageSid from sender %s", self.name(), self._ref(sender))
            return _twiml()

        text = _one(params, "Body")
        if not sender.startswith("whatsapp:"):
            text = fix_sms_at_sign(text)
        # An empty Body is a photo, voice note or location: the assistant reads text only.
        admission = self.gate.admit(sender, text, empty_reply=TEXT_ONLY_NOTE)
        if admission.text is None:
            if admission.reply:
                await self._send(sender, our_number, [admission.reply])
            return _twiml()  # answered here (or a flood, dropped): Twilio must not retry
        text = admission.text

        async def deliver(turn: list[TurnMessage], offer: Offer | None) -> None:
            channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
            await self._send(sender, our_number, split_message(turn_as_text(turn), MAX_CHARS[channel]))

        try:
            await self.runner.run(on_new_message, sender, lambda offer: resolve_text(offer, text), deliver)
        except Exception as error:  # the bot failed; let Twilio's retry (if any) try again
            self.seen.forget(message_sid)
            logger.error(
                "%s: could not process a message from sender %s: %s",
                self.name(),
                self._ref(sender),
                type(error).__name__,
            )
            return reject(500, "The assistant could not process this message.")
        return _twiml()

    async def _send(self, to: str, from_: str, parts: list[str]) -> None:
        """Sends the parts in order, each after the previous was accepted; stops at a part
        that could not be sent (later ones would arrive without their context)."""
        auth = aiohttp.BasicAuth(self.account_sid, self.auth_token)
        for number, part in enumerate(parts, start=1):
            sent = await self.client.post(
                self.messages_url,
                form={"To": to, "From": from_, "Body": part},
                auth=auth,
                sender=self._ref(to),
                what=f"reply part {number} of {len(parts)}",
            )
            if sent is None:
                return


def _twiml() -> HTTPResponse:
    return response.text(EMPTY_TWIML, content_type="text/xml")
