"""法制审核 that contradicts itself is refused (《行政处罚法》第五十八条): 同意 needs every point confirmed, or a
written reason for each point left unconfirmed — refused with the article, nothing written."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import func, select

from engine.db.tables import StepRecordRow
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PIN
from engine.errors import LegalGateRefused, ValidationError
from engine.usecases.documents import get_document, list_documents
from engine.usecases.tasks import complete_task, list_tasks, show_task
from engine.values import CompleteTask, fixed_clock
from tests.conftest import at

START = at("2026-09-14 09:00")
WHEN = at("2026-12-20 10:00")
ART_58 = "第五十八条"
ITEMS = ("jurisdiction", "facts", "basis", "procedure", "discretion")
ALL_TICKED = {f"check_{i}": True for i in ITEMS}


def _at_review(svc):
    sc = SCENARIOS["penalty_waiver"]
    index = [s.spec_id for s in sc.steps].index("legal_review")
    case = play(svc, sc, start=START, stop_before=index).case
    task = next(t for t in list_tasks(svc, case=case.number) if t.spec_id == "legal_review")
    return case, show_task(svc, task.id)


def _records(svc, case_id: int) -> int:
    with svc.uow.read() as session:
        return session.scalar(select(func.count()).select_from(StepRecordRow).where(StepRecordRow.case_id == case_id))


@pytest.fixture
def review(ready_svc):
    return _at_review(ready_svc)


def test_approve_with_an_unconfirmed_point_and_no_reason_is_refused_naming_article_58(ready_svc, review):
    case, task = review
    before = _records(ready_svc, case.id)
    with pytest.raises(ValidationError) as err:
        _review_with_pin(ready_svc, task, check_facts=False)
    assert ART_58 in err.value.errors["reason_facts"]
    assert ART_58 in str(err.value)  # the CLI prints this line
    assert set(err.value.errors) == {"reason_facts"}  # the confirmed points need no reason
    assert _records(ready_svc, case.id) == before  # nothing written
    assert show_task(ready_svc, task.id).status == "ready"


def test_approve_with_a_blank_reason_is_refused_by_the_art_58_gate(ready_svc, review):
    case, task = review
    before = _records(ready_svc, case.id)
    with pytest.raises(LegalGateRefused) as err:
        _review_with_pin(ready_svc, task, check_discretion=False, reason_discretion="   \n ")
    assert ART_58 in err.value.article
    assert "理由" in err.value.reason
    assert _records(ready_svc, case.id) == before
    assert show_task(ready_svc, task.id).status == "ready"


def test_return_for_correction_needs_no_reason_per_point(ready_svc, review):
    case, task = review
    done = _review_with_pin(ready_svc, task, legal_conclusion="correct", check_facts=False,
                            legal_opinion="证据目录不全，请补正。")
    assert done.status == "completed"
    assert "correct_case" in {t.spec_id for t in list_tasks(ready_svc, case=case.number)}


def test_approve_with_every_point_confirmed_passes_to_the_decision(ready_svc, review):
    case, task = review
    assert _review_with_pin(ready_svc, task).status == "completed"
    assert "make_decision" in {t.spec_id for t in list_tasks(ready_svc, case=case.number)}


def test_approve_with_a_reason_for_the_unconfirmed_point_is_signed_and_the_opinion_shows_it(ready_svc, review, tmp_path):
    case, task = review
    reason = "裁量略高于基准中位，但当事人拒不整改，仍在基准范围内，同意。"
    assert _review_with_pin(ready_svc, task, check_discretion=False, reason_discretion=reason).status == "completed"
    [doc] = [d for d in list_documents(ready_svc, case.number) if d.task_id == task.id]
    _, pdf = get_document(ready_svc, doc.id)
    (tmp_path / "opinion.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "opinion.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = "".join(text.split())
    assert "未确认“裁量适当”" in flat and "".join(reason.split()) in flat
    assert "事实清楚、证据确凿" in flat and "未确认“事实清楚" not in flat


def _review_with_pin(svc, task, **data):
    form = {"legal_conclusion": "approve", "legal_opinion": "经审核，同意承办人意见。", "reviewer_qualified": True,
            **ALL_TICKED, **data}
    return complete_task(CompleteTask(task_id=task.id, user_id="legal", data=form, pin=DEMO_PIN), svc=svc,
                         clock=fixed_clock(WHEN))


@pytest.mark.parametrize("reason", [None, "  "], ids=["no reason", "blank reason"])
def test_the_cli_refuses_the_contradictory_approval_with_exit_2_naming_article_58(ready_svc, review, tmp_path, reason):
    import json

    from click.testing import CliRunner

    from engine.cli import main

    case, task = review
    before = _records(ready_svc, case.id)
    form = {"legal_conclusion": "approve", "legal_opinion": "同意。", "reviewer_qualified": True,
            **ALL_TICKED, "check_procedure": False}
    if reason is not None:
        form["reason_procedure"] = reason
    path = tmp_path / "review.json"
    path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["task", "complete", task.id, "--user", "legal", "--data", str(path),
                                       "--pin", DEMO_PIN], obj={"clock": fixed_clock(WHEN), "svc": ready_svc})
    assert result.exit_code == 2
    assert ART_58 in result.output
    assert ("reason_procedure" in result.output) == (reason is None)  # the field, or the gate's words
    assert _records(ready_svc, case.id) == before
