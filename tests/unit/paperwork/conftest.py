"""Fixtures: the real model played in memory, a throwaway CA, and one StepContext per document code."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from documents.demo_pki import DemoPki, make_demo_pki
from documents.render import RenderMeta
from documents.samples import drawn_signature
from engine.paperwork import START_DOCUMENT, AgencyInfo, StepContext
from engine.rules.deadlines import calendar_for
from engine.rules.drawn_images import DATA_URL_PREFIX, reference
from engine.rules.settings import Settings, load_settings
from engine.rules.workdays import WorkingCalendar
from engine.spiff.definitions import LoadedDefinition, load_default_definition
from engine.spiff.driving import Scenario, Step
from engine.spiff.scenarios import PRESERVATIONS, SCENARIOS, SUPERVISED, play_step, run_scenario

BEIJING = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 9, 14, 9, 0, tzinfo=BEIJING)  # Monday
CASE_NUMBER = "呈卫投〔2026〕0042号"
NAMES = {"clerk": "吴芳", "officer1": "李明", "officer2": "陈静", "head": "郑国强", "head2": "钱主任",
         "legal": "林晓", "publisher": "周公示", "panel1": "孙丽", "panel2": "何伟", "panel3": "马涛"}

#: A hand-over on the platform needs the agencies table (tests/integration/test_hand_over.py); its 移送书 is
#: rendered here from the model alone, up to the letter.
HAND_OVER = Scenario("hand_over", "open", (
    Step("acceptance_review", {"acceptance_decision": "hand_over"}),
    Step("hand_over_complaint", {"receiving_agency": "hp", "receiving_agency_name": "呈州市和平区卫生健康局",
                                 "transfer_reason": "违法行为发生地在和平区"})))


@dataclass(frozen=True)
class PlayedStep:
    """One step of a scenario with everything the engine would have around it."""

    scenario: str
    ctx: StepContext
    fine: float | None  # a fine the document must print, if any


@pytest.fixture(scope="session")
def definition() -> LoadedDefinition:
    return load_default_definition()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def calendar(settings: Settings) -> WorkingCalendar:
    return calendar_for(settings)


@pytest.fixture(scope="session")
def agency(settings: Settings) -> AgencyInfo:
    return AgencyInfo.from_settings(settings)


@pytest.fixture(scope="session")
def meta(font_cache: Path) -> RenderMeta:
    return RenderMeta(time=START, font_cache_dir=font_cache)


@pytest.fixture(scope="session")
def pki() -> DemoPki:
    return make_demo_pki(agency="呈州市卫生健康委员会", officer="李明")


@pytest.fixture
def pdf_text(tmp_path: Path) -> Callable[[bytes], str]:
    """pdftotext of a PDF, whitespace removed (lines wrap anywhere in Chinese text)."""

    def extract(pdf: bytes) -> str:
        path = tmp_path / "doc.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
        return "".join(out.split())

    return extract


def all_scenarios() -> list[Scenario]:
    return [*SCENARIOS.values(), *PRESERVATIONS.values(), SUPERVISED, HAND_OVER]  # 先行登记保存: PRESERVATIONS only


def first_steps(definition: LoadedDefinition, settings: Settings,
                calendar: WorkingCalendar) -> dict[tuple[str, str], tuple[Scenario, int | None]]:
    """(document code, spec id) -> the first scenario (and step index; None = start) that reaches it."""
    found: dict[tuple[str, str], tuple[Scenario, int | None]] = {}
    for scenario in all_scenarios():
        found.setdefault((START_DOCUMENT, "start"), (scenario, None))
        for index, step in enumerate(scenario.steps):
            meta = definition.metas.get(step.spec_id)  # the 挂牌督办 flag is a message start, not a task: its own test
            code = meta.document if meta is not None else None
            if code:
                found.setdefault((code, step.spec_id), (scenario, index))
    return found


def play(definition: LoadedDefinition, settings: Settings, calendar: WorkingCalendar, agency: AgencyInfo,
         scenario: Scenario, index: int | None, *, overrides: dict[str, Any] | None = None,
         last_vote: bool = True) -> PlayedStep:
    """Play `scenario` up to step `index` with run_scenario, then that step, capturing data before/after."""
    if index is None:  # the start event: the intake is the form
        rec: list[tuple[str, dict[str, Any]]] = []
        run_scenario(definition, scenario, start=START, settings=settings, calendar=calendar, stop_before=0,
                     record=rec)
        ctx = _ctx(agency, "start", "投诉举报登记", START_DOCUMENT, {}, rec[0][1], "clerk", START, None, None)
        return PlayedStep(scenario.name, ctx, None)
    if scenario.steps[index].spec_id == "panel_vote" and last_vote:
        # the 合议记录 comes with the ballot that completes the round: play the whole round
        while index + 1 < len(scenario.steps) and scenario.steps[index + 1].spec_id == "panel_vote":
            index += 1
    instance, clock = run_scenario(definition, scenario, start=START, settings=settings, calendar=calendar,
                                   stop_before=index)
    step = scenario.steps[index]
    if overrides:
        step = Step(step.spec_id, {**step.overrides, **overrides}, step.actor, step.until)
    clock.advance_to(clock() + dt.timedelta(hours=1))
    task = [t for t in instance.ready_user_tasks() if t.spec_id == step.spec_id
            and (step.actor is None or t.assignee_hint in (None, step.actor))][0]
    rec = []
    play_step(instance, step, clock, settings, calendar, record=rec)
    spec_id, form = rec[-1]
    form = dict(form)
    actor = form.pop("_actor")
    meta = definition.metas[spec_id]
    ctx = replace(_ctx(agency, spec_id, meta.name, meta.document, task.data, form, actor, clock(), instance.data,
                       task.due), variant=meta.document_variant, signature_block=meta.signature_block)
    return PlayedStep(scenario.name, ctx, _fine(ctx))


def _ctx(agency: AgencyInfo, spec_id: str, name: str, code: str | None, before: dict[str, Any],
         form: dict[str, Any], actor: str, when: dt.datetime, after: dict[str, Any] | None,
         due: dt.datetime | None) -> StepContext:
    number = {"make_decision": "呈卫罚〔2026〕007号", "prior_notice": "呈卫罚告〔2026〕007号"}.get(spec_id, "")
    return StepContext(
        agency=agency, case_number=CASE_NUMBER, doc_number=number, step_time=when.astimezone(dt.UTC),
        actor_id=actor, actor_name=NAMES.get(actor, actor), task_spec_id=spec_id, task_name=name,
        document_code=code, case_data=before, form_data=form, officer_names=NAMES, case_data_after=after, due=due,
        drawn_images=SAMPLE_DRAWN,
    )


def _sample_drawn() -> dict[str, str]:
    """The scenarios' drawn signatures as the engine reads them back from the store: digest -> data URL (the
    in-memory player records each by digest, as the engine does once it is stored)."""
    urls = [drawn_signature(strokes) for strokes in (1, 2, 3, 4)]
    return {reference(base64.b64decode(u.removeprefix(DATA_URL_PREFIX)))["sha256"]: u for u in urls}


SAMPLE_DRAWN = _sample_drawn()


_FINE_KEYS = {"prior_notice": "notified_fine", "make_decision": "final_fine", "summary_penalty": "summary_fine",
              "investigation_report": "proposed_fine", "correct_case": "revised_fine",
              "hearing_report": "recommended_fine", "release_publication": "final_fine",
              "prepare_publication": "final_fine", "closing_report": "final_fine"}


def _fine(ctx: StepContext) -> float | None:
    key = _FINE_KEYS.get(ctx.task_spec_id)
    value = ctx.get(key) if key else None
    return float(value) if value else None
