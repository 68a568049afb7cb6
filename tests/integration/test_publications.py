"""Published penalties: written by complete_task when the publication steps complete, searched in SQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, select

from engine.db.publication_tables import PublicationRow
from engine.db.session import migrate
from engine.db.tables import Base, CaseRow, TaskRow
from engine.demo import SCENARIOS, Played, play
from engine.errors import NotFound, ValidationError
from engine.rules.settings import load_settings
from engine.spiff.definitions import load_default_definition
from engine.spiff.driving import Scenario, Step
from engine.usecases.publications import (
    get_publication,
    list_publications,
    record_publication_step,
    released,
)
from tests.conftest import at
from tests.dbtemplates import Template, starting_point
from tests.integration.alembic_steps import run_alembic
from tests.integration.conftest import PLAY_START, READY

DECISION_NUMBER = "呈卫罚〔2026〕001号"  # the engine's: the first 处罚决定书 of the year (settings.json document_numbers)
MY_TABLES = {"publications", "working_day_overrides", "admin_events"}

AGENCY_ZONE = load_settings().zone


def _with_steps(base: Scenario, replace: dict[str, Step], tail: tuple[Step, ...] | None = None) -> Scenario:
    steps = tuple(replace.get(s.spec_id, s) for s in base.steps)
    if tail is not None:
        cut = next(i for i, s in enumerate(steps) if s.spec_id == "record_payment")
        steps = (*steps[:cut], *tail)
    return dataclasses.replace(base, steps=steps)


# The times typed are of events already past when each step is played (one hour apart from 2026-09-14 09:00;
# the decision at 2026-09-15 02:00, the release at 05:00, the withdrawal at 07:00): forms refuse a future one.
PUBLISHED = _with_steps(SCENARIOS["penalty_waiver"], {
    "make_decision": Step("make_decision", {"final_fine": 3000, "final_warning": True,
                                            "decision_date": "2026-09-15T01:30:00+08:00"}),
    "release_publication": Step("release_publication", {"released_at": "2026-09-15T04:30:00+08:00",
                                                        "url": "https://wsjd.example.gov.cn/gs/0007"}),
})
WITHDRAWN = _with_steps(SCENARIOS["penalty_waiver"], {}, tail=(
    Step("record_payment", {"payment_status": "revoked"}),
    Step("withdraw_publication", {"withdrawal_reason": "行政复议决定撤销原处罚决定",
                                  "withdrawn_at": "2026-09-15T06:30:00+08:00"}),
))
NOT_PUBLISHED = dataclasses.replace(SCENARIOS["penalty_waiver"], steps=tuple(
    Step("prepare_publication", {"publish": False, "party_is_minor": False, "not_published_reason": "privacy"})
    if s.spec_id == "prepare_publication" else s
    for s in SCENARIOS["penalty_waiver"].steps if s.spec_id != "release_publication"))


# Played once per session each (on SQLite and PostgreSQL), copied for each test that starts from them.
PUBLISHED_CASE = READY.then("a published penalty", lambda svc: play(svc, PUBLISHED, start=PLAY_START))
WITHDRAWN_CASE = READY.then("a withdrawn publication", lambda svc: play(svc, WITHDRAWN, start=PLAY_START))


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, published=PUBLISHED_CASE, withdrawn=WITHDRAWN_CASE)


@pytest.fixture
def published(ready_svc, template_result) -> Played:
    return template_result


@pytest.fixture
def withdrawn(ready_svc, template_result) -> Played:
    return template_result


def test_a_released_decision_is_listed_with_its_fields(ready_svc, published):
    played = published
    found = list_publications(ready_svc)
    assert found.total == 1
    p = found.items[0]
    assert p == get_publication(ready_svc, played.case.id)
    assert (p.case_id, p.decision_number, p.party) == (played.case.id, DECISION_NUMBER, "呈州市丽人美容店")
    assert p.party_credit_code == "92330100MA2CT8QJ0J"  # an organisation: its credit code is public
    assert (p.warning, p.fine) == (True, 3000.0)
    assert p.decision_date == dt.date(2026, 9, 15)
    assert p.released_at == at("2026-09-15 04:30")
    assert p.url == "https://wsjd.example.gov.cn/gs/0007"
    assert p.summary and not p.withdrawn


def test_a_withdrawal_marks_the_publication_and_an_unpublished_decision_is_absent(ready_svc, withdrawn):
    private = play(ready_svc, NOT_PUBLISHED, start=at("2026-09-15 09:00"))
    assert private.case.status == "closed"
    found = list_publications(ready_svc)
    assert [p.case_id for p in found.items] == [withdrawn.case.id]
    p = found.items[0]
    assert p.withdrawn
    assert p.withdrawal_reason == "行政复议决定撤销原处罚决定"
    assert p.withdrawn_at == at("2026-09-15 06:30")
    with pytest.raises(NotFound):
        get_publication(ready_svc, private.case.id)


def test_a_minor_is_never_published_even_past_the_model():
    """The model's gate refuses publish+minor; the writer refuses it again (a model version without the gate)."""
    intake = {"respondent": {"name": "张小明", "kind": "person"}, "violation_type": "public_place_hygiene"}
    release = {"released_at": "2026-09-22T09:30:00+08:00", "url": "https://x.example"}
    decision = {"decision_number": DECISION_NUMBER, "final_fine": 3000}
    moment = at("2026-09-22 09:30")
    assert released(intake, {"publish": True, "party_is_minor": True}, decision, release, at=moment, task_id="t",
                    zone=AGENCY_ZONE) is None
    assert released(intake, {"publish": False}, decision, release, at=moment, task_id="t",
                    zone=AGENCY_ZONE) is None
    adult = released(intake, {"publish": True, "party_is_minor": False}, decision, release, at=moment, task_id="t",
                     zone=AGENCY_ZONE)
    assert adult is not None and (adult.party, adult.fine) == ("张小明", 3000.0)


