"""Keeps message text, names, phone numbers and emails out of the logs at INFO and above.

Where patient data reaches Rasa's and rasa-sdk's logs at INFO or above (3.6.21 / 3.6.2,
read from their source; docs/deployment.md lists them):
- rasa's REST channel logs the patient's message (`text=...`) when handling it fails or times out;
- a failing custom action: rasa-sdk answers 500 with the whole request (tracker: every
  message and slot, the consultation form's name and contact) and Rasa logs that body in the
  ClientResponseError of its traceback;
- SQLAlchemy errors (tracker store, our consultation store) carry `[parameters: ...]`, the
  row being written: message text, names, phone numbers;
- event deserialisation warnings log the whole event; the circuit-breaker warning logs the
  sender id, which is a phone number on SMS/WhatsApp;
- error responses of the HTTP API log exception texts.

So redaction cannot be left to Rasa: every record at INFO or above is rewritten before any
handler sees it, by a log-record factory (``install``). A factory, not only a handler filter,
because Rasa and rasa-sdk add handlers of their own after reading the logging config
(coloredlogs on the root logger) and Sanic's loggers stop propagating, so a filter on our
handler would miss records. ``RedactingFilter`` is for handlers (it also covers the fields
Sanic's access log adds after the record is made).

What is masked: email addresses, phone numbers (7+ digits), SQL parameter lists, and quoted
strings that are not plain lower-case identifiers (message text, names, slot values in a
dict or JSON), plus any quoted value of a key that holds user data ("text", "contact_name").
What it cannot see: a name or message written into a log message without quotes; our own
code never does that (tests/security/test_log_redaction.py reads every process's log after a
real conversation). DEBUG records are left alone for local debugging; production mode
refuses debug logging (security/production_settings.py).

Install: every Rasa and action server is started with ``--logging-config-file
security/logging.yml``; the Rasa server's extension list (serving/extensions.py) also calls
``install()`` if the logging config did not; the portal calls ``install()``.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable

MIN_LEVEL = logging.INFO
EMAIL_MASK, PHONE_MASK, TEXT_MASK, PARAMETERS_MASK = "[email]", "[phone]", "[redacted]", "[parameters: redacted]"
MASKS = (EMAIL_MASK, PHONE_MASK, TEXT_MASK)

EMAIL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 7-15 digits with spaces, hyphens or brackets between them (07700 900123, +44 (0)7700-900123,
# whatsapp:+447700900123). Not inside a word or a dotted number (uuids, versions, IPs).
PHONE_RE = re.compile(r"(?<![\w.\-])\+?(?:\(\d{1,5}\)\s?)?\d(?:[\s\-]?(?:\(\d{1,5}\)\s?)?\d){5,}(?![\w.\-])")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# SQLAlchemy appends the bound values of a failed statement: the row being written.
# An HTTP error's body (Rasa's ClientResponseError): from the action server that is the whole
# tracker, every message and slot. Masked whole, to the end of the line.
RESPONSE_BODY_RE = re.compile(r"\bbody='.*")
SQL_PARAMETERS_RE = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.S)
# A quoted string, double or single; an apostrophe inside a word (couldn't) opens nothing.
# Any run of backslashes escapes the next character: JSON inside a repr is escaped twice
# (\\" for a quote in a message), and must not end the string early and expose the rest.
QUOTED_RE = re.compile(r"\"(?:[^\"\\\n]|\\+[^\n])*\"|(?<![A-Za-z])'(?:[^'\\\n]|\\+[^\n])*'")
# Quoted content that is safe to keep: lower-case identifiers, event and action names,
# paths and URLs without user data (utter_greet, rest.message.received.failure, /webhook).
SAFE_QUOTED_RE = re.compile(r"^[a-z0-9_.:/\-]*$")
# Keys whose values are user data even when they look like an identifier ("text": "yes").
USER_DATA_KEYS = {
    "text",
    "message",
    "value",
    "name",
    "contact_name",
    "contact_details",
    "contact_times",
    "sender",
    "sender_id",
    "conversation_id",
    "body",
    "request_body",
    "metadata",
    "input_channel_text",
    "email",
    "phone",
}
KEY_BEFORE_RE = re.compile(r"[\"']?(\w+)[\"']?\s*[:=]\s*$")
TRACEBACK_FRAME_RE = re.compile(r'^\s*File "[^"]*", line \d+')


def _mask_phone(match: re.Match[str]) -> str:
    candidate = match.group(0)
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15 or ISO_DATE_RE.match(candidate.strip()):
        return candidate
    return PHONE_MASK


def _mask_quoted(text: str) -> str:
    pieces, last = [], 0
    for match in QUOTED_RE.finditer(text):
        quote, content = match.group(0)[0], match.group(0)[1:-1]
        key = KEY_BEFORE_RE.search(text[max(0, match.start() - 40) : match.start()])
        keep = (
            content in MASKS or SAFE_QUOTED_RE.match(content) and not (key and key.group(1).lower() in USER_DATA_KEYS)
        )
        pieces.append(text[last : match.start()])
        pieces.append(match.group(0) if keep or not content else f"{quote}{TEXT_MASK}{quote}")
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


def redact(text: str) -> str:
    """The text with emails, phone numbers, SQL parameters and quoted user text masked."""
    if not text:
        return text
    text = SQL_PARAMETERS_RE.sub(PARAMETERS_MASK, text)
    text = RESPONSE_BODY_RE.sub(f"body='{TEXT_MASK}'", text)
    text = EMAIL_RE.sub(EMAIL_MASK, text)
    text = PHONE_RE.sub(_mask_phone, text)
    return _mask_quoted(text)


def redact_traceback(text: str) -> str:
    """A formatted traceback with exception texts and source lines redacted, frame lines kept."""
    return "\n".join(line if TRACEBACK_FRAME_RE.match(line) else redact(line) for line in text.split("\n"))


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrites a record at INFO or above in place: message, traceback and stack."""
    if record.levelno < MIN_LEVEL or getattr(record, "_redacted", False):
        return record
    try:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact_traceback(record.exc_text)
        # Only the redacted text leaves here: no handler can format the raw exception again.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = redact_traceback(record.stack_info)
    except Exception:  # noqa: BLE001 - a log call must never fail, nor leak when it cannot be read
        record.msg, record.args, record.exc_info, record.exc_text = (
            "[log message withheld: it could not be redacted]",
            None,
            None,
            None,
        )
    record._redacted = True
    return record


