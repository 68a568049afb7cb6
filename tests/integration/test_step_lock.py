"""A step is prepared — key unlocked, model run, 文书 rendered and signed, record signed — without the write
lock, then written under it only if nothing it read has moved (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from engine.db.document_tables import DocumentRow
from engine.db.tables import StepRecordRow
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PIN
from engine.errors import Forbidden, SigningError
from engine.journal import RecordsMoved
from engine.numbering import NumberTaken
from engine.spiff.driving import resolve, sample_form_data
from engine.usecases.cases import show_case
from engine.usecases.completion import StepMoved, prepare_step, write_step
from engine.usecases.tasks import assign_task, complete_task, list_tasks, show_task
from engine.usecases.users import deactivate_user, revoke_user_key
from engine.values import AssignTask, ChangeAccount, CompleteTask, RevokeUserKey, fixed_clock
from tests.conftest import at

START = at("2026-09-14 09:00")
LATER = fixed_clock(at("2026-09-16 10:00"))


def _index(name: str, spec_id: str) -> int:
    return [s.spec_id for s in SCENARIOS[name].steps].index(spec_id)


def _command(svc, number: str, name: str, spec_id: str, user: str | None = None) -> CompleteTask:
    step = SCENARIOS[name].steps[_index(name, spec_id) if user is None else
                                 next(i for i, s in enumerate(SCENARIOS[name].steps) if s.actor == user)]
    task = next(t for t in list_tasks(svc, case=number) if t.spec_id == spec_id
                and (user is None or t.assignee == user))
    data = sample_form_data(show_task(svc, task.id).form_schema, resolve(step.overrides, None), now=LATER())
    return CompleteTask(task_id=task.id, user_id=user or task.assignee or "officer1", data=data, pin=DEMO_PIN)


def _counts(svc, case_id: int) -> tuple[int, int]:
    with svc.uow.read() as session:
        records = session.scalar(select(func.count()).select_from(StepRecordRow).where(StepRecordRow.case_id == case_id))
        documents = session.scalar(select(func.count()).select_from(DocumentRow).where(DocumentRow.case_id == case_id))
    return records, documents


def test_a_step_is_prepared_while_another_writer_holds_the_lock(ready_svc):
    name = "penalty_waiver"
    case = play(ready_svc, SCENARIOS[name], start=START, stop_before=_index(name, "prior_notice")).case
    cmd = _command(ready_svc, case.number, name, "prior_notice")
    with ready_svc.engine.begin() as other:  # another writer, mid-transaction: SQLite's write lock is taken
        if other.dialect.name == "postgresql":
            other.execute(text("SELECT id FROM cases WHERE id = :id FOR UPDATE"), {"id": case.id})
        else:
            other.execute(text("UPDATE case_numbers SET last = last WHERE 1 = 0"))
        prepared = prepare_step(cmd, svc=ready_svc, clock=LATER)
    assert prepared.documents.produced and prepared.documents.number is not None
    view = write_step(prepared, svc=ready_svc, clock=LATER)
    assert view.status == "completed"
    assert [t.spec_id for t in show_case(ready_svc, case.number).open_tasks if not t.supervision] == [
        "serve_prior_notice"]


def test_a_prepared_step_whose_case_moved_is_written_by_nobody_and_prepared_again(ready_svc):
    name = "penalty_waiver"
    case = play(ready_svc, SCENARIOS[name], start=START, stop_before=_index(name, "panel_vote")).case
    first = prepare_step(_command(ready_svc, case.number, name, "panel_vote",
                                  "panel1"), svc=ready_svc, clock=LATER)
    before = _counts(ready_svc, case.id)
    complete_task(_command(ready_svc, case.number, name, "panel_vote", "panel2"), svc=ready_svc, clock=LATER)
    moved = _counts(ready_svc, case.id)
    assert moved[0] == before[0] + 1
    try:
        write_step(first, svc=ready_svc, clock=LATER)
        raise AssertionError("a step prepared before its case moved was written")
    except (StepMoved, RecordsMoved):
        pass
    assert _counts(ready_svc, case.id) == moved
    assert "panel1" in {t.assignee for t in show_case(ready_svc, case.number).open_tasks}
    done = complete_task(_command(ready_svc, case.number, name, "panel_vote",
                                  "panel1"), svc=ready_svc, clock=LATER)
    assert done.status == "completed" and _counts(ready_svc, case.id)[0] == moved[0] + 1


def test_two_steps_prepared_with_the_same_number_neither_skip_nor_share_it(ready_svc):
    name = "penalty_waiver"
    stop = _index(name, "prior_notice")
    cases = [play(ready_svc, SCENARIOS[name], start=START, stop_before=stop).case for _ in range(2)]
    a, b = (prepare_step(_command(ready_svc, c.number, name, "prior_notice"), svc=ready_svc, clock=LATER)
            for c in cases)
    assert a.documents.number == b.documents.number
    write_step(a, svc=ready_svc, clock=LATER)
    before = _counts(ready_svc, cases[1].id)
    try:
        write_step(b, svc=ready_svc, clock=LATER)
        raise AssertionError("two steps were given one 文号")
    except NumberTaken:
        pass
    assert _counts(ready_svc, cases[1].id) == before
    complete_task(_command(ready_svc, cases[1].number, name, "prior_notice"), svc=ready_svc, clock=LATER)
    with ready_svc.uow.read() as session:
        numbers = list(session.scalars(select(DocumentRow.doc_number).where(
            DocumentRow.case_id.in_([c.id for c in cases]), DocumentRow.spec_id == "prior_notice")
            .order_by(DocumentRow.id)))
    first = a.documents.number
    assert numbers == [first.text, type(first)(first.prefix, first.year, first.number + 1, first.width).text]


def _prior_notice_prepared(svc):
    """A case at its 事先告知 and that step prepared (key unlocked, documents and record signed), not written."""
    name = "penalty_waiver"
    case = play(svc, SCENARIOS[name], start=START, stop_before=_index(name, "prior_notice")).case
    return case, prepare_step(_command(svc, case.number, name, "prior_notice"), svc=svc, clock=LATER)


def _refused_under_the_lock(svc, case, prepared, error: type[Exception], match: str) -> None:
    before = _counts(svc, case.id)
    with pytest.raises(error, match=match):
        write_step(prepared, svc=svc, clock=LATER)
    assert _counts(svc, case.id) == before


def test_a_key_revoked_while_its_step_was_prepared_writes_nothing(ready_svc):
    case, prepared = _prior_notice_prepared(ready_svc)
    revoke_user_key(RevokeUserKey(user_id=prepared.user_id, reason="密钥遗失"), svc=ready_svc, clock=LATER)
    _refused_under_the_lock(ready_svc, case, prepared, SigningError, "吊销")
    assert "prior_notice" in {t.spec_id for t in show_case(ready_svc, case.number).open_tasks}


def test_a_person_deactivated_while_their_step_was_prepared_writes_nothing(ready_svc):
    case, prepared = _prior_notice_prepared(ready_svc)
    deactivate_user(ChangeAccount(user_id=prepared.user_id, by="admin", reason="调离"), svc=ready_svc, clock=LATER)
    _refused_under_the_lock(ready_svc, case, prepared, Forbidden, "已停用")
    assert "prior_notice" in {t.spec_id for t in show_case(ready_svc, case.number).open_tasks}


def test_a_task_handed_to_another_while_its_step_was_prepared_writes_nothing(ready_svc):
    case, prepared = _prior_notice_prepared(ready_svc)
    other = next(u for u in ("officer1", "officer2") if u != prepared.user_id)
    # A hand-over does not move the case's version: the write must still see who holds the task now.
    assign_task(AssignTask(prepared.task_id, other, by="head", pin=DEMO_PIN, reason="调整分工"), svc=ready_svc,
                clock=LATER)
    _refused_under_the_lock(ready_svc, case, prepared, Forbidden, f"已由 {other} 签收")
    assert {t.assignee for t in show_case(ready_svc, case.number).open_tasks if t.spec_id == "prior_notice"} == {other}
