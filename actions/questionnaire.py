"""Asking the screening questions and validating the answers (``screening_form``).

One generic ask action per question is generated from clinical/questionnaire.yml, and
one validation action interprets each reply, applies corrections, re-asks unclear
answers once, and stops the questionnaire at once when a red flag makes it urgent.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import safety
from actions import tracker_utils as tu
from actions.questions import answer, answer_if_asked
from clinical.answers import find_corrections, find_pre_answers, interpret, uses_entity
from clinical.knowledge import question_part
from clinical.questionnaire import NOT_ASKED, UNSURE, Question
from clinical.rules import EMERGENCY, SAME_DAY, evaluate, load_rulebook
from clinical.safety_net import scan
from clinical.typed_answers import asks_something

# The wording is in the catalogue (clinical/wording/<language>.yml, "questionnaire.").
SECTION_INTROS = {
    "red_flags": "",
    **{
        section: tu.say(f"questionnaire.section_intro.{section}")
        for section in ("symptoms", "pregnancy", "medical_history")
    },
}
CLARIFY = {
    reason: tu.say(f"questionnaire.clarify.{reason}")
    for reason in ("dont_know", "hedge", "vague_number", "out_of_range", "not_understood", "payload", "out_of_scope")
}
RECORDED_UNSURE = tu.say("questionnaire.recorded_unsure")
# A red-flag question is recorded "not sure" only with its advice shown again (reference s.2).
RECORDED_UNSURE_RED_FLAG = tu.settings().wording.text("questionnaire.recorded_unsure_red_flag")  # {advice}


def question_buttons(question: Question) -> list[dict[str, str]]:
    if question.type == "yes_no":
        return tu.yes_no_buttons(extra_unsure=True)
    buttons = [tu.button(o.label, o.value) for o in question.options]
    if question.type != "number" or question.safety:
        buttons.append(tu.button(tu.say("buttons.not_sure"), UNSURE))
    return buttons


class AskQuestionAction(Action):
    """Asks one screening question, with its buttons; subclassed per question below."""

    question_id: str = ""

    def name(self) -> str:
        # The generic base class registers under a name no domain uses.
        return f"action_ask_{self.question_id}" if self.question_id else "action_ask_question_base"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        questionnaire = tu.questionnaire()
        question = questionnaire.get(self.question_id)
        answers = tu.answers_from(tracker)
        intro = SECTION_INTROS.get(question.section, "")
        section_started = any(
            answers.get(q.id) not in (None, NOT_ASKED) for q in questionnaire.questions if q.section == question.section
        )
        if intro and not section_started and tracker.get_slot("retry_question") != question.id:
            dispatcher.utter_message(text=intro)
        text = tu.question_text(question)
        dispatcher.utter_message(
            text=text, buttons=question_buttons(question), json_message=question_custom(question, text)
        )
        return []


# Options of a "name several" question that are an answer on their own, never one of several.
ALONE = ("nothing", UNSURE)


def question_custom(question: Question, text: str) -> dict[str, Any]:
    """What the website widget needs to show a question well (tracker_utils: "What a message
    is"): the progress, the question's list as a list, and for a question that takes several
    answers, that it does. No numbers to call: on SMS they would follow the question as lines
    of their own, and the panel's footer always has the emergency number to tap."""
    custom: dict[str, Any] = {"progress": tu.progress(question.section)}
    blocks = tu.text_blocks(text)
    if blocks:
        custom["blocks"] = blocks
    if question.type == "treatments":
        # The widget offers the options as toggles and sends the chosen titles as one typed
        # reply, which the treatments parser reads like "a splint and physio"; the buttons
        # listed here still answer alone (a payload per combination could not be offered).
        custom["select"] = {
            "several": True,
            "alone": [tu.option_payload(value) for value in ALONE],
        }
    return custom


# One ask action class per question, named action_ask_<question id>. Kept in a dict:
# rasa-sdk finds actions through Action.__subclasses__(), which holds only weak
# references, so unreferenced classes could be garbage-collected before registration.
ASK_ACTIONS = {
    q.id: type(f"Ask_{q.id}", (AskQuestionAction,), {"question_id": q.id}) for q in tu.questionnaire().questions
}


class ValidateScreeningForm(Action):
    """Interprets the reply to the pending question and decides what comes next."""

    def name(self) -> str:
        return "validate_screening_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        questionnaire = tu.questionnaire()
        answers = tu.answers_from(tracker)
        pending = tracker.get_slot("requested_slot")
        answering = pending in questionnaire.ids and tracker.active_loop.get("name") == "screening_form"
        if (
            answering
            and tu.is_interruption(tracker, tu.SCREENING_INTERRUPTION_INTENTS)
            and not self._answers_by_its_words(tracker, questionnaire.get(pending))
            and not scan(tu.latest_text(tracker), pending)
        ):
            # Let the rules answer; the form then repeats the question. Never when the
            # words hold a red flag or distress: the safety net below records it first.
            return []
        events: list[EventType] = [SlotSet("screening_status", "in_progress")]

        if answering:
            question = questionnaire.get(pending)
            # The safety net first: a red flag or distress anywhere in the reply.
            checked = safety.check_in_form(dispatcher, tracker, question, answers)
            events += checked.events
            if checked.stop:
                return events
            if question.id not in checked.recorded and self._only_asks(tracker, question):
                # "I have a filling booked the day after, is that ok?": a question, not an
                # answer. It gets its answer (or goes to the clinic) and the question stays.
                return (
                    events
                    + answer(dispatcher, tracker, question_part(tu.latest_text(tracker)))
                    + [SlotSet("requested_slot", question.id)]
                )
            if question.id not in checked.recorded:
                events += self._handle_reply(dispatcher, tracker, question, answers, protected=checked.recorded)
            events += self._pre_answers(dispatcher, tracker, question, answers)
            # "yes — how long does it last?": the answer was taken; the question gets its
            # answer too, then the questionnaire goes on.
            events += answer_if_asked(dispatcher, tracker)

        normalised = questionnaire.normalise(answers)
        # Questions that stopped or started applying (e.g. after an age correction).
        events += [SlotSet(qid, value) for qid, value in normalised.items() if value != answers.get(qid)]
        result = evaluate(normalised, tu.settings().rule_overrides)
        if result.stops_questionnaire:
            return events + [
                SlotSet("screening_status", "urgent_stop"),
                *tu.outcome_events(result.outcome, result.reasons),
                SlotSet("requested_slot", None),
            ]
        following = questionnaire.next_question(normalised)
        if normalised.get("rf_gca") not in (None, NOT_ASKED) and normalised.get("patient_age") is None:
            # An age-dependent red flag (a new temple headache) was mentioned before the
            # age: the age decides whether it applies, so it is asked now.
            following = questionnaire.get("patient_age")
        if following is None:
            return events + [SlotSet("screening_status", "awaiting_confirmation"), SlotSet("requested_slot", None)]
        return events + [SlotSet("requested_slot", following.id)]

    def _record_unsure(
        self, dispatcher: CollectingDispatcher, question: Question, answers: dict[str, Any]
    ) -> list[EventType]:
        answers[question.id] = UNSURE
        if question.section == "red_flags" and question.id != "patient_age":
            level = self._tier_of_question(question)
            dispatcher.utter_message(
                text=tu.say("questionnaire.recorded_unsure_red_flag", advice=safety.advice(level)),
                json_message=safety.advice_alert(level),
            )
        else:
            dispatcher.utter_message(text=RECORDED_UNSURE)
        return [SlotSet(question.id, UNSURE), SlotSet("retry_question", None)]

    @staticmethod
    def _tier_of_question(question: Question) -> str:
        """The most serious tier a yes to this red-flag question can lead to."""
        tiers = {r.tier for r in load_rulebook().rules if r.tier and _mentions(r.when, question.id)}
        return EMERGENCY if EMERGENCY in tiers or not tiers else SAME_DAY

    @staticmethod
    def _only_asks(tracker: Tracker, question: Question) -> bool:
        """Typed words that ask something and do not answer the pending question."""
        text = tu.latest_text(tracker)
        if tu.is_payload_syntax(text) or not asks_something(text):
            return False
        # Words only: the classifier's "affirm" must not turn "I have ..., is that ok?" into a yes.
        return interpret(question, "", tu.our_entities(tracker), text).unclear_reason == "not_understood"

    @staticmethod
    def _answers_by_its_words(tracker: Tracker, question: Question) -> bool:
        """True when the words alone answer the question, whatever the intent:
        "yes, my face feels numb" answers the numbness question even if it sounds
        like a question about side effects."""
        text = tu.latest_text(tracker)
        reading = interpret(question, "", tu.our_entities(tracker), text)
        # "kinda?" and "not sure?" are replies to the question (asked again), not questions.
        if reading.understood or reading.unclear_reason in ("hedge", "dont_know", "vague_number", "out_of_range"):
            return True
        # "oh and I forgot to say, I'm actually 45": a correction of an earlier answer.
        others = [q for q in tu.questionnaire().questions if q.id != question.id]
        return not asks_something(text) and bool(
            find_corrections(others, tu.answers_from(tracker), tu.our_entities(tracker), text)
        )

    @staticmethod
    def _pre_answers(
        dispatcher: CollectingDispatcher, tracker: Tracker, question: Question, answers: dict[str, Any]
    ) -> list[EventType]:
        """Questions this reply already answered ("warfarin" at the medicines question
        answers the blood-thinner one): recorded, said back, and not asked again."""
        spare = [e for e in tu.our_entities(tracker) if not uses_entity(question, e)]
        if question.type == "medicines":
            spare = tu.our_entities(tracker)  # the medicines named answer the follow-ups
        events: list[EventType] = []
        later = [q for q in tu.questionnaire().questions if q.id != question.id]
        for qid, value in find_pre_answers(later, answers, spare, tu.latest_text(tracker)).items():
            answers[qid] = value
            events.append(SlotSet(qid, value))
            dispatcher.utter_message(text=tu.noted_answer_text(tu.questionnaire().get(qid), value))
        return events

    def _handle_reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        question: Question,
        answers: dict[str, Any],
        protected=(),
    ) -> list[EventType]:
        """Updates ``answers`` in place and returns the slot events for this reply."""
        entities = tu.our_entities(tracker)
        intent = tu.effective_intent(tracker)
        text = tu.latest_text(tracker)
        events: list[EventType] = []

        if tu.is_forged_payload(tracker):
            reading = None
            reason = "payload"
        else:
            interpretation = interpret(question, intent, entities, text, tu.button_value(tracker))
            reading, reason = interpretation.value, interpretation.unclear_reason
            if reading is None and intent == "out_of_scope":
                reason = "out_of_scope"

        # Corrections to earlier answers ("no, but actually I'm breastfeeding") use only
        # the words the pending question did not use for its own answer.
        others = [q for q in tu.questionnaire().questions if q.id != question.id]
        spare = [e for e in entities if not uses_entity(question, e)]
        for qid, value in find_corrections(others, answers, spare, text).items():
            if qid in protected:
                continue  # the safety net's reading of a red flag is more specific
            answers[qid] = value
            events.append(SlotSet(qid, value))
            dispatcher.utter_message(text=tu.updated_answer_text(tu.questionnaire().get(qid), value))

        if reading == UNSURE:
            return events + self._record_unsure(dispatcher, question, answers)
        if reading is not None:
            answers[question.id] = reading
            return events + [SlotSet(question.id, reading), SlotSet("retry_question", None)]
        if events:
            # The message corrected an earlier answer; ask the pending question again.
            return events + [SlotSet("retry_question", None)]
        if tracker.get_slot("retry_question") == question.id:
            return self._record_unsure(dispatcher, question, answers)
        message = CLARIFY[reason]
        if reason == "out_of_range" and question.minimum is not None:
            message += " " + tu.say("questionnaire.number_range", minimum=question.minimum, maximum=question.maximum)
        dispatcher.utter_message(text=message)
        return [SlotSet("retry_question", question.id)]


def _mentions(condition: dict[str, Any], question_id: str) -> bool:
    if "all" in condition or "any" in condition:
        return any(_mentions(c, question_id) for c in condition.get("all", condition.get("any", [])))
    return condition.get("question") == question_id
