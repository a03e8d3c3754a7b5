"""domain.yml's responses (utter_*) in the clinic's language, from the wording catalogue.

Named in endpoints.yml / endpoints.production.yml as ``nlg: type: serving.wording_nlg.WordingNLG``.
Rasa's own templated generator, except that each response's text is the catalogue's
``responses.<utter name>`` (clinical/wording/<language>.yml, language from clinic.yml) instead
of domain.yml's. domain.yml keeps an English copy of each (``rasa data validate`` needs the
responses there, and in-process harnesses that build an Agent without this generator use
it); tests/test_wording.py checks that copy is the catalogue's English, word for word.

Slots fill {placeholders} as usual ({clinic_name} etc. are set at session start).
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from clinical.clinic import load_clinic_settings
from clinical.wording import Wording, WordingError, load_wording

Responses = dict[str, list[dict[str, Any]]]


def catalogue_id(utter_action: str) -> str:
    return f"responses.{utter_action}"


def from_catalogue(responses: Responses, wording: Wording) -> Responses:
    """The domain's responses with each text replaced by the catalogue's. One text per
    response (the catalogue has one id per response); buttons and the rest are kept."""
    translated: Responses = {}
    for name, variations in (responses or {}).items():
        texts = [v for v in variations if v.get("text")]
        if len(texts) > 1:
            raise WordingError(
                f"{name}: the wording catalogue holds one text per response, domain.yml has {len(texts)} variations"
            )
        text = wording.text(catalogue_id(name)) if texts else None
        translated[name] = [
            {**copy.deepcopy(v), "text": text} if v.get("text") else copy.deepcopy(v) for v in variations
        ]
    return translated


class WordingNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated NLG with the texts from the wording catalogue.

    Rasa creates the generator before the model's domain is loaded and then assigns
    ``responses`` (rasa/core/agent.py: load_model); every assignment goes through the
    catalogue, so a response missing from it fails when the model loads, not mid-chat."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        wording: Wording | None = None,
    ) -> None:
        self.wording = wording or load_wording(load_clinic_settings().language)
        super().__init__(domain.responses if domain else {})

    @property
    def responses(self) -> Responses:
        return self._responses

    @responses.setter
    def responses(self, value: Responses) -> None:
        self._responses = from_catalogue(value, self.wording)
