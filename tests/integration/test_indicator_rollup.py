"""The indicators read from the rollup (engine/usecases/indicator_rollup.py) are exactly those computed straight from
`case_figures`, whenever the job last ran: over a generated province (bench/province.py's, small) with random
late edits through the steps' own writer, random periods, agencies and groupings, today's live part and 同比 —
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from bench.province import NOW, populate
from engine.agencies import subtree_branches
from engine.db.indicator_tables import (
    CaseFiguresRow,
    IndicatorDayRow,
    IndicatorDirtyRow,
    IndicatorMonthRow,
    IndicatorRollupRow,
)
from engine.db.session import MIGRATIONS_DIR, migrate
from engine.db.tables import Base, CaseRow, TaskRow
from engine.enums import TaskStatus
from engine.errors import NotFound, ValidationError
from engine.services import Services
from engine.usecases.backup import make_backup
from engine.usecases.case_figures import close_case_figures, write_step_figures
from engine.usecases.indicator_rollup import RollupBuilt, built_through, rebuild_indicators
from engine.usecases.indicators import IndicatorQuery, indicator_cases, indicators
from engine.values import RebuildIndicators, fixed_clock
from tests.dbtemplates import MIGRATED, Template
from tests.integration.test_backup import _empty_database, _restored

AGENCIES = 30  # the province, 16 cities, 13 districts
PROVINCE = MIGRATED.then("a small generated province, not rolled up",
                         lambda svc: populate(svc, 900, AGENCIES, ("preliminary_check",), rollup=False))
DAY = dt.timedelta(days=1)


@pytest.fixture
def db_template() -> Template:
    return PROVINCE


@pytest.fixture
def province(svc: Services, template_result: dict[str, Any]) -> dict[str, Any]:
    return template_result


def _same(svc: Services, query: IndicatorQuery, now: dt.datetime) -> None:
    rolled = indicators(query, svc=svc, now=now)
    direct = indicators(query, svc=svc, now=now, rollup=False)
    assert rolled == direct, (query, now)


def _random_queries(rng: random.Random, province: dict[str, Any], n: int) -> list[IndicatorQuery]:
    first = NOW.date() - dt.timedelta(days=3 * 365)
    out = []
    for _ in range(n):
        start = first + dt.timedelta(days=rng.randrange(3 * 365 + 60))
        end = start + dt.timedelta(days=rng.choice([0, 1, 27, 30, 59, 200, 400]))
        out.append(IndicatorQuery(user_id=None, agency=rng.choice(["prov", province["city"], province["district"]]),
                                  start=start, end=end, by=rng.choice(["agency", "agency", "month", "officer"])))
    return out


def _edit(svc: Services, rng: random.Random, n: int, *, around: dt.datetime) -> None:
    """Late edits of random cases' figures, each in a transaction of its own through the steps' writer: a
    decision (re)dated, amounts, feedback, closing, officers named."""
    with svc.uow.read() as session:
        ids = list(session.scalars(select(CaseFiguresRow.case_id).order_by(CaseFiguresRow.case_id)))
        officers = list(session.scalars(select(TaskRow.assignee).distinct().where(TaskRow.assignee.is_not(None))))
    for case_id in rng.sample(ids, n):
        moment = around - dt.timedelta(hours=rng.randrange(24 * 500))
        values: dict[str, Any] = rng.choice([
            {"procedure": "general", "decided_at": moment, "fine": rng.randrange(1, 10**6) / 100,
             "confiscated_income": 0.1, "publication_due": moment + 5 * DAY, "published_at": moment + 2 * DAY},
            {"procedure": "summary", "decided_at": moment, "fine": 200.0, "warning": True},
            {"feedback_at": moment, "satisfaction": "basically_satisfied", "substantiated": True},
            {"filed_at": moment, "officers": tuple(rng.sample(officers, 2))},
            {"handled_at": moment, "handled_due": moment + rng.choice([-DAY, DAY])},
        ])
        with svc.uow() as work:
            if rng.random() < 0.2:
                close_case_figures(work.session, case_id, moment)
            else:
                write_step_figures(work.session, case_id, values)
            work.commit()


def _rebuild(svc: Services, now: dt.datetime, **fields: Any) -> RollupBuilt:
    """The job run at `now`, as the worker runs it (no fields) or `casetrail indicators rebuild` with a range."""
    return rebuild_indicators(RebuildIndicators(**fields), svc=svc, clock=fixed_clock(now))


def _rollup_rows(svc: Services) -> tuple[list[Any], list[Any]]:
    with svc.uow.read() as session:
        return ([tuple(r) for r in session.execute(select(IndicatorDayRow.__table__).order_by(
                    IndicatorDayRow.agency_code, IndicatorDayRow.day))],
                [tuple(r) for r in session.execute(select(IndicatorMonthRow.__table__).order_by(
                    IndicatorMonthRow.agency_code, IndicatorMonthRow.month))])


def test_the_rollup_gives_the_figures_computed_from_the_cases(province, svc):
    rng = random.Random(20261207)
    queries = _random_queries(rng, province, 24)
    # Before any run: all live.
    _same(svc, IndicatorQuery(user_id=None, agency="prov", start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 30)), NOW)
    # Built 40 days ago: the days since are read live, "today" is NOW's day.
    first = _rebuild(svc, NOW - 40 * DAY)
    assert first.built_through == (NOW - 40 * DAY).astimezone(svc.settings.zone).date()
    assert first.ranges and first.ranges[0][0] == "", "the first run builds every day there is"
    for query in queries:
        _same(svc, query, NOW)
    # Late edits of old cases: their days are marked and read live until the job runs again.
    _edit(svc, rng, 40, around=NOW - 40 * DAY)
    with svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(IndicatorDirtyRow)) > 0
    stale = _rollup_rows(svc)
    for query in queries:
        _same(svc, query, NOW)
    # The job takes the marks and builds the days up to NOW's: the rows change, the figures do not.
    second = _rebuild(svc, NOW)
    assert second.marks > 0 and second.days > 0
    assert _rollup_rows(svc) != stale, "the edits reached the rollup's rows"
    with svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(IndicatorDirtyRow)) == 0
        assert built_through(session) == NOW.astimezone(svc.settings.zone).date()
    for query in queries:
        _same(svc, query, NOW)
    # Idempotent: a run with nothing marked, or a whole range rebuilt, leaves the same rows.
    built = _rollup_rows(svc)
    assert _rebuild(svc, NOW).ranges == ()
    _rebuild(svc, NOW, agency=province["city"], start=dt.date(2024, 2, 10), end=dt.date(2026, 3, 3))
    assert _rollup_rows(svc) == built
    # More edits, now also of today's cases, then a range rebuild of one city only: the rest stay marked.
    _edit(svc, rng, 30, around=NOW + 12 * DAY)
    _rebuild(svc, NOW, agency=province["city"], start=dt.date(2025, 1, 1))
    for query in _random_queries(rng, province, 12):
        _same(svc, query, NOW + 12 * DAY)
    _rebuild(svc, NOW + 3 * DAY)
    for query in _random_queries(rng, province, 12):
        _same(svc, query, NOW + 12 * DAY)


def test_the_drill_down_counts_what_the_rolled_up_figure_counts(province, svc):
    _rebuild(svc, NOW)
    _edit(svc, random.Random(7), 20, around=NOW - 100 * DAY)  # some of it marked, read live
    query = IndicatorQuery(user_id=None, agency="prov", start=dt.date(2025, 6, 1), end=dt.date(2026, 11, 30))
    report = indicators(query, svc=svc, now=NOW)
    for figure in ("received", "closed", "general", "feedback_rate", "publication_rate"):
        cases = indicator_cases(query, figure, None, svc=svc, now=NOW)
        numerator = {"feedback_rate": "feedback", "publication_rate": "published_on_time"}.get(figure, figure)
        assert cases.total == report.total.values[numerator] > 0, figure


def test_overdue_steps_are_counted_by_the_tasks_agency(province, svc):
    """The tasks carry their case's agency: counted without the cases, the same as through them."""
    _rebuild(svc, NOW)
    report = indicators(IndicatorQuery(user_id=None, agency=province["city"]), svc=svc, now=NOW)
    with svc.uow.read() as session:
        codes = sorted(subtree_branches(session, province["city"]))
        through_cases = session.scalar(select(func.count()).select_from(TaskRow)
                                       .join(CaseRow, CaseRow.id == TaskRow.case_id)
                                       .where(TaskRow.status == TaskStatus.READY, TaskRow.sort_due < NOW,
                                              CaseRow.agency_code.in_(codes)))
    assert report.total.values["overdue"] == through_cases > 0


