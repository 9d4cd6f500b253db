"""The shape of the code: services never commit; imports point one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "referrals"


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_services_and_queries_never_commit() -> None:
    offenders = []
    for path in _modules("services") + _modules("queries") + _modules("models"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "commit":
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_models_import_no_service_or_web() -> None:
    for path in _modules("models"):
        bad = {
            m
            for m in _imports(path)
            if m.startswith(("referrals.services", "referrals.web", "referrals.queries"))
        }
        assert not bad, f"{path.name} imports {bad}"


def test_services_import_no_web() -> None:
    for path in _modules("services") + _modules("queries"):
        bad = {
            m
            for m in _imports(path)
            if m.startswith(("referrals.web", "referrals.cli", "flask_wtf"))
        }
        assert not bad, f"{path.name} imports {bad}"


def test_no_utils_module() -> None:
    assert not list(PACKAGE.rglob("utils.py"))
