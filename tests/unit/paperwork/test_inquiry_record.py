"""The 询问笔录's times as a user reads them: the start and the end the officer entered (the end is not the signing
time, the same fault the 现场笔录 had), both in the agency's zone (Asia/Shanghai), the signing time in the stamp."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from engine.paperwork import produce_documents

from .test_onsite_record import SIGNED_UTC, _stamp_text
from .test_paperwork_documents import STEPS, play

#: entered in UTC by a client in another zone: 22:05 and 22:48 UTC on the 15th are 06:05 and 06:48 on the 16th
ENTERED = {"inquired_at": "2026-09-15T22:05:00+00:00", "inquiry_ended_at": "2026-09-15T22:48:00Z"}


def _inquiry(definition, settings, calendar, agency, **changes):
    scenario, index = STEPS[("inquiry_record", "inquiry")]
    played = play(definition, settings, calendar, agency, scenario, index, overrides={**ENTERED, **changes})
    return replace(played.ctx, step_time=SIGNED_UTC)


def test_the_inquiry_s_end_is_the_time_entered_not_the_signing_time(definition, settings, calendar, agency, meta,
                                                                    pki, pdf_text) -> None:
    ctx = _inquiry(definition, settings, calendar, agency)
    [produced] = produce_documents(ctx, officer=pki.officer, seal=pki.seal, meta=meta)
    text = pdf_text(produced.pdf)
    assert "询问时间2026年9月16日6时05分至2026年9月16日6时48分" in text  # as entered, in 呈州's time
    assert "7时30分" not in text  # the signing (07:30 local) is not the end
    assert produced.document.ended_at == dt.datetime(2026, 9, 16, 6, 48, tzinfo=agency.zone())
    assert _stamp_text(produced.pdf) == ["签名：李明；时间：2026-09-16 07:30:00 +0800"]


def test_a_record_from_before_the_end_was_asked_ends_when_it_started(definition, settings, calendar, agency,
                                                                     meta) -> None:
    ctx = _inquiry(definition, settings, calendar, agency)
    older = replace(ctx, form_data={k: v for k, v in ctx.form_data.items() if k != "inquiry_ended_at"})
    document = produce_documents(older, officer=None, seal=None, meta=meta)[0].document
    assert document.started_at == document.ended_at == dt.datetime(2026, 9, 16, 6, 5, tzinfo=agency.zone())
