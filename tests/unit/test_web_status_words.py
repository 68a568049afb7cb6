"""web names the engine's state words by their StrEnums (engine/enums.py, through the engine's surface), never as
bare strings: a misspelt state is then an AttributeError, not a comparison that is silently never true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from engine.enums import CaseEventKind, CaseOutcome, CaseStatus, TaskStatus

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
WORDS = {m.value for enum in (TaskStatus, CaseStatus, CaseOutcome, CaseEventKind) for m in enum}
CJK = re.compile(r"[\u4e00-\u9fff]")

# (file, the top-level name the literal is under, the literal): why it is not a state word.
EXEMPT: dict[tuple[str, str, str], str] = {}


def _top_level_name(node: ast.stmt) -> str:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return next((t.id for t in targets if isinstance(t, ast.Name)), "")


def _text_pairs(tree: ast.AST) -> set[int]:
    """ids of the strings inside a (zh-CN, English) message pair: text shown to people, not a state word."""
    pairs = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Constant)
                and isinstance(node.elts[0].value, str) and CJK.search(node.elts[0].value)):
            pairs.update(id(e) for e in node.elts)
    return pairs


def bare_words(path: Path) -> list[tuple[str, str, int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    text = _text_pairs(tree)
    found = []
    for statement in tree.body:
        where = _top_level_name(statement)
        for node in ast.walk(statement):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS
                    and id(node) not in text):
                found.append((path.name, where, node.lineno, node.value))
    return found


def test_web_python_names_no_state_word_bare():
    found = [hit for path in sorted(WEB.glob("*.py")) for hit in bare_words(path)]
    unexplained = [f"{name}:{line} {word!r} (in {where})" for name, where, line, word in found
                   if (name, where, word) not in EXEMPT]
    assert unexplained == [], "use engine.TaskStatus / CaseStatus / CaseOutcome / CaseEventKind:\n" + "\n".join(
        unexplained)
    assert {(name, where, word) for name, where, _, word in found} >= set(EXEMPT), "a stale exemption: drop it"


JINJA = re.compile(r"\{[{%](.*?)[%}]\}", re.S)
QUOTED = re.compile(r"""['"]([a-z_]+)['"]""")


def test_templates_compare_with_the_enums_not_bare_words():
    found = [f"{path.relative_to(WEB)}: {word!r} in {{{tag.strip()[:60]}}}"
             for path in sorted((WEB / "templates").rglob("*.html"))
             for tag in JINJA.findall(path.read_text(encoding="utf-8"))
             for word in QUOTED.findall(tag) if word in WORDS]
    assert found == [], "\n".join(found)


def test_the_check_finds_a_bare_word(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('MESSAGES = {"k": ("待办", "open")}\n\ndef f(t):\n    return t.status == "ready"\n',
                      encoding="utf-8")
    assert bare_words(sample) == [("sample.py", "f", 4, "ready")]


def test_every_status_and_outcome_has_a_label():
    from web.messages import STATUSES

    assert {m.value for enum in (TaskStatus, CaseStatus, CaseOutcome) for m in enum} <= set(STATUSES)
