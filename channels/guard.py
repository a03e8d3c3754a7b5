"""Screens one incoming message before it reaches the assistant: the text to pass on, or
a short polite reply to send instead (and nothing passed on).

Shared by every public channel (REST, Twilio, Telegram), so a patient gets the same answer
to the same odd message everywhere. No Rasa here: the rules are plain and unit-tested
(tests/security/test_guard.py), including that no real answer from the NLU data misfires.

What it does, in order:
- strips control characters (keeps newline and tab) and bidi overrides, and normalises to
  NFC, so lookalike encodings of the same text are one text for the NLU and the transcript;
- empty or whitespace-only -> asks for an answer;
- longer than `max_chars` -> asks to keep it short; the text is not processed or stored
  (screening answers are a few words; a 10,000-character paste is not an answer), unless
  the safety net (clinical/safety_net.py) finds a red flag or distress in it: then the
  sentences that say so are passed on, so nobody's emergency is refused for its length;
- text that looks like a command or payload ("/restart", "/eligible") whose intent no
  button of this assistant carries -> says to use words or the buttons. Rasa would run
  its built-in intents (/restart, /session_start, /back) straight away. Payloads with this
  assistant's own intents go on: buttons send them, and the actions accept one only when
  it is exactly a button just offered (actions/tracker_utils.py: button_value);
- no letter or digit at all (emoji, punctuation only) -> asks for words: the English NLU
  never saw these and, measured on the trained model, read "😀😀😀" as "yes";
- clearly another language (and no red flag or distress in English words in it) -> says,
  politely, that only English is supported for now:
  not one Latin letter (Arabic, Cyrillic, CJK... only: the NLU guesses at those too), or
  mostly another script, or several function words of another language and few English
  ones. Short English replies ("no", "ok", "12", "ibuprofen") never count.
Emoji and right-to-left text inside English text are just text and pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from clinical.clinic import load_clinic_settings
from clinical.safety_net import safety_excerpt

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_MAX_CHARS = 1000  # the widget's input box allows as much


def text(text_id: str) -> str:
    """A channel's reply from the wording catalogue (clinical/wording/<language>.yml, in the
    clinic's language), as its template: {placeholders} are filled by the caller."""
    return load_clinic_settings().wording.text(text_id)


EMPTY_REPLY = text("guard.empty_message")
TOO_LONG_REPLY = text("guard.too_long")  # {length}, {limit}
COMMAND_REPLY = text("guard.command")
NO_WORDS_REPLY = text("guard.no_words")
NOT_ENGLISH_REPLY = text("guard.not_english")

# Intents that this assistant's buttons carry (domain.yml lists them). Rasa's built-in ones
# (restart, session_start, back, out_of_scope's payload forms...) are not in the domain's list.
_PAYLOAD = re.compile(r"/([A-Za-z_][\w-]*)(?:@[\d.]+)?(\{.*\})?", re.DOTALL)


@dataclass(frozen=True)
class Screened:
    """Exactly one of `text` (pass it on) and `reply` (send this instead) is set."""

    text: str | None = None
    reply: str | None = None
    reason: str = "ok"  # ok, empty, too_long, command, no_words, not_english: for logs and tests


# --------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------

_KEEP_CONTROL = {"\n", "\t"}
# Bidi embeddings, overrides and isolates change how text is *displayed*, not what it says:
# "\u202eenon" shows as "none" but reads "enon". Removed, so the staff see what the
# assistant read. The plain direction marks (U+200E, U+200F) stay.
_BIDI_CONTROLS = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def clean(text: str) -> str:
    """NFC, without control characters (category Cc: NUL, escape, DEL, ...) other than
    newline and tab, without bidi overrides, and with \\r\\n and \\r as \\n. Other
    format characters (zero-width joiners inside emoji, direction marks) are kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in _KEEP_CONTROL or unicodedata.category(ch) != "Cc")
    text = "".join(ch for ch in text if ch not in _BIDI_CONTROLS)
    # lone surrogates (from a JSON "\ud800") cannot be stored as UTF-8: drop them too
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cs")
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------------------
# Commands and payloads
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def domain_intents(domain_path: Path = ROOT / "domain.yml") -> frozenset[str]:
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8"))
    return frozenset(i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or [])


def is_foreign_command(text: str, intents: Iterable[str]) -> bool:
    """A "/word..." message whose intent is not one of ours: a command Rasa would obey
    (/restart) or one it would make up an intent for (/eligible)."""
    if not text.startswith("/"):
        return False
    match = _PAYLOAD.fullmatch(text)
    return match is None or match.group(1) not in intents


# --------------------------------------------------------------------------------------
# Another language
# --------------------------------------------------------------------------------------

# Languages whose function words we look for: the ones clinics' patients most often write
# in among those spaCy has stop-word lists for.
_OTHER_LANGUAGES = ("es", "fr", "de", "it", "pt", "nl", "pl", "ro", "tr", "sv", "da")
# Words on those lists that are also ordinary English (or medicine/clinic words, or chat
# noise), which would make an English answer look foreign.
_ENGLISH_TOO = frozenset(
    """
