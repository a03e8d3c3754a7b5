"""domain.yml, data/rules.yml, the custom actions and the clinical data files agree.

clinical/questionnaire.yml is the source of truth for the questions; domain.yml has to
mirror it by hand (slots, the screening_form's required slots, the action_ask_* actions),
and rasa-sdk has to serve an action for every custom action the domain lists.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import actions.consultation  # noqa: F401  (imported so the modules' Action classes exist)
import actions.conversation  # noqa: F401
import actions.outcome  # noqa: F401
import actions.questionnaire  # noqa: F401
from actions import tracker_utils as tu
from actions.outcome import SECTION_BUTTONS
from clinical.clinic import ClinicSettings, load_clinic_settings
from clinical.questionnaire import SECTIONS, UNSURE, load_questionnaire
from clinical.rules import OUTCOMES, TMD_ITEMS, load_rulebook

PROJECT_DIR = Path(__file__).resolve().parent.parent
CLINICAL_DIR = PROJECT_DIR / "clinical"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


DOMAIN: dict[str, Any] = _yaml(PROJECT_DIR / "domain.yml")
RULES: dict[str, Any] = _yaml(PROJECT_DIR / "data" / "rules.yml")
QUESTIONNAIRE_RAW: dict[str, Any] = _yaml(CLINICAL_DIR / "questionnaire.yml")
CLINICAL_RULES_RAW: dict[str, Any] = _yaml(CLINICAL_DIR / "outcome_rules.yml")
LEXICON_RAW: dict[str, Any] = _yaml(CLINICAL_DIR / "lexicon.yml")

QUESTIONS: list[dict[str, Any]] = QUESTIONNAIRE_RAW["questions"]
QUESTION_IDS: list[str] = [q["id"] for q in QUESTIONS]
QUESTION_BY_ID: dict[str, dict[str, Any]] = {q["id"]: q for q in QUESTIONS}
LEXICON_SECTIONS = ("medicines", "conditions", "symptoms", "treatments", "pregnancy")
LEXICON_IDS: set[str] = {cid for section in LEXICON_SECTIONS for cid in (LEXICON_RAW.get(section) or {})}
MEDICINE_CATEGORIES: set[str] = {m["category"] for m in LEXICON_RAW["medicines"].values()}

DOMAIN_ACTIONS: list[str] = DOMAIN["actions"]
DOMAIN_FORMS: dict[str, Any] = DOMAIN["forms"]
DOMAIN_RESPONSES: dict[str, Any] = DOMAIN["responses"]
DOMAIN_SLOTS: dict[str, Any] = DOMAIN["slots"]
DOMAIN_INTENTS: list[str] = [i if isinstance(i, str) else next(iter(i)) for i in DOMAIN["intents"]]
RASA_DEFAULT_INTENTS = {"nlu_fallback", "restart", "session_start", "back", "out_of_scope"}


def registered_actions(collect_garbage: bool = False) -> set[str]:
    """Names rasa-sdk's action server serves for the package "actions"."""
    from rasa_sdk.executor import ActionExecutor

    if collect_garbage:
        gc.collect()
    executor = ActionExecutor()
    executor.register_package("actions")
    return set(executor.actions)


# ---------------------------------------------------------------------------
# questionnaire.yml <-> domain.yml <-> rasa-sdk
# ---------------------------------------------------------------------------


def test_question_ids_are_unique_and_loadable():
    assert len(QUESTION_IDS) == len(set(QUESTION_IDS))
    assert load_questionnaire().ids == QUESTION_IDS
    assert {q["section"] for q in QUESTIONS} <= set(SECTIONS)


@pytest.mark.parametrize("question_id", QUESTION_IDS)
def test_every_question_is_a_slot_with_a_custom_mapping(question_id):
    assert question_id in DOMAIN_SLOTS, f"{question_id} missing from domain.yml slots"
    mappings = DOMAIN_SLOTS[question_id].get("mappings") or []
    assert mappings and all(m.get("type") == "custom" for m in mappings), (
        f"slot {question_id} must only have custom mappings (validate_screening_form sets it)"
    )
    # answers are strings, numbers or lists ("not_asked", "unsure", 45, ["warfarin"])
    assert DOMAIN_SLOTS[question_id]["type"] == "any"


def test_screening_form_requires_every_question_in_questionnaire_order():
    assert DOMAIN_FORMS["screening_form"]["required_slots"] == QUESTION_IDS


def test_every_question_has_its_ask_action_in_the_domain():
    missing = [f"action_ask_{qid}" for qid in QUESTION_IDS if f"action_ask_{qid}" not in DOMAIN_ACTIONS]
    assert missing == []


