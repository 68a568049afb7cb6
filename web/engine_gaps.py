"""Adapters for engine functions the workbench needs and the engine does not offer yet.

Each function here states the engine signature it stands in for; the lead moves them into engine/ and
this module shrinks to re-exports. They use engine's public use cases only (no SQLAlchemy import here).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from engine.services import Services
from engine.usecases.cases import list_cases
from engine.usecases.tasks import list_tasks
from engine.values import CaseView, TaskView

SHANGHAI = ZoneInfo("Asia/Shanghai")
SOON = dt.timedelta(days=3)


# --- task list with filters, counts and pages ----------------------------------------------------
@dataclass(frozen=True)
class TaskFilters:
    stage: str = ""
    violation: str = ""
    due: str = ""  # "overdue" | "soon" | ""
    number: str = ""
    party: str = ""
    mine: bool = False


@dataclass(frozen=True)
class TaskRowView:
    task: TaskView
    violation: str
    overdue: bool
    due_soon: bool


@dataclass(frozen=True)
class TaskPage:
    items: tuple[TaskRowView, ...]
    total: int
    page: int
    pages: int
    counts: dict[str, Counter[str]] = field(default_factory=dict)


def due_state(task: TaskView, now: dt.datetime) -> str:
    if task.due_at is None:
        return ""
    if task.due_at < now:
        return "overdue"
    if task.due_at - now <= SOON:
        return "soon"
    return ""


def _matches(row: TaskRowView, f: TaskFilters, user_id: str, now: dt.datetime, skip: str = "") -> bool:
    t = row.task
    checks = {
        "stage": not f.stage or t.stage == f.stage,
        "violation": not f.violation or row.violation == f.violation,
        "due": not f.due or due_state(t, now) == f.due,
        "number": not f.number or f.number.strip() in t.case_number,
        "party": not f.party or f.party.strip().lower() in t.respondent.lower(),
        "mine": not f.mine or t.assignee == user_id,
    }
    return all(ok for name, ok in checks.items() if name != skip)


def task_page(
    svc: Services, *, user_id: str, filters: TaskFilters, page: int, per_page: int, now: dt.datetime,
) -> TaskPage:
    """Stands in for `engine.usecases.tasks.task_page(svc, *, user_id, stage=None, violation=None,
    due=None, case_number=None, party=None, mine=False, now, page=1, per_page=20) -> TaskPage`:
    the user's and the user's groups' open tasks, filtered, sorted by due date (none last), with the
    total and, per filter, the count of each value among the tasks matching the *other* filters.
    """
    violations = {c.id: c.violation for c in list_cases(svc, limit=100_000)}
    rows = [
        TaskRowView(t, violations.get(t.case_id, ""), due_state(t, now) == "overdue", due_state(t, now) == "soon")
        for t in list_tasks(svc, user_id=user_id, limit=100_000)
    ]
    counts: dict[str, Counter[str]] = {}
    for facet, value in (("stage", lambda r: r.task.stage), ("violation", lambda r: r.violation),
                         ("due", lambda r: due_state(r.task, now)), ("mine", lambda r: str(r.task.assignee == user_id))):
        counts[facet] = Counter(value(r) for r in rows if _matches(r, filters, user_id, now, skip=facet))
    chosen = [r for r in rows if _matches(r, filters, user_id, now)]
    chosen.sort(key=lambda r: (r.task.due_at is None, r.task.due_at or now, not r.task.supervision, r.task.created_at))
    pages = max(1, -(-len(chosen) // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return TaskPage(tuple(chosen[start:start + per_page]), len(chosen), page, pages, counts)


# --- dashboard for heads -------------------------------------------------------------------------
@dataclass(frozen=True)
class Dashboard:
    open_by_stage: tuple[tuple[str, int], ...]
    overdue: tuple[TaskView, ...]
    by_violation: tuple[tuple[str, int], ...]
    by_month: tuple[tuple[str, int], ...]
    by_outcome: tuple[tuple[str, int], ...]
    open_cases: int
    total_cases: int


def _month(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def dashboard(svc: Services, *, now: dt.datetime) -> Dashboard:
    """Stands in for `engine.usecases.reports.dashboard(svc, *, now) -> Dashboard`: open cases per stage,
    overdue open steps (most overdue first), cases per violation type, cases opened per month (Beijing
    time), cases per outcome."""
    cases = list_cases(svc, limit=100_000)
    open_cases = [c for c in cases if c.status == "open"]
    overdue = sorted((t for t in list_tasks(svc, limit=100_000) if t.due_at is not None and t.due_at < now),
                     key=lambda t: t.due_at or now)
    return Dashboard(
        open_by_stage=_ranked(c.stage for c in open_cases),
        overdue=tuple(overdue),
        by_violation=_ranked(c.violation or "—" for c in cases),
        by_month=tuple(sorted(Counter(_month(c.created_at) for c in cases).items())),
        by_outcome=_ranked(c.outcome for c in cases),
        open_cases=len(open_cases),
        total_cases=len(cases),
    )


def _ranked(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(values).most_common())


def case_history(svc: Services, case_ref: str | int) -> list[TaskView]:
    """Every task of a case, open and finished, in order (engine: `list_tasks(case=…, include_done=True)`)."""
    tasks = list_tasks(svc, case=case_ref, include_done=True, limit=100_000)
    return sorted(tasks, key=lambda t: (t.completed_at or t.created_at, t.created_at))


def cases_overview(svc: Services) -> list[CaseView]:
    return list_cases(svc, limit=100_000)


# --- working-day overrides -----------------------------------------------------------------------
def working_day_overrides(svc: Services) -> dict[dt.date, bool]:
    return dict(sorted(svc.calendar.overrides.items()))


def set_working_day_override(svc: Services, day: dt.date, workday: bool | None) -> None:
    """Stands in for `engine.usecases.calendar.set_working_day_override(svc, day, workday, *, user_id,
    clock) -> None` (a stored, journalled override; `None` removes it). Meanwhile it changes the running
    process's calendar only and is lost on restart — the admin page says so."""
    overrides = dict(svc.calendar.overrides)
    if workday is None:
        overrides.pop(day, None)
    else:
        overrides[day] = workday
    svc.calendar.overrides = overrides


