"""Two people completing one task at once; running cases staying on their model version."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine.db.tables import DefinitionRow
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PIN
from engine.errors import Conflict, DefinitionInvalid
from engine.spiff.definitions import DEFAULT_ENTRY, definition_files
from engine.spiff.driving import sample_form_data
from engine.usecases.cases import show_case
from engine.usecases.definitions import store_definition
from engine.usecases.tasks import complete_task
from engine.values import CompleteTask, StoreDefinition, fixed_clock
from tests.conftest import at
from tests.integration.conftest import task_at

START = at("2026-09-14 09:00")


def test_two_officers_completing_the_same_task_at_once_one_wins(ready_svc):
    case, task = task_at(ready_svc, "penalty_waiver", "preliminary_check", start=START)
    step = next(s for s in SCENARIOS["penalty_waiver"].steps if s.spec_id == "preliminary_check")
    data = sample_form_data(task.form_schema, dict(step.overrides), now=START)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def attempt(user: str) -> None:
        barrier.wait()
        try:
            outcomes[user] = complete_task(CompleteTask(task_id=task.id, user_id=user, data=data, pin=DEMO_PIN),
                                           svc=ready_svc, clock=fixed_clock(at("2026-09-15 10:00")))
        except Conflict as exc:
            outcomes[user] = exc

    threads = [threading.Thread(target=attempt, args=(u,)) for u in ("officer1", "officer2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    conflicts = [o for o in outcomes.values() if isinstance(o, Conflict)]
    winners = [o for o in outcomes.values() if not isinstance(o, Conflict)]
    assert len(winners) == 1 and len(conflicts) == 1, outcomes
    after = show_case(ready_svc, case.number)
    completions = [e for e in after.events if e.kind == "completed" and e.task_id == task.id]
    assert len(completions) == 1
    assert completions[0].actor == winners[0].completed_by
    assert [t.spec_id for t in after.open_tasks if not t.supervision] == ["filing_approval"]


def test_a_running_case_stays_on_its_model_version(ready_svc):
    scenario = SCENARIOS["penalty_waiver"]
    old = play(ready_svc, scenario, start=START, stop_before=2).case
    files = definition_files()
    name = "forms/preliminary_check.schema.json"
    files[name] = files[name].replace("初步核查".encode(), "初步核查（新版）".encode(), 1)
    new_id, new_sha, created = store_definition(StoreDefinition(files=files, entry_process_id=DEFAULT_ENTRY, name="v2",
                                                                user_id="admin"),
                                                svc=ready_svc, clock=fixed_clock(START))
    assert created and new_sha != old.definition_sha256
    new = play(ready_svc, scenario, start=START, stop_before=2).case
    assert new.definition_sha256 == new_sha
    assert show_case(ready_svc, old.number).definition_sha256 == old.definition_sha256
    finished = play(ready_svc, scenario, start=START)
    assert finished.case.definition_sha256 == new_sha and finished.case.outcome == "penalty_published"


def test_a_broken_model_upload_is_refused_with_its_line_and_stores_nothing(ready_svc):
    files = definition_files()
    files["hearing.bpmn"] = files["hearing.bpmn"].replace(b"</bpmn:process>", b"</bpmn:proces>", 1)
    with pytest.raises(DefinitionInvalid) as err:
        store_definition(StoreDefinition(files=files, entry_process_id=DEFAULT_ENTRY, name="broken",
                                         user_id="admin"),
                         svc=ready_svc, clock=fixed_clock(START))
    line = files["hearing.bpmn"].split(b"</bpmn:proces>")[0].count(b"\n") + 1
    assert f"hearing.bpmn:{line}" in str(err.value)
    with ready_svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(DefinitionRow)) == 1


def test_clerks_registering_at_once_all_get_consecutive_numbers_none_refused(ready_svc):
    """A busy intake desk: registrations prepared at once race for the agency's next case number. A try whose
    number was taken prepares again; the last try holds the number while it prepares, so a registration is never
    refused however often the others overtake it (the three-servers test saw a clerk refused under load)."""
    from engine.usecases.cases import open_case
    from engine.values import OpenCase

    clerks, each = 6, 3
    barrier = threading.Barrier(clerks)
    opened: list[str] = []
    refused: list[BaseException] = []

    def register() -> None:
        barrier.wait()
        for _ in range(each):
            try:
                intake = SCENARIOS["penalty_waiver"].intake_data(now=START)
                opened.append(open_case(OpenCase(user_id="clerk", data=intake, pin=DEMO_PIN), svc=ready_svc,
                                        clock=fixed_clock(at("2026-09-15 10:00"))).number)
            except Exception as exc:  # noqa: BLE001 — reported below, with what it said
                refused.append(exc)

    threads = [threading.Thread(target=register) for _ in range(clerks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not refused, refused
    assert sorted(opened) == [f"呈卫投〔2026〕{n:04d}号" for n in range(1, clerks * each + 1)]


def test_officers_issuing_numbered_notices_at_once_get_consecutive_numbers_none_refused(ready_svc):
    """Six 行政处罚事先告知书 signed at once in one agency race for its next 文号 (呈卫罚告…). A try whose number was
    taken is prepared again; the last try holds the case and the number while it prepares, so an officer is never
    told "try again" however often the others overtake them."""
    from engine.demo import pick_actor
    from engine.spiff.driving import Context, resolve
    from engine.usecases.cases import case_data
    from engine.usecases.documents import list_documents

    officers = 6
    scenario = SCENARIOS["penalty_waiver"]
    step = next(s for s in scenario.steps if s.spec_id == "prior_notice")
    when = at("2026-09-25 10:00")
    ready = []
    for _ in range(officers):
        case, task = task_at(ready_svc, "penalty_waiver", "prior_notice", start=at("2026-09-14 09:00"))
        ctx = Context(when, case_data(ready_svc, case.number), ready_svc.settings, ready_svc.calendar)
        data = sample_form_data(task.form_schema, dict(resolve(step.overrides, ctx)), now=when)
        ready.append((case.number, CompleteTask(task_id=task.id, user_id=pick_actor(task, step, None), data=data,
                                                pin=DEMO_PIN)))
    barrier = threading.Barrier(officers)
    refused: list[BaseException] = []

    def sign(cmd: CompleteTask) -> None:
        barrier.wait()
        try:
            complete_task(cmd, svc=ready_svc, clock=fixed_clock(when))
        except Exception as exc:  # noqa: BLE001 — reported below, with what it said
            refused.append(exc)

    threads = [threading.Thread(target=sign, args=(cmd,)) for _, cmd in ready]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not refused, refused
    numbers = sorted(d.doc_number for number, _ in ready for d in list_documents(ready_svc, number)
                     if d.spec_id == "prior_notice")
    assert len(numbers) == officers and len(set(numbers)) == officers
    assert [int(n.split("〕")[1].rstrip("号")) for n in numbers] == list(range(1, officers + 1))
