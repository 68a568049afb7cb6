"""Cases for the web tests, driven through the engine's own use cases (engine.demo.play), task by task."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from engine.demo import SCENARIOS, Played, play, play_step
from engine.demo_files import demo_pdf, demo_photo
from engine.demo_users import demo_certificate
from engine.enums import FilePurpose
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Scenario, Step
from engine.usecases.definitions import store_default_definition
from engine.usecases.evidence import list_evidence, stage_evidence
from engine.usecases.tasks import list_tasks
from engine.usecases.users import add_user
from engine.values import AddUser, StageEvidence
from tests.web.webhelpers import PIN

START = dt.datetime(2026, 9, 14, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 Beijing
EXTRA_USERS = {"head2": ("韩副局长", ("head",)), "officer3": ("孙承办", ("officer",))}


def load_model(svc: Services, clock: Any, password: str) -> None:
    store_default_definition(svc=svc, clock=clock)
    for user_id, (name, roles) in EXTRA_USERS.items():
        add_user(AddUser(user_id=user_id, name=name, password=password, roles=list(roles), pin=PIN,
                         **demo_certificate(user_id)), svc=svc,
                 clock=clock)


def scenario(name: str = "penalty_waiver", *, intake: dict[str, Any] | None = None,
             replace_steps: dict[str, Step] | None = None, extra: tuple[Step, ...] = ()) -> Scenario:
    base = SCENARIOS[name]
    steps = tuple((replace_steps or {}).get(s.spec_id, s) for s in base.steps) + extra
    return dataclasses.replace(base, steps=steps, intake={**base.intake, **(intake or {})})


def index_of(sc: Scenario, spec_id: str, nth: int = 0) -> int:
    return [i for i, s in enumerate(sc.steps) if s.spec_id == spec_id][nth]


def play_until(svc: Services, sc: Scenario, spec_id: str | None, *, nth: int = 0, start: dt.datetime = START,
               pin: str = PIN) -> Played:
    """Open a case and play its steps up to (not including) the `nth` step `spec_id`; None plays all."""
    stop = None if spec_id is None else index_of(sc, spec_id, nth)
    return play(svc, sc, start=start, stop_before=stop, pin=pin)


def revoked_and_withdrawn() -> Scenario:
    """A published penalty whose decision is later revoked: the publication is withdrawn (Art 48)."""
    base = scenario()
    cut = index_of(base, "record_payment")
    steps = (*base.steps[:cut], Step("record_payment", {"payment_status": "revoked"}),
             Step("withdraw_publication", {"withdrawal_reason": "行政复议决定撤销原处罚决定"}))
    return dataclasses.replace(base, steps=steps)


VIDEO = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x08free" + bytes(2000)


@dataclasses.dataclass(frozen=True)
class WithEvidence:
    case_id: int
    number: str
    photo: int  # attached: in 现场检查's signed record
    video: int  # attached too
    staged: int  # the clerk's PDF among the case's files, not in any record yet
    photo_sha256: str
    signatures: tuple[int, ...] = ()  # the parties' signatures drawn at 现场检查 and 询问: files of those steps


def case_with_evidence(svc: Services) -> WithEvidence:
    """The default penalty case at 证据登记 with three files to pick from: the officer's photo and video, added at
    现场检查 and in its signed record, and the clerk's PDF, staged."""
    with tempfile.TemporaryDirectory() as tmp:
        return _with_evidence(svc, Path(tmp))


def _with_evidence(svc: Services, tmp_dir: Path) -> WithEvidence:
    sc = scenario()
    case = play_until(svc, sc, "onsite_inspection").case
    clock = MutableClock(START + dt.timedelta(hours=index_of(sc, "onsite_inspection") + 1))
    [task] = [t for t in list_tasks(svc, case=case.number) if t.spec_id == "onsite_inspection"]
    actor = task.assignee or "officer1"
    photo_file = demo_photo(tmp_dir / "门口.jpg", taken=clock(), lat=30.27, lon=120.15, label="door")
    photo = stage_evidence(StageEvidence(case.number, actor, "门口.jpg", photo_file, task.id, "店门口"), svc=svc,
                           clock=clock)
    (tmp_dir / "执法记录仪.mp4").write_bytes(VIDEO)
    video = stage_evidence(StageEvidence(case.number, actor, "执法记录仪.mp4", tmp_dir / "执法记录仪.mp4", task.id),
                           svc=svc, clock=clock)
    staged = stage_evidence(StageEvidence(case.number, "clerk", "举报材料.pdf", demo_pdf(tmp_dir / "举报材料.pdf")),
                            svc=svc, clock=clock)
    for spec in ("onsite_inspection", "inquiry"):
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(svc, case.number, sc.steps[index_of(sc, spec)], clock, pin=PIN)
    signatures = tuple(f.id for f in list_evidence(svc, case.number, None, purpose=FilePurpose.PARTY_SIGNATURE))
    return WithEvidence(case.id, case.number, photo.id, video.id, staged.id, photo.sha256, signatures)


def evidence_items(case: WithEvidence) -> list[dict[str, Any]]:
    """Two items for 证据登记 of `case`, each picking one of its files, as the step records them."""
    return [{"name": "举报人提供的书面材料", "kind": "documentary", "file_id": case.staged, "quantity": "1份",
             "source": "举报人"},
            {"name": "执法记录仪录像", "kind": "audiovisual", "file_id": case.video, "quantity": "1段",
             "source": "现场检查时执法记录仪摄录"}]