come fine ex inc haha ha son hand men die was war will also man van so me he hi is per
pro con post sub super ok via vs eh oh ah um grand solo alto tale nine note sole sale pare
sure mine time age bank case later more most over under auto data film idea live mode real
rest site top ten kind hat wet best still far fa
""".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_MIN_FOREIGN_WORDS = 3


@lru_cache(maxsize=1)
def _stop_words() -> dict[str, frozenset[str]]:
    from importlib import import_module

    english = frozenset(import_module("spacy.lang.en.stop_words").STOP_WORDS)
    lists = {"en": english}
    for code in _OTHER_LANGUAGES:
        words = import_module(f"spacy.lang.{code}.stop_words").STOP_WORDS
        lists[code] = frozenset(
            w for w in (x.lower() for x in words) if len(w) > 1 and w not in english and w not in _ENGLISH_TOO
        )
    return lists


def _is_latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


def _is_ideographic(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))


def other_language(text: str) -> str | None:
    """A reason when the text is clearly not English ("script" or a language code), else
    None. Errs towards None: a missed foreign message gets the assistant's usual "I didn't
    understand"; a misfire on English would block a real answer."""
    letters = [ch for ch in text if ch.isalpha()]
    foreign_script = [ch for ch in letters if not _is_latin(ch)]
    # Not one Latin letter: the assistant's English NLU has nothing to read, and measured
    # on the trained model it guesses (Arabic "نعم" came out as a confident "affirm").
    if letters and len(foreign_script) == len(letters):
        return "script"
    # Mostly another script (Cyrillic, Arabic, Hebrew, Greek, CJK...). A few letters of it,
    # e.g. a name given for the consultation request, are not a sentence. One CJK
    # character carries about a word, so fewer of those make a sentence.
    ideographs = sum(_is_ideographic(ch) for ch in foreign_script)
    enough = ideographs >= 5 or len(foreign_script) >= 12
    if enough and len(foreign_script) >= 0.6 * len(letters):
        return "script"
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < _MIN_FOREIGN_WORDS:
        return None
    lists = _stop_words()
    english_hits = sum(w in lists["en"] for w in words)
    best_code, best_hits = None, 0
    for code in _OTHER_LANGUAGES:
        hits = len({w for w in words if w in lists[code]})  # distinct words: "la la la" is one
        if hits > best_hits:
            best_code, best_hits = code, hits
    if best_hits >= _MIN_FOREIGN_WORDS and best_hits >= 0.3 * len(words) and best_hits > 2 * english_hits:
        return best_code
    return None


# --------------------------------------------------------------------------------------
# The screen
# --------------------------------------------------------------------------------------


def screen(raw: str, max_chars: int = DEFAULT_MAX_CHARS, intents: Iterable[str] | None = None) -> Screened:
    """What to do with one incoming message text."""
    text = clean(raw).strip()
    if not text:
        return Screened(reply=EMPTY_REPLY, reason="empty")
    if len(text) > max_chars:
        # The safety net reads every message first, however long (clinical reference s.2, s.8).
        excerpt = safety_excerpt(text, max_chars)
        if excerpt:
            return Screened(text=excerpt, reason="too_long_safety")
        return Screened(reply=TOO_LONG_REPLY.format(length=f"{len(text):,}", limit=f"{max_chars:,}"), reason="too_long")
    if is_foreign_command(text, domain_intents() if intents is None else intents):
        return Screened(reply=COMMAND_REPLY, reason="command")
    # Emoji or punctuation only: the NLU was trained on words, and measured on the trained
    # model it read "😀😀😀" as "yes" (to the emergency question!). Ask for words.
    if not any(ch.isalnum() for ch in text):
        return Screened(reply=NO_WORDS_REPLY, reason="no_words")
    if not text.startswith("/") and other_language(text) and not safety_excerpt(text, max_chars):
        return Screened(reply=NOT_ENGLISH_REPLY, reason="not_english")
    return Screened(text=text)
