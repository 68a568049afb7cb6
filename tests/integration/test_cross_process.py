"""A case behaves the same whichever process plays each step (SQLite and PostgreSQL).

Every scenario is played through the engine's use cases with every cache a process keeps dropped between
two steps — parsed definitions, kept reads, pooled connections: what a fresh `casetrail` process or another
gunicorn worker starts with — and compared with the same scenario played in one process, in memory: the same
outcome, the same stage after every step and the same signed steps (up to times and signatures).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db.session import UnitOfWork, make_engine
from engine.db.tables import StepRecordRow
from engine.demo import INTAKE_USER, play_step
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.errors import Forbidden
from engine.rules.carry import document_number_field
from engine.rules.deadlines import calendar_for
from engine.rules.settings import load_settings
from engine.seed import seed_agencies
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.definitions import forget_parsed_definitions, load_default_definition
from engine.spiff.driving import sample_form_data
from engine.spiff.instance import ProcessInstance
from engine.spiff.scenarios import SCENARIOS
from engine.spiff.scenarios import play_step as play_in_memory
from engine.usecases.cases import case_data, open_case, show_case
from engine.usecases.readcache import ReadCache
from engine.usecases.repair import find_stuck_cases, repair_stuck_cases
from engine.usecases.signed import signed_steps as engine_signed_steps
from engine.usecases.tasks import list_tasks, show_task
from engine.usecases.users import add_user
from engine.values import AddUser, OpenCase, RepairStuckCases
from signatures.records import REPAIR_SPEC, SignedRecord, is_model_step
from tests.conftest import at, same_blob_store

START = at("2026-09-14 09:00")
STEP_GAP = dt.timedelta(hours=1)
ENGINE_KEYS = ("_signed_votes", "_actor")  # kept apart from the form: the engine's, not the person's


def fresh(svc: Services) -> Services:
    """The services a new process builds on the same database: nothing parsed, nothing kept, no pool."""
    forget_parsed_definitions()
    url = svc.engine.url.render_as_string(hide_password=False)
    return dataclasses.replace(svc, uow=UnitOfWork(make_engine(url)), _definitions={}, reads=ReadCache(),
                               _lock=threading.Lock())


@dataclasses.dataclass(frozen=True)
class Played:
    outcome: str
    stages: list[str]
    steps: list[tuple[str, str, dict]]  # (task spec, actor, form data) of every signed model step


def in_one_process(name: str) -> Played:
    """The scenario in memory: one process, one workflow instance from intake to close."""
    scenario, settings = SCENARIOS[name], load_settings()
    calendar = calendar_for(settings)
    clock = MutableClock(START)
    intake = scenario.intake_data(now=START)
    instance = ProcessInstance.start(load_default_definition(), intake, clock=clock, settings=settings,
                                     calendar=calendar)
    record: list[tuple[str, dict]] = []
    stages = []
    for step in scenario.steps:
        clock.advance_to(clock() + STEP_GAP)
        play_in_memory(instance, step, clock, settings, calendar, record=record)
        stages.append(instance.stage)
    steps = [("start", INTAKE_USER, intake)]
    steps += [(spec, data["_actor"], _form(data)) for spec, data in record]
    return Played(instance.outcome, stages, steps)


def dropping_caches(svc: Services, name: str) -> Played:
    """The scenario through the engine, each step (and each read) by services that have seen nothing."""
    scenario = SCENARIOS[name]
    clock = MutableClock(START)
    intake = scenario.intake_data(now=START)
    number = open_case(OpenCase(user_id=INTAKE_USER, data=intake, pin=DEMO_PIN), svc=fresh(svc), clock=clock).number
    stages = []
    for step in scenario.steps:
        clock.advance_to(clock() + STEP_GAP)
        play_step(fresh(svc), number, step, clock)
        stages.append(show_case(fresh(svc), number).stage)
    reader = fresh(svc)
    case = show_case(reader, number)
    assert case.status == "closed" and not case.open_tasks
    completed = [e for e in case.events if e.kind == "completed"]
    assert len(completed) == sum(1 for s in scenario.steps if not s.spec_id.startswith("@"))
    return Played(case.outcome, stages, signed_steps(reader, case.id))


def _form(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ENGINE_KEYS}


def signed_steps(svc: Services, case_id: int) -> list[tuple[str, str, dict]]:
    """Every signed model step, with the sealed fields (the complainant, the votes) as the stored values that give
    the signed digests (engine/usecases/signed.py)."""
    with svc.uow.read() as session:
        steps = engine_signed_steps(session, case_id)
    return [(s.record.task_spec_id, s.record.actor, _form(dict(s.form_data))) for s in steps
            if is_model_step(s.record.task_spec_id)]


def without_numbers(steps: list[tuple[str, str, dict]]) -> tuple[list[tuple[str, str, dict]], list[str]]:
    """The steps without the 文号 the engine writes into a numbered step's form (`x-document-number`: given from
    the database's sequences when the step is signed, which a workflow run in memory has not), and those 文号."""
    definition = load_default_definition()
    out, numbers = [], []
    for spec, actor, form in steps:
        field = document_number_field(definition.form_schema(spec)) if spec != "start" else None
        if field is not None and field in form:
            numbers.append(form[field])
            form = {k: v for k, v in form.items() if k != field}
        out.append((spec, actor, form))
    return out, numbers


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_step_in_a_fresh_process_gives_what_one_process_gives(ready_svc, name):
    one = in_one_process(name)
    many = dropping_caches(ready_svc, name)
    assert many.outcome == one.outcome == SCENARIOS[name].outcome
    assert many.stages == one.stages
    steps, numbers = without_numbers(many.steps)
    assert without_numbers(one.steps)[1] == []  # nobody types a 文号
    assert all(isinstance(n, str) and n.endswith("号") for n in numbers), numbers
    assert steps == one.steps
    assert many.stages[-1] == "closed"


