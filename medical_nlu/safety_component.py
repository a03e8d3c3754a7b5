"""SafetyNetClassifier: the last NLU step, so nothing downstream can miss a red flag.

Runs clinical/safety_net.py on every typed message. When it finds distress, or a red
flag that needs care now (emergency or same-day tier in clinical/outcome_rules.yml), the message's intent
becomes ``safety_concern`` whatever DIET thought ("yes, my chest feels heavy" is not an
answer to the pending question, it is an emergency), and the rules send it to the safety
net's action from any point of the conversation. DIET's own guess stays in the ranking.

The classifier is the single authority for ``safety_concern``: DIET is trained on a few
examples only because Rasa expects every intent to have some, and a DIET guess of
``safety_concern`` with no finding here is replaced by DIET's next guess. A flag whose
tier depends on the age (temple headache over 50), and refer-tier flags, keep DIET's
intent: the questionnaire's own validation records those with the person's other answers.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinical import distress_model
from clinical.rules import URGENT_CARE, evaluate
from clinical.safety_net import DISTRESS, Finding, scan

SAFETY_INTENT = "safety_concern"


def needs_care_now(finding: Finding) -> bool:
    """Distress, or a red flag whose rule (clinical/outcome_rules.yml) is urgent care on its own."""
    if finding.kind == DISTRESS:
        return True
    if finding.needs_age:
        return False
    return evaluate({finding.question: finding.value}).outcome == URGENT_CARE


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNetClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # DIET's next guess below this confidence becomes nlu_fallback (as config.yml's
        # FallbackClassifier would have decided).
        return {"fallback_threshold": 0.55}

    def __init__(self, config: dict[str, Any]) -> None:
        self._threshold = float(config.get("fallback_threshold", 0.55))
        # The distress model trains in a few seconds: here, when the server loads, rather
        # than in the first patient's turn.
        distress_model.prepare()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNetClassifier:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.lstrip().startswith("/"):
                continue  # a button's payload: its intent is the button's
            if any(needs_care_now(f) for f in scan(text)):
                message.set(INTENT, {"name": SAFETY_INTENT, "confidence": 1.0}, add_to_output=True)
            elif (message.get(INTENT) or {}).get("name") == SAFETY_INTENT:
                message.set(INTENT, self._next_guess(message), add_to_output=True)
        return messages

    def _next_guess(self, message: Message) -> dict[str, Any]:
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != SAFETY_INTENT]
        if not ranking or ranking[0].get("confidence", 0.0) < self._threshold:
            return {"name": "nlu_fallback", "confidence": 1.0}
        return {"name": ranking[0]["name"], "confidence": ranking[0].get("confidence", 0.0)}
