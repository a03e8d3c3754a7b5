"""scripts/audit_dependencies.py: the comparison with the accepted list, the sources' parsing,
and a run of the real script on the offline snapshot (no network needed)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from scripts import audit_dependencies as audit

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 21)
SAFETY_DB_MISSING = importlib.util.find_spec("safety_db") is None
SPECIFIC_REASON = "Only reachable in an aiohttp web server; we run aiohttp as a client only."


def finding(id_="GHSA-aaaa", package="aiohttp", version="3.9.5", aliases=("CVE-2024-1",)):
    return audit.Finding(id_, package, version, "summary", "test", aliases)


def acceptance(id_="GHSA-aaaa", package="aiohttp", version="3.9.5", reviewed=TODAY):
    return audit.Acceptance(id_, package, version, SPECIFIC_REASON, reviewed)


def test_a_finding_that_is_not_accepted_fails():
    result = audit.compare([finding()], [], today=TODAY)
    assert not result.passed
    assert result.unaccepted == [finding()]


def test_an_accepted_finding_passes():
    result = audit.compare([finding()], [acceptance()], today=TODAY)
    assert result.passed
    assert result.accepted == [(finding(), acceptance())]
    assert result.stale == []


def test_an_acceptance_by_alias_covers_the_same_advisory_from_another_source():
    result = audit.compare(
        [finding(id_="PYSEC-2024-9", aliases=("CVE-2024-1",))], [acceptance(id_="CVE-2024-1")], today=TODAY
    )
    assert result.passed


def test_an_acceptance_is_for_one_version_only():
    # After an upgrade that is still vulnerable, the finding must be triaged again.
    result = audit.compare([finding(version="3.9.6")], [acceptance(version="3.9.5")], today=TODAY)
    assert not result.passed
    assert result.stale == [acceptance(version="3.9.5")]


def test_an_acceptance_that_matches_nothing_is_reported_stale():
    result = audit.compare([], [acceptance()], today=TODAY)
    assert result.passed
    assert result.stale == [acceptance()]


def test_an_old_review_is_due_again():
    old = acceptance(reviewed=date(2025, 1, 1))
    result = audit.compare([finding()], [old], today=TODAY)
    assert result.passed and result.due_for_review == [old]


def write(tmp_path, text, name="accepted.yml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_accepted_file_is_read(tmp_path):
    path = write(
        tmp_path,
        f"- id: GHSA-aaaa\n  package: aiohttp\n  version: 3.9.5\n  reason: {SPECIFIC_REASON}\n  reviewed: 2026-11-21\n",
    )
    assert audit.load_accepted(path) == [acceptance()]


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("- id: X\n  package: p\n  version: '1'\n  reviewed: 2026-11-21\n", "missing reason"),
        ("- id: X\n  package: p\n  version: '1'\n  reason: not reachable\n  reviewed: 2026-11-21\n", "must say why"),
        (f"- id: X\n  package: p\n  version: '1'\n  reason: {SPECIFIC_REASON}\n  reviewed: last week\n", "YYYY-MM-DD"),
        (f"- id: X\n  package: p\n  reason: {SPECIFIC_REASON}\n  reviewed: 2026-11-21\n", "missing version"),
    ],
)
def test_a_bad_acceptance_is_refused_with_the_reason(tmp_path, entry, problem):
    with pytest.raises(audit.AuditInputError, match=problem):
        audit.load_accepted(write(tmp_path, entry))


def test_pins_and_installed_versions_are_both_audited(tmp_path):
    constraints = write(tmp_path, "# comment\nJinja2==3.1.6\nrasa[spacy]==3.6.21\nfoo>=1\n", "c.txt")
    pins = audit.read_pins(constraints)
    assert pins == [audit.Package("jinja2", "3.1.6"), audit.Package("rasa", "3.6.21")]
    merged = audit.packages_to_audit(pins, [audit.Package("jinja2", "3.1.6"), audit.Package("pip", "23.2.1")])
    assert [p.name for p in merged] == ["jinja2", "pip", "rasa"]


def test_advisories_match_by_version_range():
    advisories = {"jinja2": [{"id": "A1", "specs": [">=0,<2.11.3"], "summary": "s"}]}
    old, new = audit.Package("jinja2", "2.10"), audit.Package("jinja2", "3.1.6")
    assert [f.id for f in audit.match_advisories([old, new], advisories, "t")] == ["A1"]


def test_pip_audit_skips_are_not_clean():
    # pip-audit prints "No known vulnerabilities found" when every package was skipped.
    report = {
        "dependencies": [
            {"name": "requests", "skip_reason": "Dependency not found on PyPI and could not be audited"},
            {
                "name": "Jinja2",
                "version": "2.10",
                "vulns": [{"id": "PYSEC-2019-217", "aliases": ["CVE-2019-10906"], "description": "sandbox escape"}],
            },
        ]
    }
    findings, skipped = audit.parse_pip_audit(report)
    assert [(f.id, f.package, f.aliases) for f in findings] == [("PYSEC-2019-217", "jinja2", ("CVE-2019-10906",))]
    assert skipped and skipped[0].startswith("requests")


def test_known_advisories_and_accepted_files_in_the_repo_are_valid():
    known = audit.load_known_advisories()
    assert sum(len(v) for v in known.values()) > 0
    for acceptance_ in audit.load_accepted():
        assert acceptance_.reason and acceptance_.reviewed


@pytest.mark.skipif(SAFETY_DB_MISSING, reason="safety-db is not installed (requirements-dev.txt)")
def test_the_offline_snapshot_finds_a_known_old_vulnerability():
    advisories, taken = audit.load_safety_db()
    assert taken.year == 2021
    found = audit.match_advisories([audit.Package("jinja2", "2.10")], advisories, "safety-db")
    assert any("CVE-2020-28493" in f.ids() for f in found)


def run_script(tmp_path, accepted_text):
    accepted = write(tmp_path, accepted_text)
    constraints = write(tmp_path, "jinja2==2.10\n", "c.txt")
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "audit_dependencies.py"),
            "--offline",
            "--no-installed",
            "--constraints",
            str(constraints),
            "--accepted",
            str(accepted),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.skipif(SAFETY_DB_MISSING, reason="safety-db is not installed (requirements-dev.txt)")
def test_the_script_fails_on_an_unaccepted_finding_and_names_its_source(tmp_path):
    completed = run_script(tmp_path, "[]\n")
    assert completed.returncode == 1
    assert "OFFLINE safety-db snapshot taken 2021-07-01" in completed.stdout
    assert "FINDING NOT ACCEPTED: pyup.io-39525 jinja2==2.10" in completed.stdout


@pytest.mark.skipif(SAFETY_DB_MISSING, reason="safety-db is not installed (requirements-dev.txt)")
def test_the_script_passes_when_every_finding_is_accepted_and_warns_on_stale(tmp_path):
    entries = "".join(
        f"- id: {id_}\n  package: jinja2\n  version: '{version}'\n  reason: {SPECIFIC_REASON}\n  reviewed: 2026-11-21\n"
        for id_, version in (("CVE-2020-28493", "2.10"), ("GHSA-gone", "2.10"))
    )
    completed = run_script(tmp_path, entries)
    assert completed.returncode == 0, completed.stdout
    assert "accepted GHSA-gone jinja2==2.10 matches no finding now" in completed.stdout


def test_the_script_exits_2_on_a_bad_accepted_file(tmp_path):
    completed = run_script(tmp_path, "- id: X\n")
    assert completed.returncode == 2
    assert "missing" in completed.stderr


def fake_pip_audit(tmp_path, stdout: str, exit_code: int = 0) -> Path:
    """A stand-in for pip-audit that records its arguments and prints a canned report."""
    script = tmp_path / "pip-audit"
    (tmp_path / "report.json").write_text(stdout, encoding="utf-8")
    script.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat {tmp_path}/report.json\nexit {exit_code}\n')
    script.chmod(0o755)
    return script


def test_pip_audit_runs_on_exact_pins_without_resolving_or_downloading(tmp_path, monkeypatch):
    report = (
        '{"dependencies": [{"name": "jinja2", "version": "2.10", "vulns": [{"id": "PYSEC-2021-66", '
        '"aliases": ["CVE-2020-28493"], "description": "ReDoS in urlize"}]}], "fixes": []}'
    )
    monkeypatch.setattr(audit, "ensure_pip_audit", lambda: fake_pip_audit(tmp_path, report))
    findings, skipped = audit.run_pip_audit([audit.Package("jinja2", "2.10")])
    assert [(f.id, f.version) for f in findings] == [("PYSEC-2021-66", "2.10")] and skipped == []
    args = (tmp_path / "args").read_text().split()
    assert {"--no-deps", "--disable-pip", "-s", "osv"} <= set(args)


def test_when_online_pip_audit_fails_the_audit_falls_back_to_the_snapshot_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(audit, "osv_reachable", lambda: (True, "probe answered"))
    monkeypatch.setattr(audit, "ensure_pip_audit", lambda: fake_pip_audit(tmp_path, "Traceback ...", 1))
    if SAFETY_DB_MISSING:
        pytest.skip("safety-db is not installed (requirements-dev.txt)")
    findings, sources, problems = audit.collect_findings([audit.Package("jinja2", "2.10")], offline=False)
    out = capsys.readouterr().out
    assert "pip-audit failed" in out and "OFFLINE safety-db snapshot" in out
    assert any(s.startswith("safety-db snapshot") for s in sources) and problems == []
    assert any("CVE-2020-28493" in f.ids() for f in findings)


def test_an_unreachable_osv_is_reported_not_mistaken_for_clean(monkeypatch):
    monkeypatch.setattr(audit, "OSV_QUERY_URL", "http://127.0.0.1:9/v1/query")  # nothing listens there
    reachable, why = audit.osv_reachable(timeout=2)
    assert not reachable and "127.0.0.1:9" in why
