"""Screening rules: answers in, outcome and reasons out.

Pure Python with no Rasa imports, driven by ``outcome_rules.yml`` (the rules), ``questionnaire.yml``
(which questions are safety questions) and ``lexicon.yml`` (medicine categories), so the
clinic's medical lead reviews data, not code, and tests exercise every rule directly.

    >>> result = evaluate({"rf_emergency": "chest"})
    >>> result.outcome, result.reasons
    ('urgent_care', ['rf_cardiac'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from clinical.lexicon import load_lexicon
from clinical.medicines import MedicineCategories
from clinical.questionnaire import (
    NOT_ASKED,
    UNSURE,
    Questionnaire,
    condition_holds,
    load_questionnaire,
)

RULES_PATH = Path(__file__).with_name("outcome_rules.yml")

URGENT_CARE = "urgent_care"
NOT_ELIGIBLE_NOW = "not_eligible_now"
NEEDS_MEDICAL_REVIEW = "needs_medical_review"
ELIGIBLE_FOR_CONSULTATION = "eligible_for_consultation"
OUTCOMES = (URGENT_CARE, NOT_ELIGIBLE_NOW, NEEDS_MEDICAL_REVIEW, ELIGIBLE_FOR_CONSULTATION)

EMERGENCY = "emergency"
SAME_DAY = "same_day"

TMD_POSITIVE_THRESHOLD = 3
TMD_ITEMS = (
    "tmd_pain_duration",
    "tmd_morning_stiffness",
    "tmd_chewing",
    "tmd_opening",
    "tmd_habits",
    "tmd_other_activities",
)
TMD_PAIN_DURATION_POINTS = {"none": 0, "comes_and_goes": 1, "always": 2}


@dataclass(frozen=True)
class Rule:
    id: str
    outcome: str
    when: Mapping[str, Any]
    patient_text: str
    source: str
    tier: str | None = None
    configurable: bool = False


@dataclass(frozen=True)
class FiredRule:
    id: str
    outcome: str
    patient_text: str
    source: str
    tier: str | None = None


@dataclass(frozen=True)
class ScreeningResult:
    outcome: str
    fired: tuple = field(default_factory=tuple)

    @property
    def reasons(self) -> list[str]:
        return [r.id for r in self.fired]

    @property
    def stops_questionnaire(self) -> bool:
        """An urgent red flag ends the questionnaire at once."""
        return self.outcome == URGENT_CARE

    @property
    def urgent_tier(self) -> str | None:
        tiers = {r.tier for r in self.fired if r.outcome == URGENT_CARE}
        if EMERGENCY in tiers:
            return EMERGENCY
        return SAME_DAY if SAME_DAY in tiers else None

    def explanations(self) -> list[str]:
        """Patient-facing reasons, most serious first."""
        return [r.patient_text for r in sorted(self.fired, key=lambda r: OUTCOMES.index(r.outcome))]


class RuleBook:
    def __init__(
        self,
        rules: list[Rule],
        unsure_rule: Mapping[str, Any],
        questionnaire: Questionnaire,
        categories: Mapping[str, str],
    ) -> None:
        self.rules = rules
        self.unsure_rule = unsure_rule
        self.questionnaire = questionnaire
        self.categories = categories

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]] | None) -> RuleBook:
        """Applies clinic.yml overrides; only rules marked configurable may change."""
        if not overrides:
            return self
        by_id = {r.id: r for r in self.rules}
        for rule_id, change in overrides.items():
            if not isinstance(change, dict) or not set(change) <= {"outcome", "patient_text"}:
                raise ValueError(f"override for {rule_id!r} must be a mapping with 'outcome' and/or 'patient_text'")
            rule = by_id.get(rule_id)
            if rule is None:
                raise ValueError(f"clinic settings override unknown rule {rule_id!r}")
            if not rule.configurable:
                raise ValueError(f"rule {rule_id!r} is not configurable by the clinic")
            outcome = change.get("outcome", rule.outcome)
            if outcome not in (NOT_ELIGIBLE_NOW, NEEDS_MEDICAL_REVIEW, ELIGIBLE_FOR_CONSULTATION):
                raise ValueError(f"rule {rule_id!r}: outcome {outcome!r} is not allowed")
            by_id[rule_id] = Rule(
                **{**rule.__dict__, "outcome": outcome, "patient_text": change.get("patient_text", rule.patient_text)}
            )
        return RuleBook([by_id[r.id] for r in self.rules], self.unsure_rule, self.questionnaire, self.categories)

    def evaluate(self, answers: Mapping[str, Any], emergency_advice: str = "") -> ScreeningResult:
        fired = [
            FiredRule(r.id, r.outcome, r.patient_text, r.source, r.tier)
            for r in self.rules
            if condition_holds(r.when, answers, self.categories)
        ]
        fired += self._unsure_rules(answers, emergency_advice)
        if not fired:
            return ScreeningResult(ELIGIBLE_FOR_CONSULTATION, ())
        outcome = min((r.outcome for r in fired), key=OUTCOMES.index)
        return ScreeningResult(outcome, tuple(fired))

    def _unsure_rules(self, answers: Mapping[str, Any], emergency_advice: str) -> list[FiredRule]:
        return [
            FiredRule(
                id=f"unsure_{q.id}",
                outcome=self.unsure_rule["outcome"],
                patient_text=self._unsure_text(q, emergency_advice),
                source=self.unsure_rule["source"],
            )
            for q in self.questionnaire.questions
            if q.safety and answers.get(q.id) == UNSURE
        ]

    def _unsure_text(self, question: Any, emergency_advice: str) -> str:
        template = self.unsure_rule["patient_text"]
        if question.section == "red_flags" and emergency_advice:
            template = self.unsure_rule["red_flag_patient_text"]
        return template.format(summary=question.summary.lower(), advice=emergency_advice)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def patient_text(self, reason_id: str, emergency_advice: str = "") -> str:
        """The wording a patient is given for a reason id, including unsure_<question>.
        Raises KeyError for an id that is not (or no longer) a rule."""
        if reason_id.startswith("unsure_"):
            return self._unsure_text(self.questionnaire.get(reason_id[len("unsure_") :]), emergency_advice)
        match = next((r for r in self.rules if r.id == reason_id), None)
        if match is None:
            raise KeyError(reason_id)
        return match.patient_text


@lru_cache(maxsize=4)
def load_rulebook(path: Path = RULES_PATH) -> RuleBook:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if tuple(raw["outcomes"]) != OUTCOMES:
        raise ValueError("outcome_rules.yml outcomes must be listed in precedence order: " + ", ".join(OUTCOMES))
    rules = []
    for item in raw["rules"]:
        if item["outcome"] not in OUTCOMES:
            raise ValueError(f"rule {item['id']}: unknown outcome {item['outcome']!r}")
        rules.append(
            Rule(
                id=item["id"],
                outcome=item["outcome"],
                when=item["when"],
                patient_text=item["patient_text"].strip(),
                source=item["source"],
                tier=item.get("tier"),
                configurable=bool(item.get("configurable", False)),
            )
        )
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError("Duplicate rule ids in outcome_rules.yml")
    categories = MedicineCategories(load_lexicon().medicine_categories)
    return RuleBook(rules, raw["unsure_rule"], load_questionnaire(), categories)


def evaluate(
    answers: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, emergency_advice: str = ""
) -> ScreeningResult:
    return load_rulebook().with_overrides(overrides).evaluate(answers, emergency_advice)


def tmd_screener_score(answers: Mapping[str, Any]) -> int | None:
    """TMD Pain Screener (Gonzalez et al. 2011): 0-7, or None if any item is missing."""
    points = []
    for item in TMD_ITEMS:
        value = answers.get(item)
        if item == "tmd_pain_duration":
            if value not in TMD_PAIN_DURATION_POINTS:
                return None
            points.append(TMD_PAIN_DURATION_POINTS[value])
        elif value in ("yes", "no"):
            points.append(1 if value == "yes" else 0)
        else:
            return None
    return sum(points)


def tmd_screener_positive(score: int | None) -> bool | None:
    return None if score is None else score >= TMD_POSITIVE_THRESHOLD


def pain_category(score: Any) -> str | None:
    """Worst pain 0-10: mild 1-4, moderate 5-7, severe 8-10 (Brailo & Zakrzewska 2015)."""
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10:
        return None
    if score == 0:
        return "none"
    return "mild" if score <= 4 else "moderate" if score <= 7 else "severe"


__all__ = [
    "OUTCOMES",
    "URGENT_CARE",
    "NOT_ELIGIBLE_NOW",
    "NEEDS_MEDICAL_REVIEW",
    "ELIGIBLE_FOR_CONSULTATION",
    "NOT_ASKED",
    "UNSURE",
    "ScreeningResult",
    "evaluate",
    "load_rulebook",
    "tmd_screener_score",
    "tmd_screener_positive",
    "pain_category",
]