def test_no_ask_action_in_the_domain_without_a_question_or_slot():
    """Every action_ask_<x> in the domain asks a questionnaire question or a form slot."""
    form_slots = {s for form in DOMAIN_FORMS.values() for s in form["required_slots"]}
    extra = [
        a
        for a in DOMAIN_ACTIONS
        if a.startswith("action_ask_")
        and a[len("action_ask_") :] not in form_slots
        and a != "action_ask_what_to_change"
    ]
    assert extra == []


def test_every_custom_action_in_the_domain_is_registered_in_rasa_sdk():
    """All but the generated per-question ask actions (see the next test)."""
    registered = registered_actions()
    ask_actions = {f"action_ask_{qid}" for qid in QUESTION_IDS}
    custom = [a for a in DOMAIN_ACTIONS if not a.startswith("utter_") and a not in ask_actions]
    assert [a for a in custom if a not in registered] == []


def test_ask_actions_are_registered_even_after_garbage_collection():
    registered = registered_actions(collect_garbage=True)
    assert [f"action_ask_{qid}" for qid in QUESTION_IDS if f"action_ask_{qid}" not in registered] == []


def test_every_registered_form_validation_has_its_form():
    for form in DOMAIN_FORMS:
        assert f"validate_{form}" in DOMAIN_ACTIONS
    assert {"validate_consent_form", "validate_screening_form", "validate_consultation_form"} <= registered_actions()


def test_every_form_slot_is_a_domain_slot_with_custom_mappings():
    for form, spec in DOMAIN_FORMS.items():
        for slot in spec["required_slots"]:
            assert slot in DOMAIN_SLOTS, (form, slot)
            assert all(m.get("type") == "custom" for m in DOMAIN_SLOTS[slot]["mappings"]), (form, slot)
            assert f"action_ask_{slot}" in DOMAIN_ACTIONS, (form, slot)


# ---------------------------------------------------------------------------
# data/rules.yml <-> domain.yml
# ---------------------------------------------------------------------------


def _rule_steps() -> Iterator[dict[str, Any]]:
    for rule in RULES["rules"]:
        for step in rule.get("steps", []):
            if "or" in step:
                yield from step["or"]
            else:
                yield step


def _rule_conditions() -> Iterator[dict[str, Any]]:
    for rule in RULES["rules"]:
        yield from rule.get("condition", [])


def test_every_action_in_the_rules_is_in_the_domain():
    known = set(DOMAIN_ACTIONS) | set(DOMAIN_FORMS) | set(DOMAIN_RESPONSES)
    used = {step["action"] for step in _rule_steps() if "action" in step}
    assert sorted(used - known) == []


def test_every_custom_action_in_the_rules_is_registered():
    registered = registered_actions()
    used = {step["action"] for step in _rule_steps() if "action" in step}
    custom = {a for a in used if a.startswith("action_") and a != "action_listen"}
    assert sorted(custom - registered) == []


def test_every_intent_in_the_rules_is_in_the_domain():
    used = {step["intent"] for step in _rule_steps() if "intent" in step}
    assert sorted(used - set(DOMAIN_INTENTS) - RASA_DEFAULT_INTENTS) == []


def test_active_loops_in_the_rules_are_forms():
    loops = [s["active_loop"] for s in [*_rule_steps(), *_rule_conditions()] if "active_loop" in s]
    assert loops and set(loops) - {None} <= set(DOMAIN_FORMS)


def test_slot_values_in_the_rules_exist_in_the_domain():
    for step in [*_rule_steps(), *_rule_conditions()]:
        for item in step.get("slot_was_set", []):
            for slot, value in item.items():
                if slot == "requested_slot":
                    continue
                assert slot in DOMAIN_SLOTS, slot
                spec = DOMAIN_SLOTS[slot]
                if spec["type"] == "categorical" and value is not None:
                    assert value in spec["values"], (slot, value)
                if spec["type"] == "bool" and value is not None:
                    assert isinstance(value, bool), (slot, value)


def test_every_response_placeholder_is_a_slot():
    for name, variants in DOMAIN_RESPONSES.items():
        for variant in variants:
            for placeholder in re.findall(r"\{(\w+)\}", variant.get("text", "")):
                assert placeholder in DOMAIN_SLOTS, (name, placeholder)


# ---------------------------------------------------------------------------
# Values the actions set <-> the domain's slot definitions
# ---------------------------------------------------------------------------


def test_screening_outcome_values_are_the_rule_outcomes():
    assert DOMAIN_SLOTS["screening_outcome"]["values"] == list(OUTCOMES)
    assert CLINICAL_RULES_RAW["outcomes"] == list(OUTCOMES)


def test_screening_status_values_cover_what_the_actions_set():
    source = "\n".join(
        (PROJECT_DIR / "actions" / f).read_text(encoding="utf-8")
        for f in ("questionnaire.py", "outcome.py", "conversation.py", "consultation.py")
    )
    set_by_actions = set(re.findall(r'SlotSet\("screening_status",\s*"(\w+)"\)', source))
    set_by_actions |= set(re.findall(r'status = "(\w+)"', source))
    assert set_by_actions, "no screening_status values found in the actions"
    assert set_by_actions <= set(DOMAIN_SLOTS["screening_status"]["values"])


