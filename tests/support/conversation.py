"""Drives one conversation over the REST channel, as the website widget does."""

from __future__ import annotations

import requests

from channels.sender_ids import new_web_sender


class Conversation:
    def __init__(self, assistant, sender: str | None = None) -> None:
        self.assistant = assistant
        self.sender = sender or new_web_sender()  # the only form the REST channel accepts
        self.replies: list[dict] = []
        self.transcript: list[str] = []

    def say(self, text: str) -> list[dict]:
        response = requests.post(
            f"{self.assistant.url}/webhooks/rest/webhook", json={"sender": self.sender, "message": text}, timeout=60
        )
        response.raise_for_status()
        self.replies = response.json()
        self.transcript.append(f"USER: {text}")
        self.transcript += [f"BOT: {r.get('text', '')}" for r in self.replies]
        return self.replies

    def tap(self, title: str) -> list[dict]:
        """Taps the button with this title from the last replies (sends its payload)."""
        for reply in self.replies:
            for button in reply.get("buttons") or []:
                if button["title"] == title:
                    return self.say(button["payload"])
        raise AssertionError(f"No button {title!r} in {self.buttons()}; transcript:\n{self.dump()}")

    def buttons(self) -> list[str]:
        return [b["title"] for r in self.replies for b in (r.get("buttons") or [])]

    @property
    def text(self) -> str:
        return "\n".join(r.get("text", "") for r in self.replies)

    def slots(self) -> dict:
        return self.assistant.tracker(self.sender)["slots"]

    def dump(self) -> str:
        return "\n".join(self.transcript[-30:])
