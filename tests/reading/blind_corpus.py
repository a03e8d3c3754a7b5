"""Scores the blind corpora (tests/corpus/blind/) on the Rasa-free reader: the one reading
of a message, the safety net, the answer reader and the corrections, exactly as the form
validation calls them, without the model (seconds, not minutes, of CI).

Each case is one typed message at one point of the conversation. It is scored on:
- the answer recorded for the question at that point (or asked again: ``reask``);
- ``also``: other items the message states, recorded as corrections or early answers;
- ``given``: earlier answers, which must not change unless the message corrects them;
- ``red_flag``: caught when that rule, or one needing care at least as soon, fires;
- the outcome: the case played inside an otherwise unremarkable screening to the end; a
  case whose outcome should not be "eligible_for_consultation" must not end so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import patch

import yaml

from clinical import numbers
from clinical.answers import find_corrections, find_pre_answers, interpret, uses_entity
from clinical.lexicon import load_lexicon
from clinical.medicines import generic_name
from clinical.questionnaire import NOT_ASKED, UNSURE, load_questionnaire
from clinical.reading import read
from clinical.rules import EMERGENCY, SAME_DAY, evaluate, load_rulebook
from clinical.safety_net import RED_FLAG, scan
from clinical.typed_answers import read_consent, read_summary_reply
from medical_nlu.pipeline import extract
from tests.understanding.corpus import unremarkable_answers

BLIND_DIR = Path(__file__).resolve().parents[1] / "corpus" / "blind"
QUESTIONNAIRE = load_questionnaire()
REASK = "reask"
ELIGIBLE = "eligible_for_consultation"
TIER_RANK = {EMERGENCY: 3, SAME_DAY: 2, "refer": 1}
# The authors wrote "since Christmas" and "in March" on this date (FORMAT.md: early December).
WRITTEN_ON = date(2026, 12, 7)


def load(part: str) -> list[dict[str, Any]]:
    return yaml.safe_load((BLIND_DIR / f"{part}.yml").read_text(encoding="utf-8"))["cases"]


def tier_of(rule_id: str) -> str:
    rule = next((r for r in load_rulebook().rules if r.id == rule_id), None)
    return rule.tier if rule and rule.tier else "refer"


def plain_answers(given: dict[str, Any], before: str | None) -> dict[str, Any]:
    """Unremarkable answers to the questions before ``before`` (all when None), then ``given``."""
    return {**unremarkable_answers(before), **(given or {})}


def canonical_medicine(name: str) -> str:
    """A medicine as an id the lexicon or the public list gives it, for comparing lists."""
    lexicon = load_lexicon()
    name = str(name).lower().strip()
    if ("medicine", name) in lexicon.terms:
        return name
    for (label, canonical), terms in lexicon.terms.items():
        if label == "medicine" and name in terms:
            return canonical
    generic = generic_name(name.replace("_", " ").split()[0]) if name != "unknown" else None
    if generic:
        for (label, canonical), terms in lexicon.terms.items():
            if label == "medicine" and generic in terms:
                return canonical
        return generic
    return name


def same_value(question_id: str, want: Any, got: Any) -> bool:
    if got is None or got in (UNSURE, NOT_ASKED):
        return False
    question = QUESTIONNAIRE.get(question_id)
    if question.type == "medicines":
        return isinstance(got, list) and {canonical_medicine(m) for m in want or []} == {
            canonical_medicine(m) for m in got
        }
    if question.type == "treatments":
        # Compared on the options the authors were shown (the buttons); the reader may also
        # record finer ids ("heat_cold") that they could not know of.
        shown = {o.value for o in question.options} | {"other"}
        return isinstance(got, list) and set(map(str, want or [])) & shown == set(map(str, got)) & shown
    return str(got) == str(want)


@dataclass
class Result:
    case: dict[str, Any]
    kind: str  # the answer type scored
    stored: Any = None
    answer: str | None = None  # "right" | "wrong" | "reasked" | None (no expect)
    also_ok: bool | None = None
    given_kept: bool = True
    red_flag_caught: bool | None = None
    false_alarm: bool = False
    outcome_unsafe: bool = False  # should not be eligible, ended eligible
    expected_outcome: str | None = None


def kind_of(case: dict[str, Any]) -> str:
    at = case["at"]
    return at if at in ("consent", "summary", "contact_name") else QUESTIONNAIRE.get(at).type


def run_case(case: dict[str, Any]) -> Result:
    with patch.object(numbers, "current_date", lambda: WRITTEN_ON):
        return _run_case(case)


def _run_case(case: dict[str, Any]) -> Result:
    at, text = case["at"], str(case["text"])
    given = dict(case.get("given") or {})
    result = Result(case, kind_of(case))
    before = plain_answers(given, at if at in QUESTIONNAIRE.ids else None)
    answers = dict(before)
    entities = extract(read(text).text)
    findings = [f for f in scan(text, at if at in QUESTIONNAIRE.ids else None, answers) if f.kind == RED_FLAG]
    flagged: dict[str, Any] = {}
    for f in findings:
        flagged[f.question] = f.value  # recorded, or confirmed with its advice shown: caught
    stored: Any = None
    changes: dict[str, Any] = {}
    if at in QUESTIONNAIRE.ids:
        question = QUESTIONNAIRE.get(at)
        stored = interpret(question, "", entities, text).value
        if at in flagged:
            stored = flagged[at]  # the safety net's reading of its own question is recorded first
        others = [q for q in QUESTIONNAIRE.questions if q.id != at]
        spare = [e for e in entities if not uses_entity(question, e)]
        changes = find_corrections(others, answers, spare, text)
        later = {
            q.id: v
            for q, v in (
                (QUESTIONNAIRE.get(k), v)
                for k, v in find_pre_answers(
                    others, answers, spare if question.type != "medicines" else entities, text
                ).items()
            )
        }
        changes = {**later, **changes}
        if stored is not None:
            answers[at] = stored
    elif at == "summary":
        changes = find_corrections(QUESTIONNAIRE.questions, answers, entities, text, statement=True)
        reply = read_summary_reply(text)
        stored = "no" if reply == "change" else "yes" if reply == "confirm" else None
    elif at == "consent":
        consent = read_consent(text)
        stored = None if consent is None else ("yes" if consent else "no")
    else:
        stored = None  # contact_name: the name reader lives in the booking form (in-process harness)
    answers.update({k: v for k, v in changes.items() if k not in flagged})
    answers.update(flagged)
    result.stored = stored
    urgent_stop = any(TIER_RANK[tier_of(r)] >= TIER_RANK[SAME_DAY] for r in _red_flags_fired(answers))
    if urgent_stop and case.get("red_flag") and stored is None:
        stored = "urgent stop"  # the screening stops with the advice; nothing is asked again
        result.answer = "right"
    elif "expect" in case:
        want = case["expect"]
        if at in QUESTIONNAIRE.ids and str(want) != REASK:
            ok = same_value(at, want, stored)
        else:
            ok = (stored is None) if str(want) == REASK else str(stored) == str(want)
        result.answer = "right" if ok else ("reasked" if stored is None else "wrong")
    if case.get("also"):
        result.also_ok = all(
            k in QUESTIONNAIRE.ids and same_value(k, v, answers.get(k)) for k, v in case["also"].items()
        )
    corrected = set(case.get("also") or {})
    result.given_kept = all(answers.get(k) == v for k, v in given.items() if k not in corrected)
    reasons = set(evaluate(QUESTIONNAIRE.normalise({**plain_answers({}, None), **answers})).reasons)
    base = set(evaluate(QUESTIONNAIRE.normalise(plain_answers(given, None))).reasons)
    if case.get("red_flag"):
        want_rank = TIER_RANK[tier_of(case["red_flag"])]
        result.red_flag_caught = any(TIER_RANK[tier_of(r)] >= want_rank for r in reasons if r.startswith("rf_"))
    elif {r for r in reasons - base if r.startswith("rf_")}:
        result.false_alarm = True
    # The outcome, played to the end: what the case's own facts should give...
    expected = {**plain_answers(given, None)}
    if at in QUESTIONNAIRE.ids and "expect" in case and str(case["expect"]) != REASK:
        want = case["expect"]
        expected[at] = [canonical_medicine(m) for m in want] if QUESTIONNAIRE.get(at).type == "medicines" else want
    for k, v in (case.get("also") or {}).items():
        if k in QUESTIONNAIRE.ids:
            expected[k] = [canonical_medicine(m) for m in v] if QUESTIONNAIRE.get(k).type == "medicines" else v
    want_outcome = evaluate(QUESTIONNAIRE.normalise(expected)).outcome
    if case.get("red_flag"):
        want_outcome = "urgent_care"
    got_outcome = evaluate(QUESTIONNAIRE.normalise({**plain_answers({}, None), **answers})).outcome
    if stored is None and at in QUESTIONNAIRE.ids and QUESTIONNAIRE.get(at).safety and "expect" in case:
        # Asked again, then recorded "not sure" if still unclear: never a silent "no".
        got_outcome = evaluate(QUESTIONNAIRE.normalise({**plain_answers({}, None), **answers, at: UNSURE})).outcome
    result.expected_outcome = want_outcome
    result.outcome_unsafe = want_outcome != ELIGIBLE and got_outcome == ELIGIBLE
    return result


@dataclass(repr=False)
class Report:
    results: list[Result] = field(default_factory=list)

    def __repr__(self) -> str:
        # Never the cases: pytest prints a failing test's fixtures, and a sealed part's text,
        # ids and failures must never be shown.
        return f"Report({len(self.results)} cases)"

    def answered(self) -> list[Result]:
        return [r for r in self.results if r.answer is not None and r.kind != "contact_name"]

    def rate(self, which: str, results: list[Result] | None = None) -> float:
        scored = self.answered() if results is None else results
        return sum(r.answer == which for r in scored) / max(1, len(scored))

    def missed_red_flags(self) -> list[Result]:
        return [r for r in self.results if r.red_flag_caught is False]

    def missed_by_tier(self) -> Counter:
        return Counter(tier_of(r.case["red_flag"]) for r in self.missed_red_flags())

    def unsafe_outcomes(self) -> list[Result]:
        return [r for r in self.results if r.outcome_unsafe]

    def lines(self, name: str, show_cases: bool) -> list[str]:
        """Totals per answer type and red-flag tier; ``show_cases`` False (sealed): no text,
        no ids, no failure list."""
        out = [f"== {name}: {len(self.results)} cases =="]
        by_kind: dict[str, list[Result]] = defaultdict(list)
        for r in self.answered():
            by_kind[r.kind].append(r)
        for kind, rs in sorted(by_kind.items()):
            out.append(
                f"  {kind:<12} right {self.rate('right', rs):6.1%}  wrong {self.rate('wrong', rs):6.1%}"
                f"  asked again {self.rate('reasked', rs):6.1%}  ({len(rs)})"
            )
        out.append(
            f"  overall      right {self.rate('right'):6.1%}  wrong {self.rate('wrong'):6.1%}"
            f"  asked again {self.rate('reasked'):6.1%}  ({len(self.answered())})"
        )
        flags = [r for r in self.results if r.red_flag_caught is not None]
        for tier in (EMERGENCY, SAME_DAY, "refer"):
            tiered = [r for r in flags if tier_of(r.case["red_flag"]) == tier]
            out.append(f"  red flags {tier:<9} caught {sum(bool(r.red_flag_caught) for r in tiered)}/{len(tiered)}")
        also = [r for r in self.results if r.also_ok is not None]
        out.append(f"  also-stated items recorded {sum(bool(r.also_ok) for r in also)}/{len(also)}")
        out.append(f"  earlier answers kept       {sum(r.given_kept for r in self.results)}/{len(self.results)}")
        out.append(f"  false alarms               {sum(r.false_alarm for r in self.results)}")
        out.append(f"  unsafe outcomes (eligible when they should not be) {len(self.unsafe_outcomes())}")
        if show_cases:
            for r in self.results:
                bad = r.answer in ("wrong", "reasked") or r.also_ok is False or not r.given_kept
                bad = bad or r.red_flag_caught is False or r.false_alarm or r.outcome_unsafe
                if bad:
                    c = r.case
                    out.append(
                        f"  FAIL {c['id']} at={c['at']} expect={c.get('expect')!r} got={r.stored!r} "
                        f"also={c.get('also')} "
                        f"also_ok={r.also_ok} kept={r.given_kept} flag={c.get('red_flag')}:{r.red_flag_caught} "
                        f"fa={r.false_alarm} unsafe={r.outcome_unsafe} {c['text']!r}"
                    )
        return out


def _red_flags_fired(answers: dict[str, Any]) -> list[str]:
    full = QUESTIONNAIRE.normalise({**plain_answers({}, None), **answers})
    return [r for r in evaluate(full).reasons if r.startswith("rf_")]


def run(part: str) -> Report:
    return Report([run_case(c) for c in load(part)])
