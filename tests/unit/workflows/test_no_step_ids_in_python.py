"""The model says it: no Python of the product outside engine/spiff/ names a step id of workflows/.

What the engine keys on — the steps of the publication register, the statutory clocks, signature blocks, the
wording of a 文书, fine fields — are task properties of the BPMN, read once in engine/spiff/. A step id
written in Python anywhere else is procedure law hidden from the model: a province's model with other ids
would silently lose it (tests/integration/test_second_province.py plays one).
"""

from __future__ import annotations

import ast
import re
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
# Words of other vocabularies that the default model happens to use as step ids too. Each is checked below to
# be what it says, and the second province's model (every step id renamed) shows that no Python keys on them
# as step ids.
SHARED_WORDS = {
    "deliberation": "stage", "hearing": "stage", "legal_review": "stage", "execution": "stage",
    "publication": "stage",  # also the names of the call activities that run those stages
    "prior_notice": "document", "closing_report": "document",  # the model's 文书 codes
    "hearing_report": "document kind", "no_penalty_decision": "document kind",  # documents.DOCUMENT_TYPES
    "summary_penalty": "outcome",  # a case outcome of the CLI contract (engine.values.OUTCOMES)
}


def _models() -> list[etree._Element]:
    return [etree.parse(str(f)).getroot() for f in sorted((ROOT / "workflows").glob("*.bpmn"))]


def step_ids() -> set[str]:
    return {node.get("id") for root in _models() for tag in TASKS for node in root.iter(f"{BPMN}{tag}")}


def _property_values(name: str) -> set[str]:
    return {p.get("value") for root in _models() for p in root.iter(f"{SPIFF}property") if p.get("name") == name}


def literals(ids: set[str], root: Path = ROOT) -> list[str]:
    """`path:line 'id'` for every string literal of the product's Python that is one of `ids`."""
    hits = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if EXEMPT_PATHS.match(rel):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ids:
                    hits.append(f"{rel}:{node.lineno} {node.value!r}")
    return hits


def test_no_python_outside_the_model_reader_names_a_step_id() -> None:
    ids = step_ids()
    assert len(ids) > 50  # the reader found the models
    hits = literals(ids - set(SHARED_WORDS))
    assert hits == [], "step ids of workflows/ in Python (say it in the model: task properties):\n" + "\n".join(hits)


@pytest.mark.parametrize("word", sorted(SHARED_WORDS))
def test_each_shared_word_is_what_the_exemption_says(word: str) -> None:
    vocabulary = {
        "stage": _property_values("stage"),
        "document": _property_values("document"),
        "document kind": set(DOCUMENT_TYPES),
        "outcome": set(OUTCOMES),
    }[SHARED_WORDS[word]]
    assert word in vocabulary, f"{word!r} is not a {SHARED_WORDS[word]}: drop it from the exemptions"
    assert word in step_ids(), f"{word!r} is no longer a step id: drop it from the exemptions"


def test_the_grep_finds_a_step_id_written_in_python(tmp_path: Path) -> None:
    """The check can fail: a product module keyed on a step id is reported with its file and line, one in the
    model's reader is not."""
    for rel in ("engine/usecases/planted.py", "engine/spiff/planted.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text('"""A module."""\nRELEASE = "release_publication"\n', encoding="utf-8")
    assert literals(step_ids() - set(SHARED_WORDS), root=tmp_path) == [
        "engine/usecases/planted.py:2 'release_publication'"]