# --- the deliberation with every vote in a separate `casetrail` process --------------------------------------
VOTING = "penalty_statement"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def processes(ready_svc, tmp_path):
    """Runs `casetrail …` in a new process on the test's database and agency keys, at a given moment."""
    data_dir = tmp_path / "process-data"
    data_dir.mkdir()
    (data_dir / "keys").symlink_to(ready_svc.agency_keys.directory)
    # One evidence store for the test and its processes — the test's own, which also holds the files of the cases
    # its database template played: the parties' drawn signatures are files of their steps.
    env = {**os.environ, "CASETRAIL_DATABASE_URL": ready_svc.engine.url.render_as_string(hide_password=False),
           "CASETRAIL_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore", **same_blob_store(ready_svc)}

    def run(moment: dt.datetime, *args: str, as_released: bool = False) -> subprocess.CompletedProcess[str]:
        flags = ["--spiff-as-released"] if as_released else []
        return subprocess.run([sys.executable, "-m", "tests.integration.cli_process", moment.isoformat(), *flags,
                               "--", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)

    return run


def _votes_index() -> int:
    return next(i for i, s in enumerate(SCENARIOS[VOTING].steps) if s.spec_id == "panel_vote")


def open_until_votes(svc: Services) -> tuple[str, MutableClock]:
    scenario = SCENARIOS[VOTING]
    clock = MutableClock(START)
    number = open_case(OpenCase(user_id=INTAKE_USER, data=scenario.intake_data(now=START),
                                pin=DEMO_PIN), svc=svc, clock=clock).number
    for step in scenario.steps[:_votes_index()]:
        clock.advance_to(clock() + STEP_GAP)
        play_step(svc, number, step, clock)
    return number, clock


def vote_in_a_process(svc, processes, tmp_path, number: str, clock: MutableClock, index: int, *,
                      as_released: bool) -> subprocess.CompletedProcess[str]:
    """The index-th vote of the scenario, cast by `casetrail task complete` in a new process."""
    step = SCENARIOS[VOTING].steps[_votes_index() + index]
    clock.advance_to(clock() + STEP_GAP)
    task = next(t for t in list_tasks(fresh(svc), case=number) if t.spec_id == step.spec_id
                and t.assignee == step.actor)
    form = tmp_path / f"vote-{number[-6:-1]}-{index}.json"
    form.write_text(json.dumps(sample_form_data(show_task(svc, task.id).form_schema, step.overrides, now=clock()),
                               ensure_ascii=False), encoding="utf-8")
    return processes(clock(), "task", "complete", task.id, "--user", step.actor, "--data", str(form),
                     "--pin", DEMO_PIN, as_released=as_released)


def play_rest(svc: Services, number: str, clock: MutableClock, *, first: int) -> None:
    for step in SCENARIOS[VOTING].steps[first:]:
        clock.advance_to(clock() + STEP_GAP)
        play_step(fresh(svc), number, step, clock)


def test_votes_cast_in_separate_processes_close_the_deliberation(ready_svc, processes, tmp_path):
    number, clock = open_until_votes(ready_svc)
    for index in range(3):
        done = vote_in_a_process(ready_svc, processes, tmp_path, number, clock, index, as_released=False)
        assert done.returncode == 0, done.stderr
    case = show_case(fresh(ready_svc), number)
    assert case.stage == "notice"
    assert [t.spec_id for t in case.open_tasks] == ["prior_notice"]
    assert len(case_data(fresh(ready_svc), number)["ballots"]) == 3
    verified = processes(clock(), "verify", number)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def strand_dropping_caches(svc: Services, number: str, clock: MutableClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The three votes cast by services that drop their caches between them, with SpiffWorkflow as released: the
    deliberation stranded as separate processes strand it (the test below shows the two alike)."""
    import engine.spiff.definitions as definitions

    with monkeypatch.context() as unwired:  # what tests.integration.cli_process.as_released does to a process
        unwired.setattr(definitions, "wire_instance_merges", lambda _spec: None)
        unwired.setattr(ProcessInstance, "unmerged_instances", lambda _self: [])
        for step in SCENARIOS[VOTING].steps[_votes_index():_votes_index() + 3]:
            clock.advance_to(clock() + STEP_GAP)
            play_step(fresh(svc), number, step, clock)
    forget_parsed_definitions()


def test_separate_processes_and_dropped_caches_strand_a_deliberation_alike_without_the_wiring(
        ready_svc, processes, tmp_path, monkeypatch):
    """Equivalence of the two ways of testing: with SpiffWorkflow as released, votes cast in separate
    processes and votes cast in one process that drops its caches between them leave the same stuck case."""
    by_processes, clock_a = open_until_votes(ready_svc)
    for index in range(3):
        assert vote_in_a_process(ready_svc, processes, tmp_path, by_processes, clock_a, index,
                                 as_released=True).returncode == 0
    by_dropping, clock_b = open_until_votes(ready_svc)
    strand_dropping_caches(ready_svc, by_dropping, clock_b, monkeypatch)
    stuck = {s.case_number: s for s in find_stuck_cases(fresh(ready_svc), clock=clock_b)}
    assert set(stuck) == {by_processes, by_dropping}
    for number in stuck:
        case = show_case(fresh(ready_svc), number)
        assert case.open_tasks == () and case.outcome == "open" and case.status == "open"
    a, b = stuck[by_processes], stuck[by_dropping]
    assert (a.stage_after, a.open_after, list(a.unmerged)) == (b.stage_after, b.open_after, list(b.unmerged)) == (
        "notice", ["prior_notice"], ["panel_vote"])
    assert len(a.unmerged["panel_vote"]) == len(b.unmerged["panel_vote"]) == 3


def test_repair_brings_a_stranded_deliberation_to_the_next_task_with_a_signed_record(
        ready_svc, processes, tmp_path):
    number, clock = open_until_votes(ready_svc)
    for index in range(3):
        assert vote_in_a_process(ready_svc, processes, tmp_path, number, clock, index,
                                 as_released=True).returncode == 0
    listed = processes(clock(), "repair", "--dry-run", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [c["case_number"] for c in json.loads(listed.stdout)] == [number]
    assert show_case(fresh(ready_svc), number).open_tasks == ()  # a dry run writes nothing

    refused = processes(clock(), "repair", "--by", "officer1", "--pin", DEMO_PIN, "--reason", "x")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    repaired = processes(clock(), "repair", "--by", "admin", "--pin", DEMO_PIN, "--reason", "升级前跨进程表决未汇总")
    assert repaired.returncode == 0, repaired.stderr
    assert number in repaired.stdout and "prior_notice" in repaired.stdout

    with fresh(ready_svc).uow.read() as session:
        last = session.execute(select(StepRecordRow.canonical, StepRecordRow.signature).where(
            StepRecordRow.case_id == show_case(ready_svc, number).id).order_by(StepRecordRow.seq.desc())).first()
    record = SignedRecord.from_parts(*last).record
    assert (record.task_spec_id, record.actor, record.role) == (REPAIR_SPEC, "admin", "admin")
    assert [m["task_spec_id"] for m in record.form_data["merged_steps"]] == ["panel_vote"] * 3
    assert record.form_data["reason"] == "升级前跨进程表决未汇总"

    play_rest(ready_svc, number, clock, first=_votes_index() + 3)
    one = in_one_process(VOTING)
    case = show_case(fresh(ready_svc), number)
    assert (case.outcome, case.stage) == (one.outcome, "closed")
    assert without_numbers(signed_steps(fresh(ready_svc), case.id))[0] == one.steps
    verified = processes(clock(), "verify", number)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_vote_on_a_half_stranded_deliberation_waits_for_the_repair(ready_svc, processes, tmp_path):
    """Two votes stranded by an older release, the third cast afterwards: closing the deliberation then would
    drop two ballots, so the third vote is refused (nothing written) until the case is repaired."""
    number, clock = open_until_votes(ready_svc)
    for index in range(2):
        assert vote_in_a_process(ready_svc, processes, tmp_path, number, clock, index,
                                 as_released=True).returncode == 0
    before = show_case(fresh(ready_svc), number)
    refused = vote_in_a_process(ready_svc, processes, tmp_path, number, clock, 2, as_released=False)
    assert refused.returncode == 2
    assert "casetrail repair" in refused.stderr and "Traceback" not in refused.stderr
    after = show_case(fresh(ready_svc), number)
    assert (after.updated_at, [t.id for t in after.open_tasks]) == (before.updated_at, [t.id for t in before.open_tasks])

    assert processes(clock(), "repair", "--by", "admin", "--pin", DEMO_PIN, "--reason", "升级").returncode == 0
    assert [t.spec_id for t in show_case(fresh(ready_svc), number).open_tasks] == ["panel_vote"]
    assert vote_in_a_process(ready_svc, processes, tmp_path, number, clock, 2, as_released=False).returncode == 0
    assert [t.spec_id for t in show_case(fresh(ready_svc), number).open_tasks] == ["prior_notice"]
    assert [b["member"] for b in case_data(fresh(ready_svc), number)["ballots"]] == ["panel1", "panel2", "panel3"]


def test_a_districts_administrator_repairs_only_the_stranded_cases_of_their_district(ready_svc, monkeypatch):
    """A repair is an administrator's signed act on a case: a district's administrator repairs the district's
    cases and those below it, never the city's or a neighbour's (issue 16); the platform's administrator any."""
    number, clock = open_until_votes(ready_svc)  # a case of the city, the platform's home agency
    strand_dropping_caches(ready_svc, number, clock, monkeypatch)
    seed_agencies(ready_svc, clock)
    add_user(AddUser(user_id="hp.admin", name="和平区管理", password=DEMO_PASSWORD, roles=["admin"],
                     agency_code="cz-hp", pin=DEMO_PIN), svc=ready_svc, clock=clock)
    before = show_case(fresh(ready_svc), number)

    def repair(by: str, case: str | None = None) -> list:
        return repair_stuck_cases(RepairStuckCases(by=by, pin=DEMO_PIN, reason="升级前跨进程表决未汇总", case=case),
                                  svc=fresh(ready_svc), clock=clock)

    with pytest.raises(Forbidden, match="hp.admin"):
        repair("hp.admin", number)  # named: refused, naming who
    assert repair("hp.admin") == []  # all: the district has none stranded; the city's is not its to repair
    after = show_case(fresh(ready_svc), number)
    assert (after.updated_at, after.open_tasks, after.stage) == (before.updated_at, (), before.stage)
    [done] = repair("admin", number)
    assert (done.case_number, done.open_after) == (number, ["prior_notice"])
    assert [t.spec_id for t in show_case(fresh(ready_svc), number).open_tasks] == ["prior_notice"]
