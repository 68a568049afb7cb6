"""The audit's replay memo: a verdict is reused only for steps that agree on everything the model can read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.spiff.replay import ReplayMemo, model_reads
from engine.spiff.scenarios import SCENARIOS, run_scenario


def _steps(definition, settings, calendar, start, name="penalty_waiver"):
    steps: list = []
    run_scenario(definition, SCENARIOS[name], start=start, settings=settings, calendar=calendar, record=steps)
    return steps


def _with(steps, spec_id, **changes):
    index = [s[0] for s in steps].index(spec_id)
    out = list(steps)
    out[index] = (spec_id, {**steps[index][1], **changes})
    return out, index


@pytest.fixture
def memo(definition, settings, calendar):
    return ReplayMemo(definition, settings=settings, calendar=calendar)


def test_same_steps_with_different_routing_data_do_not_share_a_verdict(memo, definition, settings, calendar, start):
    steps = _steps(definition, settings, calendar, start)
    assert memo.replay(steps).ok and (memo.replays, memo.hits) == (1, 0)
    # Same spec ids in the same order; the acceptance decision routes elsewhere, so the next step is not allowed.
    refused, index = _with(steps, "acceptance_review", acceptance_decision="not_accept",
                           not_accepted_reason="不属于卫生健康监督职责范围")
    result = memo.replay(refused)
    assert not result.ok and result.failing_index == index + 1 and (memo.replays, memo.hits) == (2, 0)
    # A fine above the notified one breaks a gate of make_decision (the model reads final_fine there).
    over, index = _with(steps, "make_decision", final_fine=99999)
    result = memo.replay(over)
    assert not result.ok and result.failing_index == index and "第四十五条" in (result.reason or "")
    assert memo.replays == 3 and memo.hits == 0


def test_a_refused_path_is_replayed_again_not_remembered(memo, definition, settings, calendar, start):
    steps = _steps(definition, settings, calendar, start)
    skipped = [s for s in steps if s[0] != "legal_review"]
    assert not memo.replay(skipped).ok and not memo.replay(skipped).ok
    assert (memo.replays, memo.hits) == (2, 0)


def test_data_the_model_never_reads_does_not_defeat_the_memo(memo, definition, settings, calendar, start):
    steps = _steps(definition, settings, calendar, start)
    first = memo.replay(steps)
    intake = {**steps[0][1], "case_number": "呈卫投〔2026〕9999号", "registered_by": "clerk2", "content": "另一案件"}
    again = memo.replay([(steps[0][0], intake), *steps[1:]])
    assert again is first and (memo.replays, memo.hits) == (1, 1)


def test_the_key_holds_the_start_moment_the_actor_and_every_value_the_model_reads(memo, definition, settings,
                                                                                   calendar, start):
    steps = _steps(definition, settings, calendar, start)
    key = memo.key(steps)
    assert key is not None and key == memo.key(list(steps))
    later, _ = _with(steps, steps[0][0], received_at="2026-10-01T09:00:00+08:00")
    other_actor, _ = _with(steps, "prior_notice", _actor="officer2")
    fine_as_float, _ = _with(steps, "make_decision", final_fine=float(dict(steps)["make_decision"]["final_fine"]) + 0.5)
    as_bool, _ = _with(steps, "make_decision", final_warning=1)  # 1 == True in Python, but not the same value
    for changed in (later, other_actor, fine_as_float, as_bool):
        assert memo.key(changed) != key


def _model(files: dict[str, bytes], gates: dict | None = None):
    sha = str(hash(tuple(sorted(files.items()))) & 0xFFFFFFFF)
    return SimpleNamespace(sha256=f"test-{sha}", files=files, gate_table=gates or {})


def _bpmn(script: str) -> bytes:
    return (f'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
            f'<scriptTask id="s"><script>{script}</script></scriptTask></process></definitions>').encode()


def test_a_model_reading_data_by_a_computed_name_is_never_memoised():
    assert model_reads(_model({"m.bpmn": _bpmn("x = var('fine', 0) + 1")})).dynamic is None
    for script in ("x = var(name)", "x = var('fi' + 'ne')", "x = var('fi' 'ne')", "x = [var][0]('fine')",
                   "x = var(f'{a}')", "x = ｖａｒ(name)"):
        assert model_reads(_model({"m.bpmn": _bpmn(script)})).dynamic is not None, script
    gate = SimpleNamespace(refuse_if="var(which)")
    assert model_reads(_model({"m.bpmn": _bpmn("x = 1")}, {"t": [gate]})).dynamic is not None


def test_names_are_found_in_scripts_attributes_gates_and_after_nfkc_folding():
    files = {"m.bpmn": _bpmn("y = ｆｉｎｅ * 2"),
             "d.dmn": b'<definitions><decision id="d"><inputExpression><text>var(\'\xe7\xbd\x9a\xe6\xac\xbe\')'
                      b'</text></inputExpression></decision><x loopDataInputRef="panel_members"/></definitions>'}
    reads = model_reads(_model(files, {"t": [SimpleNamespace(refuse_if="hearing_chair in case_officers")]}))
    for name in ("fine", "罚款", "panel_members", "hearing_chair", "case_officers", "received_at", "_actor"):
        assert reads.reads(name), name
    assert not reads.reads("content") and not reads.reads("case_number")
