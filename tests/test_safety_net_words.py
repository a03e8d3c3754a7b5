"""The safety net on its own (clinical/safety_net.py, clinical/safety.yml): every red flag
of clinical reference sections 2 and 8 in people's words, negation, hedges, look-alikes.
The phrasings here are the unit level; tests/corpus measures unseen ones."""

from __future__ import annotations

import pytest

from channels.guard import screen
from clinical.rules import load_rulebook
from clinical.safety_net import DISTRESS, load_safety_net, safety_excerpt, safety_messages, scan


def flags(text, at=None, answers=None):
    return {(f.flag, f.certain) for f in scan(text, at, answers)}


@pytest.mark.parametrize(
    "text, flag",
    [
        ("my chest feels heavy and the ache goes into my arm", "chest"),
        ("tight band across my chest since this morning", "chest"),
        ("I can't breathe properly", "airway"),
        ("can barely swallow my own spit", "airway"),
        ("my face is swelling up fast", "swelling"),
        ("my eye is swollen shut", "swelling"),
        ("swollen cheek and I've got a fever", "swelling"),
        ("I got hit in the jaw and now my teeth don't line up", "injury"),
        ("fell off my bike and my mouth won't close", "injury"),
        ("worst headache of my life came on suddenly", "neuro"),
        ("my words are coming out slurred", "neuro"),
        ("one side of my face is drooping", "neuro"),
        ("I'm suddenly seeing double", "neuro"),
        ("my jaw is stuck open", "locked_jaw"),
        ("I can't eat or drink anything", "locked_jaw"),
        ("new headache at my temples", "temple_headache"),
        ("my scalp is tender when I brush my hair", "temple_headache"),
        ("headache at my temples and my vision went blurry", "temple_headache_vision"),
        ("throbbing tooth and my gum is swollen", "abscess"),
        ("there's pus coming from my gum", "abscess"),
        ("I've lost a stone without trying", "systemic"),
        ("there's a lump in my neck that won't go", "systemic"),
        ("my lip has gone numb", "nerve"),
        ("my bite has changed", "nerve"),
        ("I'm losing hearing in my left ear", "ear_nose"),
        ("I keep getting nosebleeds", "ear_nose"),
        ("I have rheumatoid arthritis", "rheumatic"),
    ],
)
def test_each_red_flag_is_found_in_words(text, flag):
    assert (flag, True) in flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "no chest pain or anything like that",
        "my chest is fine, it's only my jaw",
        "I don't have any trouble breathing",
        "never had any swelling",
        "no numbness at all",
        "my jaw gets stuck sometimes",  # catching now and then: the symptoms question
        "temple headaches for 20 years, nothing new",
        "I lost weight on purpose, I've been dieting",
        "my mum has rheumatoid arthritis",  # someone else
        "my dad had a heart attack",
        "yes, I reacted badly to Dysport before",
        "I take warfarin and aspirin",
        "I'm confused about the question",
        "I clench at my desk",
    ],
)
def test_negated_and_look_alike_mentions_are_not_red_flags(text):
    assert not [f for f in scan(text) if f.certain], text


def test_a_hedge_anywhere_makes_a_match_one_to_confirm():
    assert flags("maybe my chest is a bit tight") == {("chest", False)}
    assert flags("maybe? there's a bad taste sometimes") == {("abscess", False)}


def test_weaker_signs_are_confirmed_except_at_their_own_question():
    assert flags("I hurt my arm") == {("chest", False)}
    # At the emergency question the person is describing what they have now.
    assert ("chest", True) in flags("jaw hurts and I'm all sweaty and feel sick", at="rf_emergency")
    # At the heart question people describe their history: confirmed, not taken as now.
    assert flags("angina, chest pain when I walk", at="heart") == {("chest", False)}


def test_temple_headaches_at_the_symptoms_question_are_confirmed_not_taken():
    assert flags("yes, headaches at my temples", at="temple_headaches") == {("temple_headache", False)}


@pytest.mark.parametrize(
    "text",
    [
        "my jaw pain is killing me, I want to die",
        "I want to kill myself",
        "there's no point going on",
        "i just want to go to sleep and not wake up",
        "i've lost the will to live",
        "everyone would be better off without me",
        "I've been thinking about ending things",
        "i dont see any point in living",
    ],
)
def test_distress_in_any_words(text):
    assert any(f.kind == DISTRESS for f in scan(text)), text


@pytest.mark.parametrize(
    "text",
    [
        "I'm dying to know the price",
        "this steak is to die for",
        "I don't want to die from this",
        "I don't want to carry on with the questions",
    ],
)
def test_figures_of_speech_are_not_distress(text):
    assert not any(f.kind == DISTRESS for f in scan(text)), text


def test_every_red_flag_rule_has_words_and_a_description():
    net = load_safety_net()
    descriptions = safety_messages()["descriptions"]
    for flag in net.flags:
        assert flag.patterns, flag.id
        assert flag.id in descriptions, flag.id
    # every urgent and refer rule of clinical/outcome_rules.yml is reachable from some flag's answer
    reachable = set()
    for flag in net.flags:
        trial = {flag.question: flag.value, "patient_age": 70}
        reachable |= {r for r in load_rulebook().evaluate(trial).reasons if r.startswith("rf_")}
    expected = {r.id for r in load_rulebook().rules if r.id.startswith("rf_")} - {"rf_emergency_sign"}
    assert expected <= reachable


def test_a_long_message_with_a_red_flag_is_passed_on_not_refused():
    long = "blah " * 300 + ". My chest feels tight and heavy. " + "blah " * 100
    screened = screen(long)
    assert screened.reply is None and screened.reason == "too_long_safety"
    assert screened.text == "My chest feels tight and heavy"
    assert screen("blah " * 300).reason == "too_long"  # nothing in it: refused as before
    assert safety_excerpt("blah " * 300, 1000) == ""
