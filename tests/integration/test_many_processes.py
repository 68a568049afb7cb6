"""Many processes on one PostgreSQL database (issue 17): three `casetrail serve` and three `casetrail worker`
processes, one shared data directory (blobs), cases driven over HTTP through all three servers at once — cases
opened and accepted, the three 合议 votes of a case each on a different server, two officers racing to claim one
task — while the model's timers come due in a burst and one worker is killed with SIGKILL in the middle of it.

Every process runs on the same moved clock (tests/shifted_process.py): the timers fall on day boundaries
(engine/rules/deadlines.py), so the processes start a while before a local midnight at which ten cases' 受理审查
is warned of (督办), and once all six are up the test moves their time on to three seconds before it (a slow start
on a loaded machine delays the burst; it used to let the burst pass before the processes were up). Afterwards: every due timer fired exactly once, no step was done twice, exactly one
claim won and the other got a 409, and `casetrail verify --all` passes. How late the timers fire is measured by
bench/timers.py, not asserted here: a test never asserts on wall-clock time (a loaded machine is slow, not wrong)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.db.tables import CaseEventRow, CaseRow, TaskRow
from engine.demo import INTAKE_USER, SCENARIOS, play
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.enums import CaseEventKind, TaskStatus
from engine.rules.deadlines import warn_at
from engine.services import Services
from engine.spiff.driving import intake_data
from engine.usecases.cases import case_data, open_case, show_case
from engine.usecases.tasks import list_tasks
from engine.values import OpenCase, fixed_clock, system_clock
from tests.conftest import POSTGRES_URL
from tests.integration.conftest import PLAY_START
from tests.served import REPO, free_port, serve_environment, wait_until_serving
from tests.shifted_process import move_shift, shifted_clock
from tests.web.test_served_sessions import Visitor
from tests.web.test_signing_pins import COMPLAINT

# No wait here is a bound on speed any more: the burst comes when all six processes are up (their clock is moved on
# then), the surviving workers are waited for until they fired the burst's timers, and the remaining timeouts only
# guard against a hang (HANG). The wall-clock bounds it had — a 75 s allowance for six processes to start on two
# cores, 30 s for the survivors to fire the burst, 300 s thread joins whose stragglers were not noticed, barriers
# without a timeout — are what a loaded machine breaks. It runs in every suite with PostgreSQL: ~2 min alone on two
# cores (1 min 55 s at load 1–7, 74 s of CPU; 3 min 15 s at load ~17), started first among the slow files
# (tests/durations.json) so that it overlaps the rest of the suite instead of trailing it.
pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs CASETRAIL_TEST_POSTGRES_URL")

BEFORE = dt.timedelta(minutes=10)  # the processes start this long before the burst (by their clock)
JUMP = dt.timedelta(seconds=3)  # once they are up, their time moves on to this long before the burst
# Guards against a hang (a process that never answers), not bounds on how fast anything is: far above any wait
# seen on a loaded machine.
HANG = 900
TIMER_CASES = 10  # opened so that their 受理审查 is warned of at the burst
RACED = 2  # of them, accepted over HTTP right at the burst: the step and the timer race (at most one fires)
LOAD_AFTER = 8.0  # seconds of load after the burst


@pytest.fixture
def db_backend() -> str:
    return "postgres"


def burst_moment(svc: Services, after: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A local midnight after `after` at which a complaint received on an earlier day is warned of (督办 of its
    受理审查), and that receipt time."""
    calendar = svc.calendar
    day = calendar.local_date(after) + dt.timedelta(days=1)
    for _ in range(30):
        midnight = calendar.start_of_day(day)
        for back in range(1, 25):
            received = calendar.start_of_day(day - dt.timedelta(days=back)) + dt.timedelta(hours=10)
            if warn_at("acceptance_review", received, svc.settings, calendar) == midnight:
                return midnight, received
        day += dt.timedelta(days=1)
    raise AssertionError("no day boundary carries a 受理审查 warning")


