"""The wording catalogue: every patient-facing text the code sends, by dotted id and language.

``clinical/wording/<language>.yml`` holds the texts (docs/wording.md). Pure Python, no Rasa:

    wording("en").say("outcome.urgent_care.closing", clinic_name=..., clinic_phone=...)

An unknown id, or a {placeholder} without a value, raises WordingError (never a half-filled
text to a patient). Adding a language is adding a file: no code changes.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

WORDING_DIR = Path(__file__).resolve().parent / "wording"
REFERENCE_LANGUAGE = "en"
# Optional sections a language file may add: translations of the reviewed data files that
# keep their own ids (clinical/questionnaire.yml, clinical/knowledge.yml).
OVERRIDE_SECTIONS = ("questionnaire_texts", "knowledge_answers")


class WordingError(LookupError):
    """A missing language file, text id or placeholder value."""


def placeholders_of(template: str) -> frozenset[str]:
    """The {names} a template needs."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True)
class Wording:
    language: str
    texts: Mapping[str, str]  # dotted id -> template
    overrides: Mapping[str, Mapping[str, str]]  # questionnaire_texts / knowledge_answers

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self.texts)

    def text(self, text_id: str) -> str:
        """The template itself, placeholders unfilled."""
        try:
            return self.texts[text_id]
        except KeyError:
            raise WordingError(
                f"no text {text_id!r} in the {self.language!r} wording ({_file(self.language)})"
            ) from None

    def say(self, text_id: str, **values: Any) -> str:
        """The text with its placeholders filled from ``values`` (extra values are ignored)."""
        template = self.text(text_id)
        missing = sorted(placeholders_of(template) - set(values))
        if missing:
            raise WordingError(f"text {text_id!r} ({self.language}) needs a value for: {', '.join(missing)}")
        return template.format(**values)

    def section(self, prefix: str) -> dict[str, Any]:
        """The texts under ``prefix`` as the nested mapping they were written as."""
        nested: dict[str, Any] = {}
        start = prefix + "."
        for text_id, template in self.texts.items():
            if text_id.startswith(start):
                *parents, last = text_id[len(start) :].split(".")
                node = nested
                for part in parents:
                    node = node.setdefault(part, {})
                node[last] = template
        if not nested:
            raise WordingError(f"no texts under {prefix!r} in the {self.language!r} wording")
        return nested

    def override(self, section: str, item_id: str) -> str | None:
        """A translated question text / knowledge answer, or None to keep the reviewed one."""
        return self.overrides.get(section, {}).get(item_id)


def differences(reference: Wording, other: Wording) -> list[str]:
    """What ``other`` must fix to match ``reference`` (the English file): the same ids, and
    the same {placeholders} per id. [] when it matches."""
    problems = [f"{other.language}: missing {text_id}" for text_id in sorted(reference.ids - other.ids)]
    problems += [
        f"{other.language}: unknown {text_id} (not in {reference.language})"
        for text_id in sorted(other.ids - reference.ids)
    ]
    for text_id in sorted(reference.ids & other.ids):
        want, got = placeholders_of(reference.text(text_id)), placeholders_of(other.text(text_id))
        if want != got:
            problems.append(
                f"{other.language}: {text_id} has placeholders {sorted(got)}, {reference.language} has {sorted(want)}"
            )
    return problems


def available_languages(directory: Path | None = None) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in Path(directory or WORDING_DIR).glob("*.yml")))


def _file(language: str, directory: Path | None = None) -> Path:
    return Path(directory or WORDING_DIR) / f"{language}.yml"


def load_wording(language: str = REFERENCE_LANGUAGE, directory: Path | None = None) -> Wording:
    """The catalogue of one language (cached); ``directory`` defaults to clinical/wording/."""
    return _load(language, Path(directory or WORDING_DIR))


@lru_cache(maxsize=8)
def _load(language: str, directory: Path) -> Wording:
    path = _file(language, directory)
    if not path.is_file():
        raise WordingError(
            f"no wording for language {language!r}: {path} does not exist "
            f"(available: {', '.join(available_languages(directory)) or 'none'})"
        )
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise WordingError(f"{path}: expected a mapping of sections")
    overrides = {}
    for section in OVERRIDE_SECTIONS:
        items = raw.pop(section, None) or {}
        if not isinstance(items, dict):
            raise WordingError(f"{path}: {section} must map ids to texts")
        overrides[section] = {str(k): _clean(path, f"{section}.{k}", v) for k, v in items.items()}
    texts: dict[str, str] = {}
    _flatten(path, raw, "", texts)
    return Wording(language, texts, overrides)


def wording(language: str = REFERENCE_LANGUAGE) -> Wording:
    """The catalogue for a language (loaded once per process)."""
    return load_wording(language)


def _flatten(path: Path, node: Any, prefix: str, into: dict[str, str]) -> None:
    for key, value in node.items():
        if not isinstance(key, str):
            # `yes:` / `no:` keys read as booleans in YAML: quote them.
            raise WordingError(f"{path}: key {key!r} under {prefix or 'the top'!r} must be a quoted string")
        text_id = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(path, value, text_id, into)
        else:
            into[text_id] = _clean(path, text_id, value)


def _clean(path: Path, text_id: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WordingError(f"{path}: {text_id} must be a non-empty text, got {value!r}")
    try:
        placeholders_of(value)
    except ValueError as error:  # a stray "{" or "}"
        raise WordingError(f"{path}: {text_id}: {error}") from None
    return value.strip()