# --- the intake form -----------------------------------------------------------------------------
def intake_form_schema(svc: Services) -> dict | None:
    """Stands in for `engine.usecases.cases.intake_form_schema(svc) -> dict | None`: the JSON Schema of
    the start form (投诉举报登记) of the current process definition."""
    with svc.uow.read() as session:
        definition = svc.definition(session, svc.current_definition_id(session))
        return definition.start_form_schema()


# --- published penalties (双公示) ----------------------------------------------------------------
@dataclass(frozen=True)
class Publication:
    """What the public may read of one published decision. Built raw here; web.public redacts it."""

    case_id: int
    decision_number: str
    party: str
    party_credit_code: str
    violation: str
    warning: bool
    fine: float | None
    other_measures: str
    basis: str
    decision_date: str
    summary: str
    released_at: str
    url: str
    withdrawn: bool
    withdrawn_at: str
    withdrawal_reason: str


def _done(history: list[TaskView], spec_id: str) -> dict:
    done = [t for t in history if t.spec_id == spec_id and t.status == "completed" and t.form_data is not None]
    return dict(done[-1].form_data or {}) if done else {}


def list_publications(svc: Services) -> list[Publication]:
    """Stands in for `engine.usecases.publication.list_publications(svc, *, query=None, violation=None,
    date_from=None, date_to=None, limit=50, offset=0) -> list[PublicationView]`: every decision released
    for publication (release_publication completed), newest first, with its withdrawal if any. A real
    implementation keeps a `publication` table written when release_publication completes."""
    out: list[Publication] = []
    for case in list_cases(svc, limit=100_000):
        history = case_history(svc, case.id)
        released = _done(history, "release_publication")
        if not released:
            continue
        prepared = _done(history, "prepare_publication")
        if prepared.get("publish") is False or prepared.get("party_is_minor"):
            continue  # 行政处罚法 Art 48 / 政府信息公开条例: never publish minors or exempt decisions
        decision = _done(history, "make_decision")
        withdrawal = _done(history, "withdraw_publication")
        intake = next((e.detail.get("form_data") or {} for e in _opened_events(svc, case.id)), {})
        respondent = intake.get("respondent") if isinstance(intake.get("respondent"), dict) else {}
        out.append(Publication(
            case_id=case.id, decision_number=str(decision.get("decision_number", "")), party=case.respondent,
            party_credit_code=str(respondent.get("credit_code", "")) if respondent.get("kind") == "organisation" else "",
            violation=case.violation, warning=bool(decision.get("final_warning")),
            fine=decision.get("final_fine"), other_measures=str(decision.get("other_measures", "")),
            basis=str(decision.get("basis", "")), decision_date=str(decision.get("decision_date", "")),
            summary=str(prepared.get("redacted_summary", "")), released_at=str(released.get("released_at", "")),
            url=str(released.get("url", "")), withdrawn=bool(withdrawal),
            withdrawn_at=str(withdrawal.get("withdrawn_at", "")),
            withdrawal_reason=str(withdrawal.get("withdrawal_reason", "")),
        ))
    out.sort(key=lambda p: p.released_at, reverse=True)
    return out


def _opened_events(svc: Services, case_id: int) -> list:
    from engine.usecases.cases import show_case

    return [e for e in show_case(svc, case_id).events if e.kind == "opened"]


# --- the signed tree head ------------------------------------------------------------------------
def current_tree_head(svc: Services) -> dict | None:
    """Stands in for `engine.usecases.audit.current_tree_head(svc) -> SignedTreeHead | None` (a read, no
    signing): the latest signed tree head of the Merkle log, as {size, root_hash, timestamp, ...}."""
    try:
        from engine import journal
    except ImportError:  # the journal is not there yet
        return None
    latest = getattr(journal, "latest_tree_head", None)
    if latest is None:
        return None
    with svc.uow.read() as session:
        head = latest(session)
    return None if head is None else head.to_json_obj()
