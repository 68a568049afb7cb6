"""The demo seed: demo users, and cases driven through the engine task by task to every outcome,
plus open cases waiting at several stages."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import cycle
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine import journal
from engine.agency_seals import issue_agency_seal
from engine.db.tables import CaseRow, UserRow
from engine.demo import SCENARIOS, BeforeStep, Cast, pick_actor, play, ready_task
from engine.demo_files import demo_pdf, demo_photo
from engine.demo_users import (
    DEMO_AGENCIES,
    DEMO_PASSWORD,
    DEMO_PIN,
    DEMO_USERS,
    agency_certificate,
    agency_users,
    cast_of,
    demo_certificate,
)
from engine.errors import Conflict
from engine.seed_platform import seed_platform_cases
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Scenario, Step
from engine.spiff.scenarios import WAITING
from engine.usecases.agencies import add_agency, agency_detail, set_agency_setting
from engine.usecases.definitions import store_default_definition
from engine.usecases.evidence import evidence_spec, stage_evidence
from engine.usecases.users import add_user
from engine.values import AddAgency, AddUser, Clock, SetAgencySetting, StageEvidence, fixed_clock

# Cases played the whole way, one per outcome (and more than one way to a penalty).
FINISHED = ("not_accepted", "transferred", "not_filed", "summary_penalty", "penalty_waiver", "penalty_hearing",
            "no_penalty_minor", "no_penalty_facts", "referred_judicial")
# Open cases: the scenario played up to the named step, which is left waiting for a person (the model's demo
# scenarios say which: engine/spiff/scenarios.py).
OPEN_AT = tuple(WAITING.values())


# Demo parties, so that lists and the public page look like an agency's, not one case copied.
PARTIES = (
    ("呈州市丽人美容店", "92330100MA2B3C4D5K", "呈州市和平路8号", "public_place_unlicensed", "未取得公共场所卫生许可证即开业经营约两个月。"),
    ("呈州市悦来宾馆有限公司", "91330100MA2C7D8E9K", "呈州市解放路126号", "public_place_staff_no_health_cert", "宾馆客房服务员三人未取得健康合格证明即上岗。"),
    ("呈州市清泉水务有限公司", "91330100MA2D1E2F3B", "呈州市滨江大道2号", "water_supply_unlicensed", "小区二次供水水质浑浊，疑似未取得卫生许可证供水。"),
    ("呈州市康乐足浴中心", "92330100MA2E4F5G6L", "呈州市人民路55号", "public_place_unlicensed", "足浴中心无公共场所卫生许可证，顾客反映毛巾不洁。"),
    ("呈州市东城游泳馆", "91330100MA2F7G8H94", "呈州市东城路3号", "public_place_staff_no_health_cert", "游泳馆救生员未持健康合格证明上岗。"),
    ("呈州市新桥村供水站", "52330100MA2G1H2J3W", "呈州市新桥镇新桥村", "water_staff_no_health_cert", "供水站安排两名未取得体检合格证的人员直接从事供管水工作。"),
)


def _party(index: int) -> dict[str, Any]:
    """The intake changes that make a case the `index`th demo party's (cycling through PARTIES)."""
    party, code, address, violation, content = PARTIES[index % len(PARTIES)]
    return {"respondent": {"name": party, "kind": "organisation", "credit_code": code, "address": address},
            "violation_type": violation, "content": content}


def _with_party(name: str, index: int) -> Scenario:
    scenario = SCENARIOS[name]
    return replace(scenario, intake={**scenario.intake, **_party(index)})


