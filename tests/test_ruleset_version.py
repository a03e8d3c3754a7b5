"""The committed rule-set version matches the data, and every judged outcome carries it."""

import datetime
import shutil

import pytest
import yaml

from actions import tracker_utils as tu
from clinical import ruleset
from clinical.rules import evaluate


def test_committed_version_matches_the_rule_set_data():
    recorded = ruleset.read_version()
    current = ruleset.part_digests()
    changed = recorded.changed_parts(current)
    assert not changed and recorded.content_sha256 == ruleset.content_hash(current), (
        f"clinical rule-set data changed ({', '.join(changed)}) without clinical/ruleset_version.yml: "
        "run `python -m clinical.ruleset update` and have the medical lead sign it off"
    )


def test_the_version_covers_every_file_that_judges_a_screening():
    roles = {role for role, _ in ruleset.PARTS}
    assert roles == {
        "outcome_rules",
        "questionnaire",
        "lexicon",
        "safety_net",
        "knowledge_base",
        "wording_en",
        "distress_examples",
    }
    assert all(path.is_file() for _, path in ruleset.PARTS)


@pytest.fixture
def copied_rule_set(tmp_path, monkeypatch):
    """The rule set and its record, copied so tests can change them."""
    parts = []
    for role, path in ruleset.PARTS:
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        parts.append((role, copy))
    record = tmp_path / "ruleset_version.yml"
    shutil.copy(ruleset.VERSION_PATH, record)
    monkeypatch.setattr(ruleset, "PARTS", tuple(parts))
    monkeypatch.setattr(ruleset, "VERSION_PATH", record)
    return dict(parts), record


def test_changing_one_rule_is_caught_and_names_the_part(copied_rule_set, capsys):
    parts, _ = copied_rule_set
    assert ruleset.main(["check"]) == 0
    with parts["safety_net"].open("a", encoding="utf-8") as f:
        f.write("\n# a reviewer's edit\n")
    assert ruleset.main(["check"]) == 1
    assert "safety_net" in capsys.readouterr().out


def test_update_resets_the_sign_off_only_when_the_content_changed(copied_rule_set):
    parts, record = copied_rule_set
    assert ruleset.main(["sign-off", "--by", "Dr Example", "--on", "2026-11-27"]) == 0
    signed = ruleset.read_version(record)
    assert signed.sign_off == ruleset.SignOff("Dr Example", datetime.date(2026, 11, 27))
    assert signed.label.endswith("(signed off by Dr Example on 2026-11-27)")

    assert ruleset.main(["update"]) == 0  # nothing changed: the sign-off stays
    assert ruleset.read_version(record).sign_off == signed.sign_off

    parts["outcome_rules"].write_text(parts["outcome_rules"].read_text() + "\n# changed\n")
    assert ruleset.main(["sign-off", "--by", "Dr Example", "--on", "2026-11-28"]) == 1  # review first
    assert ruleset.main(["update"]) == 0
    updated = ruleset.read_version(record)
    assert updated.sign_off is None and updated.content_sha256 != signed.content_sha256
    assert updated.label == f"rules {updated.content_sha256[:12]} (sign-off pending)"
    assert yaml.safe_load(record.read_text())["sign_off"] == "pending"


def test_line_endings_do_not_change_the_version(tmp_path):
    unix, windows = tmp_path / "a.yml", tmp_path / "b.yml"
    unix.write_bytes(b"a: 1\nb: 2\n")
    windows.write_bytes(b"a: 1\r\nb: 2\r\n")
    assert ruleset.file_digest(unix) == ruleset.file_digest(windows)


def test_a_malformed_sign_off_is_refused(tmp_path):
    record = tmp_path / "v.yml"
    record.write_text("content_sha256: abc\nparts: {}\nsign_off: {by: ''}\n")
    with pytest.raises(ValueError, match="sign_off"):
        ruleset.read_version(record)


def test_a_decided_outcome_records_the_version_and_a_cleared_one_clears_it():
    result = evaluate({"rf_emergency": "chest"})
    decided = {event["name"]: event["value"] for event in tu.outcome_events(result.outcome, result.reasons)}
    assert decided["screening_outcome"] == "urgent_care"
    assert decided["ruleset_version"] == ruleset.current_version().label
    assert decided["ruleset_version"].startswith("rules ")
    cleared = {event["name"]: event["value"] for event in tu.outcome_events(None, None)}
    assert cleared == {"screening_outcome": None, "screening_reasons": None, "ruleset_version": None}
