"""Reading the tracker: answers so far, what the patient just said, which buttons the
bot offered. Shared by every action module."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from clinical import alerts
from clinical.clinic import ClinicSettings, load_clinic_settings
from clinical.offered_buttons import buttons_since_last_user_message, events_before_latest_user_message
from clinical.questionnaire import SECTIONS, Questionnaire, load_questionnaire
from clinical.reading import starts_like_a_question
from clinical.ruleset import current_version
from clinical.typed_answers import asks_something, wants_a_person
from medical_nlu.pipeline import EXTRACTOR_NAME

BUTTON_INTENT = "inform"

# Intents that data/rules.yml handles during a form (answer, then repeat the question).
# A form's validation returns no events for them, so Rasa rejects the form for that turn
# and the rule runs instead.
QUESTION_INTENTS = ("ask_question",)
# Asking for a person, and taking the call back offered then (actions/person.py).
PERSON_INTENTS = ("ask_for_person", "request_callback")
# The safety net's intent (medical_nlu/safety_component.py) interrupts the consent and
# consultation forms for the rules; during the questionnaire its validation acts on it
# itself, so the same reply can also answer the pending question.
SAFETY_INTENT = "safety_concern"
OUT_OF_SCOPE = "out_of_scope"
INTERRUPTION_INTENTS = QUESTION_INTENTS + PERSON_INTENTS + ("bot_challenge", "stop", "start_over", SAFETY_INTENT)
SCREENING_INTERRUPTION_INTENTS = tuple(i for i in INTERRUPTION_INTENTS if i != SAFETY_INTENT) + (
    "change_answer",
    "book_consultation",
)
COMMAND_WORDS = re.compile(r"\b(?:stop|quit|cancel|end|exit|enough|start (?:over|again)|restart|begin again|reset)\b")
BUTTON_ENTITY = "option"
# The consultation request form's slots (actions/consultation.py); a call back starts it afresh.
CONTACT_SLOTS = ("contact_name", "contact_details", "contact_times", "contact_consent")


def questionnaire() -> Questionnaire:
    return load_questionnaire()


def settings() -> ClinicSettings:
    return load_clinic_settings()


def clinic_slot_events() -> list[SlotSet]:
    return [SlotSet(k, v) for k, v in settings().as_slots().items()]


def outcome_events(outcome: str | None, reasons: list[str] | None) -> list[SlotSet]:
    """The slots that record a screening's outcome. A decided outcome always carries the
    version of the rule set it was judged by (clinical/ruleset.py); a cleared one clears it."""
    version = current_version().label if outcome else None
    return [
        SlotSet("screening_outcome", outcome),
        SlotSet("screening_reasons", reasons),
        SlotSet("ruleset_version", version),
    ]


def answers_from(tracker: Tracker) -> dict[str, Any]:
    return {qid: tracker.get_slot(qid) for qid in questionnaire().ids}


def option_payload(value: str) -> str:
    """The payload behind an answer button: /inform{"option": "<value>"}."""
    return f"/{BUTTON_INTENT}{json.dumps({BUTTON_ENTITY: value})}"


def button(title: str, value: str) -> dict[str, str]:
    return {"title": title, "payload": option_payload(value)}


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def is_payload_syntax(text: str) -> bool:
    return text.lstrip().startswith("/")


def our_entities(tracker: Tracker) -> list[dict[str, Any]]:
    """Entities from the project's extractor only: never ones a typed payload carried."""
    if is_payload_syntax(latest_text(tracker)):
        return []
    return [e for e in (tracker.latest_message or {}).get("entities") or [] if e.get("extractor") == EXTRACTOR_NAME]


def offered_payloads(tracker: Tracker) -> list[str]:
    """Payloads of the buttons the bot showed since the patient's previous message."""
    answered = events_before_latest_user_message(tracker.events)
    return [b.get("payload") for b in buttons_since_last_user_message(answered)]


def button_value(tracker: Tracker, intent: str = BUTTON_INTENT, entity: str = BUTTON_ENTITY) -> str | None:
    """The value behind a tapped button (by default the option of /inform{"option": ...}),
    or None. A payload-looking message counts only if it is exactly one of the buttons just
    offered; anything else is ignored."""
    text = latest_text(tracker).strip()
    if not text.startswith(f"/{intent}{{") or text not in offered_payloads(tracker):
        return None
    try:
        return str(json.loads(text[len(intent) + 1 :])[entity])
    except (ValueError, KeyError, TypeError):
        return None


def is_forged_payload(tracker: Tracker) -> bool:
    text = latest_text(tracker).strip()
    return is_payload_syntax(text) and text not in offered_payloads(tracker)


def is_interruption(tracker: Tracker, intents=INTERRUPTION_INTENTS) -> bool:
    """A question or command for the rules, not an answer: no button, no payload. Something
    the classifier calls out of scope interrupts only when it is phrased as a question (it
    is then passed to the clinic); otherwise it is an answer that could not be read."""
    text = latest_text(tracker)
    intent = latest_intent(tracker)
    if is_payload_syntax(text):
        # Only a button the assistant just offered ("Call me back", "these answers might
        # help") interrupts; any other payload is an answer to read (or a forgery).
        return intent in intents and text.strip() in offered_payloads(tracker)
    if intent in QUESTION_INTENTS or intent == OUT_OF_SCOPE:
        # The classifier hears many answers as questions ("on n off", "periods late, could
        # be"): only words that ask something ("?", "can I...", "..., is that ok") interrupt.
        return (intent in intents or intent == OUT_OF_SCOPE) and (asks_something(text) or wants_a_person(text))
    return intent in intents