def evidence_files(svc: Services, folder: Path, index: int, cast: Cast | None = None) -> BeforeStep:
    """Before each step whose form takes evidence (its schema's x-evidence): a real photo with EXIF time and
    GPS and a one-page PDF, as far as the step takes them, added for the step by who does it, so the demo's
    records list files and the case pages show them."""

    def add(case_number: str, step: Step, clock: MutableClock) -> None:
        task = ready_task(svc, case_number, step, cast)
        spec = evidence_spec(task.form_schema)
        if spec is None:
            return
        accept = spec.get("accept", ())
        files = []
        if "image" in accept:
            files.append((demo_photo(folder / f"{task.id}.jpg", taken=clock() - dt.timedelta(minutes=20),
                                     lat=30.25 + index * 0.011, lon=120.16 + index * 0.013, label=task.name),
                          "现场照片.jpg", "演示照片 (demo photo)"))
        if "pdf" in accept:
            files.append((demo_pdf(folder / f"{task.id}.pdf", title=task.name), "书面材料.pdf",
                          "演示文件 (demo file)"))
        for source, name, note in files:
            stage_evidence(StageEvidence(case_number, pick_actor(task, step, cast), name, source, task.id, note),
                           svc=svc, clock=clock)

    return add


# The demo's history: users and keys from this long ago, the first finished case opened 100 days ago.
HISTORY = dt.timedelta(days=120)


@dataclass(frozen=True)
class SeedResult:
    users: int
    cases: int
    skipped: bool
    # When the seed had to re-create the agency keys (made by `casetrail init` after the history's start): the
    # new root's start. The root exported before is then worthless and must be exported again.
    agency_keys_recreated: dt.datetime | None = None


def seed_users(svc: Services, clock: Clock) -> int:
    added = 0
    for user_id, name, roles, unit in DEMO_USERS:
        try:
            add_user(AddUser(user_id=user_id, name=name, password=DEMO_PASSWORD, roles=list(roles), unit=unit,
                             pin=DEMO_PIN, **demo_certificate(user_id)), svc=svc, clock=clock)
            added += 1
        except Conflict:
            continue
    return added


def seed_agencies(svc: Services, clock: Clock, *, by: str = "admin") -> int:
    """The demo's two districts below the home agency (the city), each with its seal and its people; the users
    added."""
    home = svc.settings.agency.code
    added = 0
    for agency in DEMO_AGENCIES:
        with contextlib.suppress(Conflict):
            add_agency(AddAgency(code=agency.code, name=agency.name, short=agency.short, parent_code=home,
                                 level="county", case_number_prefix=agency.case_number_prefix,
                                 penalty_number_prefix=agency.penalty_number_prefix,
                                 review_agency=agency.review_agency, court=agency.court, by=by), svc=svc, clock=clock)
        # add_agency issues its seal; a district added by an earlier seed, before agencies had seals, gets one here
        # (a second is refused: Conflict).
        with contextlib.suppress(Conflict):
            issue_agency_seal(svc, agency.code, agency.name, now=clock())
        own = agency_detail(svc, agency.code).settings
        for key, value in agency.settings:
            if own.get(key) != value:  # a seed run again journals no change
                set_agency_setting(SetAgencySetting(code=agency.code, key=key, value=value, by=by), svc=svc,
                                   clock=clock)
        for user_id, name, roles, unit in agency_users(agency):
            try:
                add_user(AddUser(user_id=user_id, name=name, password=DEMO_PASSWORD, roles=list(roles), unit=unit,
                                 pin=DEMO_PIN, agency_code=agency.code, **agency_certificate(agency, user_id)),
                         svc=svc, clock=clock)
                added += 1
            except Conflict:
                continue
    return added


def _index_of(scenario_name: str, spec_id: str) -> int:
    steps = SCENARIOS[scenario_name].steps
    return next(i for i, s in enumerate(steps) if s.spec_id == spec_id)


