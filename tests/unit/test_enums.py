"""The engine's state words are StrEnums whose values are the strings already stored in the database."""

from __future__ import annotations

import json

from engine.enums import CaseEventKind, CaseOutcome, CaseStatus, NoticeKind, TaskStatus
from engine.values import OUTCOMES


def test_the_stored_strings_stay_the_same():
    assert [s.value for s in TaskStatus] == ["ready", "completed", "cancelled"]
    assert [s.value for s in CaseStatus] == ["open", "closed"]
    assert list(OUTCOMES) == ["open", "not_accepted", "transferred", "not_filed", "summary_penalty",
                              "penalty_published", "no_penalty", "referred_judicial"]
    assert {k.value for k in CaseEventKind} == {"opened", "completed", "claimed", "unclaimed", "assigned", "timer",
                                                "task_cancelled", "repaired", "urged"}
    assert [k.value for k in NoticeKind] == ["offered", "assigned", "returned", "due_soon", "overdue", "urged"]


def test_a_member_is_its_string_to_templates_json_and_comparisons():
    assert TaskStatus.READY == "ready" and "ready" in {TaskStatus.READY}
    assert f"{CaseOutcome.NO_PENALTY}" == "no_penalty"
    assert json.dumps({"status": CaseStatus.CLOSED}) == '{"status": "closed"}'
    assert {"ready": 1}[TaskStatus.READY] == 1
