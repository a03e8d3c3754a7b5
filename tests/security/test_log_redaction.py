"""The log redaction filter: what is masked, what is kept, and that it applies to every
handler (tracebacks, %-args, structlog-style JSON, Sanic's access line)."""

import io
import json
import logging
import warnings

import pytest

from security import log_redaction
from security.log_redaction import redact

NAME, PHONE, EMAIL = "Testy McTestface", "07700 900123", "test@example.org"
ANSWER = "my jaw clicks whenever I eat Zanzibar toffee"


@pytest.fixture
def captured():
    """A logger whose output is captured by a plain handler with no filter of its own."""
    log_redaction.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.security.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    log_redaction.uninstall()


@pytest.mark.parametrize(
    "phone",
    [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "+44 (0)7700-900123",
        "whatsapp:+447700900123",
        "(020) 7946 0018",
    ],
)
def test_phone_numbers_are_masked(phone):
    assert redact(f"contact {phone} today").count("[phone]") == 1
    assert not any(ch.isdigit() for ch in redact(f"contact {phone} today"))


@pytest.mark.parametrize("email", ["test@example.org", "first.last+tag@mail.example.co.uk", "o'neil@example.org"])
def test_emails_are_masked(email):
    assert redact(f"write to {email}.") == "write to [email]."


@pytest.mark.parametrize(
    "kept",
    [
        "Starting Rasa server on http://127.0.0.1:5005",
        "at 2026-11-21 19:00:31 pid 4242",
        "conversation 3f9a1234-1234-5678-9abc-123456789012",
        "Failed to run custom action 'action_submit_consultation'.",
        "Couldn't create message for response 'utter_greet'.",
        "event.deserialization.failed",
    ],
)
def test_operational_details_are_kept(kept):
    assert redact(kept) == kept


def test_quoted_message_text_and_names_are_masked():
    assert redact(f"rest.message.received.failure text='{ANSWER}'") == "rest.message.received.failure text='[redacted]'"
    assert redact(f"Circuit breaker tripped for sender '{NAME}'.") == "Circuit breaker tripped for sender '[redacted]'."
    # A capitalised single word (a first name) is not an identifier either.
    assert redact("for sender 'Testy'") == "for sender '[redacted]'"


def test_values_of_user_data_keys_are_masked_even_when_they_look_harmless():
    event = {
        "event": "user",
        "text": "yes",
        "parse_data": {"intent": {"name": "affirm"}},
        "slots": {"contact_name": "testy", "contact_details": EMAIL, "patient_age": 34},
    }
    redacted = redact(json.dumps(event))
    assert json.loads(redacted)["text"] == "[redacted]"
    assert json.loads(redacted)["slots"] == {
        "contact_name": "[redacted]",
        "contact_details": "[email]",
        "patient_age": 34,
    }
    assert json.loads(redacted)["event"] == "user"  # identifiers are kept for diagnosis ...
    # ... but not under "name", which may be a person's (an intent's name is masked too).
    assert json.loads(redacted)["parse_data"] == {"intent": {"name": "[redacted]"}}
    assert "testy" not in redact(repr(event))


def test_sqlalchemy_parameters_are_masked_and_the_statement_kept():
    error = (
        "(sqlite3.IntegrityError) NOT NULL constraint failed: consultation_requests.x\n"
        "[SQL: INSERT INTO consultation_requests (name, contact) VALUES (?, ?)]\n"
        f"[parameters: ('{NAME}', 'testy [at] home', '07700900123')]\n"
        "(Background on this error at: https://sqlalche.me/e/14/gkpj)"
    )
    redacted = redact(error)
    assert "[parameters: redacted]" in redacted and "INSERT INTO consultation_requests" in redacted
    assert "Testy" not in redacted and "home" not in redacted and "07700" not in redacted


def test_rasa_sdk_error_body_in_a_client_response_error_is_masked():
    # What Rasa logs when a custom action fails: rasa-sdk's 500 body holds the whole tracker.
    body = json.dumps(
        {
            "error": "boom",
            "request_body": {
                "tracker": {"slots": {"contact_name": NAME}, "events": [{"event": "user", "text": ANSWER}]}
            },
        }
    )
    line = f"rasa.utils.endpoints.ClientResponseError: 500, Internal Server Error, body='b'{body}''"
    redacted = redact(line)
    assert NAME not in redacted and "Zanzibar" not in redacted
    assert redacted.startswith("rasa.utils.endpoints.ClientResponseError: 500, Internal Server Error")


def test_percent_args_are_redacted_after_formatting(captured):
    logger, stream = captured
    logger.warning("could not process %s from %s (%d)", f"'{ANSWER}'", PHONE, 3)
    assert stream.getvalue() == "WARNING could not process '[redacted]' from [phone] (3)\n"


