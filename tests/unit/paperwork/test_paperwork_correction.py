"""The 决定书 prints the 责令改正 the decision recorded (行政处罚法 Art 28), after the penalties; none, no line."""

from __future__ import annotations

from dataclasses import replace

from engine.paperwork import produce_documents
from engine.rules.deadlines import calendar_for
from engine.rules.settings import load_settings
from engine.spiff.definitions import load_default_definition

from .conftest import first_steps, play

ORDER = load_settings().raw["wording"]["correction_orders"]["public_place_unlicensed"]["text"]


def test_the_decision_orders_the_correction_after_the_penalties(definition, settings, calendar, agency, pdf_text,
                                                                 meta) -> None:
    steps = first_steps(load_default_definition(), load_settings(), calendar_for(load_settings()))
    scenario, index = steps[("penalty_decision", "make_decision")]
    ctx = play(definition, settings, calendar, agency, scenario, index).ctx
    ordered = replace(ctx, form_data={**ctx.form_data, "correction_order": ORDER})
    text = "".join(pdf_text(produce_documents(ordered, officer=None, seal=None, meta=meta)[0].pdf).split())
    assert "".join(ORDER.split()) in text
    assert text.index("叁仟元整") < text.index("责令你（单位）立即改正违法行为")  # after the penalties
    without = "".join(pdf_text(produce_documents(ctx, officer=None, seal=None, meta=meta)[0].pdf).split())
    assert "责令你（单位）" not in without
