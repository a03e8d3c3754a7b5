"""Runs axe-core (the npm package pinned in package.json) on a Playwright page.

The browser tests call `assert_accessible(page, "what is on screen")`: it injects
node_modules/axe-core/axe.min.js into the page, runs every WCAG 2.x A/AA rule and best
practice, and fails on any violation of moderate, serious or critical impact, naming
the rule, its help text and the offending elements. Minor findings are returned, not failed.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("moderate", "serious", "critical")
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page, selector: str | None = None) -> list[dict]:
    """Every axe violation on the page (or inside `selector`), of any impact."""
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: run `npm ci` (scripts/install_browser.sh does)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    options = {"runOnly": {"type": "tag", "values": RULE_TAGS}, "resultTypes": ["violations"]}
    return page.evaluate(
        "([context, options]) => axe.run(context || document, options).then(r => r.violations)",
        [selector, options],
    )


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [json.dumps(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) at {', '.join(targets)}")
    return "\n".join(lines)


def assert_accessible(page, where: str, selector: str | None = None) -> list[dict]:
    """Fails on any moderate-or-worse violation; returns the minor ones for the caller to log."""
    violations = axe_violations(page, selector)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core found violations on {where}:\n{describe(failing)}"
    return violations