def test_a_time_typed_without_a_zone_is_the_agencys_local_time():
    """The agency's time zone comes from settings.json (`agency.timezone`), not from the code."""
    intake = {"respondent": {"name": "某店", "kind": "organisation"}, "violation_type": "public_place_hygiene"}
    typed = {"released_at": "2026-09-22T09:30:00", "url": "https://x.example"}
    decision = {"decision_number": DECISION_NUMBER, "decision_date": "2026-09-21T23:30:00"}
    local = released(intake, {"publish": True}, decision, typed, at=at("2026-09-22 09:30"), task_id="t",
                     zone=AGENCY_ZONE)
    utc = released(intake, {"publish": True}, decision, typed, at=at("2026-09-22 09:30"), task_id="t", zone=dt.UTC)
    assert local is not None and utc is not None
    assert local.released_at == at("2026-09-22 09:30") and utc.released_at == at("2026-09-22 17:30")
    assert local.decision_date == utc.decision_date == dt.date(2026, 9, 21)


def test_the_release_publishes_what_was_signed_not_an_edited_copy(ready_svc):
    """The writer reads the 公示 preparation from its signed record: a task row edited to say "a minor" (or
    anything else) changes nothing of what is published."""
    played = play(ready_svc, PUBLISHED, start=at("2026-09-14 09:00"))
    with ready_svc.uow() as work:
        session = work.session
        session.execute(delete(PublicationRow))
        prepare = session.scalars(select(TaskRow).where(TaskRow.case_id == played.case.id,
                                                        TaskRow.spec_id == "prepare_publication")).one()
        prepare.form_data = {**(prepare.form_data or {}), "party_is_minor": True, "redacted_summary": "篡改后的内容"}
        case = session.get_one(CaseRow, played.case.id)
        parts = load_default_definition().publication_steps
        record_publication_step(session, case=case, task_id="t", spec_id="release_publication",
                                form_data={"released_at": "2026-09-22T09:30:00+08:00", "url": "https://x.example"},
                                now=at("2026-09-22 09:30"), parts=parts, zone=ready_svc.settings.zone)
        work.commit()
    found = list_publications(ready_svc)
    assert found.total == 1
    assert found.items[0].summary and found.items[0].summary != "篡改后的内容"


