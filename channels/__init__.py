"""Messaging channels for the assistant: Twilio (SMS and WhatsApp) and Telegram.

Both are Rasa custom input channels, enabled through credentials.channels.yml:

- twilio.py       Twilio's messaging webhook, X-Twilio-Signature checked
- telegram.py     Telegram's bot webhook, secret-token header checked
- turns.py        one patient message -> one bot turn, shared by both channels
- text_buttons.py buttons as numbered options, replies mapped back to payloads, splitting
- outbound.py     calls to the platforms' APIs with retries, and privacy-safe log ids
- replay.py       a bounded memory of recently seen message ids

See docs/messaging-channels.md for how a clinic connects a number or a bot.
"""

# Every Rasa server of this project loads its channels from here, so this is where the
# server-side extensions in serving/ are switched on (see serving/__init__.py).
import serving  # noqa: E402,F401  (imported for its start-up effect)