def test_non_string_messages_are_redacted(captured):
    logger, stream = captured
    logger.error(ValueError(f"bad contact {EMAIL}"))
    assert stream.getvalue() == "ERROR bad contact [email]\n"


def test_exception_tracebacks_are_redacted_but_keep_their_frames(captured):
    logger, stream = captured
    try:
        raise RuntimeError(f"could not save {{'contact_name': '{NAME}', 'contact_details': '{EMAIL}'}}")
    except RuntimeError:
        logger.exception("Could not store a consultation request")
    output = stream.getvalue()
    assert NAME not in output and EMAIL not in output
    assert "Traceback (most recent call last):" in output
    assert 'test_log_redaction.py", line' in output  # where it happened stays readable
    assert "RuntimeError: could not save {'contact_name': '[redacted]', 'contact_details': '[email]'}" in output


def test_chained_exceptions_are_redacted(captured):
    logger, stream = captured
    try:
        try:
            raise KeyError(f"{PHONE}")
        except KeyError as cause:
            raise RuntimeError("Failed to execute custom action 'action_show_summary'") from cause
    except RuntimeError:
        logger.exception("Encountered an exception while running action")
    output = stream.getvalue()
    assert "07700" not in output and "The above exception was the direct cause" in output
    assert "'action_show_summary'" in output


def test_stack_info_is_redacted(captured):
    logger, stream = captured
    logger.info(f"saw {EMAIL}", stack_info=True)
    assert EMAIL not in stream.getvalue() and "Stack (most recent call last)" in stream.getvalue()


def test_debug_records_are_left_alone_for_local_debugging(captured):
    logger, stream = captured
    logger.debug("Received user message %s", f"'{ANSWER}'")
    assert ANSWER in stream.getvalue()


def test_records_are_redacted_for_handlers_added_after_install(captured):
    # Rasa adds its coloredlogs handler after reading the logging config: it must not leak.
    logger, _ = captured
    late = io.StringIO()
    handler = logging.StreamHandler(late)
    logger.addHandler(handler)
    try:
        logger.error("text=%r", ANSWER)
    finally:
        logger.removeHandler(handler)
    assert late.getvalue() == "text='[redacted]'\n"


def test_python_warnings_go_through_redaction(captured):
    root_stream = io.StringIO()
    handler = logging.StreamHandler(root_stream)
    logging.getLogger("py.warnings").addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn(f'Failed to parse arguments in line \'/inform{{"name": "{NAME}"\'', stacklevel=1)
    finally:
        logging.getLogger("py.warnings").removeHandler(handler)
    assert "Failed to parse arguments" in root_stream.getvalue() and NAME not in root_stream.getvalue()


def test_handler_filter_redacts_sanic_access_request_line():
    log_redaction.uninstall()
    record = logging.LogRecord("sanic.access", logging.INFO, __file__, 1, "", None, None)
    record.request = "GET http://127.0.0.1:5005/conversations/whatsapp:+447700900123/tracker"
    assert log_redaction.RedactingFilter().filter(record) is True
    assert record.request == "GET http://127.0.0.1:5005/conversations/whatsapp:[phone]/tracker"


def test_the_logging_config_installs_redaction_for_the_whole_process():
    import logging.config
    from pathlib import Path

    import yaml

    log_redaction.uninstall()
    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "security" / "logging.yml").read_text())
    existing = logging.getLogger("rasa.core.processor")
    try:
        logging.config.dictConfig(config)
        assert log_redaction.is_installed()
        assert existing.disabled is False  # Rasa's loggers, made before the config, still log
    finally:
        log_redaction.uninstall()


def test_a_record_that_cannot_be_formatted_is_withheld(captured):
    logger, stream = captured
    logger.error("%d items", "not a number")
    assert stream.getvalue() == "ERROR [log message withheld: it could not be redacted]\n"


def test_quotes_escaped_twice_do_not_end_the_masked_text_early():
    # JSON in a repr: a quote in the patient's message arrives as \\" and must stay masked.
    message = json.dumps({"text": f'my name is "{NAME}"'})
    for text in (repr(message), repr(repr(message))):
        assert "Testy" not in redact(f"Error: {text}"), redact(f"Error: {text}")


def test_an_http_error_body_is_masked_whole():
    body = repr(
        json.dumps({"error": "x", "request_body": {"tracker": {"events": [{"text": 'he said "Testy"'}]}}}).encode()
    )
    assert (
        redact(f"ClientResponseError: 500, Internal Server Error, body='{body}'")
        == "ClientResponseError: 500, Internal Server Error, body='[redacted]'"
    )
