"""Drafts of a form (issue 15): what a person typed is kept on the server as they typed it, for them alone and
only while they may act on the task; refused drafts write nothing; the step's completion deletes the task's
drafts in its own transaction, and nothing of a draft reaches the signed record, the bundle or verify."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from engine.db.draft_tables import DraftRow
from engine.db.tables import Base
from engine.demo import play, play_step
from engine.demo_users import DEMO_PIN
from engine.errors import Conflict, DraftTooLarge, Forbidden, NotFound, ValidationError
from engine.rules.settings import DraftLimits
from engine.spiff.clocks import MutableClock
from engine.spiff.scenarios import SCENARIOS, TIMER
from engine.usecases.audit import export_case, verify_cases
from engine.usecases.cases import open_case
from engine.usecases.drafts import discard_draft, latest_intake_draft, load_draft, save_draft
from engine.usecases.evidence import new_intake_key
from engine.usecases.tasks import assign_task, claim_task, list_tasks, show_task
from engine.values import AssignTask, ClaimTask, DiscardDraft, OpenCase, SaveDraft, fixed_clock
from tests.conftest import at
from tests.integration.conftest import PLAY_START
from tests.integration.test_evidence_record import STEP_TIME, _step
from tests.integration.test_signed_records import LATER, _records, _stop_at

NOW = at("2026-09-15 11:00")
CLOCK = fixed_clock(NOW)
# A half-filled 现场笔录 as the page posts it: an unfinished text, a time not yet valid, a second row begun.
TYPED = {
    "place": ["呈州市南湖路 18 号 某某宾馆"],
    "findings": ["检查发现：\n1. 客房卫生间毛巾未按规定更换；\n2. 公共用品用具消毒记录缺失……（未完）"],
    "inspected_at": ["2026-09-15T09:3"],
    "inspectors": ["officer1", ""],
    "photos.1.note": ["门口"],
}


@pytest.fixture
def onsite(ready_svc):
    case, task = _stop_at(ready_svc, "penalty_waiver", "onsite_inspection")
    return ready_svc, case, task


def _actor(task) -> str:
    return task.assignee or task.candidates[0]


def _drafts(svc) -> list[tuple[str, str | None, str | None]]:
    with svc.uow.read() as session:
        return [(r.user_id, r.task_id, r.intake_key)
                for r in session.scalars(select(DraftRow).order_by(DraftRow.id))]


def _save(svc, user, task_id, fields=TYPED, clock=CLOCK):
    return save_draft(SaveDraft(user_id=user, task_id=task_id, fields=fields), svc=svc, clock=clock)


def test_a_draft_is_kept_as_typed_and_restored_to_its_author(onsite):
    svc, case, task = onsite
    actor = _actor(task)
    saved = _save(svc, actor, task.id)
    assert saved.fields == TYPED and saved.updated_at == NOW and saved.size > 100
    back = load_draft(svc, user_id=actor, task_id=task.id, now=NOW)
    assert back is not None and back.fields == TYPED  # the invalid time and the empty box too, exactly
    # Saved again later: the one draft replaced, not a second one.
    more = {**TYPED, "findings": [TYPED["findings"][0] + "\n3. 从业人员健康证明过期。"]}
    later = at("2026-09-15 11:05")
    _save(svc, actor, task.id, more, fixed_clock(later))
    again = load_draft(svc, user_id=actor, task_id=task.id, now=later)
    assert again is not None and again.fields == more and again.updated_at == later
    assert _drafts(svc) == [(actor, task.id, None)]


def test_a_draft_never_keeps_the_signing_pin(onsite):
    svc, _, task = onsite
    actor = _actor(task)
    _save(svc, actor, task.id, {**TYPED, "pin": [DEMO_PIN], "csrf_token": ["abc"]})
    with svc.uow.read() as session:
        stored = session.scalar(select(DraftRow.fields))
    assert "pin" not in stored and "csrf_token" not in stored and DEMO_PIN not in json.dumps(stored)


def test_only_its_author_sees_a_draft(onsite):
    svc, _, task = onsite
    assert set(task.candidates) == {"officer1", "officer2"}  # offered to both inspectors by name
    _save(svc, "officer1", task.id)
    with pytest.raises(Forbidden):  # not of the lane: not even told whether there is one
        load_draft(svc, user_id="legal", task_id=task.id, now=NOW)
    # The colleague who may act on the task too has their own (none yet), never the author's.
    assert load_draft(svc, user_id="officer2", task_id=task.id, now=NOW) is None
    _save(svc, "officer2", task.id, {"place": ["另一处"]})
    assert load_draft(svc, user_id="officer1", task_id=task.id, now=NOW).fields == TYPED
    assert load_draft(svc, user_id="officer2", task_id=task.id, now=NOW).fields == {"place": ["另一处"]}


@pytest.mark.parametrize("stranger", ["officer3", "legal", "panel1", "clerk", "auditor"])
def test_a_person_not_on_the_task_cannot_save_a_draft_and_nothing_is_written(onsite, stranger):
    svc, _, task = onsite
    with pytest.raises(Forbidden):
        _save(svc, stranger, task.id)
    assert _drafts(svc) == []


def test_a_draft_of_no_such_task_or_malformed_is_refused_and_nothing_is_written(onsite):
    svc, _, task = onsite
    actor = _actor(task)
    with pytest.raises(NotFound):
        _save(svc, actor, "00000000-0000-0000-0000-000000000000")
    for fields in ({"place": [1]}, {"": ["x"]}, {"a\x00b": ["x"]}, ["place"], {"place": {"x": "y"}}):
        with pytest.raises(ValidationError):
            _save(svc, actor, task.id, fields)
    with pytest.raises(ValidationError):  # neither a task nor a page named
        save_draft(SaveDraft(user_id=actor, fields=TYPED), svc=svc, clock=CLOCK)
    assert _drafts(svc) == []


def test_a_draft_over_the_size_limit_is_refused_with_413_and_nothing_is_written(onsite):
    svc, _, task = onsite
    actor = _actor(task)
    svc.settings = dataclasses.replace(svc.settings, drafts=DraftLimits(max_bytes=4096))
    _save(svc, actor, task.id, {"findings": ["短"]})
    with pytest.raises(DraftTooLarge) as refused:
        _save(svc, actor, task.id, {"findings": ["很长的笔录" * 400]})
    assert refused.value.http_status == 413 and "4096" in refused.value.message
    kept = load_draft(svc, user_id=actor, task_id=task.id, now=NOW)
    assert kept is not None and kept.fields == {"findings": ["短"]}  # the draft before stays as it was


def test_completing_the_step_deletes_its_drafts_and_none_reaches_the_record(onsite):
    svc, case, task = onsite
    actor = _actor(task)
    marker = "草稿专用文字-不应进入签名记录-7Q3"
    _save(svc, actor, task.id, {**TYPED, "findings": [marker]})
    play_step(svc, case.number, _step("onsite_inspection"), MutableClock(STEP_TIME))
    assert _drafts(svc) == []
    record = _records(svc, case.id)[-1].record
    assert record.task_spec_id == "onsite_inspection" and marker not in json.dumps(record.form_data, ensure_ascii=False)
    [report] = verify_cases(svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()
    bundle = zipfile.ZipFile(io.BytesIO(export_case(svc, case.number, clock=LATER)))
    assert all(marker.encode() not in bundle.read(name) for name in bundle.namelist())
    # Closed: a late autosave is refused, and writes nothing.
    with pytest.raises(Conflict):
        _save(svc, actor, task.id)
    assert _drafts(svc) == []


def test_a_hand_over_to_someone_else_deletes_the_others_drafts(onsite):
    svc, case, task = onsite
    actor, other = "officer1", "officer2"
    _save(svc, other, task.id, {"place": ["另一处"]})  # both named on it: both began to type
    claim_task(ClaimTask(task.id, actor), svc=svc, clock=CLOCK)
    _save(svc, actor, task.id)
    assert len(_drafts(svc)) == 2  # a claim keeps drafts: the task may come back to the group
    assign_task(AssignTask(task.id, other, by="head", pin=DEMO_PIN, reason="病假"), svc=svc, clock=CLOCK)
    assert _drafts(svc) == [(other, task.id, None)]  # the new holder keeps theirs; the previous holder's went
    with pytest.raises(Forbidden):  # no longer theirs to type into
        _save(svc, actor, task.id)
    assert _drafts(svc) == [(other, task.id, None)]


def test_who_discards_a_draft_discards_only_their_own(onsite):
    svc, _, task = onsite
    actor = _actor(task)
    _save(svc, actor, task.id)
    assert discard_draft(DiscardDraft(user_id="legal", task_id=task.id), svc=svc, clock=CLOCK) is False
    assert _drafts(svc) == [(actor, task.id, None)]
    assert discard_draft(DiscardDraft(user_id=actor, task_id=task.id), svc=svc, clock=CLOCK) is True
    assert load_draft(svc, user_id=actor, task_id=task.id, now=NOW) is None


def test_a_registration_page_draft_comes_back_and_goes_when_the_complaint_is_registered(ready_svc):
    svc = ready_svc
    key = new_intake_key()
    typed = {"complainant_name": ["张三"], "content": ["反映某宾馆……"]}
    save_draft(SaveDraft(user_id="clerk", intake_key=key, fields=typed), svc=svc, clock=CLOCK)
    with pytest.raises(Forbidden):  # only clerks register complaints
        save_draft(SaveDraft(user_id="officer1", intake_key=new_intake_key(), fields=typed), svc=svc, clock=CLOCK)
    latest = latest_intake_draft(svc, "clerk")
    assert latest is not None and latest.intake_key == key and latest.fields == typed
    assert load_draft(svc, user_id="clerk", intake_key=key, now=NOW).fields == typed
    data = SCENARIOS["penalty_waiver"].intake_data(now=NOW)
    open_case(OpenCase(user_id="clerk", data=data, pin=DEMO_PIN, evidence_key=key), svc=svc, clock=CLOCK)
    assert latest_intake_draft(svc, "clerk") is None and _drafts(svc) == []


def test_the_migrated_schema_matches_the_drafts_table(svc):
    with svc.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if "task_drafts" in repr(d)] == []
    with svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(DraftRow)) == 0


def test_a_task_the_model_cancels_takes_its_drafts_with_it(ready_svc):
    """The party's window for 陈述申辩 runs out (an interrupting timer): the open task is cancelled, and what its
    holder had typed goes with it."""
    svc = ready_svc
    scenario = SCENARIOS["penalty_window_elapsed"]
    timer = next(i for i, s in enumerate(scenario.steps) if s.spec_id == TIMER)
    case = play(svc, scenario, start=PLAY_START, stop_before=timer).case
    [waiting] = list_tasks(svc, case=case.number)  # 等待当事人陈述申辩
    holder = "officer1"  # offered to the officers' lane: any of them may type into it
    _save(svc, holder, waiting.id, {"statement_text": ["当事人电话称将提交书面意见……"]}, fixed_clock(case.updated_at))
    assert _drafts(svc) == [(holder, waiting.id, None)]
    play_step(svc, case.number, scenario.steps[timer], MutableClock(case.updated_at))
    assert show_task(svc, waiting.id).status == "cancelled"
    assert _drafts(svc) == []
