"""Consent wording versions (actions/consent.py) and what the consent actions record."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import consent
from actions.consultation import AskContactConsent, SubmitConsultation
from actions.conversation import AskConsent
from clinical import consultation_store

DOMAIN = yaml.safe_load((Path(__file__).resolve().parent.parent / "domain.yml").read_text(encoding="utf-8"))

# The fingerprint of every wording version. A failure here means a consent text changed:
# give it a NEW version (and add it here and to consent.WORDINGS) instead of editing the
# old one, so conversations keep pointing at the words people actually agreed to.
FINGERPRINTS = {
    "screening-consent-v1": "caa0724fdc8212fa",
    "contact-consent-v1": "be6079df2faa60ec",
}


def test_every_wording_version_keeps_its_text():
    assert {v: consent.fingerprint(t) for v, t in consent.WORDINGS.items()} == FINGERPRINTS


@pytest.mark.parametrize(
    "version, slot",
    [
        ("screening-consent-v1", "consent_given"),
        ("contact-consent-v1", "contact_consent"),
        ("something-else", None),
        (None, None),
    ],
)
def test_a_version_names_its_question(version, slot):
    assert consent.slot_for_version(version) == slot


def tracker(events, slots=None, sender_id="conv-7"):
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": all_slots,
            "events": events,
            "paused": False,
            "latest_message": {"text": "yes", "intent": {"name": "affirm"}, "entities": []},
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker_, DOMAIN)
    return events, dispatcher.messages


def test_the_consent_question_carries_its_wording_version():
    _, messages = run(AskConsent(), tracker([]))
    assert messages[0][consent.METADATA_KEY] == consent.SCREENING_CONSENT_VERSION
    assert "Is it okay if I ask about your health" in messages[0]["text"]
    _, messages = run(AskContactConsent(), tracker([], {"contact_details": "07700900123"}))
    assert messages[0][consent.METADATA_KEY] == consent.CONTACT_CONSENT_VERSION
    assert "07700900123" in messages[0]["text"]


def test_the_consultation_row_records_when_and_to_which_wording_consent_was_given(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("CONSULTATION_DB_URL", url)
    events = [
        {
            "event": "bot",
            "timestamp": 1_700_000_000.0,
            "text": "May we contact you?",
            "metadata": {consent.METADATA_KEY: "contact-consent-v0-test"},
            "data": {},
        },
        {"event": "user", "timestamp": 1_700_000_005.0, "text": "yes", "parse_data": {}},
        {"event": "slot", "timestamp": 1_700_000_006.0, "name": "contact_consent", "value": True},
    ]
    slots = {
        "contact_name": "Sam Example",
        "contact_details": "sam@example.org",
        "contact_times": "evenings",
        "contact_consent": True,
        "screening_outcome": "eligible_for_consultation",
        "screening_reasons": [],
    }
    run(SubmitConsultation(), tracker(events, slots))
    row = consultation_store.list_requests(url)[0]
    # the version the person was actually shown (from the question's metadata), not today's
    assert row["consent_wording"] == "contact-consent-v0-test"
    assert utc_seconds(row["consent_at"]) == pytest.approx(1_700_000_006.0)


def utc_seconds(value):
    # SQLite gives back a naive datetime that was stored in UTC
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def test_a_database_error_does_not_copy_contact_details_into_the_log(tmp_path):
    url = f"sqlite:///{tmp_path / 'gone.db'}"
    engine = consultation_store.engine_for(url)
    with engine.begin() as conn:  # the table vanished: the insert fails
        conn.exec_driver_sql("DROP TABLE consultation_requests")
    with pytest.raises(Exception) as failure:
        consultation_store.save_request(
            "conv-9", "Sam Example", "sam@example.org", "email", "evenings", None, [], url=url
        )
    assert "no such table" in str(failure.value)  # the error itself is still useful
    assert "sam@example.org" not in str(failure.value) and "Sam Example" not in str(failure.value)
