"""Red flags by tier, for the dashboard's chart, the inbox's tier filter and the
conversation page.

clinical/outcome_rules.yml gives urgent_care rules a tier (emergency: call the emergency
number now; same_day: see a doctor or dentist today). The other red flags (rf_ rules with
outcome needs_medical_review) send the person to their doctor first: tier "review"
(portal/labels.yml names all three).
"""

from __future__ import annotations

from functools import lru_cache

from clinical.clinic import load_clinic_settings
from clinical.rules import load_rulebook

TIERS = ("emergency", "same_day", "review")  # most urgent first
REVIEW = "review"


@lru_cache(maxsize=1)
def red_flag_tiers() -> dict[str, str]:
    """rf_ rule id -> tier, with the clinic's overrides applied."""
    book = load_rulebook().with_overrides(load_clinic_settings().rule_overrides)
    return {r.id: (r.tier or REVIEW) for r in book.rules if r.id.startswith("rf_")}


def tier_of(rule_id: str) -> str:
    """A red flag's tier; one no longer in the rules counts as "review" (never dropped)."""
    return red_flag_tiers().get(rule_id, REVIEW)


def flags_in_tier(tier: str) -> list[str]:
    return sorted(rule_id for rule_id, t in red_flag_tiers().items() if t == tier)