def test_slots_the_actions_set_exist():
    for slot in (
        "screening_outcome",
        "screening_reasons",
        "tmd_screener_score",
        "screening_status",
        "retry_question",
        "consent_given",
        "consultation_requested",
        "contact_name",
        "contact_details",
        "contact_times",
        "contact_consent",
    ):
        assert slot in DOMAIN_SLOTS, slot


def test_clinic_slots_set_at_session_start_are_domain_slots():
    settings = load_clinic_settings()
    assert set(settings.as_slots()) <= set(DOMAIN_SLOTS)
    for slot in settings.as_slots():
        assert DOMAIN_SLOTS[slot]["influence_conversation"] is False


def test_button_entities_are_in_the_domain():
    assert tu.BUTTON_ENTITY in DOMAIN["entities"]
    assert "section" in DOMAIN["entities"]
    assert tu.BUTTON_INTENT in DOMAIN_INTENTS
    assert "change_answer" in DOMAIN_INTENTS
    assert {s for _, s in SECTION_BUTTONS} == set(SECTIONS)


def test_entities_of_the_nlu_pipeline_are_in_the_domain():
    from clinical.lexicon import SECTION_TO_ENTITY

    for label in [*SECTION_TO_ENTITY.values(), "duration", "age", "number"]:
        assert label in DOMAIN["entities"], label


# ---------------------------------------------------------------------------
# Questions and reaching a person: domain intents <-> rules <-> tracker_utils
# (the answers themselves: clinical/knowledge.yml, tests/test_knowledge.py)
# ---------------------------------------------------------------------------


def _intents_of(rule):
    found = set()
    for step in rule.get("steps", []):
        for item in step.get("or", [step]):
            if "intent" in item:
                found.add(item["intent"])
    return found


def _loops_handling(intent: str, action: str) -> set:
    loops = set()
    for rule in RULES["rules"]:
        if intent in _intents_of(rule) and any(s.get("action") == action for s in rule.get("steps", [])):
            loops |= {c["active_loop"] for c in rule.get("condition", []) if "active_loop" in c}
    return loops


def test_one_question_intent_and_the_person_intents_are_interruptions():
    assert tu.QUESTION_INTENTS == ("ask_question",)
    assert not [i for i in DOMAIN_INTENTS if i.startswith("ask_") and i not in ("ask_question", "ask_for_person")]
    for intent in (*tu.QUESTION_INTENTS, *tu.PERSON_INTENTS):
        assert intent in DOMAIN_INTENTS and intent in tu.SCREENING_INTERRUPTION_INTENTS, intent
    assert set(tu.SCREENING_INTERRUPTION_INTENTS) <= set(DOMAIN_INTENTS)


@pytest.mark.parametrize(
    "intent, action",
    [
        ("ask_question", "action_answer_question"),
        ("ask_for_person", "action_offer_person"),
        ("request_callback", "action_request_callback"),
    ],
)
def test_questions_and_person_requests_have_rules_in_and_out_of_every_form(intent, action):
    """Answered before consent, outside forms and inside each form. safety_check_form ("Are
    you safe right now?") never hands a reply to the rules: a person asked that gets an
    answer to it, not a detour (actions/safety.py)."""
    assert {None, *DOMAIN_FORMS} - {"safety_check_form"} <= _loops_handling(intent, action)


# ---------------------------------------------------------------------------
# clinical/outcome_rules.yml <-> questionnaire.yml <-> lexicon.yml
# ---------------------------------------------------------------------------


def allowed_values(question: dict[str, Any]) -> set[Any]:
    """Every value an answer to this question can take (besides unsure / not asked)."""
    if question["type"] == "yes_no":
        return {"yes", "no"}
    values = {str(o["value"]) for o in question.get("options", [])}
    values |= {v for v in (question.get("yes_means"), question.get("no_means")) if v is not None}
    return values


