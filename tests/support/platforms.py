"""Webhook requests in the platforms' real formats, signed with throw-away test secrets:
what Twilio and Telegram would send for a patient's message. Shared by the webhook tests
and the end-to-end tests."""

from __future__ import annotations

import itertools
import json
import uuid
from urllib.parse import urlencode

from channels.twilio import compute_signature

# Throw-away values for tests only. Numbers are from Ofcom's range reserved for drama.
TWILIO_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TWILIO_AUTH_TOKEN = "test-twilio-auth-token-not-real"
TWILIO_WEBHOOK_URL = "https://chat.clinic.example/webhooks/twilio_verified/webhook"
CLINIC_NUMBER = "+447700900999"
CLINIC_WHATSAPP = "whatsapp:+447700900998"
TELEGRAM_BOT_TOKEN = "123456:TEST-telegram-bot-token-not-real"
TELEGRAM_SECRET = "test-telegram-webhook-secret_123"

Request = tuple[bytes, dict[str, str]]


def channels_env(api_base_url: str) -> dict[str, str]:
    """The environment credentials.channels.yml reads, with the throw-away test secrets
    above, and both platforms' APIs pointed at a local stand-in."""
    return {
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
        "TWILIO_API_BASE_URL": api_base_url,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_BOT_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": api_base_url,
    }


def new_message_sid() -> str:
    return "SM" + uuid.uuid4().hex


class TwilioPatient:
    """A patient texting the clinic's Twilio number (or WhatsApp sender)."""

    def __init__(self, number: str, whatsapp: bool = False, token: str = TWILIO_AUTH_TOKEN) -> None:
        self.whatsapp = whatsapp
        self.address = f"whatsapp:{number}" if whatsapp else number
        self.clinic = CLINIC_WHATSAPP if whatsapp else CLINIC_NUMBER
        self.token = token

    def form(self, body: str, message_sid: str | None = None) -> dict[str, str]:
        sid = message_sid or new_message_sid()
        form = {
            "ToCountry": "GB",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": self.clinic,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": TWILIO_ACCOUNT_SID,
            "From": self.address,
            "ApiVersion": "2010-04-01",
        }
        if self.whatsapp:
            form.update({"ProfileName": "Test Patient", "WaId": self.address.split("+")[1], "MessageType": "text"})
            del form["ToCountry"]
        return form

    def signed(self, form: dict[str, str], url: str = TWILIO_WEBHOOK_URL) -> Request:
        signature = compute_signature(self.token, url, {k: [v] for k, v in form.items()})
        return urlencode(form).encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }

    def message(self, body: str, message_sid: str | None = None) -> Request:
        return self.signed(self.form(body, message_sid))


_update_ids = itertools.count(700_000_000)


class TelegramPatient:
    """A patient in a private chat with the clinic's Telegram bot."""

    def __init__(self, chat_id: int, secret: str = TELEGRAM_SECRET) -> None:
        self.chat_id, self.secret = chat_id, secret
        self.user = {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "en"}
        self.chat = {"id": chat_id, "first_name": "Test", "type": "private"}
        self._message_ids = itertools.count(1)

    def _request(self, update: dict) -> Request:
        return json.dumps(update).encode(), {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": self.secret,
        }

    def message_update(self, text: str, update_id: int | None = None) -> dict:
        message = {
            "message_id": next(self._message_ids),
            "from": self.user,
            "chat": self.chat,
            "date": 1_700_000_000,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return {"update_id": update_id or next(_update_ids), "message": message}

    def message(self, text: str, update_id: int | None = None) -> Request:
        return self._request(self.message_update(text, update_id))

    def tap(self, callback_data: str, keyboard_text: str = "") -> Request:
        bot = {"id": 123456, "is_bot": True, "first_name": "Clinic bot", "username": "clinic_test_bot"}
        update = {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": str(uuid.uuid4().int)[:19],
                "from": self.user,
                "chat_instance": "-7000000000000000001",
                "data": callback_data,
                "message": {
                    "message_id": next(self._message_ids),
                    "from": bot,
                    "chat": self.chat,
                    "date": 1_700_000_000,
                    "text": keyboard_text,
                },
            },
        }
        return self._request(update)

    def raw(self, update: dict) -> Request:
        return self._request(update)
