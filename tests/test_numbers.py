"""clinical/numbers.py: numbers read in context (ages, scores, durations)."""

from __future__ import annotations

from datetime import date

import pytest

from clinical.numbers import read_age, read_duration_days, read_score, stated_age

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    "text, age",
    [
        ("45", 45),
        ("forty five", 45),
        ("I'm 45", 45),
        ("im 45 years old", 45),
        ("age 61", 61),
        ("I have 45 years", 45),  # how several languages state an age
        ("Eighty-two last birthday.", 82),
        ("55 - no wait, 56", 56),
        ("44. sorry, it's hard to swallow", 44),
        ("58 yrs", 58),
        ("I'm 70 and my wife is 68", 70),
    ],
)
def test_an_age_is_taken_from_words_that_state_one(text, age):
    assert read_age(text).value == age


@pytest.mark.parametrize(
    "text",
    [
        "it's been hurting for 2 days",  # a duration
        "hang on 1 sec",
        "x1",  # a count
        "-5",  # a negative
        "nearly 50",  # approximate: the over-50 question depends on it
        "about 50",
        "50ish",
        "in my forties",
        "2 kids",
        "2 years",
        "i am 2 years into this",
        "my son is 5 years old",
    ],
)
def test_anything_else_at_the_age_question_is_asked_again(text):
    assert read_age(text).value is None


@pytest.mark.parametrize("text", ["2 years", "since I was 12 years old", "7", "my son is 5"])
def test_only_a_stated_age_can_correct_the_age(text):
    assert stated_age(text) is None


def test_a_stated_age_corrects_it():
    assert stated_age("sorry, I'm actually 45 not 54") == 45


@pytest.mark.parametrize(
    "text, score",
    [
        ("7", 7),
        ("7/10", 7),
        ("seven out of ten", 7),
        ("about 6, 7 on bad days", 7),  # the worst pain: the higher end
        ("6 or 7", 7),
        ("between 5 and 8", 8),
        ("um for out of ten", 4),  # dictated
        ("it's been 3 weeks, a 6 at worst", 6),
    ],
)
def test_a_score_takes_the_higher_end_of_a_range_or_hedge(text, score):
    assert read_score(text).value == score


def test_a_score_outside_the_scale_is_out_of_range():
    assert read_score("12").problem == "out_of_range"


@pytest.mark.parametrize(
    "text, low, high",
    [
        ("weeks", 7, 90),
        ("a fortnight", 14, 14),
        ("about six weeks", 42, 42),
        ("a few months", 60, 120),
        ("since christmas", 340, 350),
        ("since the summer", 100, 200),
        ("since march", 270, 290),
        ("on and off for years", 366, 5000),
        ("since 2019", 2000, 3000),
        ("on and off since twenty nineteen", 2000, 3000),
        ("since the 1990s", 9000, 20000),
        ("since I was a teenager", 366, 20000),
        ("Since last Christmas, so nearly a year, just under", 340, 350),
        ("on the 10th of November", 25, 40),
    ],
)
def test_durations_in_everyday_words(text, low, high):
    days = read_duration_days(text, TODAY)
    assert days is not None and low <= days <= high


def test_a_starting_point_with_no_date_gives_no_duration():
    assert read_duration_days("since I started my new job", TODAY) is None
