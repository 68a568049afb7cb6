"""A signing PIN behaves like a smart card's: wrong PINs are counted per key, shared by every worker and kept
over restarts; at the limit the key is blocked until a head or an administrator unblocks it or a new key is
issued (issue 13, item 2). Real databases, real scrypt, real keys."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import event, func, select

from engine import journal
from engine.db.tables import CaseRow
from engine.demo_users import DEMO_PIN
from engine.errors import (
    Conflict,
    Forbidden,
    SigningKeyBlocked,
    ValidationError,
    WrongSigningPin,
)
from engine.rules.settings import Security, load_settings
from engine.services import Services
from engine.spiff.driving import intake_data
from engine.startup import build_services
from engine.usecases.cases import open_case
from engine.usecases.signing_pins import signing_pin, unblock_signing_pin
from engine.usecases.users import account_history, add_user, rekey_user
from engine.values import AddUser, OpenCase, RekeyUser, UnblockSigningPin, fixed_clock
from tests.conftest import TEST_KDF_COST, at

NOW = at("2026-09-20 10:00")
CLOCK = fixed_clock(NOW)
PEOPLE = (("officer1", "王承办", "officer"), ("officer2", "赵承办", "officer"), ("head", "陈局长", "head"),
          ("head2", "韩副局长", "head"), ("admin", "蒋管理", "admin"))


@pytest.fixture
def people(svc):
    for user_id, name, role in PEOPLE:
        add_user(AddUser(user_id=user_id, name=name, password="pw-lantern-2026", roles=[role], pin=DEMO_PIN),
                 svc=svc, clock=fixed_clock(at("2026-09-01 08:00")))
    return svc


def _sign(svc: Services, user_id: str, pin: str):
    """Open the user's key as a step does: inside a read-only unit of work, before the step's write."""
    with svc.uow.read() as session:
        return journal.unlock_signer(svc, session, user_id, pin, NOW)


def _wrong(svc: Services, user_id: str = "officer1") -> WrongSigningPin | SigningKeyBlocked:
    with pytest.raises((WrongSigningPin, SigningKeyBlocked)) as refused:
        _sign(svc, user_id, "000000")
    return refused.value


def _other_worker(svc: Services, db_url: str, tmp_path, **kwargs) -> Services:
    """Another process's Services on the same database and key directory."""
    return build_services(db_url, settings=kwargs.get("settings", svc.settings), keys_dir=tmp_path / "agency-keys",
                          kdf_cost=TEST_KDF_COST, upgrade=False)


def test_five_wrong_pins_block_the_key_and_then_even_the_right_pin_is_refused_naming_who_may_unblock(people):
    svc = people
    refusals = [_wrong(svc) for _ in range(5)]
    assert [r.tries_left for r in refusals[:4]] == [4, 3, 2, 1]
    assert "还可再试 4 次" in refusals[0].message and "4 tries left" in refusals[0].message
    assert "1 try left" in refusals[3].message
    assert isinstance(refusals[4], SigningKeyBlocked) and "被锁定" in refusals[4].message
    with pytest.raises(SigningKeyBlocked) as blocked:
        _sign(svc, "officer1", DEMO_PIN)
    message = blocked.value.message
    assert message.index("被锁定") < message.index("blocked")  # Chinese first, English after
    for name in ("陈局长 (head)", "韩副局长 (head2)", "蒋管理 (admin)"):
        assert name in message
    assert "王承办" not in message and "赵承办" not in message  # neither the officer nor a colleague
    assert "casetrail user unblock-pin officer1" in message
    state = signing_pin(svc, "officer1")
    assert state.blocked and state.failures == 5 and state.blocked_at == NOW and state.tries_left == 0
    assert _sign(svc, "officer2", DEMO_PIN).certificate  # another officer's key is not touched
    assert [e.kind for e in account_history(svc, "officer1")][:1] == ["pin_blocked"]


def test_the_count_is_shared_by_two_workers_and_survives_a_restart(people, db_url, tmp_path):
    first = people
    second = _other_worker(first, db_url, tmp_path)
    assert _wrong(first).tries_left == 4
    assert _wrong(second).tries_left == 3
    assert _wrong(first).tries_left == 2
    second.engine.dispose()
    first.engine.dispose()
    restarted = build_services(db_url, settings=load_settings(), keys_dir=tmp_path / "agency-keys",
                               kdf_cost=TEST_KDF_COST)  # a new start: migrations, the KEK check
    try:
        assert _wrong(restarted).tries_left == 1
        assert isinstance(_wrong(restarted), SigningKeyBlocked)
        with pytest.raises(SigningKeyBlocked):
            _sign(restarted, "officer1", DEMO_PIN)
    finally:
        restarted.engine.dispose()


def test_the_right_pin_resets_the_count(people):
    svc = people
    for _ in range(3):
        _wrong(svc)
    assert _sign(svc, "officer1", DEMO_PIN).certificate
    assert signing_pin(svc, "officer1").failures == 0
    assert [_wrong(svc).tries_left for _ in range(4)] == [4, 3, 2, 1]


