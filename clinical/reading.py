"""One reading of each typed message, shared by every reader of words in the project.

Pure Python (no Rasa, no spaCy): the NLU component, the form validation, the safety net and
the question matching all start from ``read(text)``, so the same words never mean two
things depending on which path reads them.

    >>> read("Im rly not sure wen it started").text
    "i'm really not sure when it started"

Three steps, each conservative:
1. ``normalise``: Unicode compatibility forms, straight apostrophes and quotes, plain
   dashes, lower case, one space between words.
2. Chat and SMS spellings from the reviewed list ``text_speak.yml`` ("u" -> "you").
3. Typing errors against the assistant's own vocabulary, with SymSpell (symspellpy, MIT):
   only a word that is neither English (SymSpell's own frequency dictionary, shipped in the
   package) nor the assistant's own is corrected, and only to the assistant's own
   vocabulary, at edit distance 1 (2 for long words), with the same first letter, and only
   when one candidate is nearest. Numbers, words of 3 letters or fewer, negation cues and
   medicine names are never touched (medicine spellings are the medicine reader's job).

The safety net reads both the plain and the corrected text, so a correction can add a red
flag but never remove one. Negation and "is this a question" are read here too, once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent
TEXT_SPEAK_PATH = HERE / "text_speak.yml"
# The files whose words are the assistant's own vocabulary (typing errors are corrected
# towards these words and no others).
VOCABULARY_SOURCES = ("lexicon.yml", "questionnaire.yml", "safety.yml", "answer_words.yml")
SHORTEST_CORRECTED = 4  # letters; shorter words are too often something else
LONG_WORD = 7  # letters; from here an edit distance of 2 is allowed
SHORTEST_ENGLISH_TARGET = 5  # letters, for the second tier (plain English words)
ENGLISH_WORDS = 40_000  # the most frequent English words of that length: 0.9 s and ~40 MB to load

_QUOTES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)
_SPACES = re.compile(r"\s+")

# --- negation: the one reader of "no", "not", "never" ... -------------------------------
# A cue earlier in the same clause negates a term; words inside matched terms are never
# cues ("I can't breathe" is a report, "I don't have trouble breathing" is not).
NEGATION_CUE = re.compile(
    r"\b(?:no|not|never|none|nothing|without|neither|nor|denies|deny|free of|"
    r"dont|didnt|doesnt|havent|hasnt|isnt|wasnt|arent|werent|cant|cannot|couldnt|wont|wouldnt|shouldnt|aint)\b|n't\b"
)
# Cues that a medicine or treatment has been given up ("I stopped warfarin"); never used
# for red flags, where "stopped being able to swallow" is a sign, not a denial.
DISCONTINUED_CUE = re.compile(r"\b(?:stopped|no longer|quit|came off|come off|gave up|used to)\b")
# Clauses end at sentence ends, commas and these words: "no fever but my chest hurts",
# "no. I'm pregnant" (a reader that sees the whole message, like the entity extractor,
# must not carry the "no" of one sentence into the next).
CLAUSE_BREAK = re.compile(
    r"[.!?\n]|,|;|\s-\s|\b(?:but|however|although|though|except|apart from|and|then|because|so|cos|coz|"
    r"i take|i'm on|i am on)\b"
)
# Words that link a negation cue to what it denies without changing it: skipped when only
# the last few words before a term count (is_negated's ``words_before``).
_LINKING_WORD = re.compile(
    r"^(?:going|gonna|to|want|wanna|wanting|planning|plan|about|intend\w*|intention|any|of|whatsoever|whatever|"
    r"ever|really|think\w*|trying|try|would|will|be|do|even)$"
)
# Cues after a term: "pain free", "swelling - not really".
NEGATION_AFTER = re.compile(r"^\s*(?:-\s*)?(?:free\b|not really\b)")
_SENTENCE_END = re.compile(r"[.!?;\n]+")


def normalise(text: str | None) -> str:
    """Lower case, straight quotes and apostrophes, plain dashes, single spaces."""
    plain = unicodedata.normalize("NFKC", text or "").translate(_QUOTES).lower()
    return _SPACES.sub(" ", plain).strip()


@lru_cache(maxsize=1)
def text_speak() -> dict[str, str]:
    raw = yaml.safe_load(TEXT_SPEAK_PATH.read_text(encoding="utf-8"))
    return {str(k).lower(): str(v or "") for k, v in raw["words"].items()}


def expand_text_speak(plain: str) -> str:
    """ "u r rly sure" -> "you are really sure"; punctuation and other words stay."""
    spellings = text_speak()

    def swap(match: re.Match) -> str:
        word = match.group(0)
        return spellings.get(word, word)

    expanded = re.sub(r"(?<![\w'])[a-z0-9][a-z0-9'/]*(?![\w'])", swap, plain)
    return _SPACES.sub(" ", expanded).strip()


@dataclass(frozen=True)
class Reading:
    raw: str  # as typed
    plain: str  # normalised
    text: str  # normalised, chat spellings read, typing errors corrected


@lru_cache(maxsize=1024)
def read(text: str | None) -> Reading:
    """The one reading of a message (cached: every reader of this message shares it)."""
    plain = normalise(text)
    return Reading(raw=text or "", plain=plain, text=correct_spelling(expand_text_speak(plain)))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(normalise(text)) if s.strip()]


def clause_start(text: str, position: int) -> int:
    """Where the clause holding ``position`` starts."""
    start = 0
    for brk in CLAUSE_BREAK.finditer(text, 0, position):
        start = brk.end()
    return start


def is_negated(
    text: str,
    start: int,
    term_spans: Sequence[tuple[int, int]] = (),
    discontinued: bool = False,
    words_before: int | None = None,
) -> bool:
    """A negation cue (with ``discontinued``, also "stopped", "no longer") earlier in the
    clause of the term starting at ``start``; words inside ``term_spans`` are not cues. With
    ``words_before``, only that many words before the term count: the distress reader's
    "doesn't matter anyway, gonna off myself" is not a denial of what follows."""
    begin = clause_start(text, start)
    before = list(text[begin:start])
    for s, e in term_spans:
        for i in range(max(s, begin), min(e, start)):
            before[i - begin] = " "
    window = "".join(before)
    if words_before is not None:
        # Linking words between a cue and the term do not count ("not going to hurt myself",
        # "no intention whatever of harming myself").
        kept = [w for w in window.split() if not _LINKING_WORD.match(w)]
        window = " ".join(kept[-words_before:]) if words_before else ""
    return bool(NEGATION_CUE.search(window) or (discontinued and DISCONTINUED_CUE.search(window)))


def negated_after(text: str, end: int) -> bool:
    return bool(NEGATION_AFTER.match(text[end:]))


# --- questions: the one reader of "is this a question?" ---------------------------------
@lru_cache(maxsize=1)
def _question_words() -> tuple[re.Pattern, re.Pattern, tuple[str, ...]]:
    raw = yaml.safe_load((HERE / "answer_words.yml").read_text(encoding="utf-8"))
    starts = "|".join(f"(?:{t})" for t in raw["question_starts"])
    joins = "|".join(f"(?:{t})" for t in raw["question_joins"])
    tags = "|".join(f"(?:{t})" for t in raw["question_tags"])
    clause = re.compile(rf"(?:^|[,.;!?]\s*|\s-\s|\b(?:{joins})\s+)(?:{starts})\s+\S+\s+\S+")
    tag = re.compile(rf"(?:{tags})[\s?.!]*$")
    first_words = tuple(re.sub(r"[^a-z]", "", t) for t in raw["question_starts"])
    return clause, tag, first_words


def question_starts() -> str:
    """The words a question starts with, as one regular-expression alternation."""
    raw = yaml.safe_load((HERE / "answer_words.yml").read_text(encoding="utf-8"))
    return "|".join(f"(?:{t})" for t in raw["question_starts"])


def asks_something(text: str) -> bool:
    """A "?", a clause that starts like a question ("..., can I keep wearing my aligners"),
    or a tag at the end ("..., is that ok")."""
    t = normalise(text)
    clause, tag, _ = _question_words()
    return "?" in t or bool(clause.search(t) or tag.search(t))


def starts_like_a_question(text: str) -> bool:
    """A "?" or a question word first in a reply of three words or more ("can I talk to
    someone"); two words are a name ("Will Price", "May Lee"), not a question."""
    t = normalise(text)
    words = t.split()
    return "?" in t or (len(words) > 2 and re.sub(r"[^a-z]", "", words[0]) in _question_words()[2])


# --- typing errors ----------------------------------------------------------------------
@lru_cache(maxsize=1)
def _speller():
    """SymSpell over the assistant's own words, plus the set of words it must not touch."""
    from symspellpy import SymSpell

    own = own_vocabulary()
    speller = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
    for word in own:
        speller.create_dictionary_entry(word, 1)
    return speller, frozenset(_english_counts()) | own


@lru_cache(maxsize=1)
def _english_counts() -> dict[str, int]:
    """SymSpell's English frequency dictionary (shipped in the package): word -> count."""
    from importlib import resources

    counts: dict[str, int] = {}
    with resources.files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt").open(encoding="utf-8") as f:
        for line in f:
            word, count = line.split()
            counts[word] = int(count)
    return counts


@lru_cache(maxsize=1)
def _english_speller():
    """The second tier: common English words of 5+ letters (the most frequent
    ENGLISH_WORDS of them), at edit distance 1, for typing errors in words the assistant
    has no list of ("breastfeedign", "medicaiton")."""
    from symspellpy import SymSpell

    speller = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
    kept = 0
    for word, count in _english_counts().items():  # the file runs from most to least frequent
        if len(word) >= SHORTEST_ENGLISH_TARGET:
            speller.create_dictionary_entry(word, count)
            kept += 1
            if kept >= ENGLISH_WORDS:
                break
    return speller


@lru_cache(maxsize=1)
def own_vocabulary() -> frozenset[str]:
    """Every word of four letters or more in the assistant's vocabulary files (terms,
    option phrases, red-flag patterns, answer words), read as plain words."""
    words: set[str] = set()
    for name in VOCABULARY_SOURCES:
        content = (HERE / name).read_text(encoding="utf-8").lower()
        content = re.sub(r"#.*", " ", content)  # comments are not vocabulary
        words.update(w for w in re.findall(r"(?<![\\?])\b[a-z]{4,}\b", content))
    return frozenset(words)


@lru_cache(maxsize=1)
def protected_words() -> frozenset[str]:
    """Medicine names (the medicine reader handles their spellings) and negation cues."""
    from clinical.lexicon import load_lexicon

    lexicon = load_lexicon()
    names = {
        word for (label, _), terms in lexicon.terms.items() if label == "medicine" for t in terms for word in t.split()
    }
    cues = {"never", "none", "nothing", "without", "neither", "denies", "cannot", "stopped", "longer"}
    return frozenset(names | cues)


def correct_word(word: str) -> str:
    if len(word) < SHORTEST_CORRECTED or not word.isalpha():
        return word
    speller, known = _speller()
    if word in known or word in protected_words():
        return word
    from symspellpy import Verbosity

    from clinical.medicines import generic_name  # a real medicine name is never "corrected"

    if generic_name(word):
        return word

    distance = 2 if len(word) >= LONG_WORD else 1
    found = [s.term for s in speller.lookup(word, Verbosity.CLOSEST, max_edit_distance=distance)]
    found = [term for term in found if term[0] == word[0]]
    if len(found) == 1:
        return found[0]  # the assistant's own word, and only one as near
    if found or len(word) < SHORTEST_ENGLISH_TARGET:
        return word  # two of its words as near: leave it as typed
    # Not one of its words: the most frequent English word one edit away, same first letter.
    english = [s.term for s in _english_speller().lookup(word, Verbosity.TOP, max_edit_distance=1)]
    return english[0] if english and english[0][0] == word[0] else word


def correct_spelling(text: str) -> str:
    return re.sub(r"[a-z]+", lambda m: correct_word(m.group(0)), text)
