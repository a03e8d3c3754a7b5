"""The one reader of numbers, ranges and durations in typed answers. Pure Python.

Numbers are read in context: an age only from words that state an age, a pain score
from a score (a range or a hedge gives its higher end, reference s.3 "worst pain"), a
duration from an amount of time or a starting point ("since Christmas"). Anything else
is no answer, so the question is asked again: a wrong age is worse than a re-ask (the
temple-headache question and the under-18 rule depend on it).

Number words are read by text2num (``alpha2digit``, already a dependency of the
project), so "forty two" is 42 and "seven out of ten" is 7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from text_to_num import alpha2digit

from clinical.reading import normalise

UNIT_DAYS = {
    "sec": 0.0,
    "second": 0.0,
    "min": 0.0,
    "minute": 0.0,
    "hour": 0.04,
    "hr": 0.04,
    "day": 1,
    "night": 1,
    "week": 7,
    "wk": 7,
    "fortnight": 14,
    "month": 30.44,
    "mnth": 30.44,
    "year": 365.25,
    "yr": 365.25,
}
_UNIT = r"(?:sec(?:ond)?|min(?:ute)?|hours?|hrs?|days?|nights?|weeks?|wks?|fortnights?|months?|mnths?|years?|yrs?)"
# A number then a unit of time, not followed by "old": "2 days", "three weeks", "1 sec".
_DURATION = re.compile(rf"(?<![\d.])(?P<n>\d+(?:\.\d+)?)\s*(?:-\s*)?(?P<u>{_UNIT})s?\b(?!\s*(?:old|of age))")
_OLD = re.compile(
    r"(?<![\d.\-x])(?P<n>\d{1,3})\s*(?:years?|yrs?)?\s*(?:old|of age|young)\b|(?<![\d.\-x])(?P<m>\d{1,3})\s*y\.?\s?o\b"
)
_AGE_WORDS = re.compile(
    r"\b(?:i'?m|i am|aged?|age(?: is)?|age:|turned|turning)\s*(?:actually |now |only |just )?(?P<n>\d{1,3})\b"
)
# Words that make an age approximate; the over-50 rule cannot use "nearly 50".
_APPROXIMATE = re.compile(
    r"\b(?:about|around|roughly|approx\w*|nearly|almost|over|under|above|below|approaching|close to|"
    r"early|mid|late|or so|ish|odd|something|plus|give or take|in my|pushing|getting on)\b|\d+\s*(?:ish|\+|s\b)"
)
_HAVE_YEARS = re.compile(r"\bi (?:have|got) (\d{1,3}) (?:years?|yrs?)\b(?! ago| now| of)")
ADULT_LOOKING_YEARS = 16  # "I have 2 years" is more likely a duration than an age
_DECADE = re.compile(r"\b(?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties|\d0s)\b")
_SELF_CORRECTION = re.compile(
    r"\b(?:no wait|wait|no sorry|sorry|i mean|actually|correction|no)\b\W*(\d{1,3})\b(?!.*\d)"
)
_SO_AGE = re.compile(
    r"\b(?:so|which makes me|that makes me|i\.?e\.?)\s+(?:i'?m |i am )?(\d{1,3})\s*(?:now|at the moment)?\s*[.!]?$"
)
_FUTURE_AGE = re.compile(
    r"\b(?:i'?ll be|i will be|turning|gonna be|going to be)\s+\d"
    r"|\d{1,3}\s+(?:next|in (?:a |\d+ )?(?:week|month|day)s?\b|"
    r"in (?:january|february|march|april|may|june|july|august|september|october|november|december)|soon|tomorrow|"
    r"on (?:mon|tues|wednes|thurs|fri|satur|sun)day)"
)
_ANY_NUMBER = re.compile(r"(?<![\d.])-?\d+(?:\.\d+)?(?![\d])")
_MARKUP = re.compile(r"[<>\[\]{}=*#@$%^~|\\]|\bx\s?\d|\d\s?x\b")
_OUT_OF_TEN = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/|out of|outta|over|on a scale of)\s*10\b")
_SCALE = re.compile(
    r"(?:on )?(?:a |the )?scale (?:of |from )?(?:0|1)?\s*(?:to|-)?\s*10\b|\b(?:from )?(?:0|1)\s*(?:to|-)\s*10\b"
)


def digits(text: str) -> str:
    """Number words as digits ("forty two" -> "42"), in the normalised text."""
    plain = normalise(text)
    plain = re.sub(r"\b(?:a|one) (hundred)\b", r"1 \1", plain)
    # Dictated scores: "for out of ten" is 4, "to out of ten" is 2.
    plain = re.sub(
        r"\b(for|fore|to|too|ate|won)(?= out of (?:ten|10)\b| ?/ ?10\b)", lambda m: _HOMOPHONES[m.group(1)], plain
    )
    try:
        plain = alpha2digit(plain, "en", threshold=0)
    except (ValueError, IndexError):  # text2num refuses some odd inputs; keep the words
        pass
    # A year said aloud: "twenty nineteen" -> "20 19" -> "2019"
    return re.sub(r"\b(19|20) ([1-9]\d)\b", r"\1\2", plain)


_HOMOPHONES = {"for": "4", "fore": "4", "to": "2", "too": "2", "ate": "8", "won": "1"}


@dataclass(frozen=True)
class NumberReading:
    value: int | None
    problem: str = ""  # "" | "none" | "vague" | "several" | "not_a_number_for_this"


def read_age(text: str) -> NumberReading:
    """An age only from words that state one: a bare number ("45", "forty five"), "I'm 45",
    "45 years old", "aged 45". A duration ("2 days"), a count ("x1"), a negative, markup or
    an approximate age ("nearly 50") is no age."""
    t = digits(text)
    numbers = _ANY_NUMBER.findall(t)
    if not numbers:
        return NumberReading(None, "vague" if _DECADE.search(t) else "none")
    stated = _stated_ages(t)
    # "I have 45 years": how several languages state an age, word for word.
    stated += [int(n) for n in _HAVE_YEARS.findall(t) if int(n) >= ADULT_LOOKING_YEARS]
    if _DECADE.search(t) and not stated:
        return NumberReading(None, "vague")
    if not stated and any(_APPROXIMATE.search(_around(t, n)) for n in numbers):
        return NumberReading(None, "vague")
    so_age = _SO_AGE.search(t)
    if so_age:
        return NumberReading(int(so_age.group(1)))  # "I'll be 64 in May, so 63"
    if _FUTURE_AGE.search(t):
        return NumberReading(None, "vague")  # "52 next month", "I'll be 50 in May": not the age now
    if stated:
        if len(set(stated)) > 1:
            return NumberReading(None, "several")
        if _APPROXIMATE.search(_around(t, str(stated[0]))):
            return NumberReading(None, "vague")
        return NumberReading(stated[0])
    alone = re.fullmatch(r"\s*(\d{1,3})\s*(?:years?|yrs?)\s*[.!]?\s*", t)
    if alone and int(alone.group(1)) >= ADULT_LOOKING_YEARS:
        return NumberReading(int(alone.group(1)))  # "58 yrs" as the whole reply: an age
    if len(numbers) > 1:
        # "55 - no wait, 56": the number after a self-correction.
        corrected = _SELF_CORRECTION.search(t)
        if corrected and not _DURATION.search(t) and not _MARKUP.search(t):
            return NumberReading(int(corrected.group(1)))
    # A bare number answers "how old are you?" only when nothing else could be meant; an
    # adult's age first in the reply may have words after it ("44. sorry, my swallowing").
    first = re.search(r"(?:^|[.!?]\s*)(\d{1,3})\b(?!\s*(?:-\s*)?" + _UNIT + r")", t)
    if (
        first
        and len(numbers) == 1
        and int(first.group(1)) >= ADULT_LOOKING_YEARS
        and not _DURATION.search(t)
        and not _MARKUP.search(t)
        and not re.match(r"\s*(?:%|x|times|kids|children|pills|tablets|people|of)\b", t[first.end() :])
    ):
        return NumberReading(int(first.group(1)))
    if len(numbers) > 1 or _DURATION.search(t) or _MARKUP.search(t) or numbers[0].startswith("-") or "." in numbers[0]:
        return NumberReading(None, "not_a_number_for_this")
    other_words = [w for w in re.findall(r"[a-z']+", t) if w not in _BARE_NUMBER_WORDS]
    if other_words:
        return NumberReading(None, "not_a_number_for_this")
    return NumberReading(int(numbers[0]))


# Words that may stand around a bare age without making it something else.
_BARE_NUMBER_WORDS = frozenset(
    "i i'm im am its it's it is me my age and so yes yeah ok okay sorry just only now actually thanks thank you "
    "please well um er erm uh hi hello years yrs".split()
)


def stated_age(text: str) -> int | None:
    """An age in words that state one ("I'm 45", "45 years old", "aged 45"); a bare
    number is not enough (it may be meant for another question)."""
    t = digits(text)
    stated = {a for a in _stated_ages(t) if not _APPROXIMATE.search(_around(t, str(a)))}
    return stated.pop() if len(stated) == 1 else None


# "since I was 12 years old", "my son is 5": an age, but not the person's own now.
_PAST_OR_OTHER = re.compile(
    r"(?:\b(?:since|when|as|from|till|until) (?:i was |i were |i turned )?(?:about |around )?"
    r"|\b(?:my|our|his|her|their) (?:\w+ )?(?:son|daughter|kids?|child|children|wife|husband|partner|mum|mom|dad|"
    r"mother|father|brother|sister|friend|boy|girl|baby|grandson|granddaughter)\b[^,.;]*)$"
)


def _stated_ages(t: str) -> list[int]:
    found = [(m.start(), int(m.group("n") or m.group("m"))) for m in _OLD.finditer(t)]
    found += [(m.start(), int(m.group("n"))) for m in _AGE_WORDS.finditer(t) if not _followed_by_unit(t, m.end())]
    return [age for start, age in found if not _PAST_OR_OTHER.search(t[max(0, start - 40) : start])]


def _followed_by_unit(t: str, end: int) -> bool:
    return bool(re.match(rf"\s*(?:-\s*)?{_UNIT}s?\b(?!\s*(?:old|of age|young))", t[end:]))


def _around(t: str, number: str) -> str:
    at = t.find(number)
    return t[max(0, at - 15) : at + len(number) + 6]


def read_score(text: str, low: int = 0, high: int = 10) -> NumberReading:
    """A score on 0-10: "7", "7/10", "seven out of ten"; a range or hedge ("6 or 7",
    "about 6, 7 on bad days") gives its higher end: the question asks for the worst."""
    t = _SCALE.sub(" ", _OUT_OF_TEN.sub(r"\1", digits(text)))  # "on a scale of 1 to 10" is no score
    t = _DURATION.sub(" ", t)  # "for 3 weeks" is not a score
    values = [float(n) for n in _ANY_NUMBER.findall(t) if not n.startswith("-")]
    in_scale = [v for v in values if low <= v <= high]
    if not values:
        return NumberReading(None, "none")
    if not in_scale:
        return NumberReading(int(values[0]) if float(values[0]).is_integer() else None, "out_of_range")
    best = max(in_scale)
    return NumberReading(int(round(best + 0.01)) if not best.is_integer() else int(best))


# --- durations ------------------------------------------------------------------------
_VAGUE_AMOUNTS = {
    "a couple of": 2,
    "couple of": 2,
    "a couple": 2,
    "a few": 3,
    "few": 3,
    "several": 4,
    "many": 5,
    "a": 1,
    "an": 1,
    "one": 1,
    "half a": 0.5,
}
_AMOUNT_UNIT = re.compile(
    r"\b(?P<n>a couple of|couple of|a couple|a few|few|several|many|half a|an|a|one)\s+(?P<u>" + _UNIT + r")s?\b"
)
# Plural units alone: "for weeks", "on and off for years", "months now".
_BARE_UNITS = re.compile(r"\b(?:for |some |many |ages|donkey'?s )?(?P<u>days|weeks|months|years|decades?|ages)\b")
_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            "january jan",
            "february feb",
            "march mar",
            "april apr",
            "may",
            "june jun",
            "july jul",
            "august aug",
            "september sept sep",
            "october oct",
            "november nov",
            "december dec",
        ),
        start=1,
    )
    for m in names.split()
}
# Dated events that people count from; the date is the event's usual one.
_EVENTS = {
    "christmas": (12, 25),
    "xmas": (12, 25),
    "new year": (1, 1),
    "new years": (1, 1),
    "easter": (4, 1),
    "the spring": (4, 1),
    "spring": (4, 1),
    "the summer": (7, 15),
    "summer": (7, 15),
    "the autumn": (10, 15),
    "autumn": (10, 15),
    "the fall": (10, 15),
    "halloween": (10, 31),
    "the winter": (1, 15),
    "winter": (1, 15),
}
_SINCE = re.compile(
    r"\b(?:since|from|started (?:in|around|at)?|began (?:in|around|at)?|back in|in)\s+(?:last |this )?"
    r"(?P<what>(?:19|20)\d\d|[a-z]+(?: [a-z]+)?)"
)
_SINCE_CHILD = re.compile(
    r"\b(?:since|as|when) (?:i was )?(?:a )?"
    r"(?:kid|child|teen|teenager|little|young|school|uni|university|my teens|my twenties)\b"
)
_YEAR = re.compile(r"\b((?:19|20)\d\d)(?:s\b)?")
# A month named as a date: "on the 10th of November", "end of October", "in March".
_DATED_MONTH = re.compile(
    r"(?:\b\d{1,2}(?:st|nd|rd|th)? (?:of )?"
    r"|\b(?:in|on|since|end of|start of|beginning of|early|late|mid|last) (?:the )?)"
    r"(?P<m>january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b"
)
_LAST = re.compile(r"\blast (?P<u>week|month|year|summer|winter|spring|autumn|christmas)\b")


def current_date() -> date:
    """Today, for "since Christmas" (an evaluation fixes it to the date its authors wrote on)."""
    return date.today()


def read_duration_days(text: str, today: date | None = None) -> float | None:
    """How long something has lasted, in days, from the words: "2 weeks", "a fortnight",
    "a few months", "on and off for years", "since Christmas", "since 2019", "since I was
    a teenager". None when the words give no length ("since I started my new job")."""
    today = today or current_date()
    t = digits(text)
    found: list[float] = []
    for m in _DURATION.finditer(t):
        found.append(float(m.group("n")) * _unit_days(m.group("u")))
    for m in _AMOUNT_UNIT.finditer(t):
        found.append(_VAGUE_AMOUNTS[m.group("n")] * _unit_days(m.group("u")))
    since_event = next((d for m in _SINCE.finditer(t) if (d := _days_since(m.group("what"), today)) is not None), None)
    if found and since_event is not None and re.search(r"\b(?:nearly|almost|about|around|just under|just over)\b", t):
        return since_event  # "since last Christmas, so nearly a year": the date is exact
    if found:
        return max(found)
    year = _YEAR.search(t)
    if year:
        return _days_since(year.group(1), today)
    if _SINCE_CHILD.search(t):
        return 3650.0
    for m in _SINCE.finditer(t):
        days = _days_since(m.group("what"), today)
        if days is not None:
            return days
    dated = _DATED_MONTH.search(t)
    if dated:
        return _days_since(dated.group("m"), today)
    last = _LAST.search(t)
    if last:
        unit = last.group("u")
        return _unit_days(unit) if unit in UNIT_DAYS or unit + "s" in UNIT_DAYS else _days_since(unit, today)
    bare = _BARE_UNITS.search(t)
    if bare:
        unit = bare.group("u")
        if unit in ("ages", "decade", "decades"):
            return 3650.0
        return 3 * _unit_days(unit.rstrip("s"))  # "weeks": a few of them
    return None


def _unit_days(unit: str) -> float:
    unit = unit.rstrip("s") if unit not in ("hrs", "yrs", "wks", "mnths") else unit[:-1]
    return float(UNIT_DAYS.get(unit, UNIT_DAYS.get(unit.rstrip("s"), 0.0)))


def _days_since(what: str, today: date) -> float | None:
    what = what.strip()
    if re.fullmatch(r"(?:19|20)\d\d", what):
        year = int(what)
        return float((today - date(year, 7, 1)).days) if year <= today.year else None
    first = what.split()[0]
    month = _MONTHS.get(what) or _MONTHS.get(first)
    event = _EVENTS.get(what) or _EVENTS.get(first)
    if month:
        month_day = (month, 1)
    elif event:
        month_day = event
    else:
        return None
    start = date(today.year, *month_day)
    if start > today:
        start = date(today.year - 1, *month_day)
    return float((today - start).days)
