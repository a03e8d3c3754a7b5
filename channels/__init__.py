"""Messaging channels for the assistant: Twilio (SMS and WhatsApp) and Telegram.

Both are Rasa custom input channels, enabled through credentials.channels.yml:

- twilio.py       Twilio's messaging webhook, X-Twilio-Signature checked
- telegram.py     Telegram's bot webhook, secret-token header checked
- turns.py        one patient message -> one bot turn, shared by both channels
- text_buttons.py buttons as numbered options, replies mapped back to payloads, splitting
- outbound.py     calls to the platforms' APIs with retries, and privacy-safe log ids
- replay.py       a bounded memory of recently seen message ids
- rest_guarded.py Rasa's REST channel (the widget's) with body, rate and input limits
- request_body.py the REST body's bounds (depth, metadata) and its fields, before Rasa
- sender_ids.py   the conversation ids each channel may name (the widget's "web-<hex>")
- guard.py        every channel's screen for empty, huge, foreign-language and command text
- input_limits.py / rate_limit.py  the limits' settings and per-sender / per-IP buckets

See docs/messaging-channels.md for how a clinic connects a number or a bot, and
docs/security-input.md for the limits.

Each channel's from_credentials refuses to start a Rasa server that was started without
the project's server extensions (serving/extensions.py: `python -m serving run`, not
`rasa run`). Importing this package installs nothing.
"""
