"""What the fault tests check about a conversation, in one place."""

from __future__ import annotations

APOLOGY_START = "Sorry, something went wrong on our side"


def apologised(conversation) -> bool:
    return len(conversation.replies) == 1 and conversation.text.startswith(APOLOGY_START)


def payload_of(replies, title: str) -> str:
    """A button's payload from earlier replies, to send again after an apology (which has no buttons)."""
    for reply in replies:
        for button in reply.get("buttons") or []:
            if button["title"] == title:
                return button["payload"]
    raise AssertionError(f"No button {title!r} in {replies}")


def user_texts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "user"]


def completed_turns(conversation) -> list[str]:
    """The messages sent whose turn completed (not answered by the apology): exactly those
    the stored conversation must hold, in order."""
    lines = conversation.transcript
    turns = []
    for i, line in enumerate(lines):
        if line.startswith("USER: "):
            reply = lines[i + 1] if i + 1 < len(lines) else ""
            if not reply.startswith(f"BOT: {APOLOGY_START}"):
                turns.append(line[len("USER: ") :])
    return turns
