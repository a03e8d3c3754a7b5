"""X-Twilio-Signature: our implementation against Twilio's documented algorithm and against
Twilio's own helper library (installed with Rasa), with a throw-away test token."""

import base64
import hashlib
import hmac

import pytest
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from channels.twilio import compute_signature, is_valid_signature, parse_form

TOKEN = "test-auth-token-not-a-real-one"
URL = "https://chat.clinic.example/webhooks/twilio_verified/webhook"
# Fictional numbers (Ofcom's drama range) and a made-up SID.
PARAMS = {
    "MessageSid": ["SM" + "0123456789abcdef" * 2],
    "AccountSid": ["AC" + "f" * 32],
    "From": ["+447700900123"],
    "To": ["+447700900999"],
    "Body": ["Yes, that’s okay & more: 50% = ½"],
    "NumMedia": ["0"],
    "MediaUrl0": [""],  # empty values are signed too
}


def twilio_library_signature(url, params):
    """Twilio's helper library reads repeated form fields from a MultiDict."""
    form = MultiDict((name, value) for name, values in params.items() for value in values)
    return RequestValidator(TOKEN).compute_signature(url, form)


def test_signature_is_hmac_sha1_over_url_then_sorted_names_and_values():
    params = {"To": ["+447700900999"], "Body": ["hi"], "From": ["+447700900123"]}
    signed = URL + "Body" + "hi" + "From" + "+447700900123" + "To" + "+447700900999"
    expected = base64.b64encode(hmac.new(TOKEN.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    assert compute_signature(TOKEN, URL, params) == expected


@pytest.mark.parametrize("url", [URL, URL + "?clinic=north&x=1", "http://127.0.0.1:8080/hook"])
def test_signature_matches_twilios_own_library(url):
    assert compute_signature(TOKEN, url, PARAMS) == twilio_library_signature(url, PARAMS)


def test_repeated_names_are_signed_in_value_order_like_twilios_library():
    params = {"MediaUrl": ["https://b.example/2", "https://a.example/1", "https://b.example/2"], "Body": [""]}
    assert compute_signature(TOKEN, URL, params) == twilio_library_signature(URL, params)


def test_a_valid_signature_is_accepted_and_any_change_is_not():
    signature = twilio_library_signature(URL, PARAMS)
    assert is_valid_signature(TOKEN, URL, PARAMS, signature)
    assert not is_valid_signature("another-token", URL, PARAMS, signature)
    assert not is_valid_signature(TOKEN, URL + "x", PARAMS, signature)
    assert not is_valid_signature(TOKEN, URL, {**PARAMS, "Body": ["No"]}, signature)
    assert not is_valid_signature(TOKEN, URL, {**PARAMS, "Extra": ["1"]}, signature)
    assert not is_valid_signature(TOKEN, URL, PARAMS, "")
    assert not is_valid_signature(TOKEN, URL, PARAMS, signature[:-2] + "A=")


def test_twilio_may_sign_the_url_with_or_without_the_default_port():
    with_port = "https://chat.clinic.example:443/webhooks/twilio_verified/webhook"
    signed_with_port = compute_signature(TOKEN, with_port, PARAMS)
    assert is_valid_signature(TOKEN, URL, PARAMS, signed_with_port)
    assert is_valid_signature(TOKEN, with_port, PARAMS, compute_signature(TOKEN, URL, PARAMS))
    # another port is another URL
    assert not is_valid_signature(
        TOKEN, URL, PARAMS, compute_signature(TOKEN, URL.replace(".example", ".example:8443"), PARAMS)
    )


def test_form_bodies_are_parsed_with_blank_values_and_rejected_when_not_form_data():
    body = b"Body=Yes%2C+that%E2%80%99s+okay&MediaUrl0=&From=%2B447700900123"
    assert parse_form(body) == {"Body": ["Yes, that’s okay"], "MediaUrl0": [""], "From": ["+447700900123"]}
    assert parse_form(b"") == {}
    assert parse_form(b"\xff\xfe=1") is None  # not UTF-8
    assert parse_form(b"just some text") is None  # no name=value pairs