def _published_rows(svc, n: int) -> None:
    """`n` publications written straight into the table (the search, not the workflow, is under test)."""
    with svc.uow() as work:
        session = work.session
        case = session.scalars(select(CaseRow)).first()
        assert case is not None
        base = session.scalars(select(PublicationRow)).one()
        for i in range(n):
            clone = CaseRow(number=f"T-{i}", definition_id=case.definition_id,
                             agency_code=case.agency_code, status="closed", stage="closed",
                            outcome="penalty_published", respondent=f"第{i}号_店%", violation="v" + str(i % 3),
                            channel="", state=b"", opened_by="clerk", created_at=case.created_at,
                            updated_at=case.created_at)
            session.add(clone)
            session.flush()
            session.add(PublicationRow(
                case_id=clone.id, decision_number=f"呈卫罚〔2026〕{i:04d}号", party=clone.respondent,
                party_credit_code="", violation=clone.violation, warning=False, fine=100.0 * i, other_measures="",
                basis="", decision_date=dt.date(2026, 1, 1) + dt.timedelta(days=i), summary="",
                released_at=base.released_at + dt.timedelta(hours=i + 1), url="", withdrawn=False,
                withdrawal_reason=""))
        work.commit()


def test_search_filters_pages_and_counts_in_sql(ready_svc, published):
    _published_rows(ready_svc, 12)
    everything = list_publications(ready_svc, limit=5)
    assert everything.total == 13 and len(everything.items) == 5
    assert everything.items[0].decision_number == "呈卫罚〔2026〕0011号"  # newest release first
    pages = [p.case_id for o in (0, 5, 10) for p in list_publications(ready_svc, limit=5, offset=o).items]
    assert len(pages) == len(set(pages)) == 13
    assert [p.party for p in list_publications(ready_svc, query="丽人").items] == ["呈州市丽人美容店"]
    assert list_publications(ready_svc, query="001号").total == 2  # a party's case and a test row (0001号)
    assert list_publications(ready_svc, query="%").total == 12  # a literal %, not a wildcard
    assert list_publications(ready_svc, query="_店").total == 12
    assert list_publications(ready_svc, violation="v1").total == 4
    window = list_publications(ready_svc, date_from=dt.date(2026, 1, 3), date_to=dt.date(2026, 1, 5))
    assert sorted(p.decision_date.day for p in window.items if p.decision_date) == [3, 4, 5]
    assert list_publications(ready_svc, date_from=dt.date(2026, 9, 15), date_to=dt.date(2026, 9, 15)).total == 1
    with pytest.raises(ValidationError):
        list_publications(ready_svc, limit=0)
    with pytest.raises(ValidationError):
        list_publications(ready_svc, date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 1, 1))


def test_the_migration_backfills_publications_from_completed_steps(ready_svc, withdrawn):
    played = withdrawn
    before = get_publication(ready_svc, played.case.id)
    run_alembic(ready_svc, "downgrade", "0004")
    migrate(ready_svc.engine)
    assert get_publication(ready_svc, played.case.id) == before
    with ready_svc.uow.read() as session:  # and it names the steps that released and withdrew it
        row = session.scalars(select(PublicationRow)).one()
        tasks = dict(session.execute(select(TaskRow.spec_id, TaskRow.id).where(
            TaskRow.case_id == played.case.id, TaskRow.spec_id.in_(["release_publication", "withdraw_publication"]))
        ).all())
        assert (row.release_task_id, row.withdraw_task_id) == (tasks["release_publication"],
                                                              tasks["withdraw_publication"])


def test_the_migrated_schema_matches_the_tables(svc):
    with svc.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if any(t in repr(d) for t in MY_TABLES)] == []
