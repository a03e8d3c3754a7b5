"""The faster action-response validation (serving/action_response_validation.py) must
accept and reject exactly what Rasa's own `_validate_action_result` does."""

import copy

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from serving import action_response_validation as fast

SCHEMA = RemoteAction.action_response_format_spec()

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "rf_gca", "value": "no", "timestamp": None}],
        "responses": [{"text": "How old are you?", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
    },
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "action_listen"}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},  # a slot event without its name
    {"events": [{"event": "no_such_event"}]},
    {"responses": ["a string, not an object"]},
    "not an object",
]


def rasa_original(result):
    """Rasa 3.6.21's implementation, as it was before install() replaced it."""
    try:
        jsonschema.validate(result, SCHEMA)
        return None
    except jsonschema.ValidationError as error:
        return error


def test_installed_for_the_pinned_versions():
    assert fast.install() is True
    assert getattr(RemoteAction, "_screening_fast_validation", False)


@pytest.mark.parametrize("result", VALID)
def test_accepts_what_rasa_accepts(result):
    assert rasa_original(result) is None
    validate = fast.make_validator(SCHEMA)
    assert validate(copy.deepcopy(result)) is True
    assert RemoteAction("action_x", None)._validate_action_result(copy.deepcopy(result)) is True


@pytest.mark.parametrize("result", INVALID)
def test_rejects_what_rasa_rejects_with_the_same_error(result):
    original = rasa_original(result)
    assert original is not None
    with pytest.raises(jsonschema.ValidationError) as raised:
        RemoteAction("action_x", None)._validate_action_result(copy.deepcopy(result))
    assert raised.value.message.startswith(original.message)
    assert "Failed to validate Action server response from API" in raised.value.message
    assert list(raised.value.path) == list(original.path)


def test_other_versions_keep_rasas_own_code(monkeypatch):
    """An upgrade must fall back to Rasa's code, not run a patch written for 3.6.21."""
    monkeypatch.setattr(fast, "_installed_versions", lambda: {"rasa": "3.7.0", "jsonschema": "4.17.3"})
    monkeypatch.delattr(RemoteAction, "_screening_fast_validation", raising=False)
    original = RemoteAction._validate_action_result
    assert fast.install() is False
    assert RemoteAction._validate_action_result is original
