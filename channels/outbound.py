"""Calls to a messaging platform's API (Twilio Messages.json, Telegram sendMessage), with
retries, and log lines that identify a sender without revealing who they are.

What is logged: the platform, a keyed hash of the sender id, how many attempts, and the
HTTP status or error type with the platform's numeric error code. Never the message text,
a phone number, the request URL (Telegram's contains the bot token) or the platform's
error message (Twilio's can quote the phone number).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)


def sender_ref(sender_id: str, key: str) -> str:
    """A stable, non-reversible id for logs. Keyed with the channel's secret because phone
    numbers are few enough that a plain hash could be reversed by trying them all."""
    digest = hmac.new(key.encode("utf-8"), sender_id.encode("utf-8"), hashlib.sha256)
    return "s-" + digest.hexdigest()[:12]


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429  # server trouble or rate limit: worth another go


def _platform_code(body: Any) -> str:
    if isinstance(body, dict):
        code = body.get("code", body.get("error_code"))  # Twilio / Telegram
        if isinstance(code, int) and not isinstance(code, bool):
            return f", platform code {code}"
    return ""


class ApiClient:
    """POSTs to one platform's API. attempts and backoff_seconds bound the time a webhook
    waits: with the defaults, at most 3 tries and 0.5 + 1 s of waiting between them."""

    def __init__(
        self, platform: str, attempts: int = 3, backoff_seconds: float = 0.5, timeout_seconds: float = 10.0
    ) -> None:
        self.platform = platform
        self.attempts, self.backoff, self.timeout = attempts, backoff_seconds, timeout_seconds
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client_session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the server's event loop (aiohttp requires that).
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._loop = loop
        return self._session

    async def post(
        self,
        url: str,
        *,
        sender: str,
        what: str,
        form: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        auth: aiohttp.BasicAuth | None = None,
    ) -> Any | None:
        """The parsed JSON answer on success; None after the last failed attempt, logged.
        `sender` is a sender_ref(); `what` says which call failed, e.g. "reply part 1 of 2"."""
        reason = "not attempted"
        for attempt in range(1, self.attempts + 1):
            try:
                async with self._client_session().post(url, data=form, json=json, auth=auth) as resp:
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
                    if resp.status < 300:
                        return body if body is not None else {}
                    reason = f"HTTP {resp.status}{_platform_code(body)}"
                    if not _retryable(resp.status):
                        break
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                reason = type(error).__name__  # str(error) may contain the URL
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        logger.error(
            "%s: could not send %s to sender %s after %d attempt(s): %s", self.platform, what, sender, attempt, reason
        )
        return None

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
