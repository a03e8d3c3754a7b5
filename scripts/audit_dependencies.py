"""Dependency audit: every pinned and installed package against known vulnerabilities.

    .venv/bin/python scripts/audit_dependencies.py            (scripts/test.sh runs this)
    .venv/bin/python scripts/audit_dependencies.py --offline  (skip the online probe)

Sources, best first:
  1. pip-audit with the OSV service, when OSV answers a probe within a few seconds. pip-audit
     runs from its own virtualenv (.venv-audit, exact pins in security/requirements-audit.txt;
     it needs a newer `packaging` than Rasa allows) on exact pins with --no-deps --disable-pip,
     so it never resolves or downloads packages while auditing.
  2. Otherwise the offline snapshot of PyUp's database (the `safety-db` package). It is OLD:
     the script prints its date and age, and advisories published after it are not seen.
  3. Always: security/known-advisories.yml, advisories the team recorded by hand (for the
     gap the old snapshot leaves; each entry says where it came from).

Every finding must be in security/accepted-vulnerabilities.yml (id, package, version,
reason, reviewed) or the audit fails (exit 1). An accepted entry that matches no finding is
reported as stale (a warning: remove it after an upgrade). A bad accepted file: exit 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED_PATH = ROOT / "security" / "accepted-vulnerabilities.yml"
KNOWN_ADVISORIES_PATH = ROOT / "security" / "known-advisories.yml"
AUDIT_REQUIREMENTS = ROOT / "security" / "requirements-audit.txt"
AUDIT_VENV = ROOT / ".venv-audit"
OSV_QUERY_URL = "https://api.osv.dev/v1/query"
PROBE_TIMEOUT_SECONDS = 5
# A version with a well-known advisory (CVE-2020-28493): a source that does not report it
# is not working, whatever it says. pip-audit's PyPI source reports "not found" packages
# as skipped and then prints "No known vulnerabilities found", so a bare answer is no proof.
CANARY = ("jinja2", "2.10", "CVE-2020-28493")
REVIEW_AGAIN_AFTER_DAYS = 365
REQUIRED_ACCEPTED_FIELDS = ("id", "package", "version", "reason", "reviewed")


class AuditInputError(ValueError):
    """A file the audit reads is malformed (exit status 2)."""


@dataclass(frozen=True)
class Package:
    name: str  # canonical (PEP 503) name
    version: str


@dataclass(frozen=True)
class Finding:
    id: str
    package: str
    version: str
    summary: str
    source: str
    aliases: tuple[str, ...] = ()

    def ids(self) -> set:
        return {self.id, *self.aliases}


@dataclass(frozen=True)
class Acceptance:
    id: str
    package: str
    version: str
    reason: str
    reviewed: date

    def matches(self, finding: Finding) -> bool:
        return (
            self.id in finding.ids()
            and canonicalize_name(self.package) == finding.package
            and self.version == finding.version
        )


@dataclass
class Comparison:
    unaccepted: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, Acceptance]] = field(default_factory=list)
    stale: list[Acceptance] = field(default_factory=list)
    due_for_review: list[Acceptance] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.unaccepted


# ---------------------------------------------------------------- what is installed / pinned

PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def read_pins(path: Path) -> list[Package]:
    """Exact pins (name==version) of a requirements/constraints file; other lines are ignored."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN_RE.match(line.strip())
        if match:
            pins.append(Package(canonicalize_name(match.group(1)), match.group(2)))
    return pins


def installed_packages() -> list[Package]:
    """Distributions installed in the environment running this script (the project's venv)."""
    from importlib import metadata

    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[canonicalize_name(name)] = Package(canonicalize_name(name), dist.version)
    return sorted(found.values(), key=lambda p: p.name)


def packages_to_audit(pins: Iterable[Package], installed: Iterable[Package]) -> list[Package]:
    """The union: a version installed but not pinned (pip, setuptools) is audited too."""
    return sorted(set(pins) | set(installed), key=lambda p: (p.name, p.version))


# ---------------------------------------------------------------- matching advisories


def version_in(spec: str, version: str) -> bool:
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def match_advisories(packages: Sequence[Package], advisories: dict[str, list[dict]], source: str) -> list[Finding]:
    """advisories: canonical package name -> [{id, specs: [..], summary, aliases}]."""
    findings = []
    for package in packages:
        for advisory in advisories.get(package.name, []):
            if any(version_in(spec, package.version) for spec in advisory["specs"]):
                findings.append(
                    Finding(
                        advisory["id"],
                        package.name,
                        package.version,
                        advisory.get("summary", ""),
                        source,
                        tuple(advisory.get("aliases", ())),
                    )
                )
    return findings