def test_the_right_pin_with_no_wrong_ones_before_writes_nothing(people):
    svc = people
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(svc.engine, "commit", count)
    try:
        assert _sign(svc, "officer1", DEMO_PIN).certificate
        assert commits == []  # the common path stays read-only
        _wrong(svc)
        assert len(commits) == 1  # the wrong PIN is counted in a transaction of its own
        _sign(svc, "officer1", DEMO_PIN)
        assert len(commits) == 2  # … and the right one after it resets the count
    finally:
        event.remove(svc.engine, "commit", count)


def test_concurrent_wrong_pins_in_two_workers_are_each_counted_once(people, db_url, tmp_path):
    settings = dataclasses.replace(people.settings, security=Security(10, "test: room for every try"))
    workers = [_other_worker(people, db_url, tmp_path, settings=settings) for _ in range(2)]
    results: list[object] = []
    start = threading.Barrier(8)

    def guess(worker: Services) -> None:
        start.wait()
        try:
            _sign(worker, "officer1", "999999")
        except Exception as exc:  # noqa: BLE001 - collected and checked below
            results.append(exc)

    threads = [threading.Thread(target=guess, args=(workers[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.engine.dispose()
    assert all(isinstance(r, WrongSigningPin) for r in results), results
    # Eight atomic increments: each try saw a count of its own, 1 … 8, so 9 … 2 tries were left.
    assert sorted(r.tries_left for r in results) == list(range(2, 10))
    assert signing_pin(people, "officer1").failures == 8


def test_a_wrong_pin_writes_nothing_of_the_step_but_is_counted(ready_svc):
    svc = ready_svc
    command = OpenCase(user_id="clerk", data=intake_data(now=NOW), pin="000000")
    with pytest.raises(WrongSigningPin) as refused:
        open_case(command, svc=svc, clock=CLOCK)
    assert refused.value.tries_left == 4
    with svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(CaseRow)) == 0
    assert signing_pin(svc, "clerk").failures == 1
    opened = open_case(dataclasses.replace(command, pin=DEMO_PIN), svc=svc, clock=CLOCK)
    assert opened.number.endswith("0001号")  # no number was taken by the refused try
    assert signing_pin(svc, "clerk").failures == 0


def _block(svc: Services, user_id: str = "officer1") -> None:
    for _ in range(svc.settings.security.signing_pin_attempts):
        _wrong(svc, user_id)
    assert signing_pin(svc, user_id).blocked


def test_a_head_or_an_administrator_unblocks_with_a_reason_journalled(people):
    svc = people
    _block(svc)
    with pytest.raises(Conflict):
        unblock_signing_pin(UnblockSigningPin(user_id="officer2", by="head", reason="核实"),
                            svc=svc, clock=CLOCK)  # not blocked
    with pytest.raises(ValidationError):
        unblock_signing_pin(UnblockSigningPin(user_id="officer1", by="head", reason=" "), svc=svc, clock=CLOCK)
    done = unblock_signing_pin(UnblockSigningPin(user_id="officer1", by="head", reason="本人确认系输入错误"),
                               svc=svc, clock=CLOCK)
    assert (done.by, done.failures, done.blocked_at) == ("head", 5, NOW)
    assert _sign(svc, "officer1", DEMO_PIN).certificate
    _block(svc)
    unblock_signing_pin(UnblockSigningPin(user_id="officer1", by="admin", reason="电话核实"), svc=svc, clock=CLOCK)
    assert signing_pin(svc, "officer1").failures == 0
    history = [(e.kind, e.actor, e.reason) for e in account_history(svc, "officer1")]
    assert history[:4] == [("pin_unblocked", "admin", "电话核实"), ("pin_blocked", "officer1", ""),
                           ("pin_unblocked", "head", "本人确认系输入错误"), ("pin_blocked", "officer1", "")]


def test_an_officer_cannot_unblock_a_key_and_nobody_their_own(people):
    svc = people
    _block(svc)
    for by in ("officer2", "officer1"):
        with pytest.raises(Forbidden):
            unblock_signing_pin(UnblockSigningPin(user_id="officer1", by=by, reason="我自己"),
                                svc=svc, clock=CLOCK)
    _block(svc, "head")
    with pytest.raises(Forbidden, match="自己"):
        unblock_signing_pin(UnblockSigningPin(user_id="head", by="head", reason="我自己"), svc=svc, clock=CLOCK)
    unblock_signing_pin(UnblockSigningPin(user_id="head", by="head2", reason="核实"), svc=svc, clock=CLOCK)
    assert signing_pin(svc, "officer1").blocked and not signing_pin(svc, "head").blocked


def test_a_new_key_ends_the_block(people):
    svc = people
    _block(svc)
    old = signing_pin(svc, "officer1").fingerprint
    rekey_user(RekeyUser(user_id="officer1", pin="246810", by="admin", reason="PIN 遗忘，重新签发"), svc=svc,
               clock=CLOCK)
    state = signing_pin(svc, "officer1")
    assert state.fingerprint != old and not state.blocked and state.failures == 0
    assert _sign(svc, "officer1", "246810").certificate
    with pytest.raises(WrongSigningPin):
        _sign(svc, "officer1", DEMO_PIN)  # the old PIN opened the old key only
