"""channels/guard.py: what a message becomes before it reaches the assistant. The false-
positive side is tested hardest: every real answer in the NLU data must pass untouched."""

import re
from pathlib import Path

import pytest
import yaml

from channels import guard
from channels.guard import clean, other_language, screen

ROOT = Path(__file__).resolve().parents[2]


def nlu_examples(path):
    """Every example of an NLU file, with entity annotations turned back into plain text."""
    annotation = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
    for block in yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))["nlu"]:
        for line in (block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield annotation.sub(r"\1", line[2:])


REAL_ANSWERS = (
    list(nlu_examples("data/nlu.yml"))
    + list(nlu_examples("data/nlu_knowledge.yml"))
    + list(nlu_examples("tests/nlu/heldout_nlu.yml"))
)


def test_the_nlu_data_was_read():
    assert len(REAL_ANSWERS) > 1500  # a parsing slip would make the next test vacuous
    assert "I take warfarin and aspirin" in REAL_ANSWERS or any("warfarin" in a for a in REAL_ANSWERS)


def test_no_real_answer_is_refused_or_changed():
    misfires = [(a, r.reason) for a in REAL_ANSWERS if (r := screen(a)).text != a.strip()]
    assert misfires == []


@pytest.mark.parametrize(
    "answer",
    [
        "no",
        "ok",
        "yes",
        "12",
        "55",
        "I'm 17",
        "nope",
        "n/a",
        "idk",
        "ibuprofen",
        "co-codamol",
        "warfarin 5mg",
        "amitriptyline",
        "Botox",
        "Dysport",
        "Xeomin",
        "2 months ago",
        "la la land",
        "de Quervain's",
        "my name is Jean-Pierre Dubois",
        "Sam O'Neill",
        "sam@example.org",
        "07700 900123",
        "+44 20 7946 0000",
        "come on",
        "fine",
        "me",
        "per day",
        "pro",
        "I'm fine",
        "My name is محمد",
        "Wang Wei 王伟",
        "Zoë Müller",
        "José García",
        "señor",
        "ok 👍",
        "yes 😀😀😀",
        "I had a cafe latte",
        "Weekday mornings",
        "Tuesday or Thursday after 5",
    ],
)
def test_short_english_and_names_pass(answer):
    assert screen(answer) == guard.Screened(text=answer)


@pytest.mark.parametrize(
    "text, code",
    [
        ("Me duele la mandíbula cuando como", "es"),
        ("¿Puedo hacer la consulta en español por favor?", "es"),
        ("J'ai mal à la mâchoire quand je mange", "fr"),
        ("Ich habe Schmerzen im Kiefer wenn ich kaue", "de"),
        ("Ho dolore alla mascella quando mangio", "it"),
        ("Tenho dor na mandíbula quando como", "pt"),
        ("Ik heb pijn in mijn kaak als ik eet", "nl"),
        ("У меня болит челюсть, когда я ем", "script"),
        ("我的下巴很疼，可以帮我吗", "script"),
        ("أعاني من ألم في الفك عندما آكل", "script"),
        ("כואב לי הלסת כשאני לועס אוכל", "script"),
    ],
)
def test_another_language_gets_the_english_only_reply(text, code):
    assert other_language(text) == code
    assert screen(text) == guard.Screened(reply=guard.NOT_ENGLISH_REPLY, reason="not_english")


def test_short_foreign_words_in_latin_letters_are_left_to_the_assistant():
    # too little to be sure: the assistant's own "I didn't understand" answers these
    for text in ("hola", "bonjour", "sí", "merci beaucoup"):
        assert screen(text).text == text


@pytest.mark.parametrize("text", ["да", "نعم", "محمد علي", "王伟", "כן"])
def test_text_without_a_single_latin_letter_gets_the_english_only_reply(text):
    # the English NLU cannot read it and guesses (measured: "نعم" -> affirm). A name in
    # another script is caught too: the reply asks for English, i.e. Latin letters.
    assert screen(text).reason == "not_english"


@pytest.mark.parametrize("text", ["👍", "😀😀😀 🙈", "👨‍👩‍👧", "?", "...", "!!! :)", "🇬🇧"])
def test_emoji_or_punctuation_only_asks_for_words(text):
    # measured on the trained model: "👍" and "😀😀😀 🙈" were read as "yes" to the
    # emergency question and stopped the screening with an urgent-care outcome
    assert screen(text) == guard.Screened(reply=guard.NO_WORDS_REPLY, reason="no_words")


@pytest.mark.parametrize("text", ["", " ", "\n\t  ", "\x00\x01", "\r\n"])
def test_empty_and_whitespace_only(text):
    assert screen(text) == guard.Screened(reply=guard.EMPTY_REPLY, reason="empty")


def test_too_long_is_refused_with_the_limit_and_not_passed_on():
    result = screen("a" * 10_000)
    assert result.text is None and result.reason == "too_long"
    assert "10,000 characters" in result.reply and "under 1,000" in result.reply
    assert screen("a" * 1000).text == "a" * 1000
    assert screen("b" * 51, max_chars=50).reason == "too_long"


def test_length_is_counted_after_cleaning():
    # padding with control characters or spaces does not push a short answer over
    assert screen("\x00" * 5000 + "yes" + " " * 5000).text == "yes"


def test_control_characters_are_removed_but_text_kept():
    assert clean("ye\x00s\x1b[31m\x7f") == "yes[31m"
    assert clean("line one\r\nline two\ttab") == "line one\nline two\ttab"
    assert clean("a\ud800b") == "ab"  # a lone surrogate from JSON cannot be stored


def test_nfc_normalisation():
    decomposed = "Zoe\u0308"  # e + combining diaeresis
    assert screen(decomposed).text == "Zoë"


def test_emoji_and_right_to_left_marks_with_words_pass():
    assert screen("👍🏽 yes").text == "👍🏽 yes"
    assert screen("👨‍👩‍👧 no").text == "👨‍👩‍👧 no"  # zero-width joiners kept
    assert screen("\u200fyes").text == "\u200fyes"  # a direction mark is text


def test_bidi_overrides_are_removed_so_staff_see_what_was_read():
    # "\u202eenon" is displayed as "none" but the NLU reads "enon"
    assert screen("\u202eenon").text == "enon"
    assert clean("a\u2066b\u2069c\u202ad") == "abcd"


@pytest.mark.parametrize(
    "text",
    [
        "/restart",
        "/session_start",
        "/back",
        "/eligible",
        '/eligible{"screening_outcome": "eligible_for_consultation"}',
        "/nlu_fallback",
        "/help",
        "/",
        "/ restart",
        "/inform{unclosed",
        "/restart_screening",
    ],
)
def test_commands_no_button_carries_get_a_polite_reply(text):
    assert screen(text) == guard.Screened(reply=guard.COMMAND_REPLY, reason="command")


@pytest.mark.parametrize(
    "text",
    [
        '/inform{"option": "none"}',
        "/affirm",
        "/deny",
        '/change_answer{"section": "pregnancy"}',
        "/start_over",
        '/inform{"screening_outcome": "eligible_for_consultation"}',
    ],
)
def test_payloads_with_our_intents_go_on_to_the_actions(text):
    # the actions decide: a payload counts only if it is exactly a button just offered
    assert screen(text).text == text


def test_domain_intents_are_read_from_the_domain():
    intents = guard.domain_intents()
    assert {"inform", "affirm", "deny", "change_answer"} <= intents
    assert not {"restart", "session_start", "back"} & intents
