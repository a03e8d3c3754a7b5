"""Tests for clinical/contact.py: phone numbers (phonenumbers, in the clinic's region, stored
as E.164) and e-mail addresses (email-validator, syntax only, no network) in the consultation
request. The form's behaviour around them is in tests/test_actions.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinical.clinic import load_clinic_settings
from clinical.contact import is_region, parse_contact, parse_email, parse_phone

CLINIC_YML = Path(__file__).resolve().parents[1] / "clinic.yml"

# Numbers: Ofcom's drama range for London (020 7946 0xxx) and libphonenumber's own example
# mobile (07400 123456). Ofcom's drama mobiles (07700 900xxx) are not valid numbers to the
# library, so they are refused like any other number no phone can have.


@pytest.mark.parametrize(
    "text, expected",
    [
        ("07400 123456", "+447400123456"),  # national format, with a space
        ("07400123456", "+447400123456"),
        ("(020) 7946-0000", "+442079460000"),  # brackets and a dash
        ("020 7946 0123", "+442079460123"),
        ("call me on +44 20 7946 0000", "+442079460000"),  # international format, in a sentence
        ("+44 (0)20 7946 0000", "+442079460000"),  # the (0) people write after +44
        ("0044 20 7946 0000", "+442079460000"),  # 00 instead of +
        ("my number is 020 7946 0123.", "+442079460123"),
        ("+353 1 234 5678", "+35312345678"),  # another country, with its code
        ("+1 (415) 555-2671", "+14155552671"),
    ],
)
def test_phone_numbers_are_stored_in_e164(text, expected):
    assert parse_phone(text, "GB") == expected
    assert parse_contact(text, "GB") == ("phone", expected)


@pytest.mark.parametrize(
    "text",
    [
        "01632 960000",  # well shaped, but 01632 is no area code (Ofcom's fictional range)
        "07700 900123",  # well shaped, but a drama number no phone can have
        "+44 20 7946 000",  # a digit short
        "12345",
        "1234567890123456",  # too long for any number
        "call me",
    ],
)
def test_invalid_phone_numbers_are_refused(text):
    assert parse_phone(text, "GB") is None
    assert parse_contact(text, "GB") is None


def test_a_number_without_country_code_is_read_in_the_clinics_region():
    assert parse_phone("01 234 5678", "IE") == "+35312345678"
    assert parse_phone("01 234 5678", "GB") is None
    assert parse_phone("(415) 555-2671", "US") == "+14155552671"
    assert parse_phone("07400 123456", "US") is None
    # a number with its country code is the same number whatever the clinic's region
    assert parse_phone("+44 7400 123456", "US") == "+447400123456"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sam@example.org", "sam@example.org"),
        ("Sam.Smith@Example.ORG", "Sam.Smith@example.org"),  # domain lower-cased, local part as typed
        ("email me at o'brien+jaw@mail.example.co.uk please", "o'brien+jaw@mail.example.co.uk"),
        ("email: sam@example.org, thanks", "sam@example.org"),
        ("sam@example.org.", "sam@example.org"),  # the sentence's full stop
        ("<sam@example.org>", "sam@example.org"),
        ("anna@bücher.example", "anna@bücher.example"),  # a Unicode (IDN) domain
        ("anna@BÜCHER.Example", "anna@bücher.example"),
        ("josé@example.org", "josé@example.org"),  # a Unicode local part
    ],
)
def test_email_addresses_are_validated_and_normalised(text, expected):
    assert parse_email(text) == expected
    assert parse_contact(text, "GB") == ("email", expected)


@pytest.mark.parametrize(
    "text",
    ["sam@example", "sam@@example.org", "sam@example..org", "sam at example dot org", "sam@localhost", "@example.org"],
)
def test_invalid_email_addresses_are_refused(text):
    assert parse_email(text) is None
    assert parse_contact(text, "GB") is None


def test_an_email_address_wins_over_a_number_in_the_same_message():
    assert parse_contact("07400 123456 or sam@example.org", "GB") == ("email", "sam@example.org")


def test_stored_values_read_back_as_the_same_kind():
    # SubmitConsultation reads the stored slot again to tell a phone from an e-mail
    for stored in ("+447400123456", "+14155552671", "anna@bücher.example"):
        kind, value = parse_contact(stored, "GB")
        assert value == stored and kind == ("email" if "@" in stored else "phone")


def test_the_email_check_never_uses_the_network(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the e-mail check went to the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert parse_email("sam@example.org") == "sam@example.org"


def test_region_setting_is_validated(tmp_path, monkeypatch):
    assert is_region("GB") and is_region("IE") and is_region("US")
    assert not is_region("gb") and not is_region("UK") and not is_region("")
    raw = yaml.safe_load(CLINIC_YML.read_text(encoding="utf-8"))
    path = tmp_path / "clinic.yml"
    try:
        for region, ok in (("IE", True), ("UK", False), ("England", False)):
            path.write_text(yaml.safe_dump({**raw, "region": region}), encoding="utf-8")
            load_clinic_settings.cache_clear()
            if ok:
                assert load_clinic_settings(path).region == region
            else:
                with pytest.raises(ValueError, match="region"):
                    load_clinic_settings(path)
        path.write_text(yaml.safe_dump({k: v for k, v in raw.items() if k != "region"}), encoding="utf-8")
        load_clinic_settings.cache_clear()
        assert load_clinic_settings(path).region == "GB"  # the default
    finally:
        load_clinic_settings.cache_clear()
