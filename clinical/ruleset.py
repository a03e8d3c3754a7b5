"""The version of the clinical rule set a screening is judged by.

The rule set is the reviewed clinical data that decides what a patient is told: the outcome
rules, the questionnaire, the medicine lexicon, the safety net's red-flag and distress words,
the knowledge base's answers and what the assistant says around them (the wording catalogue,
clinical/wording/<language>.yml). ``clinical/ruleset_version.yml`` (committed) records a hash
of their content and the medical lead's sign-off of exactly that content (``pending`` until
given). tests/test_ruleset_version.py recomputes the hash, so data cannot change without the
record being updated; every screening stores the version label it was judged by (the
``ruleset_version`` slot), and the staff portal shows it.

After changing any of the files::

    python -m clinical.ruleset update     # new hash; sign-off goes back to pending
    python -m clinical.ruleset sign-off --by "Dr A. Lead" --on 2026-12-01

Only the files' content is hashed (not their paths), so renaming a file keeps the version.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from clinical.distress_model import EXAMPLES_PATH as DISTRESS_EXAMPLES_PATH
from clinical.knowledge import DEFAULT_PATH as KNOWLEDGE_PATH
from clinical.lexicon import LEXICON_PATH
from clinical.questionnaire import QUESTIONNAIRE_PATH
from clinical.rules import RULES_PATH
from clinical.safety_net import SAFETY_PATH
from clinical.wording import WORDING_DIR, available_languages

VERSION_PATH = Path(__file__).with_name("ruleset_version.yml")
PENDING = "pending"
# How many hex digits of the hash name a version: enough to never collide in practice,
# short enough for a CSV column and a staff member reading it out on the phone.
LABEL_DIGITS = 12

# Each part of the rule set, by role. The order is part of the hash: append, never reorder.
PARTS: tuple[tuple[str, Path], ...] = (
    ("outcome_rules", RULES_PATH),
    ("questionnaire", QUESTIONNAIRE_PATH),
    ("lexicon", LEXICON_PATH),
    ("safety_net", SAFETY_PATH),
    ("knowledge_base", KNOWLEDGE_PATH),
    # What the assistant says around them (outcome advice, the safety net's replies...):
    # the wording catalogue, one part per language file (docs/wording.md).
    *((f"wording_{language}", WORDING_DIR / f"{language}.yml") for language in available_languages()),
    # What the distress model learns from (clinical/distress_model.py): it decides check-ins.
    ("distress_examples", DISTRESS_EXAMPLES_PATH),
)


def file_digest(path: Path) -> str:
    # Line endings are normalised so a Windows checkout gets the same version.
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def part_digests(parts: Sequence[tuple[str, Path]] | None = None) -> dict[str, str]:
    return {role: file_digest(path) for role, path in (parts or PARTS)}


def content_hash(digests: dict[str, str]) -> str:
    combined = "".join(f"{role}:{digest}\n" for role, digest in digests.items())
    return hashlib.sha256(combined.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class SignOff:
    by: str
    on: datetime.date

    def describe(self) -> str:
        return f"signed off by {self.by} on {self.on.isoformat()}"


@dataclass(frozen=True)
class RulesetVersion:
    content_sha256: str
    parts: dict[str, str]
    sign_off: SignOff | None

    @property
    def label(self) -> str:
        """What a screening stores and staff see: the short hash and the sign-off state."""
        state = self.sign_off.describe() if self.sign_off else "sign-off pending"
        return f"rules {self.content_sha256[:LABEL_DIGITS]} ({state})"

    def changed_parts(self, current: dict[str, str]) -> list[str]:
        return [role for role, digest in current.items() if self.parts.get(role) != digest]


def _sign_off_from(raw) -> SignOff | None:
    if raw in (None, PENDING):
        return None
    if not isinstance(raw, dict) or not raw.get("by") or not raw.get("on"):
        raise ValueError(f"{VERSION_PATH.name}: sign_off must be '{PENDING}' or {{by: name, on: YYYY-MM-DD}}")
    on = raw["on"] if isinstance(raw["on"], datetime.date) else datetime.date.fromisoformat(str(raw["on"]))
    return SignOff(by=str(raw["by"]), on=on)


def read_version(path: Path | None = None) -> RulesetVersion:
    raw = yaml.safe_load((path or VERSION_PATH).read_text(encoding="utf-8")) or {}
    return RulesetVersion(
        content_sha256=str(raw.get("content_sha256", "")),
        parts={str(k): str(v) for k, v in (raw.get("parts") or {}).items()},
        sign_off=_sign_off_from(raw.get("sign_off", PENDING)),
    )


@lru_cache(maxsize=1)
def current_version() -> RulesetVersion:
    """The committed record (read once per process: the data files do not change at run time)."""
    return read_version()


def write_version(version: RulesetVersion, path: Path | None = None) -> None:
    sign_off = {"by": version.sign_off.by, "on": version.sign_off.on.isoformat()} if version.sign_off else PENDING
    header = (
        "# Generated by `python -m clinical.ruleset update`; sign-off by `python -m clinical.ruleset\n"
        "# sign-off` (see clinical/ruleset.py). Do not edit the hashes by hand.\n"
    )
    body = yaml.safe_dump(
        {"content_sha256": version.content_sha256, "parts": version.parts, "sign_off": sign_off}, sort_keys=False
    )
    (path or VERSION_PATH).write_text(header + body, encoding="utf-8")


def updated(previous: RulesetVersion, digests: dict[str, str]) -> RulesetVersion:
    """The record for the data as it is now; a sign-off survives only an unchanged content."""
    content = content_hash(digests)
    sign_off = previous.sign_off if content == previous.content_sha256 else None
    return RulesetVersion(content_sha256=content, parts=digests, sign_off=sign_off)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clinical.ruleset", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="exit 1 if the data changed since the record was updated")
    commands.add_parser("update", help="record the current hash (sign-off resets to pending on a change)")
    sign = commands.add_parser("sign-off", help="record the medical lead's sign-off of the current content")
    sign.add_argument("--by", required=True)
    sign.add_argument("--on", required=True, type=datetime.date.fromisoformat, help="YYYY-MM-DD")
    args = parser.parse_args(argv)

    recorded = read_version()
    digests = part_digests()
    now = updated(recorded, digests)
    if args.command == "check":
        changed = recorded.changed_parts(digests)
        if now.content_sha256 != recorded.content_sha256 or changed:
            print(f"rule set changed ({', '.join(changed) or 'order'}): run `python -m clinical.ruleset update`")
            return 1
        print(now.label)
        return 0
    if args.command == "sign-off":
        if now.content_sha256 != recorded.content_sha256:
            print("the data changed since the last update: run `python -m clinical.ruleset update` and review first")
            return 1
        now = RulesetVersion(now.content_sha256, now.parts, SignOff(by=args.by, on=args.on))
    write_version(now)
    print(now.label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