class Processes:
    """`casetrail serve` and `casetrail worker` processes on the test's database, all on one moved clock."""

    def __init__(self, svc: Services, tmp_path: Path, now: dt.datetime) -> None:
        self.env = serve_environment(svc, tmp_path)
        self.shift_file = tmp_path / "clock-shift"
        move_shift(self.shift_file, now)
        self.clock = shifted_clock(self.shift_file)
        self.tmp_path = tmp_path
        self.servers: list[tuple[subprocess.Popen, str]] = []
        self.workers: list[tuple[subprocess.Popen, Path]] = []

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tests.shifted_process", str(self.shift_file), "--", *args]

    def start(self, servers: int, workers: int) -> None:
        for _ in range(servers):
            port = free_port()
            self.servers.append((subprocess.Popen(self.command("serve", "--port", str(port), "--workers", "1"),
                                                  cwd=REPO, env=self.env, stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.PIPE, text=True), f"http://127.0.0.1:{port}"))
        for index in range(workers):
            log = self.tmp_path / f"worker-{index}.log"
            with log.open("w") as out:
                self.workers.append((subprocess.Popen(self.command("worker", "--interval", "5"), cwd=REPO,
                                                      env=self.env, stdout=out, stderr=subprocess.STDOUT), log))
        for server, url in self.servers:
            wait_until_serving(url, server, timeout=HANG)
        deadline = time.monotonic() + HANG
        while not all(" started" in log.read_text() for _, log in self.workers):
            assert time.monotonic() < deadline, [log.read_text()[-2000:] for _, log in self.workers]
            assert all(w.poll() is None for w, _ in self.workers), [log.read_text()[-2000:] for _, log in self.workers]
            time.sleep(0.2)

    def move_to(self, moment: dt.datetime) -> None:
        """Every process's time (and the test's) moves on to `moment`."""
        move_shift(self.shift_file, moment)

    @property
    def urls(self) -> list[str]:
        return [url for _, url in self.servers]

    def stop(self) -> None:
        for process in [s for s, _ in self.servers] + [w for w, _ in self.workers]:
            if process.poll() is None:
                process.terminate()
        for process in [s for s, _ in self.servers] + [w for w, _ in self.workers]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def log_in(base: str, user_id: str) -> Visitor:
    visitor = Visitor(timeout=HANG)  # the burst loads two cores with six processes: slow answers are fine here
    status, location, _ = visitor.post(base, "/login", {"user_id": user_id, "password": DEMO_PASSWORD}, "/login")
    assert status == 302 and not location.endswith("/login"), (user_id, status, location)
    return visitor


def ready_task(svc: Services, case_id: int, spec_id: str) -> str:
    with svc.uow.read() as session:
        return session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.spec_id == spec_id,
                                                       TaskRow.status == TaskStatus.READY))


def not_accept(svc: Services, base: str, case_id: int) -> int:
    """受理审查 of the case decided (不予受理) by the head through `base`; the response status."""
    task = ready_task(svc, case_id, "acceptance_review")
    form = {"acceptance_decision": "not_accept", "acceptance_opinion": "不属本机关职责。", "case_summary": "投诉",
            "not_accepted_reason": "不属于卫生健康监督职责范围", "pin": DEMO_PIN}
    return log_in(base, "head").post(base, f"/tasks/{task}", form, f"/tasks/{task}")[0]


@pytest.fixture
def prepared(ready_svc: Services) -> dict:
    """Cases played in this process before the others start: two at their 合议 votes, one at a claimable step,
    and TIMER_CASES complaints received so that the burst warns of them."""
    svc = ready_svc
    voting = SCENARIOS["penalty_statement"]
    votes_at = [s.spec_id for s in voting.steps].index("panel_vote")
    claimable = SCENARIOS["penalty_waiver"]
    claim_at = [s.spec_id for s in claimable.steps].index("preliminary_check")
    votes = [play(svc, voting, start=PLAY_START + dt.timedelta(days=i), stop_before=votes_at).case for i in range(2)]
    claim = play(svc, claimable, start=PLAY_START, stop_before=claim_at).case
    burst, received = burst_moment(svc, system_clock() + BEFORE + dt.timedelta(minutes=5))
    opened_at = fixed_clock(burst - BEFORE - dt.timedelta(minutes=1))
    timer_cases = [open_case(OpenCase(user_id=INTAKE_USER, data=intake_data(now=received), pin=DEMO_PIN), svc=svc,
                             clock=opened_at) for _ in range(TIMER_CASES)]
    with svc.uow.read() as session:
        due = set(session.scalars(select(CaseRow.next_timer_at).where(CaseRow.id.in_([c.id for c in timer_cases]))))
    assert due == {burst}
    return {"votes": votes, "claim": claim, "burst": burst, "timer_cases": timer_cases}


