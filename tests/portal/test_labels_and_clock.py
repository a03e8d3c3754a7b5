"""Plain words for every code staff see, and times in the clinic's time zone."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from clinical.clinic import is_time_zone, load_clinic_settings
from clinical.consultation_store import REQUEST_REASONS
from clinical.rules import load_rulebook
from portal.clock import ClinicClock, waited
from portal.labels import load_labels

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_every_rule_outcome_flag_and_request_reason_has_plain_words():
    labels = load_labels()
    rules = yaml.safe_load((ROOT / "clinical/outcome_rules.yml").read_text())
    flags = yaml.safe_load((ROOT / "clinical/safety.yml").read_text())["red_flags"]
    assert {r["id"] for r in rules["rules"]} <= set(labels.reasons)
    assert set(rules["outcomes"]) | {"none"} <= set(labels.outcomes)
    assert {f["id"] for f in flags} <= set(labels.safety_net_flags)
    assert {r.get("tier") for r in rules["rules"] if r.get("tier")} <= set(labels.tiers)
    assert set(REQUEST_REASONS) <= set(labels.request_reasons)
    assert load_rulebook()  # the rule ids above are the ones the assistant loads


def test_labels_name_channels_as_people_do_and_never_hide_an_unknown_code():
    labels = load_labels()
    assert labels.channel("rest") == "Website chat"
    assert labels.channel("twilio_verified", "+442079460001") == "SMS"
    assert labels.channel("twilio_verified", "whatsapp:+442079460001") == "WhatsApp"
    assert labels.channel("telegram_verified", "123") == "Telegram"
    assert labels.reason("rf_giant_cell_arteritis").startswith("Possible giant cell arteritis")
    assert labels.reason("rf_new_rule_nobody_labelled") == "rf_new_rule_nobody_labelled"
    assert labels.outcome(None) == "Screening not finished"


def test_clinic_clock_shows_local_time_with_its_zone_across_summer_time():
    clock = ClinicClock(ZoneInfo("Europe/London"))
    winter = datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)
    summer = datetime(2026, 7, 15, 9, 30, tzinfo=timezone.utc)
    assert clock.show(winter) == "Thu 15 Jan 2026, 09:30 GMT"
    assert clock.show(summer.timestamp()) == "Wed 15 Jul 2026, 10:30 BST"
    assert clock.iso(summer.replace(tzinfo=None)) == "2026-07-15T10:30+01:00"  # naive = UTC (SQLite)
    assert clock.show(None) == ""


def test_waited_reads_like_staff_say_it():
    start = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
    assert waited(start, start.timestamp() + 45 * 60) == "45 min"
    assert waited(start, start.timestamp() + 200 * 60) == "3 h 20 min"
    assert waited(start, start.timestamp() + (2 * 24 + 4) * 3600) == "2 days 4 h"


@pytest.mark.parametrize("bad", ["", "Mars/Olympus", "GMT+25", "../../etc/passwd", "/etc/localtime"])
def test_time_zone_setting_refuses_what_is_not_an_iana_zone(bad, tmp_path):
    assert not is_time_zone(bad)
    text = (ROOT / "clinic.yml").read_text().replace("time_zone: Europe/London", f"time_zone: {bad!r}")
    path = tmp_path / "clinic.yml"
    path.write_text(text)
    with pytest.raises(ValueError, match="time_zone"):
        load_clinic_settings(path)


def test_clinic_yml_names_a_zone():
    assert is_time_zone(load_clinic_settings().time_zone)
