"""The questionnaire in ``questionnaire.yml``: which question comes next, and how an
answer reads back to the patient. Pure Python (no Rasa imports)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

QUESTIONNAIRE_PATH = Path(__file__).with_name("questionnaire.yml")

UNSURE = "unsure"
NOT_ASKED = "not_asked"  # the question did not apply (its ask_if was false)
SECTIONS = ("red_flags", "symptoms", "pregnancy", "medical_history")
QUESTION_TYPES = ("yes_no", "choice", "number", "medicines", "treatments")
YES_NO_LABELS = {"yes": "Yes", "no": "No"}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    recognises: tuple = ()
    recognises_negated: tuple = ()
    says: tuple = ()  # typed phrases (regular expressions) that mean this option


@dataclass(frozen=True)
class Question:
    id: str
    section: str
    type: str
    text: str
    summary: str
    safety: bool = False
    options: tuple = ()
    recognises: tuple = ()
    denied_by: tuple = ()
    yes_means: str | None = None
    no_means: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    ask_if: Mapping[str, Any] | None = None
    duration_options: Mapping[str, Any] | None = None
    # typed answers: patterns (safety.yml's format) that mean yes / no, and whether the
    # question is about right now ("none at the moment" then means no)
    yes_patterns: tuple = ()
    no_patterns: tuple = ()
    about_now: bool = False

    def option(self, value: Any) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def option_values(self) -> list[str]:
        return [o.value for o in self.options]

    def label_for(self, value: Any) -> str:
        """How an answer reads back to the patient and to staff."""
        if value == UNSURE:
            return "Not sure"
        if value is None or value == NOT_ASKED:
            return "Not asked"
        if self.type == "yes_no":
            return YES_NO_LABELS.get(value, str(value))
        if self.type in ("medicines", "treatments"):
            if not value:
                return "None"
            return ", ".join(self._item_label(v) for v in value)
        option = self.option(value)
        if option:
            return option.label
        if value == "unspecified":
            return "Yes (not specified which)"
        return str(value)

    def _item_label(self, item: str) -> str:
        option = self.option(item)
        if option:
            return option.label
        if item == "unknown":
            return "a medicine I didn't recognise"
        return item.replace("_", " ")


@dataclass(frozen=True)
class Questionnaire:
    questions: tuple = field(default_factory=tuple)

    @property
    def ids(self) -> list[str]:
        return [q.id for q in self.questions]

    def get(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def is_applicable(self, question: Question, answers: Mapping[str, Any]) -> bool:
        if not question.ask_if:
            return True
        return condition_holds(question.ask_if, answers)

    def normalise(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Mark questions that no longer apply as not asked, and re-open questions
        that now apply (e.g. after the patient corrects their age). A question whose
        condition can't be decided yet (the age is not known) keeps what it has: a red
        flag mentioned before the age ("a new headache at my temples") waits for it."""
        result = dict(answers)
        for q in self.questions:
            applicable = self.is_applicable(q, result)
            if not applicable and not condition_known(q.ask_if, result):
                continue
            if not applicable:
                result[q.id] = NOT_ASKED
            elif result.get(q.id) == NOT_ASKED:
                result[q.id] = None
        return result

    def next_question(self, answers: Mapping[str, Any]) -> Question | None:
        normalised = self.normalise(answers)
        return next((q for q in self.questions if normalised.get(q.id) is None), None)

    def summary_lines(self, answers: Mapping[str, Any]) -> list[str]:
        return [
            f"• {q.summary}: {q.label_for(answers.get(q.id))}"
            for q in self.questions
            if answers.get(q.id) not in (None, NOT_ASKED)
        ]


def condition_known(condition: Mapping[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """Whether every question the condition looks at has been answered."""
    if not condition:
        return True
    if "all" in condition or "any" in condition:
        return all(condition_known(c, answers) for c in condition.get("all", condition.get("any", [])))
    return answers.get(condition["question"]) is not None


def condition_holds(
    condition: Mapping[str, Any], answers: Mapping[str, Any], categories: Mapping[str, str] | None = None
) -> bool:
    """Evaluates a trigger from questionnaire.yml / outcome_rules.yml against the answers.

    Unanswered, skipped and "unsure" answers never satisfy a comparison: an unsure
    answer is handled by its own rule, not guessed here.
    """
    if "all" in condition:
        return all(condition_holds(c, answers, categories) for c in condition["all"])
    if "any" in condition:
        return any(condition_holds(c, answers, categories) for c in condition["any"])
    value = answers.get(condition["question"])
    if value == UNSURE and condition.get("or_unsure"):
        return True  # e.g. an unsure age still gets the over-50 red-flag question
    if value in (None, NOT_ASKED, UNSURE):
        return False
    if "equals" in condition:
        return value == condition["equals"]
    if "in" in condition:
        return value in condition["in"]
    if "less_than" in condition:
        return isinstance(value, (int, float)) and value < condition["less_than"]
    if "greater_than" in condition:
        return isinstance(value, (int, float)) and value > condition["greater_than"]
    if "has_category" in condition:
        cats = categories or {}
        return isinstance(value, list) and any(cats.get(item, "unknown") == condition["has_category"] for item in value)
    raise ValueError(f"Unknown condition: {condition!r}")


def _question_from_dict(raw: Mapping[str, Any]) -> Question:
    if raw["type"] not in QUESTION_TYPES:
        raise ValueError(f"Question {raw['id']}: unknown type {raw['type']!r}")
    if raw["section"] not in SECTIONS:
        raise ValueError(f"Question {raw['id']}: unknown section {raw['section']!r}")
    options = tuple(
        Option(
            value=str(o["value"]),
            label=str(o["label"]),
            recognises=tuple(o.get("recognises", ())),
            recognises_negated=tuple(o.get("recognises_negated", ())),
            says=tuple(o.get("says", ())),
        )
        for o in raw.get("options", ())
    )
    return Question(
        id=raw["id"],
        section=raw["section"],
        type=raw["type"],
        text=raw["text"].strip(),
        summary=raw["summary"],
        safety=bool(raw.get("safety", False)),
        options=options,
        recognises=tuple(raw.get("recognises", ())),
        denied_by=tuple(raw.get("denied_by", ())),
        yes_means=raw.get("yes_means"),
        no_means=raw.get("no_means"),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        ask_if=raw.get("ask_if"),
        duration_options=raw.get("duration_options"),
        yes_patterns=tuple(tuple(p) for p in raw.get("yes_patterns", ())),
        no_patterns=tuple(tuple(p) for p in raw.get("no_patterns", ())),
        about_now=bool(raw.get("about_now", False)),
    )


@lru_cache(maxsize=4)
def load_questionnaire(path: Path = QUESTIONNAIRE_PATH) -> Questionnaire:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    questions = tuple(_question_from_dict(q) for q in raw["questions"])
    ids = [q.id for q in questions]
    if len(ids) != len(set(ids)):
        raise ValueError("Duplicate question ids in questionnaire")
    return Questionnaire(questions=questions)
