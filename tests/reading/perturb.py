"""CheckList-style perturbations (Ribeiro et al., ACL 2020: invariance tests) of a patient's
message: the reading must not change when the message is typed differently. Written here
rather than taken from nlpaug, which pulls in pandas and more.

Each perturbation returns the changed text, or None when it does not apply to this text
(nothing to change); the seed makes every run the same.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

# Chat spellings people use (the reverse of clinical/text_speak.yml's direction, written
# here from common usage, not copied from it).
SMS = {
    "you": "u",
    "your": "ur",
    "are": "r",
    "because": "cos",
    "really": "rly",
    "please": "pls",
    "before": "b4",
    "tonight": "2nite",
    "i'm": "im",
    "don't": "dont",
    "can't": "cant",
    "didn't": "didnt",
    "about": "abt",
    "though": "tho",
    "right now": "rn",
}
BRITISH_TO_US = {
    "colour": "color",
    "anaesthetic": "anesthetic",
    "haemorrhage": "hemorrhage",
    "tumour": "tumor",
    "paediatric": "pediatric",
    "oesophagus": "esophagus",
    "centre": "center",
    "programme": "program",
    "behaviour": "behavior",
    "mum": "mom",
    "realise": "realize",
    "realised": "realized",
    "recognise": "recognize",
    "organise": "organize",
    "apologise": "apologize",
    "favour": "favor",
    "grey": "gray",
    "paracetamol": "acetaminophen",
    "gp": "doctor",
    "physio": "physical therapy",
    "a&e": "the er",
}
FILLERS_BEFORE = ("um, ", "ok so ", "well ", "hmm ")
FILLERS_AFTER = (" tbh", " lol", " i guess", " haha")


def typo(text: str, rng: random.Random) -> str | None:
    """Two neighbouring letters swapped in one word of 6+ letters."""
    words = [m for m in re.finditer(r"[A-Za-z]{6,}", text)]
    if not words:
        return None
    m = rng.choice(words)
    word = m.group(0)
    i = rng.randrange(1, len(word) - 2)  # never the first letter
    swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return text[: m.start()] + swapped + text[m.end() :]


def sms(text: str, rng: random.Random) -> str | None:
    changed = text
    for word, short in SMS.items():
        changed = re.sub(rf"(?i)(?<![\w']){re.escape(word)}(?![\w'])", short, changed)
    return changed if changed != text else None


def lower_no_punctuation(text: str, rng: random.Random) -> str | None:
    changed = re.sub(r"[.,!?;:()\"]", " ", text.lower())
    changed = re.sub(r"\s+", " ", changed).strip()
    return changed if changed != text else None


def filler(text: str, rng: random.Random) -> str | None:
    return rng.choice(FILLERS_BEFORE) + text if rng.random() < 0.5 else text.rstrip(".!") + rng.choice(FILLERS_AFTER)


def spelling_variant(text: str, rng: random.Random) -> str | None:
    """British to US spelling and back ("tumour" <-> "tumor")."""
    changed = text
    pairs = list(BRITISH_TO_US.items()) + [(us, uk) for uk, us in BRITISH_TO_US.items()]
    for a, b in pairs:
        new = re.sub(rf"(?i)(?<![\w']){re.escape(a)}(?![\w'])", b, changed)
        if new != changed:
            return new
    return None


PERTURBATIONS: dict[str, Callable[[str, random.Random], str | None]] = {
    "typo": typo,
    "sms spellings": sms,
    "lower case, no punctuation": lower_no_punctuation,
    "filler words": filler,
    "British/US spelling": spelling_variant,
}
