"""The action server and the staff portal share only the Rasa-free core (clinical/):
portal/ never imports actions (importing it runs the action server's production check and
pulls in rasa_sdk), actions/ never imports portal, and clinical/ imports neither them nor
Rasa, the channels or the server wiring. Read from the source (AST), so an import inside a
function counts too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "portal": ("actions",),
    "actions": ("portal",),
    "clinical": ("rasa", "rasa_sdk", "actions", "portal", "channels", "serving"),
}


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in a file; relative imports are
    resolved against the file's package."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module


def violations(package: str):
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_what_it_must_not(package):
    assert (ROOT / package / "__init__.py").is_file()
    assert violations(package) == []


def test_the_scan_sees_imports(tmp_path, monkeypatch):
    """The checker itself: plain, from, relative and function-level imports are found."""
    fake = tmp_path / "portal"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "a.py").write_text("import actions.consent\n")
    (fake / "b.py").write_text("def f():\n    from actions import consultation_store\n")
    (fake / "c.py").write_text("from clinical import rules\nimport sqlalchemy\nfrom . import d\n")
    (fake / "sub").mkdir()
    (fake / "sub" / "d.py").write_text("from ...actions import x\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert violations("portal") == [
        "portal/a.py:1 imports actions.consent",
        "portal/b.py:2 imports actions",
        "portal/sub/d.py:1 imports actions",
    ]
