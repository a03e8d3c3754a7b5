"""No dead ends: hundreds of randomised conversations through the trained assistant.

Each conversation answers with a random mix of tapped buttons, typed answers from the
development corpus for the question being asked, plain and casual yes/no, hedges,
questions about the treatment, nonsense and corrections. Every conversation must reach an
end (consent declined, an urgent stop, a stop, a distress pause, or the consultation offer
answered) within MAX_TURNS, and no question may be asked three times in a row unless the
person asked something or changed an answer in between.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest

from actions.questionnaire import CLARIFY
from clinical.questionnaire import load_questionnaire
from tests.reading.blind_corpus import load as load_blind
from tests.reading.distress_corpus import DEVELOPMENT as DISTRESS_DEVELOPMENT
from tests.reading.distress_corpus import load as load_distress
from tests.understanding.corpus import load_cases

pytestmark = pytest.mark.understanding

CONVERSATIONS = 200
MAX_TURNS = 160
QUESTIONS = [
    "how much does it cost?",
    "what are the side effects?",
    "how long does it last?",
    "are you a real person?",
    "what happens at the consultation?",
    "who does the injections?",
]
NONSENSE = ["asdfgh", "purple elephants", "hmm", "ok", "lol", "banana", "?", "12345", "the"]
TYPED = [
    "yes",
    "no",
    "not sure",
    "yup",
    "nah",
    "I think so",
    "maybe",
    "yeah definitely",
    "nope never",
    "i dont know",
    "kind of",
]
CORRECTIONS = ["actually I'm breastfeeding", "actually I'm 62", "I also take warfarin", "sorry, I'm 35"]
WAY_ON = ("Yes, that's okay", "None of these", "No", "Yes, I'm safe right now", "Yes, please")
CONTACT_DETAILS = ["+44 20 7946 0123", "sam@example.org", "my number is 020 7946 0456", "dunno", "call me maybe"]
# Refusals at the free-text steps of the consultation request (issue 21): they end it politely.
REFUSALS = ["no", "I'd rather not", "never mind, I don't want to give my number", "no thanks"]


RED_FLAG_QUESTIONS = {q.id for q in load_questionnaire().questions if q.section == "red_flags" and q.type != "number"}


def typed_pool() -> dict[str, list[str]]:
    """Typed answers from the development corpora (the team's and the blind authors') by
    point, without red flags or distress (those end a conversation at once; the corpus
    tests cover them)."""
    pool: dict[str, list[str]] = defaultdict(list)
    # The blind authors' answers at the red-flag questions are left out: many are red flags
    # they did not mark as such ("yes" at the locked-jaw question), which end a conversation
    # at once; the corpus tests cover them, and conversations here should go the whole way.
    blind = [c for c in load_blind("development") if c["at"] not in RED_FLAG_QUESTIONS]
    for case in load_cases("development") + blind:
        case = {**case, "text": str(case["text"])}
        if case.get("red_flag") or case.get("distress"):
            pool["safety"].append(case["text"])
        if not case.get("red_flag") and not case.get("distress"):
            pool[case["at"]].append(case["text"])
            if str(case.get("expect")) in ("yes", "none", "no") and (case["at"] == "consent") == (
                case.get("expect") == "yes"
            ):
                pool["carry_on:" + case["at"]].append(case["text"])
    # Distress in the blind distress authors' words, direct and indirect (issue 21).
    pool["safety"] += [str(c["text"]) for c in load_distress(DISTRESS_DEVELOPMENT) if c["kind"] == "distress"]
    return pool


def point(slots: dict[str, Any], loop: str | None) -> str:
    if loop == "consent_form":
        return "consent"
    if loop in ("screening_form", "consultation_form"):
        return slots.get("requested_slot") or ""
    status = slots.get("screening_status")
    return {"awaiting_confirmation": "summary", "choosing_change": "change_what"}.get(status, status or "")


def ended(slots: dict[str, Any]) -> str | None:
    if slots.get("consent_given") is False:
        return "consent declined"
    if slots.get("screening_status") in ("urgent_stop", "stopped"):
        return slots["screening_status"]
    if slots.get("consultation_requested") is not None:
        return "consultation offer answered"
    if slots.get("distress_flagged") and not tracker_active_safety_check(slots):
        return "distress pause"
    return None


def tracker_active_safety_check(slots: dict[str, Any]) -> bool:
    return slots.get("safety_check") is not None


def choose(rng: random.Random, replies: list[dict[str, Any]], at: str, pool) -> tuple:
    """(message, kind): kind "question" and "correction" reset the repetition count."""
    buttons = [b for r in replies for b in (r.get("buttons") or [])]
    roll = rng.random()
    if buttons and roll < 0.5:
        # Mostly the way on at consent and the red-flag questions, so that most
        # conversations go the whole way (the corpus test covers the red flags).
        way_on = [b for b in buttons if b["title"] in WAY_ON]
        if way_on and rng.random() < 0.85:
            return way_on[0]["payload"], "button"
        return rng.choice(buttons)["payload"], "button"
    if roll < 0.72 and pool.get(at):
        if at == "consent" or at.startswith("rf_"):
            # mostly typed answers that carry on (the red flags ended above)
            carry_on = [t for t in pool[at] if t in pool["carry_on:" + at]] or pool[at]
            return rng.choice(carry_on if rng.random() < 0.8 else pool[at]), "typed"
        return rng.choice(pool[at]), "typed"
    if at in ("contact_name", "contact_details") and 0.72 <= roll < 0.76:
        return rng.choice(REFUSALS), "typed"
    if at == "contact_details" and roll < 0.8:
        return rng.choice(CONTACT_DETAILS), "typed"
    if roll < 0.84:
        return rng.choice(TYPED), "typed"
    if roll < 0.90:
        return rng.choice(QUESTIONS), "question"
    if roll < 0.905 and pool.get("safety"):
        return rng.choice(pool["safety"]), "typed"  # distress or a red flag, in people's words
    if roll < 0.97:
        return rng.choice(NONSENSE), "nonsense"
    return rng.choice(CORRECTIONS), "correction"


def answered_something(replies: list[dict[str, Any]]) -> bool:
    """The bot responded to what the person said (answered a question, explained how to
    change an answer...) before repeating the pending question: expected, not a loop.
    Only "I didn't understand"-type clarifications and the question itself don't count."""
    not_a_response = set(CLARIFY.values()) | {asked(replies)}
    return any(
        r.get("text") and r["text"] not in not_a_response and not r["text"].startswith(CLARIFY["out_of_range"])
        for r in replies
    )