def load_safety_db() -> tuple[dict[str, list[dict]], datetime]:
    """The safety-db snapshot as advisories, and the date it was taken."""
    # Located, not imported: the package's __init__ opens a path relative to the working
    # directory and fails; only its JSON file is needed.
    spec = importlib.util.find_spec("safety_db")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("safety-db is not installed")
    data_file = Path(list(spec.submodule_search_locations)[0]) / "insecure_full.json"
    raw = json.loads(data_file.read_text(encoding="utf-8"))
    taken = datetime.fromtimestamp(raw["$meta"]["timestamp"], timezone.utc)
    advisories: dict[str, list[dict]] = {}
    for name, entries in raw.items():
        if name == "$meta":
            continue
        advisories[canonicalize_name(name)] = [
            {
                "id": e["id"],
                "specs": e["specs"],
                "summary": e.get("advisory", ""),
                "aliases": tuple(c.strip() for c in (e.get("cve") or "").split(",") if c.strip()),
            }
            for e in entries
        ]
    return advisories, taken


def load_known_advisories(path: Path = KNOWN_ADVISORIES_PATH) -> dict[str, list[dict]]:
    if not path.exists():
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    advisories: dict[str, list[dict]] = {}
    for number, entry in enumerate(entries, 1):
        missing = [k for k in ("id", "package", "affected", "summary", "source") if not entry.get(k)]
        if missing:
            raise AuditInputError(f"{path.name} entry {number}: missing {', '.join(missing)}")
        advisories.setdefault(canonicalize_name(entry["package"]), []).append(
            {
                "id": entry["id"],
                "specs": [entry["affected"]],
                "summary": entry["summary"],
                "aliases": tuple(entry.get("aliases", ())),
            }
        )
    return advisories


# ---------------------------------------------------------------- pip-audit (online)


