"""Talk to a running assistant over Rasa's REST channel from a terminal.

    .venv/bin/python scripts/chat.py [--url http://127.0.0.1:5005] [--sender web-<24 hex digits>] [message ...]

With messages on the command line it sends each in turn and prints the replies;
without, it reads lines from the keyboard. Type a button's number to tap it. Each run is a
new conversation with an id of the widget's form (the only form the REST channel accepts,
channels/sender_ids.py); --sender continues an earlier one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from channels.sender_ids import WEB_SENDER, new_web_sender  # noqa: E402


def send(url: str, sender: str, text: str) -> list:
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    return response.json()


def show(replies: list) -> list:
    buttons = []
    for reply in replies:
        if reply.get("text"):
            print(f"BOT: {reply['text']}")
        for b in reply.get("buttons") or []:
            buttons.append(b)
            print(f"   [{len(buttons)}] {b['title']}")
    return buttons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--sender", default=new_web_sender())
    parser.add_argument("messages", nargs="*")
    args = parser.parse_args()
    if not WEB_SENDER.fullmatch(args.sender):
        parser.error('--sender must be "web-" and 24 to 32 lowercase hex digits, as the widget makes them')
    buttons: list = []
    lines = args.messages or iter(lambda: input("YOU: "), None)
    try:
        for line in lines:
            text = line.strip()
            if text.isdigit() and buttons and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1]["payload"]
            if args.messages:
                print(f"YOU: {line}")
            buttons = show(send(args.url, args.sender, text))
    except (EOFError, KeyboardInterrupt):
        print()
    except requests.RequestException as error:
        print(f"Cannot reach the assistant at {args.url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
