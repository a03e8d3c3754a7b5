"""How the portal's HTTP side is put together (read from the source, AST): the route
modules and their helpers reach the databases only through portal/storage.py, and the app
module (web.py), the helpers (pages.py) and the routes import each other in one direction
only: web -> routes -> pages -> storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"
HTTP_MODULES = sorted([PORTAL / "web.py", PORTAL / "pages.py", *(PORTAL / "routes").glob("*.py")])
DATABASE_CALLS = {"begin", "connect", "execute", "exec_driver_sql"}  # sa.text etc.: no sqlalchemy import
# module -> portal modules it must never import (directly)
NEVER = {"pages": {"web", "routes"}, "routes": {"web"}, "storage": {"web", "routes", "pages"}}


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("path", HTTP_MODULES, ids=lambda p: str(p.relative_to(PORTAL)))
def test_http_modules_have_no_database_code(path):
    source = ast.parse(path.read_text(encoding="utf-8"))
    assert not [m for m in _imports(path) if m.split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg2")]
    calls = [
        node.func.attr
        for node in ast.walk(source)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DATABASE_CALLS
    ]
    assert calls == [], f"{path.name} calls {calls}: database work belongs in portal/storage.py"
    assert "SELECT " not in path.read_text() and "INSERT " not in path.read_text()


@pytest.mark.parametrize("module, forbidden", sorted(NEVER.items()))
def test_no_import_circle_between_app_routes_and_helpers(module, forbidden):
    paths = sorted((PORTAL / "routes").glob("*.py")) if module == "routes" else [PORTAL / f"{module}.py"]
    for path in paths:
        imported = {m.split(".")[1] for m in _imports(path) if m.startswith("portal.") and len(m.split(".")) > 1}
        assert not imported & forbidden, f"{path.name} imports portal.{imported & forbidden}"
