"""A learned second reader of distress, for the words no pattern foresaw.

The patterns of safety.yml catch the words of distress the clinic's reviewers wrote down;
people who have never seen them say the same things in other words ("I've been making a list
of who gets what", "the Lord can take me any time now"). This model, a logistic regression
over the words and letter sequences of a message (scikit-learn, pinned by Rasa), is trained
when first used on ``distress_examples.yml``: messages written by helper sessions that never
saw the patterns, the reading code or the evaluation corpora (tests/corpus/blind/distress/
README.md), each marked distress or ordinary, and on the NLU's own training examples as
ordinary messages. Training takes a few seconds once per process, is deterministic, and
needs nothing downloaded.

The model only ever adds a check-in: what it finds is treated as an indirect sign, so the
person is asked gently whether they are having thoughts of ending their life, with the
crisis contacts (clinical reference s.8). It never takes away what a pattern found.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from clinical.reading import read

EXAMPLES_PATH = Path(__file__).with_name("distress_examples.yml")
NLU_PATHS = tuple(sorted((Path(__file__).resolve().parents[1] / "data").glob("nlu*.yml")))
# "[ibuprofen](medicine)", "[two weeks]{...}": an annotated entity, read as its words.
_ENTITY_MARK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
# The probability above which a message or sentence is a sign. Chosen on the blind
# development corpus (never on the sealed half) for few check-ins on ordinary messages;
# docs/nlu-evaluation.md has the figures.
THRESHOLD = 0.8
# Sentences this short say too little for the model on their own ("ok", "yes, 52").
MIN_WORDS = 4


@lru_cache(maxsize=1)
def _model(path: Path = EXAMPLES_PATH):
    # Imported here: the NLU process loads scikit-learn anyway, the input guard needs the
    # model only for a message the patterns did not flag.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    ordinary = raw["ordinary"] + assistant_training_messages()
    texts = [_words(t) for t in raw["distress"]] + [_words(t) for t in ordinary]
    labels = [1] * len(raw["distress"]) + [0] * len(ordinary)
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("letters", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)),
        ]
    )
    model = make_pipeline(features, LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear"))
    model.fit(texts, labels)
    return model


def assistant_training_messages(paths: tuple[Path, ...] = NLU_PATHS) -> list[str]:
    """The NLU's training examples (data/), entity marks removed, as ordinary messages: the
    everyday answers, questions and requests the assistant is trained on. The one intent
    the safety net owns (``safety_concern``) is left out."""
    messages = []
    for path in paths:
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" not in block or block["intent"] == "safety_concern":
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    messages.append(_ENTITY_MARK.sub(lambda m: m.group(1), line[2:]))
    return messages


def _words(text: str) -> str:
    """The one reading's words (chat spellings and typing errors read)."""
    return read(str(text)).text


def prepare() -> None:
    """Trains the model now (it is otherwise trained on first use)."""
    _model()


def sign_in(message: str, sentences: list[str]) -> str | None:
    """The part of the message the model reads as a sign (the whole message, or the sentence
    that scores highest), or None."""
    parts = [message] + [s for s in sentences if len(s.split()) >= MIN_WORDS]
    scores = _model().predict_proba([_words(p) for p in parts])[:, 1]
    best = max(range(len(parts)), key=lambda i: scores[i])
    return parts[best] if scores[best] >= THRESHOLD else None
