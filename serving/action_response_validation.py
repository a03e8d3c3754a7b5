"""Validates action-server responses against Rasa's schema without re-checking the schema
itself on every call.

Why this exists: profiling the Rasa server under load (docs/benchmarks.md) showed 55-57 %
of its CPU time inside `RemoteAction._validate_action_result`. Rasa 3.6 calls
`jsonschema.validate(result, schema)` there, and `jsonschema.validate` first runs
`check_schema` — validating Rasa's (constant) response schema against the JSON Schema
2020-12 meta-schema, whose `$dynamicRef` resolution is slow in jsonschema 4.17 — before
it validates the response. Our screening calls the action server twice a turn (the form's
validation, then the next question), so that repeated meta-schema check was the largest
single cost of a turn; Rasa's starter bot, with no custom actions, never pays it.

The replacement keeps Rasa's behaviour exactly: the same schema
(`RemoteAction.action_response_format_spec()`), the same validator class that
`jsonschema.validate` would pick for it, the same "best match" error, and the same
extended message on a `ValidationError`. Only the meta-schema check moves from every call
to once, at install time.

Installed by serving/extensions.py's list at start-up (`python -m serving run`). Pinned to
the Rasa and jsonschema versions it was written against: on any other version it does
nothing and logs why, so an upgrade falls back to Rasa's own (slower) code instead of running an unchecked patch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

SUPPORTED_RASA = "3.6.21"
SUPPORTED_JSONSCHEMA = "4.17.3"


def _installed_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"rasa": version("rasa"), "jsonschema": version("jsonschema")}


def make_validator(schema: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A function that validates one response like `RemoteAction._validate_action_result`.

    The schema is checked once, here; each call only validates the instance."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of once per response
    validator = validator_class(schema)

    def validate_action_result(result: dict[str, Any]) -> bool:
        error: ValidationError | None = best_match(validator.iter_errors(result))
        if error is None:
            return True
        # The same message Rasa adds (rasa/core/actions/action.py, 3.6.21).
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    return validate_action_result


def install() -> bool:
    """Replaces RemoteAction._validate_action_result; True when installed."""
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction, "_screening_fast_validation", False):
        return True
    versions = _installed_versions()
    if versions != {"rasa": SUPPORTED_RASA, "jsonschema": SUPPORTED_JSONSCHEMA}:
        logger.warning(
            "Action-response validation left as Rasa's own (slower): written for "
            "rasa %s + jsonschema %s, found %s. Re-check serving/"
            "action_response_validation.py before re-enabling it.",
            SUPPORTED_RASA,
            SUPPORTED_JSONSCHEMA,
            versions,
        )
        return False
    validate = make_validator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        return validate(result)

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    RemoteAction._screening_fast_validation = True  # type: ignore[attr-defined]
    logger.info("Action-response validation: schema checked once at start-up (serving/action_response_validation.py)")
    return True