def asked(replies: list[dict[str, Any]]) -> str:
    """The question the bot ended its turn with (its last message)."""
    return (replies[-1].get("text") or "") if replies else ""


def run_conversation(assistant, seed: int, pool) -> dict[str, Any]:
    rng = random.Random(seed)
    sender = f"random-{seed}"
    replies = assistant.say(sender, rng.choice(["hi", "hello", "I have jaw pain", "can you help me?"]))
    transcript = []
    last_question, repeats = None, 0
    tracker = assistant.tracker(sender)
    for turn in range(1, MAX_TURNS + 1):
        slots = tracker.current_slot_values()
        why = ended(slots)
        if why:
            return {"ended": why, "turns": turn, "transcript": transcript}
        at = point(slots, tracker.active_loop_name)
        answers_before = {k: v for k, v in slots.items() if k not in ("retry_question", "requested_slot")}
        message, kind = choose(rng, replies, at, pool)
        replies = assistant.say(sender, message)
        transcript.append(f"USER({kind}, at {at}): {message}")
        transcript += [f"BOT: {r.get('text', '')}" for r in replies]
        assert replies, f"seed {seed}: no reply to {message!r}\n" + "\n".join(transcript[-20:])
        tracker = assistant.tracker(sender)
        slots_after = tracker.current_slot_values()
        progressed = {
            k: v for k, v in slots_after.items() if k not in ("retry_question", "requested_slot")
        } != answers_before
        question = asked(replies)
        if kind in ("question", "correction") or progressed or question != last_question or answered_something(replies):
            last_question, repeats = question, 1
        else:
            repeats += 1
        assert repeats < 3, f"seed {seed}: asked three times in a row: {question!r}\n" + "\n".join(transcript[-24:])
    why = ended(tracker.current_slot_values())
    assert why, f"seed {seed}: no end within {MAX_TURNS} turns\n" + "\n".join(transcript[-30:])
    return {"ended": why, "turns": MAX_TURNS, "transcript": transcript}


def test_randomised_conversations_always_reach_an_end(assistant, capsys):
    pool = typed_pool()
    results = [run_conversation(assistant, seed, pool) for seed in range(CONVERSATIONS)]
    endings: dict[str, int] = defaultdict(int)
    for r in results:
        endings[r["ended"]] += 1
    turns = sorted(r["turns"] for r in results)
    with capsys.disabled():
        print(f"\n== {CONVERSATIONS} randomised conversations: every one reached an end ==")
        print("  ends: " + ", ".join(f"{k} {v}" for k, v in sorted(endings.items())))
        print(f"  turns: median {turns[len(turns) // 2]}, max {turns[-1]} (limit {MAX_TURNS})")
    assert len(results) == CONVERSATIONS
