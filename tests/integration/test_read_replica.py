"""Pages that tolerate lag read a streaming replica (issue 17, docs/deployment.md §6): a real hot standby of a
PostgreSQL primary (tests/pgreplica.py), its replay paused to make its lag visible.

- the case list reads the replica: a case opened on the primary is not in it while the replica is behind, and is
  once the replica has caught up; the case's own page (read-your-write) reads the primary and shows it at once;
- writes go to the primary only (the replica is a standby: it could not take one);
- the replica down: the list reads the primary, and says so once in the log."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.db.session import REPLICA_RETRY_S
from engine.demo import INTAKE_USER
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.services import Services
from engine.spiff.driving import intake_data
from engine.usecases.cases import cases_page, open_case
from engine.values import OpenCase, fixed_clock
from tests.dbtemplates import open_services
from tests.integration.conftest import PLAY_START, SETUP_TIME, _model_and_demo_users
from tests.pgreplica import ReplicatedPair, replicated_pair, unavailable
from tests.web.webhelpers import login
from web.app import create_app

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicatedPair]:
    root = Path(tempfile.mkdtemp(prefix="casetrail-replica-"))  # not under pytest's root-only tmp: the servers' user reads it
    started = replicated_pair(root)
    try:
        started.start()
        yield started
    finally:
        started.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def svc(pair: ReplicatedPair) -> Iterator[Services]:
    keys = Path(tempfile.mkdtemp(prefix="casetrail-replica-keys-"))
    services = open_services(pair.primary_url, keys, upgrade=True, replica_url=pair.replica_url)
    _model_and_demo_users(services)
    try:
        yield services
    finally:
        services.uow.dispose()
        shutil.rmtree(keys, ignore_errors=True)


def _open(svc: Services) -> tuple[int, str]:
    case = open_case(OpenCase(user_id=INTAKE_USER, data=intake_data(now=PLAY_START), pin=DEMO_PIN), svc=svc,
                     clock=fixed_clock(PLAY_START))
    return case.id, case.number


def _listed(client, case: tuple[int, str]) -> bool:
    """Whether the head's case list (searched for the case's number) links to the case."""
    page = client.get("/cases", query_string={"q": case[1]})
    assert page.status_code == 200
    return f'href="/cases/{case[0]}"' in page.get_data(as_text=True)


def _on_replica(pair: ReplicatedPair, case: tuple[int, str]) -> int:
    return int(pair.replica_sql(f"SELECT count(*) FROM cases WHERE id = {case[0]}"))  # type: ignore[call-overload]


def test_the_case_list_reads_the_replica_and_the_case_page_the_primary(pair, svc):
    client = create_app({"TESTING": True, "CASETRAIL_CLOCK": fixed_clock(SETUP_TIME)}, services=svc).test_client()
    login(client, "head", DEMO_PASSWORD)
    pair.caught_up()
    pair.pause_replay()
    try:
        case = _open(svc)  # written while the replica replays nothing
        assert not _listed(client, case)  # the list: the replica's data, a moment old
        assert cases_page(svc, query=case[1]).total == 0
        shown = client.get(f"/cases/{case[0]}")  # the case's own page, read-your-write: the primary
        assert shown.status_code == 200 and case[1] in shown.get_data(as_text=True)
        assert _on_replica(pair, case) == 0  # nothing was written there
    finally:
        pair.resume_replay()
    pair.caught_up()
    assert _listed(client, case)
    assert _on_replica(pair, case) == 1


def test_with_the_replica_down_the_list_reads_the_primary_and_logs_it(pair, svc):
    client = create_app({"TESTING": True, "CASETRAIL_CLOCK": fixed_clock(SETUP_TIME)}, services=svc).test_client()
    login(client, "head", DEMO_PASSWORD)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("casetrail.db")
    logger.addHandler(handler)
    pair.stop_replica()
    try:
        case = _open(svc)
        assert _listed(client, case)  # from the primary: the replica is not there to be behind
        assert _listed(client, case)
        warned = [r for r in records if "replica" in r.getMessage()]
        assert len(warned) == 1, [r.getMessage() for r in records]  # once, not once per page
        assert warned[0].levelno == logging.WARNING
    finally:
        logger.removeHandler(handler)
        pair.start_replica()
    # back: once the retry pause is over the replica is asked again and used (shown by pausing its replay again)
    svc.uow.replica_retry_s = 0
    pair.caught_up()
    pair.pause_replay()
    try:
        later = _open(svc)
        assert cases_page(svc, query=later[1]).total == 0
    finally:
        pair.resume_replay()
        svc.uow.replica_retry_s = REPLICA_RETRY_S
