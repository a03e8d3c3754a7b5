"""The wording catalogue (clinical/wording/<language>.yml, clinical/wording.py): every language
file matches the English one, a new language works by adding a file, domain.yml's responses
mirror the catalogue, and the loader's errors are clear."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import clinical.wording as wording_module
from actions import tracker_utils as tu
from actions.conversation import StopScreening
from actions.outcome import GiveOutcome
from clinical import clinic
from clinical.knowledge import knowledge
from clinical.questionnaire import load_questionnaire
from clinical.wording import (
    OVERRIDE_SECTIONS,
    REFERENCE_LANGUAGE,
    WORDING_DIR,
    WordingError,
    available_languages,
    differences,
    load_wording,
    placeholders_of,
)
from serving.wording_nlg import WordingNLG, catalogue_id

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_YML = ROOT / "domain.yml"
EN = load_wording(REFERENCE_LANGUAGE)


# --- every language file ------------------------------------------------------------------


@pytest.mark.parametrize("language", available_languages())
def test_every_language_has_exactly_the_english_ids_and_placeholders(language):
    assert differences(EN, load_wording(language)) == []


@pytest.mark.parametrize("language", available_languages())
def test_translated_questions_and_answers_name_existing_ones_with_their_placeholders(language):
    texts = load_wording(language).overrides
    questions = {q.id: q.text for q in load_questionnaire().questions}
    answers = {e.id: e.answer for e in knowledge().entries}
    for section, originals in (("questionnaire_texts", questions), ("knowledge_answers", answers)):
        for item_id, text in texts[section].items():
            assert item_id in originals, f"{language}: {section}: no {item_id!r}"
            assert placeholders_of(text) == placeholders_of(originals[item_id]), f"{language}: {section}.{item_id}"


def test_every_placeholder_has_a_value_from_the_clinic_or_the_code():
    # Values passed by the code (tu.say(..., name=...)) and the clinic's details.
    from_code = {
        "name",
        "contact",
        "advice",
        "summary",
        "answer",
        "description",
        "contacts",
        "minimum",
        "maximum",
        "limit",
        "length",
    }
    settings = clinic.load_clinic_settings()
    known = set(settings.placeholders()) | {"next_steps"} | from_code
    for text_id in EN.ids:
        assert placeholders_of(EN.text(text_id)) <= known, text_id


def test_english_is_the_clinics_language_and_every_text_fills_in():
    settings = clinic.load_clinic_settings()
    assert settings.language == REFERENCE_LANGUAGE
    values = {name: f"<{name}>" for text_id in EN.ids for name in placeholders_of(EN.text(text_id))}
    for text_id in EN.ids:
        assert "{" not in EN.say(text_id, **values), text_id


# --- the loader's errors --------------------------------------------------------------------


def test_an_unknown_id_or_a_missing_value_is_a_clear_error():
    with pytest.raises(WordingError, match="no text 'outcome.nope'"):
        EN.say("outcome.nope")
    with pytest.raises(WordingError, match="needs a value for: emergency_number"):
        EN.say("fault.apology")
    assert EN.say("fault.apology", emergency_number="999", unused="ignored").endswith("call 999.")


def test_a_missing_language_file_is_a_clear_error(tmp_path):
    with pytest.raises(WordingError, match="no wording for language 'xx'.*available: en"):
        load_wording("xx")
    settings_file = tmp_path / "clinic.yml"
    raw = yaml.safe_load((ROOT / "clinic.yml").read_text(encoding="utf-8"))
    settings_file.write_text(yaml.safe_dump({**raw, "language": "xx"}), encoding="utf-8")
    with pytest.raises(ValueError, match="language: no wording for language 'xx'"):
        clinic.load_clinic_settings(settings_file)


def test_yes_and_no_keys_must_be_quoted(tmp_path):
    (tmp_path / "xx.yml").write_text("buttons:\n  yes: Yes\n", encoding="utf-8")
    with pytest.raises(WordingError, match="must be a quoted string"):
        load_wording("xx", tmp_path)


# --- a second language, end to end (written here, never committed) ------------------------


def fake_language(directory: Path, language: str = "xx", mangle=None) -> Path:
    """A copy of en.yml with every text marked "[xx] ", placeholders kept; plus a
    translated question and knowledge answer."""

    def mark(node):
        if isinstance(node, dict):
            return {k: mark(v) for k, v in node.items()}
        return f"[{language}] {node}"

    raw = mark(yaml.safe_load((WORDING_DIR / "en.yml").read_text(encoding="utf-8")))
    raw["questionnaire_texts"] = {"patient_age": f"[{language}] How old are you?"}
    raw["knowledge_answers"] = {knowledge().entries[0].id: f"[{language}] Checked answer."}
    if mangle:
        mangle(raw)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(WORDING_DIR / "en.yml", directory / "en.yml")
    path = directory / f"{language}.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_a_complete_second_language_matches_and_a_broken_one_is_reported(tmp_path):
    fake_language(tmp_path / "good")
    assert differences(EN, load_wording("xx", tmp_path / "good")) == []

    def break_it(raw):
        del raw["fault"]["apology"]
        raw["guard"]["too_long"] = "[xx] Too long ({length})."
        raw["guard"]["surprise"] = "[xx] Extra."

    fake_language(tmp_path / "bad", mangle=break_it)
    assert differences(EN, load_wording("xx", tmp_path / "bad")) == [
        "xx: missing fault.apology",
        "xx: unknown guard.surprise (not in en)",
        "xx: guard.too_long has placeholders ['length'], en has ['length', 'limit']",
    ]


@pytest.fixture
def clinic_in_xx(tmp_path, monkeypatch):
    """clinic.yml with `language: xx`, and a wording folder holding en.yml and xx.yml."""
    fake_language(tmp_path / "wording")
    monkeypatch.setattr(wording_module, "WORDING_DIR", tmp_path / "wording")
    raw = yaml.safe_load((ROOT / "clinic.yml").read_text(encoding="utf-8"))
    (tmp_path / "clinic.yml").write_text(yaml.safe_dump({**raw, "language": "xx"}), encoding="utf-8")
    monkeypatch.setenv("CLINIC_SETTINGS", str(tmp_path / "clinic.yml"))
    clinic.load_clinic_settings.cache_clear()
    yield clinic.load_clinic_settings()
    clinic.load_clinic_settings.cache_clear()


def tracker(slots=None):
    all_slots = {name: None for name in yaml.safe_load(DOMAIN_YML.read_text(encoding="utf-8"))["slots"]}
    all_slots.update(slots or {})
    return Tracker.from_dict(
        {
            "sender_id": "x",
            "slots": all_slots,
            "events": [],
            "paused": False,
            "latest_message": {"text": "stop", "intent": {"name": "stop"}, "entities": []},
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def test_a_language_is_added_by_a_file_alone(clinic_in_xx):
    settings = clinic_in_xx
    assert settings.language == "xx"
    # The actions say it...
    dispatcher = CollectingDispatcher()
    StopScreening().run(dispatcher, tracker(), {})
    assert dispatcher.messages[0]["text"] == (
        f'[xx] Okay, I\'ve stopped. Nothing has been decided from your answers so far. You can say "start over" '
        f"at any time, or contact {settings.clinic_name} on {settings.phone}. If you need urgent help, call "
        f"{settings.emergency_number}."
    )
    dispatcher = CollectingDispatcher()
    GiveOutcome._non_urgent(dispatcher, "eligible_for_consultation", [])
    assert [m["text"][:5] for m in dispatcher.messages] == ["[xx] "] * 3
    assert [b["title"] for b in dispatcher.messages[-1]["buttons"]] == ["[xx] Yes, please", "[xx] No, thanks"]
    # ...the reviewed data files' translations are used...
    assert tu.question_text(load_questionnaire().get("patient_age")) == "[xx] How old are you?"
    assert knowledge().entries[0].text_for(settings) == "[xx] Checked answer."
    # ...and so do domain.yml's responses and the fault apology.
    from serving.fault_handling import apology

    assert apology() == "[xx] " + EN.say("fault.apology", emergency_number=settings.emergency_number)
    nlg = WordingNLG(domain=Domain.load(str(DOMAIN_YML)))
    state = DialogueStateTracker.from_events(
        "x", [SlotSet("clinic_name", "Example Jaw Clinic")], slots=Domain.load(str(DOMAIN_YML)).slots
    )
    greeting = asyncio.run(nlg.generate("utter_greet", state, "rest"))
    assert (
        greeting["text"] == "[xx] Hello! I'm the Example Jaw Clinic assistant for people with jaw pain, "
        "clenching or grinding."
    )


# --- domain.yml's responses ------------------------------------------------------------------


def test_domain_responses_are_the_english_catalogue_word_for_word():
    """domain.yml keeps an English copy of every response for `rasa data validate` and for
    harnesses that build an Agent without serving.wording_nlg; the catalogue is the source."""
    domain = yaml.safe_load(DOMAIN_YML.read_text(encoding="utf-8"))
    in_domain = {name: [v["text"] for v in variations] for name, variations in domain["responses"].items()}
    in_catalogue = {
        text_id.split(".", 1)[1]: [EN.text(text_id)] for text_id in EN.ids if text_id.startswith("responses.")
    }
    assert in_domain == in_catalogue


def test_the_nlg_renders_every_domain_response_from_the_catalogue():
    domain = Domain.load(str(DOMAIN_YML))
    nlg = WordingNLG(domain=domain)
    assert set(nlg.responses) == set(domain.responses)
    for name, variations in nlg.responses.items():
        assert [v["text"] for v in variations] == [EN.text(catalogue_id(name))]
    # Rasa assigns the model's responses after creating the generator: also from the catalogue.
    nlg = WordingNLG(wording=EN)
    nlg.responses = {"utter_greet": [{"text": "something else"}]}
    assert nlg.responses["utter_greet"][0]["text"] == EN.text("responses.utter_greet")
    with pytest.raises(WordingError, match="responses.utter_unknown"):
        nlg.responses = {"utter_unknown": [{"text": "not in the catalogue"}]}


@pytest.mark.parametrize("path", ["endpoints.yml", "endpoints.production.yml"])
def test_both_endpoint_files_use_the_catalogue_for_responses(path):
    config = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    assert config["nlg"] == {"type": "serving.wording_nlg.WordingNLG"}


def test_the_core_package_stays_free_of_rasa():
    source = (ROOT / "clinical" / "wording.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(?:import|from)\s+rasa", source, re.M)


def test_override_sections_are_not_text_ids():
    assert not any(text_id.split(".")[0] in OVERRIDE_SECTIONS for text_id in EN.ids)