def test_a_rebuild_refuses_bad_input_and_writes_nothing(province, svc):
    with pytest.raises(NotFound):
        _rebuild(svc, NOW, agency="nowhere")
    bad = {"start": RebuildIndicators(start=dt.date(2026, 3, 1), end=dt.date(2026, 2, 1)),
           "agency": RebuildIndicators(agency="  "),
           "end": RebuildIndicators(end=dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC))}  # a time, not a day
    for field, cmd in bad.items():
        with pytest.raises(ValidationError) as refused:
            rebuild_indicators(cmd, svc=svc, clock=fixed_clock(NOW))
        assert list(refused.value.errors) == [field]
    with svc.uow.read() as session:
        assert built_through(session) is None
        assert session.scalar(select(func.count()).select_from(IndicatorDayRow)) == 0


def test_the_migrated_schema_matches_the_rollup_tables_and_goes_down_and_up(svc):
    with svc.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if "indicator_" in repr(d)] == []
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with svc.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0019")
    with svc.engine.connect() as connection:
        assert not inspect(connection).has_table("indicator_days")
    migrate(svc.engine)
    assert _rebuild(svc, NOW).ranges


def test_a_backup_carries_the_rollup_and_its_marks(province, svc, db_backend, tmp_path):
    """Read in the backup's one snapshot with the case figures: restored, the rollup and the marks agree with
    them, and the worker's next run goes on from there."""
    _rebuild(svc, NOW - 40 * DAY)
    _edit(svc, random.Random(11), 15, around=NOW - 60 * DAY)
    make_backup(svc, tmp_path / "backup", clock=fixed_clock(NOW))
    with _empty_database(db_backend, tmp_path / "restored") as url:
        restored = _restored(svc, tmp_path / "backup", url, tmp_path / "restored")
        try:
            assert _rollup_rows(restored) == _rollup_rows(svc)
            with restored.uow.read() as session:
                assert session.scalar(select(func.count()).select_from(IndicatorDirtyRow)) > 0
            query = IndicatorQuery(user_id=None, agency="prov", start=dt.date(2025, 1, 1), end=dt.date(2026, 11, 30),
                                   by="month")
            assert indicators(query, svc=restored, now=NOW) == indicators(query, svc=svc, now=NOW, rollup=False)
            _rebuild(restored, NOW)
            assert indicators(query, svc=restored, now=NOW) == indicators(query, svc=svc, now=NOW, rollup=False)
        finally:
            restored.engine.dispose()


def test_a_run_while_another_builds_skips_rather_than_waits(svc, db_backend):
    """A worker does not wait on another worker's build (its timers would wait with it): PostgreSQL row locks."""
    if db_backend != "postgres":
        pytest.skip("SQLite writes one at a time: there is no second run to skip")
    _rebuild(svc, NOW - 2 * DAY)
    with svc.engine.connect() as other:  # another run, holding the state row
        other.execute(select(IndicatorRollupRow).with_for_update())
        busy = _rebuild(svc, NOW)
        other.rollback()
    assert busy.busy and busy.ranges == ()
    with svc.uow.read() as session:
        assert built_through(session) == (NOW - 2 * DAY).astimezone(svc.settings.zone).date()
    assert not _rebuild(svc, NOW).busy