def _leaf_conditions(condition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "all" in condition:
        for c in condition["all"]:
            yield from _leaf_conditions(c)
    elif "any" in condition:
        for c in condition["any"]:
            yield from _leaf_conditions(c)
    else:
        yield condition


def _check_condition(where: str, condition: dict[str, Any]) -> list[str]:
    problems = []
    for leaf in _leaf_conditions(condition):
        qid = leaf.get("question")
        question = QUESTION_BY_ID.get(qid)
        if question is None:
            problems.append(f"{where}: unknown question {qid!r}")
            continue
        comparisons = set(leaf) - {"question", "or_unsure"}
        if len(comparisons) != 1:
            problems.append(f"{where}: needs exactly one comparison, has {sorted(comparisons)}")
            continue
        op = comparisons.pop()
        if op in ("equals", "in"):
            values = [leaf[op]] if op == "equals" else leaf[op]
            bad = [v for v in values if str(v) not in allowed_values(question) or not isinstance(v, str)]
            if bad:
                problems.append(f"{where}: {qid} has no option {bad}")
        elif op in ("less_than", "greater_than"):
            if question["type"] != "number" or not isinstance(leaf[op], (int, float)):
                problems.append(f"{where}: {op} on non-number question {qid}")
        elif op == "has_category":
            if question["type"] != "medicines":
                problems.append(f"{where}: has_category on non-medicines question {qid}")
            if leaf[op] not in MEDICINE_CATEGORIES | {"unknown"}:
                problems.append(f"{where}: unknown medicine category {leaf[op]!r}")
        else:
            problems.append(f"{where}: unknown comparison {op!r}")
    return problems


@pytest.mark.parametrize("rule", CLINICAL_RULES_RAW["rules"], ids=lambda r: r["id"])
def test_clinical_rule_references_existing_questions_and_options(rule):
    assert _check_condition(f"rule {rule['id']}", rule["when"]) == []
    assert rule["outcome"] in OUTCOMES
    assert rule.get("patient_text", "").strip() and rule.get("source", "").strip()
    if rule["outcome"] == "urgent_care":
        assert rule.get("tier") in ("emergency", "same_day"), rule["id"]
        assert not rule.get("configurable"), "emergency rules can't be configurable"


@pytest.mark.parametrize("question", [q for q in QUESTIONS if q.get("ask_if")], ids=lambda q: q["id"])
def test_ask_if_references_an_earlier_question_and_its_options(question):
    assert _check_condition(f"ask_if of {question['id']}", question["ask_if"]) == []
    for leaf in _leaf_conditions(question["ask_if"]):
        assert QUESTION_IDS.index(leaf["question"]) < QUESTION_IDS.index(question["id"])


def test_rulebook_loads_with_unique_rule_ids():
    load_rulebook()  # raises on unknown outcomes / duplicate ids
    ids = [r["id"] for r in CLINICAL_RULES_RAW["rules"]]
    assert len(ids) == len(set(ids))


def test_clinic_overrides_only_touch_configurable_rules():
    configurable = {r["id"] for r in CLINICAL_RULES_RAW["rules"] if r.get("configurable")}
    overrides = load_clinic_settings().rule_overrides or {}
    assert set(overrides) <= configurable
    assert "breastfeeding" in configurable


def test_every_urgent_red_flag_is_in_a_red_flag_question():
    for rule in CLINICAL_RULES_RAW["rules"]:
        if rule["outcome"] != "urgent_care":
            continue
        for leaf in _leaf_conditions(rule["when"]):
            assert QUESTION_BY_ID[leaf["question"]]["section"] == "red_flags", rule["id"]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q["id"])
def test_lexicon_ids_named_in_the_questionnaire_exist(question):
    named = [*question.get("recognises", []), *question.get("denied_by", [])]
    for option in question.get("options", []):
        named += [*option.get("recognises", []), *option.get("recognises_negated", [])]
    assert [n for n in named if n not in LEXICON_IDS] == []


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q["id"])
def test_question_fields_are_consistent(question):
    values = allowed_values(question)
    if question["type"] == "choice":
        assert question.get("options"), question["id"]
        for key in ("yes_means", "no_means"):
            value = question.get(key)
            assert value is None or value in values
    if question.get("duration_options"):
        mapping = question["duration_options"]
        assert set(mapping["less_than_days"].values()) | {mapping["otherwise"]} <= values
    if question["type"] == "number":
        assert isinstance(question.get("min"), int) and isinstance(question.get("max"), int)
    assert UNSURE not in values and "not_asked" not in values
    assert question["summary"].strip() and question["text"].strip()
    # only {emergency_number}-style clinic placeholders may appear in question text
    for placeholder in re.findall(r"\{(\w+)\}", question["text"]):
        assert placeholder in {"emergency_number", "clinic_name", "clinic_phone"}, placeholder


def test_tmd_screener_items_are_questions():
    assert set(TMD_ITEMS) <= set(QUESTION_IDS)
    assert QUESTION_BY_ID["tmd_pain_duration"]["type"] == "choice"
    assert all(QUESTION_BY_ID[i]["type"] == "yes_no" for i in TMD_ITEMS[1:])


def test_clinic_yml_has_every_setting():
    raw = _yaml(PROJECT_DIR / "clinic.yml")
    assert set(raw) <= set(ClinicSettings.__dataclass_fields__)
    load_clinic_settings.cache_clear()
    try:
        load_clinic_settings()
    finally:
        load_clinic_settings.cache_clear()
