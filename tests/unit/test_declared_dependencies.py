"""Every package the product's code imports is a declared runtime dependency (pyproject's [project] dependencies),
so `pip install casetrail` without extras has what it runs on (the dossier once needed pypdf from the test extra)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNTIME = ("engine", "signatures", "documents", "web", "workflows")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_packages() -> dict[str, set[str]]:
    """Top-level modules imported by runtime code (any depth, lazy imports included) -> files importing them."""
    found: dict[str, set[str]] = {}
    for package in RUNTIME:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in RUNTIME and top != "__future__":
                        found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normal(re.split(r"[\s<>=!~\[;]", dep, maxsplit=1)[0]) for dep in project["dependencies"]}


def test_every_package_runtime_code_imports_is_a_declared_dependency():
    distributions = packages_distributions()
    undeclared = {}
    for module, files in imported_packages().items():
        owners = {_normal(d) for d in distributions.get(module, [module])}
        if not owners & declared():
            undeclared[module] = sorted(files)
    assert undeclared == {}


def test_the_check_sees_lazy_imports_such_as_the_dossiers_pypdf():
    assert "documents/dossier.py" in imported_packages()["pypdf"]
    assert "pypdf" in declared()