class RedactingFilter(logging.Filter):
    """Handler filter: redacts the record, and the request line Sanic's access log adds."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        if record.levelno >= MIN_LEVEL and isinstance(getattr(record, "request", None), str):
            record.request = redact(record.request)
        return True


_previous_factory: Callable[..., logging.LogRecord] | None = None


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    return redact_record(_previous_factory(*args, **kwargs))


def install() -> None:
    """Redacts every log record of this process from now on (idempotent)."""
    global _previous_factory
    if is_installed():
        return
    _previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_redacting_factory)
    # Python warnings (Rasa's raise_warning) can quote messages too: route them through logging.
    logging.captureWarnings(True)


def is_installed() -> bool:
    return logging.getLogRecordFactory() is _redacting_factory


def uninstall() -> None:
    """For tests: restores the factory that was active before install()."""
    global _previous_factory
    if is_installed():
        logging.setLogRecordFactory(_previous_factory)
        logging.captureWarnings(False)
        _previous_factory = None


def filter_from_config() -> RedactingFilter:
    """Used by security/logging.yml (dictConfig's "()"): installs redaction for the whole
    process, because loading the logging config is the first thing both servers do at
    start-up (Rasa's and rasa-sdk's CLI); and returns the handler filter."""
    install()
    return RedactingFilter()
