"""The model says it: no Python of the product outside engine/spiff/ names a step id of workflows/.

What the engine keys on — the steps of the publication register, the statutory clocks, signature blocks, the
wording of a 文书, fine fields — are task properties of the BPMN, read once in engine/spiff/. A step id
written in Python anywhere else is procedure law hidden from the model: a province's model with other ids
would silently lose it (tests/integration/test_second_province.py plays one).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from lxml import etree

from documents import DOCUMENT_TYPES
from engine.values import OUTCOMES

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("engine", "web", "signatures", "documents", "bench")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
TASKS = ("task", "userTask", "scriptTask", "manualTask", "serviceTask", "callActivity", "businessRuleTask",
         "sendTask", "receiveTask", "subProcess")
# Where a step id may stand: the model's own reader and its demo scenarios, and the Alembic migrations — each
# is frozen at the model version it was written for and runs once over the data of that time.
EXEMPT_PATHS = re.compile(r"^(engine/spiff/|engine/db/migrations/versions/)")
# Literals that equal a step id of the default model but name something else — each allowed only in the file
# where it stands, with why. Anywhere else the word is refused like any step id; an entry whose file no longer
# has the word fails, so the list only shrinks. The second province's model (every step id renamed) shows that
# no Python keys on these words as step ids. The 文书 codes of the model are data (workflows/documents.json).
STAGE, OUTCOME, KIND = "stage", "outcome", "document kind"
HOMONYMS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("engine/enums.py", "summary_penalty"): (OUTCOME, "CaseOutcome.SUMMARY_PENALTY, the outcome the model's end sets"),
    ("engine/seed.py", "summary_penalty"): (None, "the demo scenario of that name (engine/spiff/scenarios.py)"),
    ("engine/rules/settings.py", "legal_review"): (
        None, "a section of settings.json (province data in use): when 法制审核 is required"),
    **{("bench/screenshots.py", word): (None, "a screenshot's file name (docs/)")
       for word in ("deliberation", "legal_review")},
    ("documents/kinds/hearing.py", "hearing_report"): (KIND, "HearingReport.KIND: the documents library's own name"),
    ("documents/kinds/decision.py", "no_penalty_decision"): (KIND, "NoPenaltyDecision.KIND, likewise"),
    ("documents/samples.py", "hearing_report"): (KIND, "the sample 文书 of that kind"),
    ("documents/samples.py", "no_penalty_decision"): (KIND, "the sample 文书 of that kind"),
    ("documents/samples.py", "execution"): (None, "the 执行情况 field of the sample 结案报告"),
}


def _models() -> list[etree._Element]:
    return [etree.parse(str(f)).getroot() for f in sorted((ROOT / "workflows").glob("*.bpmn"))]


@functools.cache
def _step_ids() -> frozenset[str]:
    return frozenset(node.get("id") for root in _models() for tag in TASKS for node in root.iter(f"{BPMN}{tag}"))


def step_ids() -> set[str]:
    return set(_step_ids())


def _property_values(name: str) -> set[str]:
    return {p.get("value") for root in _models() for p in root.iter(f"{SPIFF}property") if p.get("name") == name}


@functools.cache
def _strings(root: Path) -> tuple[tuple[str, int, str], ...]:
    """(path, line, value) of every string literal of the product's Python outside the exempt paths."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if EXEMPT_PATHS.match(rel):
                continue
            found.extend((rel, node.lineno, node.value) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                         if isinstance(node, ast.Constant) and isinstance(node.value, str))
    return tuple(found)


def literals(ids: set[str], root: Path = ROOT, allowed: Iterable[tuple[str, str]] = ()) -> list[str]:
    """`path:line 'id'` for every string literal of the product's Python that is one of `ids`, except the
    (path, word) pairs `allowed`."""
    allowed = set(allowed)
    return [f"{rel}:{line} {value!r}" for rel, line, value in _strings(root)
            if value in ids and (rel, value) not in allowed]


def test_no_python_outside_the_model_reader_names_a_step_id() -> None:
    ids = step_ids()
    assert len(ids) > 50  # the reader found the models
    hits = literals(ids, allowed=HOMONYMS)
    assert hits == [], "step ids of workflows/ in Python (say it in the model: task properties):\n" + "\n".join(hits)


@pytest.mark.parametrize(("path", "word"), sorted(HOMONYMS))
def test_each_homonym_is_where_and_what_the_exemption_says(path: str, word: str) -> None:
    vocabulary, _ = HOMONYMS[(path, word)]
    assert literals({word}, allowed=set(HOMONYMS) - {(path, word)}) != [], \
        f"{path} no longer has {word!r}: drop it from the exemptions"
    assert word in step_ids(), f"{word!r} is no longer a step id: drop it from the exemptions"
    if vocabulary is not None:
        known = {STAGE: _property_values("stage"), OUTCOME: set(OUTCOMES), KIND: set(DOCUMENT_TYPES)}[vocabulary]
        assert word in known, f"{word!r} is not a {vocabulary}"


def test_the_grep_finds_a_step_id_written_in_python(tmp_path: Path) -> None:
    """The check can fail: a product module keyed on a step id is reported with its file and line, one in the
    model's reader is not, and an exempt word is refused outside its own file."""
    for rel in ("engine/usecases/planted.py", "engine/spiff/planted.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text('"""A module."""\nRELEASE = "release_publication"\nSTAGE = "hearing"\n',
                                    encoding="utf-8")
    assert literals(step_ids(), root=tmp_path, allowed=HOMONYMS) == [
        "engine/usecases/planted.py:2 'release_publication'", "engine/usecases/planted.py:3 'hearing'"]
