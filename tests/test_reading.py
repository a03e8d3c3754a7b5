"""clinical/reading.py: the one reading of a message (normalising, chat spellings, typing
errors, negation, questions) and the safety net reading both the plain and corrected text."""

from __future__ import annotations

import pytest

from clinical.reading import (
    asks_something,
    correct_word,
    expand_text_speak,
    is_negated,
    normalise,
    read,
    starts_like_a_question,
)
from clinical.safety_net import scan


def test_normalise_reads_unicode_quotes_dashes_and_case_once():
    assert normalise("I\u2019m  \uff21LLERGIC \u2014 to\tDysport") == "i'm allergic - to dysport"


@pytest.mark.parametrize(
    "typed, read_as",
    [
        ("u r rly sure", "you are really sure"),
        ("defo grind at nite", "definitely grind at night"),
        ("im not sure wen it started", "i'm not sure when it started"),
        ("idk", "i don't know"),
    ],
)
def test_chat_spellings_are_read_as_words(typed, read_as):
    assert expand_text_speak(normalise(typed)) == read_as


def test_a_word_that_could_be_a_name_or_a_letter_is_left_alone():
    # "bf" may be a boyfriend, "k" a letter of a name: not in the reviewed list.
    assert expand_text_speak("my bf says k") == "my bf says k"


@pytest.mark.parametrize("typo, word", [("tigth", "tight"), ("swolen", "swollen"), ("breathles", "breathless")])
def test_typing_errors_are_corrected_towards_the_assistants_words(typo, word):
    assert correct_word(typo) == word


@pytest.mark.parametrize(
    "word",
    [
        "dont",  # a negation cue
        "without",
        "123",  # a number
        "abt",  # three letters
        "warfarin",  # a medicine in the lexicon
        "bisoprolol",  # a medicine from the public list, near no word of ours but never changed
        "lisinopril",
        "tuesday",  # an English word
        "zorvatrine",  # nothing near
    ],
)
def test_the_corrector_never_touches_cues_numbers_short_words_medicines_or_english(word):
    assert correct_word(word) == word


def test_read_is_cached_so_every_reader_shares_one_reading():
    assert read("my chest is tigth") is read("my chest is tigth")
    assert read("my chest is tigth").text == "my chest is tight"


def test_the_safety_net_reads_the_corrected_and_the_plain_words():
    # a typing error corrected adds the flag; the plain words still count too
    assert [f.flag for f in scan("my chest is tigth and heavy")] == ["chest"]
    assert [f.flag for f in scan("my chest is tight")] == ["chest"]


def test_negation_is_read_in_the_clause_of_the_term():
    text = "no fever but my chest hurts"
    assert is_negated(text, text.index("fever"))
    assert not is_negated(text, text.index("chest"))


def test_given_up_counts_as_negation_only_when_asked_for():
    text = "i stopped warfarin"
    assert not is_negated(text, text.index("warfarin"))
    assert is_negated(text, text.index("warfarin"), discontinued=True)


@pytest.mark.parametrize(
    "text, asks", [("yes, how long does it last", True), ("is that ok", True), ("yes every morning", False)]
)
def test_one_reader_of_questions(text, asks):
    assert asks_something(text) is asks


def test_two_words_are_a_name_not_a_question():
    assert not starts_like_a_question("Will Price")
    assert starts_like_a_question("can I talk to someone")


def test_a_no_in_one_sentence_never_negates_the_next():
    # "no. I'm pregnant" at another question: the pregnancy is stated, not denied.
    text = "no. sorry i am pregnant"
    assert not is_negated(text, text.index("pregnant"))
