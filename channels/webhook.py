"""What both webhooks share: settings read at start-up, short rejections, the reply to
messages the assistant cannot read."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard

# MAX_BODY_BYTES is re-exported for the channels: one body limit for every public channel.
from channels.input_limits import MAX_BODY_BYTES, InputGate, LimitsConfigError, LimitSettings  # noqa: F401

# Sent by the channel itself for a photo, voice note, sticker or location: the assistant
# reads text only, and silence would leave the patient waiting.
TEXT_ONLY_NOTE = guard.text("guard.text_only")


class ChannelConfigError(RasaException):
    """A missing or unusable setting; stops `rasa run` at start-up with this message."""


def required_setting(credentials: dict[str, Any] | None, key: str, env_name: str, channel: str) -> str:
    value = (credentials or {}).get(key)
    if not isinstance(value, str) or not value.strip():
        raise ChannelConfigError(
            f"{channel}: '{key}' is empty. Set the environment variable {env_name} "
            f"(see credentials.channels.yml and docs/messaging-channels.md)."
        )
    return value.strip()


def gate_from_credentials(credentials: dict[str, Any] | None, channel: str) -> InputGate:
    """The channel's rate and input limits from its optional credentials entries."""
    try:
        return InputGate(LimitSettings.from_credentials(credentials))
    except LimitsConfigError as problem:
        raise ChannelConfigError(f"{channel}: {problem} (see docs/security-input.md).") from None


def url_setting(value: str, name: str, channel: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ChannelConfigError(f"{channel}: {name} must be a full http(s) URL.")
    return value


def env_url(env_name: str, default: str, channel: str) -> str:
    """An optional base URL: the platform's own unless the environment points elsewhere
    (a regional endpoint, or a stand-in in the tests)."""
    return url_setting(os.environ.get(env_name) or default, env_name, channel).rstrip("/")


def reject(status: int, message: str) -> HTTPResponse:
    """A short plain-text refusal: says what was wrong, nothing about the server."""
    return response.text(message + "\n", status=status)


def webhook_blueprint(name: str, receive: Callable[[Request], Awaitable[HTTPResponse]], client: Any) -> Blueprint:
    """The routes every verified channel has: a health check, the signed webhook, and
    closing the outbound API client when the server stops."""
    webhook = Blueprint(name, __name__)

    @webhook.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @webhook.route("/webhook", methods=["POST"])
    async def receive_webhook(request: Request) -> HTTPResponse:
        return await receive(request)

    @webhook.listener("after_server_stop")
    async def close_client(*_: Any) -> None:
        await client.close()

    return webhook
