"""Contact details for a consultation request: a phone number or an e-mail address.

Pure Python, no Rasa. Phone numbers are read with ``phonenumbers`` (Google's libphonenumber
metadata) in the clinic's region (``region`` in clinic.yml), so "07911 123456",
"(020) 7946-0000", "+44 20 7946 0000" and "0044 20 7946 0000" are one kind of thing, and a
well-shaped number that no operator can have is refused. They are stored in E.164 form
("+442079460000"). E-mail addresses are checked with ``email-validator`` for their syntax
only: ``check_deliverability=False``, so nothing goes to the network; the stored form is the
library's normalised one (the domain in lower case and Unicode, the local part as typed).
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "GB"
# A word with an @ in it, as typed in a sentence ("email me at sam@example.org, thanks").
_EMAIL_CANDIDATE = re.compile(r"[^\s<>()\[\],;:\"]+@[^\s<>()\[\],;:\"]+")
_TRAILING = ".!?'’"


def is_region(region: str) -> bool:
    """A region code the phone-number library knows ("GB", "IE", "US", ...)."""
    return region in phonenumbers.SUPPORTED_REGIONS


def parse_email(text: str) -> str | None:
    """The first valid e-mail address in the text, normalised; None when there is none."""
    for candidate in _EMAIL_CANDIDATE.findall(text or ""):
        try:
            return validate_email(candidate.strip(_TRAILING), check_deliverability=False).normalized
        except EmailNotValidError:
            continue
    return None


def parse_phone(text: str, region: str = DEFAULT_REGION) -> str | None:
    """The first valid phone number in the text in E.164 form ("+447911123456"); numbers
    without a country code are read as the clinic's region's. None when there is none."""
    for match in phonenumbers.PhoneNumberMatcher(text or "", region, leniency=phonenumbers.Leniency.VALID):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def parse_contact(text: str, region: str = DEFAULT_REGION) -> tuple[str, str] | None:
    """('email' | 'phone', normalised value), or None when the text holds neither.
    An e-mail address wins when both are there (its digits could look like a number)."""
    email = parse_email(text)
    if email:
        return "email", email
    phone = parse_phone(text, region)
    if phone:
        return "phone", phone
    return None


def dialable(number: str, region: str = DEFAULT_REGION) -> str:
    """A configured phone number (clinic.yml) in the form phones dial and detect in a text:
    E.164 ("+442079460000") when it is a full number of the region, otherwise its digits
    ("999", "116123": short codes have no E.164 form). Only ever used on numbers from the
    clinic's settings, never on a patient's words."""
    try:
        parsed = phonenumbers.parse(number, region)
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return re.sub(r"(?!^\+)\D", "", number.strip())