def osv_reachable(timeout: float = PROBE_TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Asks OSV about the canary; reachable only if it answers with the canary's advisory."""
    name, version, cve = CANARY
    body = json.dumps({"package": {"name": name, "ecosystem": "PyPI"}, "version": version}).encode()
    request = urllib.request.Request(OSV_QUERY_URL, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed https URL
            answer = json.loads(response.read().decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        return False, f"{OSV_QUERY_URL}: {type(exc).__name__}: {exc}"
    ids = {i for v in answer.get("vulns", []) for i in [v.get("id"), *v.get("aliases", [])]}
    if cve not in ids:
        return False, f"{OSV_QUERY_URL} answered but did not report {cve} for {name} {version}"
    return True, "OSV answered the probe correctly"


def ensure_pip_audit() -> Path:
    """pip-audit in its own venv from exact pins (installed once; no resolving)."""
    executable = AUDIT_VENV / "bin" / "pip-audit"
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(AUDIT_VENV)], check=True)
        subprocess.run(
            [str(AUDIT_VENV / "bin" / "pip"), "install", "--quiet", "--no-deps", "-r", str(AUDIT_REQUIREMENTS)],
            check=True,
        )
    return executable


def parse_pip_audit(report: dict) -> tuple[list[Finding], list[str]]:
    """Findings, and the packages pip-audit could NOT audit (skipped = unknown, not clean)."""
    findings, skipped = [], []
    for dep in report.get("dependencies", []):
        name = canonicalize_name(dep["name"])
        if dep.get("skip_reason"):
            skipped.append(f"{name}: {dep['skip_reason']}")
            continue
        for vuln in dep.get("vulns", []):
            findings.append(
                Finding(
                    vuln["id"],
                    name,
                    dep["version"],
                    vuln.get("description", "")[:300],
                    "pip-audit/OSV",
                    tuple(vuln.get("aliases", [])),
                )
            )
    return findings, skipped


def run_pip_audit(packages: Sequence[Package]) -> tuple[list[Finding], list[str]]:
    executable = ensure_pip_audit()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as requirements:
        requirements.write("".join(f"{p.name}=={p.version}\n" for p in packages))
    completed = subprocess.run(
        [
            str(executable),
            "-r",
            requirements.name,
            "--no-deps",
            "--disable-pip",
            "-s",
            "osv",
            "--timeout",
            "20",
            "-f",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
    )
    Path(requirements.name).unlink()
    if not completed.stdout.strip().startswith("{"):
        raise RuntimeError(f"pip-audit failed (exit {completed.returncode}): {completed.stderr.strip()[-500:]}")
    return parse_pip_audit(json.loads(completed.stdout))


# ---------------------------------------------------------------- accepted findings


def load_accepted(path: Path = ACCEPTED_PATH) -> list[Acceptance]:
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise AuditInputError(f"{path.name}: expected a list of entries")
    accepted = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise AuditInputError(f"{path.name} entry {number}: expected a mapping")
        missing = [k for k in REQUIRED_ACCEPTED_FIELDS if not str(entry.get(k) or "").strip()]
        if missing:
            raise AuditInputError(f"{path.name} entry {number} ({entry.get('id', '?')}): missing {', '.join(missing)}")
        reviewed = entry["reviewed"]
        if not isinstance(reviewed, date):
            try:
                reviewed = date.fromisoformat(str(reviewed))
            except ValueError:
                raise AuditInputError(
                    f"{path.name} entry {number} ({entry['id']}): reviewed must be YYYY-MM-DD"
                ) from None
        if len(str(entry["reason"]).split()) < 8:
            raise AuditInputError(
                f"{path.name} entry {number} ({entry['id']}): the reason must say why "
                "(is the vulnerable code reachable here?), in a sentence or more"
            )
        accepted.append(
            Acceptance(
                str(entry["id"]), str(entry["package"]), str(entry["version"]), str(entry["reason"]).strip(), reviewed
            )
        )
    return accepted


def compare(findings: Sequence[Finding], accepted: Sequence[Acceptance], today: date | None = None) -> Comparison:
    today = today or date.today()
    result = Comparison()
    used = set()
    for finding in findings:
        match = next((a for a in accepted if a.matches(finding)), None)
        if match is None:
            result.unaccepted.append(finding)
        else:
            result.accepted.append((finding, match))
            used.add(match)
    result.stale = [a for a in accepted if a not in used]
    result.due_for_review = [a for a in accepted if a in used and (today - a.reviewed).days > REVIEW_AGAIN_AFTER_DAYS]
    return result


# ---------------------------------------------------------------- the run


def banner(text: str) -> None:
    print(f"\n!!! {text}")


def collect_findings(packages: Sequence[Package], offline: bool) -> tuple[list[Finding], list[str], list[str]]:
    """(findings, sources used, problems that make the audit incomplete)."""
    findings: list[Finding] = []
    sources: list[str] = []
    problems: list[str] = []
    online, why = (False, "--offline given") if offline else osv_reachable()
    if online:
        try:
            online_findings, skipped = run_pip_audit(packages)
            findings += online_findings
            sources.append("pip-audit with OSV (current)")
            problems += [f"not audited: {s}" for s in skipped]
        except Exception as exc:  # noqa: BLE001 - fall back below, loudly
            banner(f"pip-audit failed ({exc}); falling back to the offline snapshot")
            online, why = False, "pip-audit failed"
    if not online:
        banner(f"Online vulnerability service unavailable ({why}).")
        try:
            advisories, taken = load_safety_db()
        except ImportError:
            problems.append("no vulnerability source: OSV unreachable and safety-db is not installed")
        else:
            age = (datetime.now(timezone.utc) - taken).days
            banner(
                f"Using the OFFLINE safety-db snapshot taken {taken:%Y-%m-%d} ({age} days old). Advisories "
                "published after that date are NOT checked; run this where OSV is reachable to be sure."
            )
            canary = match_advisories([Package(*CANARY[:2])], advisories, "safety-db")
            if not any(CANARY[2] in f.ids() for f in canary):
                problems.append(f"the safety-db snapshot does not report {CANARY[2]}; it is not usable")
            findings += match_advisories(packages, advisories, f"safety-db {taken:%Y-%m-%d}")
            sources.append(f"safety-db snapshot {taken:%Y-%m-%d} ({age} days old)")
    known = load_known_advisories()
    findings += match_advisories(packages, known, "security/known-advisories.yml")
    sources.append(f"security/known-advisories.yml ({sum(len(v) for v in known.values())} hand-recorded advisories)")
    return findings, sources, problems


def report(comparison: Comparison, sources: Sequence[str], problems: Sequence[str], audited: int) -> None:
    print(f"\nAudited {audited} package versions. Sources: " + "; ".join(sources))
    for finding, acceptance in comparison.accepted:
        print(f"  accepted   {finding.id} {finding.package}=={finding.version} (reviewed {acceptance.reviewed})")
    for acceptance in comparison.due_for_review:
        print(
            f"WARNING: {acceptance.id} ({acceptance.package}) was last reviewed {acceptance.reviewed}: review it again"
        )
    for acceptance in comparison.stale:
        print(
            f"WARNING: accepted {acceptance.id} {acceptance.package}=={acceptance.version} matches no finding now "
            "(upgraded, or not reported by today's sources): remove it if it is gone for good"
        )
    for finding in comparison.unaccepted:
        print(
            f"FINDING NOT ACCEPTED: {finding.id} {finding.package}=={finding.version} [{finding.source}] "
            f"{' '.join(finding.aliases)}\n    {finding.summary[:240]}"
        )
    for problem in problems:
        print(f"AUDIT INCOMPLETE: {problem}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--constraints", type=Path, default=ROOT / "constraints.txt")
    parser.add_argument("--accepted", type=Path, default=ACCEPTED_PATH)
    parser.add_argument("--offline", action="store_true", help="do not probe the online service")
    parser.add_argument("--no-installed", action="store_true", help="audit the pins only, not this environment")
    args = parser.parse_args(argv)
    started = time.time()
    try:
        accepted = load_accepted(args.accepted)
        packages = packages_to_audit(read_pins(args.constraints), [] if args.no_installed else installed_packages())
        findings, sources, problems = collect_findings(packages, args.offline)
    except AuditInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    comparison = compare(findings, accepted)
    report(comparison, sources, problems, len(packages))
    ok = comparison.passed and not problems
    print(
        f"\nDependency audit {'passed' if ok else 'FAILED'} in {time.time() - started:.1f} s: "
        f"{len(comparison.unaccepted)} unaccepted, {len(comparison.accepted)} accepted, "
        f"{len(comparison.stale)} stale acceptances."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
