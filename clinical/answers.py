"""Turns one patient message into an answer to one question. Pure Python.

Inputs are what Rasa's NLU produced (intent name, entities from our own extractor) and,
when the patient tapped a button, the option value behind it. The result is either an
answer value, or ``None`` with a hint of what was unclear, so the assistant asks again.

Safety: a bare "no" only means "no" when the question allows it; an unrecognised answer
is never turned into "no"; "I don't know" becomes UNSURE (after one more try, decided
by the caller).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from clinical.medicines import UNKNOWN as UNKNOWN_MEDICINE
from clinical.medicines import generic_name, looks_like_a_medicine, recognised, recognised_pieces
from clinical.numbers import read_age, read_duration_days, read_score, stated_age
from clinical.questionnaire import UNSURE, Question, condition_holds
from clinical.reading import correct_word, own_vocabulary, read
from clinical.safety_net import compile_patterns, load_safety_net, sentence_matches, sentences
from clinical.typed_answers import (
    fuzzy_medicines,
    is_hedged,
    leading_yes_no,
    medicine_context_words,
    normalised,
    not_now,
    phrase_span,
    says_none,
    says_some,
)

AFFIRM, DENY, DONT_KNOW = "affirm", "deny", "dont_know"

# Words that can surround a list of medicines without naming one.
_MEDICINE_FILLER = set(
    """i im i'm am take taking takes on and also plus with a an the my some daily
    every day once twice tablet tablets pill pills mg dose doses of for at night morning
    only just currently prescribed over counter from pharmacy medication medications
    medicine medicines meds use using have been it that as well too sometimes when needed
    occasionally per week except evening evenings morning mornings night nights stopped
    bedtime needed regularly""".split()
)


@dataclass(frozen=True)
class Interpretation:
    value: Any = None  # the answer, or None when unclear
    unclear_reason: str = ""  # "dont_know", "hedge", "vague_number", "out_of_range", "not_understood"

    @property
    def understood(self) -> bool:
        return self.value is not None


def _present(entities: Iterable[Mapping[str, Any]], label: str | None = None) -> list[Mapping[str, Any]]:
    return [e for e in entities if label is None or e.get("entity") == label]


def _values(entities, ids: Sequence[str], negated: bool) -> list[str]:
    return [str(e["value"]) for e in entities if str(e.get("value")) in ids and bool(e.get("negated")) == negated]


def _option_by_text(question: Question, text: str) -> str | None:
    """Typed button labels ("None of these") and option numbers ("2") for text channels."""
    cleaned = re.sub(r"[^\w\s/'-]", "", (text or "")).strip().lower()
    for index, option in enumerate(question.options, start=1):
        if cleaned in (option.label.lower(), option.value.lower().replace("_", " "), str(index)):
            return option.value
    return None


# "not sure if I'm pregnant" is uncertainty, not a negated "pregnant".
UNCERTAIN_RE = re.compile(
    r"\b(not sure|unsure|don'?t know|do not know|no idea|can'?t remember|cannot remember|"
    r"not certain|dunno|maybe|possibly|might|may be)\b",
    re.I,
)


def interpret(
    question: Question,
    intent: str,
    entities: Sequence[Mapping[str, Any]],
    text: str = "",
    button_value: str | None = None,
) -> Interpretation:
    if button_value is not None:
        return _from_button(question, button_value)
    # The one reading of the message: the entities came from this same text.
    typed = read(text)
    text = typed.text
    entities = own_entities(entities, text)
    if question.section == "red_flags" and question.type == "yes_no":
        # A red-flag question asks about now: "an abscess years ago" is history.
        current = load_safety_net().current_part(text, question.id)
        if current != text:
            entities = [e for e in entities if str(e.get("text") or "").lower() in current]
            text = current
    if question.about_now and not_now(text):
        # "I get cold sores, but none at the moment": the question is about now.
        return Interpretation("no" if question.type == "yes_no" else question.no_means)
    if question.type == "choice" and not question.duration_options:
        # Option words first: "might be pregnant" is an answer, not uncertainty.
        by_words = _option_by_words(question, text)
        if by_words:
            return Interpretation(by_words)
    if question.type == "number":
        # A number read in context is the answer even with a hedge ("maybe a 6 or 7").
        by_number = _number(question, intent, entities, text or "")
        if by_number.understood or by_number.unclear_reason in ("vague_number", "out_of_range"):
            return by_number
    uncertain = intent == DONT_KNOW or bool(UNCERTAIN_RE.search(text or ""))
    if uncertain and not any(not e.get("negated") for e in entities):
        # Uncertainty wins over a negation cue: never read "not sure if ..." as "no".
        return Interpretation(None, "dont_know")
    if question.type in ("yes_no", "choice") and is_hedged(text) and not any(not e.get("negated") for e in entities):
        # "I think so", "kind of": asked once more ("Is that a yes?"), never read as no.
        asks_yes_no = question.type == "yes_no" or question.yes_means is not None
        return Interpretation(None, "hedge" if asks_yes_no else "dont_know")
    handler = {
        "yes_no": _yes_no,
        "choice": _choice,
        "number": _number,
        "medicines": _medicines,
        "treatments": _treatments,
    }[question.type]
    result = handler(question, intent, list(entities), text or "")
    if question.type == "medicines" and result.understood:
        result = _keep_unrecognised_names(result, typed.plain)
    if result.understood:
        return result
    if intent == DONT_KNOW:
        return Interpretation(None, "dont_know")
    return result


def own_entities(entities: Sequence[Mapping[str, Any]], text: str) -> list[Mapping[str, Any]]:
    """Entities from sentences about the person, not about someone else ("my dad had a
    heart attack" says nothing about the person's own heart)."""
    net = load_safety_net()
    others = [s for s in sentences(text) if net.about_someone_else(s)]
    if not others:
        return list(entities)
    return [e for e in entities if not any(str(e.get("text") or "").lower() in s for s in others if e.get("text"))]


def _patterns_say(patterns, text: str) -> bool:
    compiled = _compiled(patterns)
    net = load_safety_net()
    return any(sentence_matches(p, s) for s in sentences(text) if not net.about_someone_else(s) for p in compiled)


@lru_cache(maxsize=64)
def _compiled(patterns):
    """A question's yes/no patterns compiled once (``patterns`` is a tuple of tuples)."""
    return compile_patterns(patterns)


def _from_button(question: Question, value: str) -> Interpretation:
    if value == UNSURE:
        # A tapped "Not sure" is the person's answer: recorded at once (a typed "I don't
        # know" is asked once more). Never "no": an unsure safety answer goes to review.
        return Interpretation(UNSURE)
    if question.type == "yes_no" and value in ("yes", "no"):
        return Interpretation(value)
    if question.type in ("medicines", "treatments"):
        if value in ("none", "nothing"):
            return Interpretation([] if question.type == "medicines" else ["nothing"])
        if question.option(value):
            return Interpretation([value])
    if question.option(value):
        return Interpretation(value)
    return Interpretation(None, "not_understood")


def _yes_no(question: Question, intent: str, entities, text: str) -> Interpretation:
    if _values(entities, question.recognises, negated=False):
        return Interpretation("yes")
    if _values(entities, question.recognises + question.denied_by, negated=True):
        return Interpretation("no")
    by_text = _option_by_text_yes_no(text)
    if by_text:
        return Interpretation(by_text)
    says_yes = bool(question.yes_patterns) and _patterns_say(question.yes_patterns, text)
    if leading_yes_no(text) is None and _last_part_denies(text) and not says_yes:
        # "my dad had a heart attack but I'm fine"; never over words that say yes ("I bruise
        # easily but not on blood thinners" keeps its bruising for the practitioner).
        return Interpretation("no")
    if _values(entities, question.denied_by, negated=False):
        # "I have allergies" names something, but not the thing asked about: ask again.
        return Interpretation(None, "not_understood")
    # "yup, every morning", "nah not really": the first words answer, whatever follows
    # (and whatever intent DIET guessed for the rest).
    leading = leading_yes_no(text)
    if leading:
        return Interpretation(leading)
    if question.no_patterns and _patterns_say(question.no_patterns, text):
        return Interpretation("no")
    if question.yes_patterns and _patterns_say(question.yes_patterns, text):
        return Interpretation("yes")  # "I came out in hives after Dysport"
    if not question.safety and says_some(text):
        return Interpretation("yes")  # "a bit", "sometimes": some of it is a yes
    if intent == AFFIRM:
        return Interpretation("yes")
    if intent == DENY:
        return Interpretation("no")
    return Interpretation(None, "not_understood")


# The last part of a reply, after "but", that says nothing applies to the person.
_DENIES = re.compile(
    r"^(?:(?:i'?m|i am) (?:fine|ok|okay|alright|good)\b|nothing\b|none\b|never\b|no\b(?! idea)|"
    r"(?:i'?ve|i have) never\b|not\b)"
)


def _last_part_denies(text: str) -> bool:
    parts = re.split(r"\b(?:but|however|though|although)\b", normalised(text))
    return len(parts) > 1 and bool(_DENIES.match(parts[-1].strip(" ,.")))


def _option_by_text_yes_no(text: str) -> str | None:
    cleaned = re.sub(r"[^\w\s]", "", (text or "")).strip().lower()
    return {"1": "yes", "yes": "yes", "2": "no", "no": "no"}.get(cleaned)


def _choice(question: Question, intent: str, entities, text: str) -> Interpretation:
    for option in question.options:
        if _values(entities, option.recognises, negated=False):
            return Interpretation(option.value)
    # A time ("not had botox for 2 months") says more than a negation cue.
    by_duration = _from_duration(question, entities, text)
    if by_duration:
        return Interpretation(by_duration)
    by_words = _option_by_words(question, text)
    if by_words:
        return Interpretation(by_words)
    for option in question.options:
        if _values(entities, option.recognises_negated, negated=True):
            return Interpretation(option.value)
    negated_mentions = [o for o in question.options if _values(entities, o.recognises, negated=True)]
    if negated_mentions and question.no_means:
        return Interpretation(question.no_means)  # "I'm not pregnant" -> does not apply
    by_text = _option_by_text(question, text)
    if by_text:
        return Interpretation(by_text)
    leading = leading_yes_no(text)
    if leading == "yes" and question.yes_means:
        return Interpretation(question.yes_means)
    if leading == "no" and question.no_means:
        return Interpretation(question.no_means)
    if intent == AFFIRM and question.yes_means:
        return Interpretation(question.yes_means)
    if intent == DENY and question.no_means:
        return Interpretation(question.no_means)
    return Interpretation(None, "not_understood")


def _option_by_words(question: Question, text: str) -> str | None:
    """The option whose ``says`` phrases the reply uses ("mostly at night" -> night).
    A phrase inside a longer one of another option gives way ("might be pregnant" is
    possibly pregnant, not pregnant); two options at once mean "both" where the question
    has it, else the reply is unclear."""
    # Only the person's own sentences: "my granddaughter is expecting" says nothing of them.
    net = load_safety_net()
    text = ". ".join(s for s in sentences(text) if not net.about_someone_else(s)) if text else text
    spans = {o.value: phrase_span(text, o.says) for o in question.options if o.says}
    spans = {value: span for value, span in spans.items() if span}
    matched = [
        v
        for v, (s, e) in spans.items()
        if not any(o != v and os <= s and e <= oe and (os, oe) != (s, e) for o, (os, oe) in spans.items())
    ]
    if len(matched) > 1 and question.no_means in matched:
        # "not pregnant but breastfeeding": a condition named wins over "does not apply".
        matched.remove(question.no_means)
    if "both" in matched:
        return "both"
    if len(matched) == 1:
        return matched[0]
    if len(matched) > 1 and question.option("both"):
        return "both"
    if len(matched) > 1:
        # "a lot, I can barely eat steak": the answer comes first.
        first = min(matched, key=lambda v: spans[v][0])
        if len(normalised(text)[: spans[first][0]].split()) <= 2:
            return first
    return None


def _from_duration(question: Question, entities, text: str = "") -> str | None:
    """The duration option for an amount of time: from the words first ("a fortnight",
    "since Christmas", "on and off for years"), else the extractor's duration."""
    mapping = question.duration_options
    if not mapping:
        return None
    days = read_duration_days(text) if text else None
    durations = [e for e in _present(entities, "duration") if not e.get("negated")]
    if days is None and durations:
        days = float(durations[0]["value"])
    if days is None:
        return None
    for limit, value in sorted((float(k), v) for k, v in mapping["less_than_days"].items()):
        if days < limit:
            return value
    return mapping["otherwise"]


def _number(question: Question, intent: str, entities, text: str) -> Interpretation:
    # Read from the words, not the extractor's first number: "forty two" is 42, never 40.
    # An age only from words that state one (a duration, a count or "nearly 50" is asked
    # again); a pain score takes the higher end of a range or hedge ("about 6, 7" is 7).
    if question.id == "patient_age":
        reading = read_age(text)
    else:
        low, high = question.minimum, question.maximum
        reading = read_score(text, int(low if low is not None else 0), int(high if high is not None else 10))
    value, problem = reading.value, reading.problem
    if value is None and problem == "out_of_range":
        return Interpretation(None, "out_of_range")
    if value is None:
        return Interpretation(None, "vague_number" if problem in ("vague", "several") else "not_understood")
    low = question.minimum if question.minimum is not None else float("-inf")
    high = question.maximum if question.maximum is not None else float("inf")
    if not low <= value <= high:
        return Interpretation(None, "out_of_range")
    return Interpretation(value)


def _medicines(question: Question, intent: str, entities, text: str) -> Interpretation:
    named = _unique(str(e["value"]) for e in _present(entities, "medicine") if not e.get("negated"))
    leftover = _unrecognised_words(text, entities)
    # Any real medicine by its generic name ("amlodipine", "Norvasc"), from a public list.
    public = recognised(leftover) + recognised_pieces(normalised(text))
    leftover = [w for w in leftover if w not in {word for word, _ in public}]
    misspelt = fuzzy_medicines(leftover) + fuzzy_medicines(_joined_pieces(leftover, text))  # "ibuprofin", "sir traline"
    named = _unique(named + [generic for _, generic in public] + [medicine for _, medicine in misspelt])
    # Only a word that looks like a name is "a medicine I didn't recognise", never the
    # ordinary words around the names ("when it flares up", reference s.5).
    matched = [word for word, _ in misspelt]
    leftover = [w for w in leftover if not any(w in word for word in matched) and looks_like_a_medicine(w)]
    if not named and not leftover and says_none(text):
        # "nothing", "I don't take anything", "no meds"; never when something else is
        # named too ("none except some herbal stuff" keeps the unknown medicine)
        return Interpretation([])
    unrecognised = bool(leftover)
    if named or (unrecognised and intent not in (DENY, DONT_KNOW)):
        return Interpretation(named + (["unknown"] if unrecognised else []))
    if intent == DENY or _option_by_text(question, text) == "none":
        return Interpretation([])
    # "I don't take blood thinners" rules one thing out, not every medicine: ask again.
    return Interpretation(None, "not_understood")


def _keep_unrecognised_names(result: Interpretation, plain: str) -> Interpretation:
    """A word as typed that looks like a medicine's name ("ellie quiss") stays "a medicine I
    didn't recognise" even when the typing-error corrector made an English word of it: the
    corrector may add readings, never take a possible medicine away."""
    if UNKNOWN_MEDICINE in result.value:
        return result
    own = own_vocabulary()
    for word in re.findall(r"[a-z][a-z'-]{3,}", plain):
        if word in _MEDICINE_FILLER or word in medicine_context_words() or not looks_like_a_medicine(word):
            continue
        if correct_word(word) in own or generic_name(word) or fuzzy_medicines([word]):
            continue  # a typing error of one of the assistant's words, or a medicine it knows
        return Interpretation([*result.value, UNKNOWN_MEDICINE])
    return result


def _joined_pieces(leftover: list[str], text: str) -> list[str]:
    """Pairs and triples of neighbouring words run together, for a name dictated in
    pieces ("para see tamol"); each joins a word the readers did not know."""
    words = re.findall(r"[a-z]+", normalised(text))
    unknown = set(leftover)
    joined = []
    for size in (2, 3):
        for i in range(len(words) - size + 1):
            piece = words[i : i + size]
            if any(w in unknown for w in piece):
                joined.append("".join(piece))
    return joined


def _unrecognised_words(text: str, entities) -> list[str]:
    """Words of the message that may name a medicine we don't know."""
    remaining = text or ""
    for e in sorted(entities, key=lambda e: e.get("start", 0), reverse=True):
        if "start" in e and "end" in e:
            remaining = remaining[: e["start"]] + " " + remaining[e["end"] :]
    words = re.findall(r"[a-zA-Z][a-zA-Z'-]{3,}", normalised(remaining))
    cues = {"none", "nothing", "dont", "don't", "know", "sure", "remember", "not", "nope", "cant", "can't", "cannot"}
    context = medicine_context_words()
    return [w for w in words if w not in _MEDICINE_FILLER and w not in cues and w not in context]


def _treatments(question: Question, intent: str, entities, text: str) -> Interpretation:
    named = _unique(str(e["value"]) for e in _present(entities, "treatment") if not e.get("negated"))
    # Something we don't recognise that the classifier hears as an answer is "other": staff
    # read the person's words in the transcript. Never nonsense, a question or "I don't know".
    something_else = (
        intent == "inform" and "?" not in text and bool(_unrecognised_words(text, entities)) and not says_none(text)
    )
    if named:
        return Interpretation(named)
    by_text = _option_by_text(question, text)
    if by_text:
        return Interpretation([by_text])
    if intent == DENY or _present(entities, "treatment") or says_none(text):
        return Interpretation(["nothing"])
    if something_else:
        return Interpretation(["other"])  # something we don't recognise; staff read the transcript
    return Interpretation(None, "not_understood")


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# Words by which a person refers back to an earlier answer.
_REFERS_BACK = re.compile(
    r"\b(?:actually|forgot|forget|wrong|correct(?:ion)?|mistake|meant|i said|earlier|before i said|not true|"
    r"change|update|going back|i put)\b"
)


def refers_back(text: str) -> bool:
    return bool(text) and bool(_REFERS_BACK.search(normalised(text)))


def find_corrections(
    questions: Sequence[Question],
    answers: Mapping[str, Any],
    entities: Sequence[Mapping[str, Any]],
    text: str = "",
    statement: bool = False,
) -> dict[str, Any]:
    """Earlier answers that this message clearly changes ("actually I'm breastfeeding").

    Only explicit mentions count (a lexicon term, a stated age such as "I'm 45" or "45
    years old", a phrase of a pregnancy option), never a bare yes/no or a bare number, and
    only for questions already answered. The caller does not look for corrections in a
    message that answered the pending question with those same entities. ``statement``:
    the message is a statement of fact at the summary, where an option's own phrases
    count too ("I'm feeding my baby myself"); elsewhere they could be about the pending
    question ("6 weeks" is not a pregnancy at the duration question).
    """
    changes: dict[str, Any] = {}
    for question in questions:
        current = answers.get(question.id)
        if current is None or current == "not_asked":
            continue
        if question.section == "red_flags" and question.type != "number":
            # Red flags are the safety net's to read ("my face swelled after Botox in 2019"
            # is history, not a spreading swelling now); it records them itself.
            continue
        new = _explicit_answer(question, entities, current, text, statement)
        if new is not None and new != current:
            changes[question.id] = new
    return changes


def _explicit_answer(question: Question, entities, current: Any, text: str = "", statement: bool = False) -> Any:
    if question.type == "yes_no":
        if _values(entities, question.recognises, negated=False):
            return "yes"
        if _values(entities, question.recognises, negated=True):
            return "no"
    elif question.type == "choice":
        for option in question.options:
            if _values(entities, option.recognises, negated=False):
                return option.value
            if _values(entities, option.recognises_negated, negated=True):
                return option.value
        if question.no_means and any(_values(entities, o.recognises, negated=True) for o in question.options):
            return question.no_means
        if (statement or refers_back(text)) and text:
            # "I'm feeding my baby myself", "I said it comes and goes but actually it's
            # always there": an option's own phrases, at the summary or when the person
            # refers back to an answer (never "does not apply", which a bare "no" elsewhere
            # must not set).
            by_words = _option_by_words(question, text)
            if by_words and by_words != question.no_means:
                return by_words
        if question.duration_options and _values(entities, ["botulinum_toxin"], negated=False):
            # "I had Botox 5 weeks ago", "Botox in my neck on the 10th of November"
            by_time = _from_duration(question, entities, text)
            if by_time:
                return by_time
    elif question.type == "number" and question.id == "patient_age":
        # Only words that state an age ("I'm actually 45"); a duration or a bare number
        # meant for another question never changes it.
        stated = stated_age(text) if text else None
        if stated is not None:
            return stated
    elif question.type == "medicines":
        named = [str(e["value"]) for e in _present(entities, "medicine") if not e.get("negated")]
        dropped = {str(e["value"]) for e in _present(entities, "medicine") if e.get("negated")}
        existing = [m for m in (current if isinstance(current, list) else []) if m not in dropped]
        if named or len(existing) != len(current if isinstance(current, list) else []):
            # "I also take baclofen"; "I no longer take ibuprofen" (it was on the list)
            return _unique(existing + named)
    return None


def uses_entity(question: Question, entity: Mapping[str, Any]) -> bool:
    """Whether this question reads this entity for its own answer."""
    label, value = entity.get("entity"), str(entity.get("value"))
    if question.type == "number":
        return label in ("age", "number")
    if question.type == "medicines":
        return label == "medicine"
    if question.type == "treatments":
        return label == "treatment"
    if label == "duration":
        return bool(question.duration_options)
    ids = set(question.recognises) | set(question.denied_by)
    for option in question.options:
        ids |= set(option.recognises) | set(option.recognises_negated)
    return value in ids


def find_pre_answers(
    questions: Sequence[Question],
    answers: Mapping[str, Any],
    entities: Sequence[Mapping[str, Any]],
    text: str = "",
) -> dict[str, Any]:
    """Questions not yet asked that this message already answers, so they are not asked
    again: "I take warfarin" answers the blood-thinner question. Only a clear, positive
    mention counts (never a "no" from a negation: "no chest pain" does not answer a
    question about several signs); red-flag questions are left to the safety net, which
    knows when a mention is not a red flag ("my jaw gets stuck sometimes")."""
    found: dict[str, Any] = {}
    for question in questions:
        if answers.get(question.id) is not None or question.section == "red_flags":
            continue
        if question.ask_if and not condition_holds(question.ask_if, answers):
            continue
        if question.type == "yes_no" and _values(entities, question.recognises, negated=False):
            found[question.id] = "yes"
        elif question.duration_options and _values(entities, ["botulinum_toxin"], negated=False) and text:
            # "I had Botox for my frown lines a month ago" answers when the last one was.
            by_time = _from_duration(question, entities, text)
            if by_time:
                found[question.id] = by_time
        elif question.type == "choice":
            option = next((o for o in question.options if _values(entities, o.recognises, negated=False)), None)
            if option is not None:
                found[question.id] = option.value
    return found