def _prepare_agency(svc: Services, start: dt.datetime) -> tuple[bool, dt.datetime | None]:
    """(demo already seeded, re-created keys' start). Refuses an installation that has signed something.

    The history is played from `start`, so the agency root must have been valid then: a certificate is
    checked at the moment it signed, and one issued after that moment "was not yet valid". Right after
    `casetrail init` the keys are younger than the history but have vouched for nothing, so they are
    re-created dated from `start`; once an officer holds a certificate or a step is signed they cannot be.
    """
    with svc.uow.read() as session:
        demo_users = session.scalar(select(func.count()).select_from(UserRow)
                                    .where(UserRow.id.in_([u[0] for u in DEMO_USERS]))) or 0
        has_cases = bool(session.scalar(select(func.count()).select_from(CaseRow)))
        records, officers = journal.signed_so_far(session)
    if demo_users == len(DEMO_USERS):  # seeded before (perhaps interrupted before its cases)
        return has_cases, None
    if records or officers:
        raise Conflict(f"演示数据需要一个尚未签署任何内容的新安装 (the demo needs an installation that has signed "
                       f"nothing; this one has {officers} officer certificates and {records} step records: use an "
                       "empty CASETRAIL_DATA_DIR or database)")
    since = journal.agency_valid_since(svc)
    if since is None or since <= start:
        return False, None
    journal.recreate_agency_keys(svc, start)
    return False, start


# Each district's cases: some finished, one waiting at its first officer's step.
DISTRICT_FINISHED = ("summary_penalty", "penalty_waiver", "not_filed")
DISTRICT_OPEN = OPEN_AT[:1]


def _seed_district_cases(svc: Services, today: dt.datetime, folder: Path, party: Iterator[int]) -> int:
    """The districts' cases, registered and handled by their own people (so numbered 和卫投…, 西卫投…)."""
    played = 0
    for number, agency in enumerate(DEMO_AGENCIES):
        cast = cast_of(agency)
        for offset, name in enumerate(DISTRICT_FINISHED):
            play(svc, _with_party(name, next(party)), start=today - dt.timedelta(days=90 - offset * 7 - number),
                 before_step=evidence_files(svc, folder, 100 + played, cast), cast=cast)
            played += 1
        for name, spec_id in DISTRICT_OPEN:
            play(svc, _with_party(name, next(party)), start=today - dt.timedelta(days=2 + number, hours=3),
                 stop_before=_index_of(name, spec_id), step_gap=dt.timedelta(minutes=10),
                 before_step=evidence_files(svc, folder, 100 + played, cast), cast=cast)
            played += 1
    return played


def seed_demo(svc: Services, *, today: dt.datetime) -> SeedResult:
    """Seed once, into an installation that has signed nothing (a fresh one, or right after `casetrail init`);
    a database already seeded is left as it is."""
    start = today - HISTORY
    seeded, recreated = _prepare_agency(svc, start)
    if seeded:
        return SeedResult(users=0, cases=0, skipped=True)
    clock = fixed_clock(start)
    with svc.uow() as work:
        journal.ensure_agency(svc, work.session, start)
        work.commit()
    store_default_definition(svc=svc, clock=clock)
    users = seed_users(svc, clock) + seed_agencies(svc, clock)
    cases = 0
    party = cycle(range(len(PARTIES)))
    with tempfile.TemporaryDirectory() as tmp:  # the files are made here; the blob store keeps their bytes
        for offset, name in enumerate(FINISHED):
            play(svc, _with_party(name, next(party)), start=today - dt.timedelta(days=100 - offset * 3),
                 before_step=evidence_files(svc, Path(tmp), cases))
            cases += 1
        for offset, (name, spec_id) in enumerate(OPEN_AT):
            start = today - dt.timedelta(days=len(OPEN_AT) - offset, hours=6)
            play(svc, _with_party(name, next(party)), start=start, stop_before=_index_of(name, spec_id),
                 step_gap=dt.timedelta(minutes=10), before_step=evidence_files(svc, Path(tmp), cases))
            cases += 1
        cases += _seed_district_cases(svc, today, Path(tmp), party)
        cases += seed_platform_cases(svc, today, evidence_files(svc, Path(tmp), cases, cast_of(DEMO_AGENCIES[0])),
                                     _party(next(party)))
    return SeedResult(users=users, cases=cases, skipped=False, agency_keys_recreated=recreated)
