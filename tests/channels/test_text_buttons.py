"""Buttons as numbered options, replies mapped back to the offered payload, splitting."""

import random

import pytest

from channels.text_buttons import (
    Button,
    OfferMemory,
    match_reply,
    number_turn,
    resolve_text,
    split_message,
    turn_as_text,
    turn_buttons,
    utf16_len,
)

YES = {"title": "Yes", "payload": '/inform{"option": "yes"}'}
NO = {"title": "No", "payload": '/inform{"option": "no"}'}
UNSURE = {"title": "Not sure", "payload": '/inform{"option": "unsure"}'}
CONSENT = {"title": "Yes, that's okay", "payload": "/consent_yes"}


def offer_of(*buttons):
    return OfferMemory().remember("patient", [Button(b["title"], b["payload"]) for b in buttons])


# ---- rendering ----------------------------------------------------------------------


def test_a_turn_becomes_text_with_numbered_options_after_the_question():
    turn = number_turn(
        [
            {"text": "Now some questions."},
            {"text": "Do you get headaches at your temples?", "buttons": [YES, NO, UNSURE]},
        ]
    )
    assert turn_as_text(turn) == (
        "Now some questions.\n\nDo you get headaches at your temples?\n\n1. Yes\n2. No\n3. Not sure"
    )


def test_numbers_run_on_across_the_messages_of_one_turn():
    turn = number_turn([{"text": "Consent?", "buttons": [CONSENT]}, {"text": "Or:", "buttons": [YES, NO]}])
    assert [n for m in turn for n, _ in m.options] == [1, 2, 3]
    assert [b.title for b in turn_buttons(turn)] == ["Yes, that's okay", "Yes", "No"]
    assert turn_as_text(turn).endswith("Or:\n\n2. Yes\n3. No")


def test_messages_keep_their_blank_lines_and_images_become_a_line_of_text():
    turn = number_turn([{"text": "First.\n\nSecond."}, {"image": "https://clinic.example/map.png"}, {"text": ""}])
    assert turn_as_text(turn) == "First.\n\nSecond.\n\nhttps://clinic.example/map.png"


def test_buttons_without_a_title_or_payload_are_left_out():
    turn = number_turn([{"text": "Q?", "buttons": [{"title": "", "payload": "/x"}, {"title": "A"}, YES]}])
    assert turn_as_text(turn) == "Q?\n\n1. Yes"


# ---- mapping replies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, payload",
    [
        ("1", YES["payload"]),
        (" 2 ", NO["payload"]),
        ("2.", NO["payload"]),
        ("#3", UNSURE["payload"]),
        ("3)", UNSURE["payload"]),
        ("yes", YES["payload"]),
        ("NO", NO["payload"]),
        ("not  sure.", UNSURE["payload"]),
        ("Not sure!", UNSURE["payload"]),
    ],
)
def test_a_number_or_an_options_words_give_exactly_the_offered_payload(reply, payload):
    assert resolve_text(offer_of(YES, NO, UNSURE), reply) == payload


def test_curly_apostrophes_from_phone_keyboards_match():
    assert resolve_text(offer_of(CONSENT, NO), "yes, that’s okay") == "/consent_yes"


@pytest.mark.parametrize("reply", ["4", "0", "12", "yes please", "nope", "I'm not sure", "1 or 2", ""])
def test_anything_else_goes_to_the_assistant_as_typed(reply):
    assert resolve_text(offer_of(YES, NO, UNSURE), reply) == reply


def test_without_an_offer_a_number_is_just_text():
    assert resolve_text(None, "1") == "1"
    assert match_reply("1", []) is None


def test_a_title_wins_over_position_only_when_it_is_not_a_number():
    # numbers always mean positions, so "1" is option 1 even if some title were "2"
    buttons = [Button("2", "/two"), Button("1", "/one")]
    assert match_reply("1", buttons).payload == "/two"


# ---- remembering offers -------------------------------------------------------------


def test_each_turn_replaces_the_senders_offer_and_a_turn_without_buttons_clears_it():
    memory = OfferMemory()
    first = memory.remember("a", [Button("Yes", "/y")])
    assert memory.current("a") == first
    second = memory.remember("a", [Button("No", "/n")])
    assert memory.current("a") == second and second.offer_id != first.offer_id
    assert memory.remember("a", []) is None and memory.current("a") is None
    assert memory.current("someone else") is None


def test_offers_expire_and_the_memory_is_bounded():
    now = [0.0]
    memory = OfferMemory(max_senders=2, ttl_seconds=60, clock=lambda: now[0])
    for sender in ("a", "b"):
        memory.remember(sender, [Button("Yes", "/y")])
    memory.current("a")  # a is now the most recently used
    memory.remember("c", [Button("Yes", "/y")])
    assert memory.current("b") is None and memory.current("a") and memory.current("c")
    now[0] = 61
    assert memory.current("a") is None