def looks_like_a_question(text: str) -> bool:
    """A "?" or a question word in front of a sentence ("can I talk to someone"); two
    words are a name ("Will Price", "May Lee"), not a question. The one question reader."""
    return starts_like_a_question(text)


def is_free_text_interruption(tracker: Tracker) -> bool:
    """For a free-text answer (a name, preferred times): only the safety net, a command
    or something phrased as a question interrupts; "Dana Testperson" is a name even if
    the intent classifier thinks it sounds like "are you a bot"."""
    if not is_interruption(tracker):
        return False
    intent, text = latest_intent(tracker), latest_text(tracker)
    if intent in ("stop", "start_over"):
        # "Ivy Stone" can sound like "stop" to the classifier; a command says so in words.
        return bool(COMMAND_WORDS.search(text.lower()))
    if intent == "ask_for_person":
        # "I'd rather talk to a real person" is not a name; "Jane Person" and "Chris Staff"
        # are: a wish to reach someone is a phrase (answer_words.yml), never one word.
        return wants_a_person(text)
    return intent == SAFETY_INTENT or looks_like_a_question(text)


def effective_intent(tracker: Tracker) -> str:
    """The intent, except that a typed payload the bot didn't offer means nothing."""
    return "" if is_forged_payload(tracker) else latest_intent(tracker)


def yes_or_no(choice: str | None, intent: str) -> bool | None:
    """A tapped Yes/No button, else a typed yes/no; None when it is neither."""
    if choice in ("yes", "no"):
        return choice == "yes"
    if choice is None and intent in ("affirm", "deny"):
        return intent == "affirm"
    return None


def yes_no_buttons(extra_unsure: bool = False) -> list[dict[str, str]]:
    buttons = [button(say("buttons.affirm"), "yes"), button(say("buttons.deny"), "no")]
    if extra_unsure:
        buttons.append(button(say("buttons.not_sure"), "unsure"))
    return buttons


def say(text_id: str, **values: Any) -> str:
    """A text from the wording catalogue (clinical/wording/<language>.yml) in the clinic's
    language, with the clinic's details and ``values`` filled in."""
    return settings().say(text_id, **values)


def reply(key: str) -> str:
    """A reply around the knowledge base's answers ("replies." in the wording catalogue)."""
    return say(f"replies.{key}")


def format_with_settings(text: str) -> str:
    return text.format(**settings().placeholders())


def question_text(question) -> str:
    """What a question asks, in the clinic's language (a wording file may translate
    clinical/questionnaire.yml's text under questionnaire_texts), details filled in."""
    return format_with_settings(settings().wording.override("questionnaire_texts", question.id) or question.text)


def updated_answer_text(question, value) -> str:
    return say("questionnaire.updated_answer", summary=question.summary, answer=question.label_for(value))


BULLET = "• "


def bullet_list(lines: Sequence[str]) -> str:
    return "\n".join(f"{BULLET}{line}" for line in lines)


# ---- What a message is, for clients that can show it (docs/website-widget.md) -----------
#
# Sent as the message's `custom` object next to its unchanged `text`: the website widget
# reads it to show an alert, a real list, a grouped summary or the progress, and every
# other client (SMS, WhatsApp, Telegram, older widgets, the staff portal) keeps reading
# `text`. The widget never has to guess from English words what a message is.


def text_blocks(text: str) -> list[dict[str, Any]] | None:
    """A text whose lines start with the bullet bullet_list() and questionnaire.yml use, as
    paragraphs and lists: [{"paragraph": "..."}, {"list": ["...", "..."]}]. None when the
    text holds no list, so plain messages carry nothing extra."""
    blocks: list[dict[str, Any]] = []
    for line in text.split("\n"):
        if line.startswith(BULLET):
            if not blocks or "list" not in blocks[-1]:
                blocks.append({"list": []})
            blocks[-1]["list"].append(line[len(BULLET) :])
        elif line.strip():
            blocks.append({"paragraph": line})
    return blocks if any("list" in b for b in blocks) else None


def call(label: str, number: str) -> dict[str, str]:
    return alerts.call(settings(), label, number)


def emergency_calls(with_crisis_lines: bool = False) -> list[dict[str, str]]:
    return alerts.emergency_calls(settings(), with_crisis_lines)


def clinic_calls() -> list[dict[str, str]]:
    return [call(say("calls.clinic"), settings().phone)]


alert = alerts.alert


def progress(section: str) -> dict[str, Any]:
    """Where a question is in the questionnaire: {"section": 2, "of": 4, "title": "Symptoms"}.
    The sections are questionnaire.yml's; their titles are the summary's section names."""
    sections = list(SECTIONS)
    return {"section": sections.index(section) + 1, "of": len(sections), "title": section_title(section)}


def section_title(section: str) -> str:
    return say(f"summary.section_buttons.{section}")


def noted_answer_text(question, value) -> str:
    return say("questionnaire.noted_answer", summary=question.summary, answer=question.label_for(value))
