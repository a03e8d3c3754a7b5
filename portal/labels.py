"""Plain words for the codes the assistant stores (portal/labels.yml).

Outcomes, rule ids, safety-net flags and channels are stored as codes
("needs_medical_review", "rf_giant_cell_arteritis", "twilio_verified"); staff read the
words. A code without a label is shown as the code itself, never hidden: a new rule must
still appear, and tests/portal/test_labels.py fails until it has words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LABELS_PATH = Path(__file__).resolve().parent / "labels.yml"
SECTIONS = ("outcomes", "tiers", "reasons", "safety_net_flags", "channels", "request_reasons")


@dataclass(frozen=True)
class Labels:
    outcomes: dict[str, str]
    tiers: dict[str, str]
    reasons: dict[str, str]
    safety_net_flags: dict[str, str]
    channels: dict[str, str]
    request_reasons: dict[str, str]

    def outcome(self, code: str | None) -> str:
        return self.outcomes.get(code or "none", code or "")

    def tier(self, code: str) -> str:
        return self.tiers.get(code, code)

    def reason(self, code: str) -> str:
        return self.reasons.get(code, code)

    def flag(self, code: str) -> str:
        return self.safety_net_flags.get(code, code)

    def request_reason(self, code: str | None) -> str:
        return self.request_reasons.get(code or "screening", code or "")

    def channel(self, channel: str | None, conversation_id: str = "") -> str:
        """The channel as people name it; the Twilio channel carries both SMS and WhatsApp,
        told apart by the sender id the channel gives WhatsApp conversations."""
        if channel == "twilio_verified" and str(conversation_id).startswith("whatsapp:"):
            channel = "whatsapp"
        return self.channels.get(channel or "unknown", channel or self.channels.get("unknown", ""))


@lru_cache(maxsize=2)
def load_labels(path: Path = LABELS_PATH) -> Labels:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    missing = [name for name in SECTIONS if not isinstance(raw.get(name), dict)]
    if missing:
        raise ValueError(f"{path}: missing sections: {', '.join(missing)}")
    return Labels(**{name: {str(k): str(v) for k, v in raw[name].items()} for name in SECTIONS})
