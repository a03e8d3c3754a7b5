"""Walks a patient through the questionnaire the way a person would: reading which
question the assistant asked and answering it, by typing or by tapping a button."""

from __future__ import annotations

from clinical.clinic import load_clinic_settings
from clinical.questionnaire import load_questionnaire

Tap = tuple[str, str]  # ("tap", "button title")
Several = tuple[str, list[str]]  # ("several", ["title", ...]): toggles, then Done (the widget)
Reply = str | Tap | Several

# A typical patient with nothing that rules treatment out: mixes typing and buttons.
DEFAULT_REPLIES: dict[str, Reply] = {
    "rf_emergency": ("tap", "None of these"),
    "patient_age": "I'm 34",
    "rf_gca": "no",
    "rf_locked_jaw": "no",
    "rf_abscess": ("tap", "No"),
    "rf_systemic": "nope",
    "rf_nerve": "no",
    "rf_ent": "not that I know of",
    "rf_rheumatic": ("tap", "No"),
    "tmd_pain_duration": ("tap", "It comes and goes"),
    "tmd_morning_stiffness": "yes",
    "tmd_chewing": "yes",
    "tmd_opening": ("tap", "Yes"),
    "tmd_habits": "yes",
    "tmd_other_activities": "no",
    "pain_worst": "about a 6",
    "problem_duration": "about 2 years",
    "bruxism": ("tap", "At night"),
    "temple_headaches": "yes",
    "clicking_locking": ("tap", "It clicks"),
    "treatments_tried": "a night guard and some physio",
    "daily_impact": ("tap", "Somewhat"),
    "pregnancy": "I'm not pregnant",
    "allergy_toxin": "no allergies",
    "allergy_milk": "no",
    "skin_infection": "no",
    "neuromuscular": "no",
    "swallow_breath": ("tap", "No"),
    "last_toxin": "never had Botox",
    "toxin_product": ("tap", "Botox"),
    "medicines": ("tap", "None"),
    "bleeding": "I'm not on blood thinners",
    "heart": "no",
    "surgery": "no",
    "facial_palsy": "no",
}


def _question_texts() -> dict[str, str]:
    s = load_clinic_settings()
    return {q.text.format(emergency_number=s.emergency_number): q.id for q in load_questionnaire().questions}


def current_question(conversation) -> str | None:
    texts = _question_texts()
    for reply in reversed(conversation.replies):
        if reply.get("text") in texts:
            return texts[reply["text"]]
    return None


def send(conversation, reply: Reply):
    if isinstance(reply, tuple) and reply[0] == "several":
        return conversation.choose_several(reply[1])
    if isinstance(reply, tuple):
        return conversation.tap(reply[1])
    return conversation.say(reply)


def start(conversation) -> None:
    conversation.say("hi")
    conversation.tap("Yes, that's okay")


def answer_questions(conversation, overrides: dict[str, Reply] | None = None, max_turns: int = 80) -> dict[str, int]:
    """Answers every question asked until none is pending; returns how often each was asked."""
    replies = {**DEFAULT_REPLIES, **(overrides or {})}
    asked: dict[str, int] = {}
    for _ in range(max_turns):
        question = current_question(conversation)
        if question is None:
            return asked
        asked[question] = asked.get(question, 0) + 1
        reply = replies[question]
        if isinstance(reply, list):  # successive replies to the same question
            reply = reply[min(asked[question], len(reply)) - 1]
        send(conversation, reply)
    raise AssertionError("The questionnaire did not end:\n" + conversation.dump())
