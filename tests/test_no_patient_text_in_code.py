"""No patient-facing sentence is written in actions/, channels/ or serving/: every one is
looked up in the wording catalogue (clinical/wording/<language>.yml, docs/wording.md), so
the medical lead reviews all of them in one place and a language can be added.

The scan reads the source (AST) and flags every string literal or f-string that reads like
prose: three or more words, starting with a capital letter or ending like a sentence. It
ignores docstrings, logging, warnings, exceptions and asserts, regular expressions, and
the short allow-list below (texts that are not for patients)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("actions", "channels", "serving")

# A word of prose between spaces, punctuation around it allowed ("Sorry," "(Monday"); not an
# identifier, a constant name, SQL or a type ("RASA_TRUSTED_PROXIES", "TIMESTAMP", "Dict[str,").
WORD = re.compile(r"^[\"'(]*[A-Za-z][a-z']*[.,;:!?)\"']*$")
# Calls whose string arguments are for developers and logs, never for patients.
IGNORED_CALLEES = {
    "debug",
    "info",
    "warning",
    "warn",
    "error_log",
    "exception",
    "critical",
    "log",
    "compile",
    "match",
    "search",
    "sub",
    "findall",
    "fullmatch",
    "split",
}
# Allow-list: (file, enclosing function, callee or assigned name) -> why its prose is not for patients.
ALLOWED = {
    # The launcher's usage line, printed to the operator's terminal.
    ("serving/__main__.py", "USAGE"): "command-line help for whoever starts the server",
    # HTTP error bodies for a malformed API call (a developer's client, never the widget).
    ("channels/rest_guarded.py", "error"): "HTTP 4xx body for a client that broke the API contract",
    # Rejections to Twilio / Telegram themselves (a forged or oversized webhook call).
    ("channels/twilio.py", "reject"): "HTTP rejection to the platform's webhook call",
    ("channels/telegram.py", "reject"): "HTTP rejection to the platform's webhook call",
    ("channels/webhook.py", "reject"): "HTTP rejection to the platform's webhook call",
}


def prose(text: str) -> bool:
    """Three words or more, written as a sentence: "Please type your answer."."""
    words = [token for token in text.split() if WORD.match(token)]
    stripped = text.strip()
    if len(words) < 3 or not stripped:
        return False
    return stripped[0].isupper() or stripped[-1] in ".?!:"


def callee_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def is_developer_call(call: ast.Call) -> bool:
    name = callee_name(call)
    return (
        name in IGNORED_CALLEES
        or name.endswith(("Error", "Exception", "Rejection", "Warning"))
        or (
            isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in ("logger", "logging", "log", "warnings")
        )
    )


def literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f"Thank you, {name}." -> "Thank you, {}."
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def findings(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, text) of every patient-prose literal in ``source`` that is not ignored."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, (ast.Raise, ast.Assert)):
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Call):
            if is_developer_call(node) or (filename, callee_name(node)) in ALLOWED:
                return
        if (filename, function) in ALLOWED:
            return
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and (filename, t.id) in ALLOWED for t in node.targets
        ):
            return
        text = literal_text(node)
        if text is not None:
            if id(node) not in docstrings and prose(text):
                found.append((node.lineno, text))
            return  # an f-string's parts are not looked at again
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "")
    return found


def package_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", list(package_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_patient_text_is_written_in_code(path):
    relative = str(path.relative_to(ROOT))
    assert findings(path.read_text(encoding="utf-8"), relative) == [], (
        f"{relative}: patient-facing text belongs in clinical/wording/en.yml (looked up by id, docs/wording.md); "
        "if it is not for patients, add it to ALLOWED here with the reason"
    )


# --- the scanner itself --------------------------------------------------------------------

PLANTED = '''
"""A docstring with several words in it."""
import logging
logger = logging.getLogger(__name__)
KEPT = "I'll keep your answers as they are."

def run(dispatcher, name):
    """Another docstring, ignored."""
    logger.info("Stored a request for %s without trouble.", name)
    if not name:
        raise ValueError("A name is needed for the request.")
    dispatcher.utter_message(text="Please call the clinic on the number below.")
    dispatcher.utter_message(text=say("consultation.give_up"), buttons=[{"title": "Yes, please", "payload": "/affirm"}])
    return f"Thank you, {name}. Your request has been passed on."
'''


def test_the_scan_finds_planted_patient_text_and_ignores_the_rest():
    assert findings(PLANTED) == [
        (5, "I'll keep your answers as they are."),
        (12, "Please call the clinic on the number below."),
        (14, "Thank you, {}. Your request has been passed on."),
    ]


def test_the_scan_needs_sentence_shaped_prose():
    assert not prose("consultation.give_up") and not prose("/affirm") and not prose("weekday mornings")
    assert not prose("reply part {} of {}") and not prose("Yes, please")
    assert prose("Please answer yes or no.") and prose("Sorry, I couldn't tell which part to change")
