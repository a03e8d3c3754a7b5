"""channels/request_body.py: the REST body is bounded before it is parsed (issue 26).

Pure: no Rasa, no server. The same bodies through the running assistant are in
tests/security/test_conversation_boundaries_e2e.py."""

import json
import time

import pytest

from channels.request_body import (
    MAX_JSON_DEPTH,
    MAX_METADATA_BYTES,
    METADATA_KEYS,
    BadBody,
    RestMessage,
    nested_deeper_than,
    read_message,
)
from tests.support.malformed_bodies import mutations

SENDER = "web-" + "ab" * 12


def body(**fields) -> bytes:
    return json.dumps({"sender": SENDER, "message": "hi", **fields}).encode()


def refusal(raw: bytes) -> str:
    with pytest.raises(BadBody) as refused:
        read_message(raw)
    return str(refused.value)


# ---- nesting depth, before json.loads ---------------------------------------------------


def test_a_thousand_brackets_are_refused_before_parsing_not_a_recursion_error():
    # The 500: 2 KB that made json.loads raise RecursionError.
    assert "nested too deeply" in refusal(b"[" * 1000 + b"]" * 1000)
    assert "nested too deeply" in refusal(b"[" * 100_000)  # unclosed too


def test_the_depth_limit_is_exact_and_counts_objects_and_arrays():
    def document(depth):  # the body's own object, then depth - 1 containers inside "metadata"
        value = "x"
        for level in range(depth - 1):
            value = [value] if level % 2 else {"k": value}
        return json.dumps({"sender": SENDER, "message": "hi", "metadata": value}).encode()

    assert not nested_deeper_than(document(MAX_JSON_DEPTH), MAX_JSON_DEPTH)
    assert nested_deeper_than(document(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)


def test_metadata_nested_hundreds_deep_is_refused():
    # The "[]" reply, stored half-turn and 2,000 log lines: metadata 520-800 deep.
    deep = {"a": json.loads("[" * 600 + "]" * 600)}
    assert "nested too deeply" in refusal(body(metadata=deep))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 500,  # brackets inside a string are text, not nesting
        '\\"[[[[[[[[[[[[',  # an escaped quote does not end the string
        "\\\\",  # an escaped backslash does
        "{{{{{{{{{{{{{{{{}}}}",
    ],
)
def test_brackets_inside_strings_do_not_count(text):
    raw = b'{"sender": "%s", "message": "%s"}' % (SENDER.encode(), text.encode())
    assert read_message(raw).text == json.loads(raw)["message"]


def test_stray_closing_brackets_earn_no_credit_for_deeper_nesting_later():
    assert nested_deeper_than(b"]" * 50 + b"[" * (MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)


@pytest.mark.parametrize(
    "raw",
    [
        b'"' + b'\\"' * 32_000,  # an unterminated string of escaped quotes: each could start one
        b'"\\' * 32_000,
        b"[" + b'"x",' * 16_000,
    ],
)
def test_the_depth_scan_stays_linear_on_a_64_kb_body(raw):
    started = time.perf_counter()
    nested_deeper_than(raw, MAX_JSON_DEPTH)
    assert time.perf_counter() - started < 0.5


# ---- metadata: size and keys --------------------------------------------------------------


def test_metadata_over_the_limit_is_refused_with_the_limit_named():
    message = refusal(body(metadata={"k": "x" * MAX_METADATA_BYTES}))
    assert '"metadata" is too large' in message and f"{MAX_METADATA_BYTES:,}" in message
    # The 60 KB: stored twice over, 3 MB for 25 turns.
    assert "too large" in refusal(body(metadata={"k": "x" * 60_000}))


def test_metadata_keys_the_project_does_not_read_are_dropped():
    # only the tapped message's id (channels/taps.py reads and checks it)
    assert METADATA_KEYS == frozenset({"reply_to"})
    assert read_message(body(metadata={"page": "/treatment", "input_channel": "twilio"})).metadata is None


def test_metadata_keys_on_the_allow_list_are_kept_and_only_they():
    message = read_message(body(metadata={"message_id": "m-1", "other": 1}), allowed_metadata=frozenset({"message_id"}))
    assert message == RestMessage(SENDER, "hi", {"message_id": "m-1"})


def test_metadata_with_lone_surrogates_is_measured_not_crashed_on():
    assert read_message(body(metadata={"k": "\ud800"})).metadata is None


# ---- every malformed body is BadBody, with a message ----------------------------------------


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"", "must be JSON"),
        (b"\xff{}", "UTF-8"),
        (b"1" * 5000, "must be JSON"),  # past Python's integer-digits limit: ValueError
        (b"[]", "JSON object"),
        (json.dumps({"sender": "+447700900123", "message": "I want to change an answer"}).encode(), '"sender"'),
        (json.dumps({"sender": "whatsapp:+447700900123", "message": "hi"}).encode(), "web-"),
        (json.dumps({"sender": 900000001, "message": "hi"}).encode(), "24 to 32"),
        (json.dumps({"sender": SENDER, "message": "hi", "metadata": [1]}).encode(), '"metadata"'),
    ],
)
def test_malformed_bodies_say_what_is_wrong(raw, words):
    assert words in refusal(raw)


def test_five_thousand_mutated_bodies_give_a_message_or_a_bad_body_never_anything_else():
    started, outcomes = time.perf_counter(), {"ok": 0, "refused": 0}
    for raw in mutations(26, 5000):
        try:
            message = read_message(raw)
        except BadBody as problem:
            assert 10 < len(str(problem)) < 200
            outcomes["refused"] += 1
        else:
            assert isinstance(message.text, str) and message.metadata is None
            outcomes["ok"] += 1
    assert outcomes["refused"] > 1000 and time.perf_counter() - started < 10, outcomes