@pytest.fixture
def processes(ready_svc, prepared, tmp_path) -> Iterator[Processes]:
    running = Processes(ready_svc, tmp_path, prepared["burst"] - BEFORE)
    try:
        running.start(servers=3, workers=3)
        running.move_to(prepared["burst"] - JUMP)  # all six are up: on to the burst
        yield running
    finally:
        running.stop()


def _said(page: str) -> str:
    """What an error page says (its lead paragraph), else the page's end."""
    found = re.search(r'<p class="lead">(.*?)</p>', page, re.S)
    return found.group(1).strip() if found else page[-2000:]


def test_three_servers_and_three_workers_do_every_step_and_fire_every_timer_exactly_once(
        ready_svc, prepared, processes, tmp_path):
    svc, urls, burst, now = ready_svc, processes.urls, prepared["burst"], processes.clock

    def sleep_until(moment: dt.datetime) -> None:
        time.sleep(max(0.0, (moment - now()).total_seconds()))

    errors: list[BaseException] = []
    outcomes: dict[str, list] = {"opened": [], "accepted": [], "votes": [], "claims": [], "raced": []}

    def guarded(work):
        def run(*args):
            try:
                work(*args)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
        return run

    def open_and_decide(index: int) -> None:
        """Complaints opened on one server and decided on the next, until the load stops."""
        n = 0
        while now() < burst + dt.timedelta(seconds=LOAD_AFTER):
            base, other = urls[(index + n) % 3], urls[(index + n + 1) % 3]
            received = (now() - dt.timedelta(hours=1)).astimezone(svc.settings.zone).strftime("%Y-%m-%dT%H:%M")
            clerk = log_in(base, "clerk")
            status, location, page = clerk.post(base, "/cases/new", {**COMPLAINT, "received_at": received,
                                                                      "pin": DEMO_PIN}, "/cases/new")
            assert status in (302, 303), f"{status}: {_said(page)}"
            case_id = int(re.search(r"/cases/(\d+)", location).group(1))
            outcomes["opened"].append(case_id)
            outcomes["accepted"].append(not_accept(svc, other, case_id))
            n += 1

    def vote(case, member: str, choice: str, base: str, start: threading.Barrier) -> None:
        task = next(t for t in list_tasks(svc, user_id=member, case=case.number) if t.spec_id == "panel_vote")
        visitor = log_in(base, member)
        start.wait()
        status, _, page = visitor.post(base, f"/tasks/{task.id}", {"vote": choice, "opinion": f"{member} 的意见",
                                                                   "pin": DEMO_PIN}, f"/deliberation/{case.id}")
        outcomes["votes"].append((case.number, member, status, page[-1500:] if status != 302 else ""))

    claim_task = next(t for t in list_tasks(svc, case=prepared["claim"].number) if t.spec_id == "preliminary_check")

    def claim(user: str, base: str, start: threading.Barrier) -> None:
        visitor = log_in(base, user)
        token_page = f"/tasks/{claim_task.id}"
        start.wait()
        status = visitor.post(base, f"/tasks/{claim_task.id}/claim", {}, token_page)[0]
        outcomes["claims"].append((user, status))

    def race_the_timer(case_id: int, base: str) -> None:
        sleep_until(burst - dt.timedelta(seconds=0.3))
        outcomes["raced"].append(not_accept(svc, base, case_id))

    threads = [threading.Thread(target=guarded(open_and_decide), args=(i,)) for i in range(3)]
    ballot = {"panel1": "penalty", "panel2": "penalty", "panel3": "no_penalty_facts"}
    for case in prepared["votes"]:
        start = threading.Barrier(3, timeout=HANG)
        threads += [threading.Thread(target=guarded(vote), args=(case, member, choice, urls[i], start))
                    for i, (member, choice) in enumerate(ballot.items())]
    claim_start = threading.Barrier(2, timeout=HANG)
    threads += [threading.Thread(target=guarded(claim), args=(user, urls[i], claim_start))
                for i, user in enumerate(("officer1", "officer2"))]
    raced = prepared["timer_cases"][:RACED]
    threads += [threading.Thread(target=guarded(race_the_timer), args=(c.id, urls[i])) for i, c in enumerate(raced)]
    for thread in threads:
        thread.start()
    sleep_until(burst + dt.timedelta(seconds=0.2))  # the burst is being fired: one worker dies in it
    killed, _ = processes.workers[0]
    os.kill(killed.pid, signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=HANG)
    assert not any(t.is_alive() for t in threads), "a request never came back"
    assert not errors, errors
    timed = {c.id for c in prepared["timer_cases"][RACED:]}
    deadline = time.monotonic() + HANG  # however loaded the machine: until the remaining workers have fired them
    while len(_timer_events(svc, timed)) < len(timed):
        assert time.monotonic() < deadline, "the surviving workers did not fire the burst's timers"
        time.sleep(0.5)
    assert killed.wait(timeout=5) == -signal.SIGKILL
    assert all(w.poll() is None for w, _ in processes.workers[1:])  # the others took its jobs
    processes.stop()

    # Every due timer exactly once, not before its moment, whichever worker fired it.
    events = _timer_events(svc, {c.id for c in prepared["timer_cases"]})
    fired = [(case_id, timer) for case_id, timers, _, _ in events for timer in timers]
    assert len(fired) == len(set(fired)), "a timer fired twice"
    by_case = {case_id: timers for case_id, timers, _, _ in events}
    assert all(by_case.get(case_id) == ["warn_acceptance_review"] for case_id in timed), by_case
    assert all(due == burst and at >= burst for _, _, due, at in events), [(due, at) for _, _, due, at in events]
    assert len(_timer_events(svc, None)) > len(events)  # the past-due timers of the older cases fired too
    everywhere = [(c, t) for c, timers, _, _ in _timer_events(svc, None) for t in timers]
    assert len(everywhere) == len(set(everywhere))
    # The step and the timer that raced: both orders are right, each at most once.
    assert outcomes["raced"] and all(s in (302, 409) for s in outcomes["raced"]), outcomes["raced"]
    # Every step once.
    with svc.uow.read() as session:
        twice = session.execute(select(CaseEventRow.task_id).where(CaseEventRow.kind == CaseEventKind.COMPLETED)
                                .group_by(CaseEventRow.task_id).having(func.count() > 1)).all()
        completed = session.scalar(select(func.count()).select_from(TaskRow)
                                   .where(TaskRow.status == TaskStatus.COMPLETED))
        completions = session.scalar(select(func.count()).select_from(CaseEventRow)
                                     .where(CaseEventRow.kind == CaseEventKind.COMPLETED))
    assert twice == [] and completed == completions
    assert len(outcomes["opened"]) >= 3 and set(outcomes["accepted"]) == {302}, outcomes["accepted"]
    # The three votes of each deliberation, on three servers at once: all counted, the deliberation closed.
    assert sorted(s for *_, s, _ in outcomes["votes"]) == [302] * 6, outcomes["votes"]
    for case in prepared["votes"]:
        assert show_case(svc, case.number).stage == "notice"
        assert len(case_data(svc, case.number)["ballots"]) == 3
    # Two officers claimed one task at once: one won, the other was told it was taken.
    assert sorted(s for _, s in outcomes["claims"]) == [302, 409], outcomes["claims"]
    winner = next(u for u, s in outcomes["claims"] if s == 302)
    assert next(t for t in list_tasks(svc, case=prepared["claim"].number) if t.id == claim_task.id).assignee == winner

    verified = subprocess.run(processes.command("verify", "--all"), cwd=REPO, env=processes.env, capture_output=True,
                              text=True, timeout=HANG)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]


def _timer_events(svc: Services, case_ids: set[int] | None) -> list[tuple[int, list[str], dt.datetime, dt.datetime]]:
    """(case id, timers, due, fired at) of every TIMER event (of `case_ids`, or of every case)."""
    query = select(CaseEventRow.case_id, CaseEventRow.detail, CaseEventRow.at).where(
        CaseEventRow.kind == CaseEventKind.TIMER)
    if case_ids is not None:
        query = query.where(CaseEventRow.case_id.in_(case_ids))
    with svc.uow.read() as session:
        rows = session.execute(query.join(CaseRow, CaseRow.id == CaseEventRow.case_id)).all()
    return [(case_id, detail["timers"], dt.datetime.fromisoformat(detail["due_at"]), at) for case_id, detail, at in rows]