def test_keyboard_taps_map_only_for_the_current_offer():
    memory = OfferMemory()
    old = memory.remember("a", [Button("Yes", "/y"), Button("No", "/n")])
    new = memory.remember("a", [Button("Pregnant", "/p"), Button("None", "/none")])
    assert new.payload_for_callback(new.callback_data(2)) == "/none"
    assert new.payload_for_callback(old.callback_data(1)) is None  # a stale keyboard
    assert new.payload_for_callback(new.callback_data(3)) is None
    assert new.payload_for_callback("garbage") is None
    assert len(new.callback_data(99).encode()) <= 64  # Telegram's callback_data limit


# ---- splitting ----------------------------------------------------------------------


def test_short_messages_are_not_split():
    assert split_message("  Hello there.  ", 1600) == ["Hello there."]
    assert split_message("", 1600) == []


def test_splits_at_paragraphs_first_in_order():
    text = "A" * 30 + ".\n\n" + "B" * 30 + ".\n\n" + "C" * 30 + "."
    assert split_message(text, 70) == ["A" * 30 + ".\n\n" + "B" * 30 + ".", "C" * 30 + "."]


def test_then_at_lines_then_sentences_then_words():
    assert split_message("one two three.\nfour five six.", 20) == ["one two three.", "four five six."]
    assert split_message("First sentence here. Second one here.", 25) == ["First sentence here.", "Second one here."]
    assert split_message("alpha beta gamma delta epsilon", 17) == ["alpha beta gamma", "delta epsilon"]


def test_an_unbroken_run_is_cut_hard():
    assert split_message("x" * 40, 16) == ["x" * 16, "x" * 16, "x" * 8]


def test_emoji_count_twice_like_twilio_and_telegram_count_them():
    text = "\U0001f600" * 20  # 20 emoji = 40 UTF-16 units
    parts = split_message(text, 16)
    assert [utf16_len(p) for p in parts] == [16, 16, 8]
    assert "".join(parts) == text


@pytest.mark.parametrize("limit", [16, 50, 160, 1600])
def test_random_texts_come_back_whole_in_order_within_the_limit(limit):
    rng = random.Random(limit)
    words = ["jaw", "pain.", "Botox?", "\n", "\n\n", "clench", "£60", "👍", "x" * 30, "grind!"]
    for _ in range(200):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 400))).strip()
        parts = split_message(text, limit)
        assert all(0 < utf16_len(p) <= limit for p in parts)
        assert "".join("".join(parts).split()) == "".join(text.split())


# ---- numbers to call (a message's custom "call" entries, from clinic.yml) -------------

EMERGENCY_ALERT = {
    "text": "Please call 999 now, or go to your nearest emergency department.",
    "custom": {
        "kind": "alert",
        "level": "emergency",
        "call": [
            {"label": "Emergency services", "number": "999", "tel": "999"},
            {"label": "Example Jaw Clinic", "number": "+44 20 7946 0000", "tel": "+442079460000"},
        ],
    },
}


def test_numbers_to_call_follow_the_text_on_lines_of_their_own_in_dialable_form():
    text = turn_as_text(number_turn([EMERGENCY_ALERT, {"text": "Is that right?", "buttons": [YES, NO]}]))
    assert text == (
        "Please call 999 now, or go to your nearest emergency department.\n\n"
        "Emergency services: 999\n"
        "Example Jaw Clinic: +442079460000\n\n"
        "Is that right?\n\n1. Yes\n2. No"
    )


@pytest.mark.parametrize(
    "call",
    [
        [{"label": "Evil", "number": "1", "tel": "javascript:alert(1)"}],
        [{"label": "No tel", "number": "999"}],
        [{"label": 5, "number": "999", "tel": "999"}],
        "999",
        [None],
    ],
)
def test_malformed_call_entries_add_nothing(call):
    message = {"text": "Call us.", "custom": {"call": call}}
    assert turn_as_text(number_turn([message])) == "Call us."


def test_a_custom_object_alone_sends_nothing():
    assert number_turn([{"custom": EMERGENCY_ALERT["custom"]}]) == []


# ---- collectors: custom stays with its text -------------------------------------------


def collect(collector, message):
    import asyncio

    asyncio.run(collector.send_response("patient", dict(message)))
    return collector.messages


def test_rest_and_text_channels_keep_custom_with_its_text_and_buttons_and_the_text_whole():
    from channels.turns import KeepsCustomWithText, TurnCollector

    message = {"text": "Advice.\n\nReason.", "buttons": [YES], "custom": {"kind": "alert", "level": "emergency"}}
    for collector in (KeepsCustomWithText(), TurnCollector()):
        assert collect(collector, message) == [
            {"recipient_id": "patient", "text": "Advice.\n\nReason.", "buttons": [YES], "custom": message["custom"]}
        ]


def test_without_custom_the_rest_collector_cuts_at_blank_lines_as_rasas_does():
    from channels.turns import KeepsCustomWithText

    assert [m["text"] for m in collect(KeepsCustomWithText(), {"text": "One.\n\nTwo.", "custom": {}})] == [
        "One.",
        "Two.",
    ]
