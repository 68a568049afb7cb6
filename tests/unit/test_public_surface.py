"""The engine's public surface (engine/__init__.py `__all__`) is what web uses: every name web takes from `engine`
is declared there, and each declared name exists. Which modules web may import is import-linter's contract
("web uses the engine's public surface only", pyproject.toml); this checks the names within it."""

from __future__ import annotations

import ast
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]


def _names_taken_from_engine(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "engine"
            for alias in node.names}


def test_every_name_web_takes_from_the_engine_is_declared_public():
    used = {name: path.name for path in sorted((ROOT / "web").glob("*.py")) for name in _names_taken_from_engine(path)}
    undeclared = {name: where for name, where in used.items() if name not in engine.__all__}
    assert not undeclared, f"web uses engine names not in engine.__all__: {undeclared}"
    assert len(used) > 40  # the pages, the API and the admin really go through it


def test_every_declared_name_exists_and_is_listed_once():
    assert len(engine.__all__) == len(set(engine.__all__))
    assert [name for name in engine.__all__ if not hasattr(engine, name)] == []


def test_the_lazy_table_and_the_typing_imports_state_the_same_surface():
    """`_WHERE` (where each name is imported from on first use), `__all__` and the imports for type checkers
    name the same set: a name added to one list and forgotten in another is caught here."""
    tree = ast.parse((ROOT / "engine" / "__init__.py").read_text(encoding="utf-8"))
    typing_block = next(node for node in tree.body if isinstance(node, ast.If))
    typed = {alias.name: node.module for node in ast.walk(typing_block) if isinstance(node, ast.ImportFrom)
             for alias in node.names}
    assert set(engine._WHERE) == set(engine.__all__)
    assert typed == engine._WHERE
