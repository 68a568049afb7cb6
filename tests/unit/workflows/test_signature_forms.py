"""The party's signature in the 现场笔录, 询问笔录 and 先行登记保存 forms, and the 现场笔录's times, as the engine
validates them (engine/usecases/forms.py with the real schemas and the settings' bounds)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from documents.samples import drawn_signature
from engine.errors import ValidationError
from engine.rules.drawn_images import DATA_URL_PREFIX, as_recorded, drawn_values, is_reference
from engine.rules.settings import load_settings
from engine.spiff.driving import sample_form_data
from engine.usecases.forms import validate_form

FORMS = Path(__file__).resolve().parents[3] / "workflows" / "forms"
SETTINGS = load_settings()
NOW = dt.datetime(2026, 9, 14, 2, 0, tzinfo=dt.UTC)
SIGNED = ("onsite_inspection", "inquiry", "approve_preservation")
REFUSED = {"mode": "refused", "refusal_note": "当事人拒绝签名，执法人员当场注明。", "witness_name": "赵某某",
           "witness_identity": "社区居委会工作人员"}


def _schema(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))


def _data(name: str, **changes: Any) -> dict[str, Any]:
    base = {"preservation_approved": True} if name == "approve_preservation" else {}
    return {**sample_form_data(_schema(name), base, now=NOW), **changes}


def _errors(name: str, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        validate_form(_schema(name), data, title=name, now=NOW + dt.timedelta(hours=1), settings=SETTINGS)
    return caught.value.errors


@pytest.mark.parametrize("name", SIGNED)
def test_a_drawn_signature_and_a_refusal_with_a_witness_both_pass(name) -> None:
    drawn = _data(name)
    assert drawn["party_signature"]["mode"] == "drawn"  # the demo and the tests fill the new field
    assert validate_form(_schema(name), drawn, title=name, now=NOW + dt.timedelta(hours=1), settings=SETTINGS) == drawn
    refused = _data(name, party_signature={**REFUSED, "witness_signature": drawn_signature(2)})
    assert validate_form(_schema(name), refused, title=name, now=NOW + dt.timedelta(hours=1), settings=SETTINGS) == refused


@pytest.mark.parametrize("name", SIGNED)
def test_the_schema_asks_for_the_signature_pad_widget(name) -> None:
    prop = _schema(name)["properties"]["party_signature"]
    assert prop["x-widget"] == "signature-pad"
    modes = [choice["properties"]["mode"]["const"] for choice in prop["oneOf"]]
    assert modes == ["drawn", "refused"]


@pytest.mark.parametrize("name", SIGNED)
def test_a_malformed_png_is_refused_naming_the_field(name) -> None:
    jpeg = "data:image/png;base64," + base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 64).decode()
    errors = _errors(name, _data(name, party_signature={"mode": "drawn", "image": jpeg}))
    assert errors == {"party_signature/image": "签名图片不是 PNG 文件 (the drawn image is not a PNG file: wrong "
                                                "signature bytes)"}
    errors = _errors(name, _data(name, party_signature={"mode": "drawn", "image": "data:image/svg+xml,<svg/>"}))
    assert set(errors) == {"party_signature/image"}


@pytest.mark.parametrize("name", SIGNED)
def test_a_drawing_is_recorded_as_the_stored_file_s_digest_and_a_malformed_reference_is_refused(name) -> None:
    """The form records a drawing stored as a file by its SHA-256, size and type (engine/rules/drawn_images.py):
    the party's and, with a refusal, the witness's; anything else in the field is refused naming it."""
    drawn = _data(name)
    png = base64.b64decode(drawn["party_signature"]["image"].removeprefix(DATA_URL_PREFIX))
    recorded = as_recorded(_schema(name), drawn)
    assert recorded["party_signature"]["image"] == {"sha256": hashlib.sha256(png).hexdigest(), "size": len(png),
                                                    "media_type": "image/png"}
    assert drawn["party_signature"]["image"].startswith(DATA_URL_PREFIX)  # the submitted data is not changed
    assert validate_form(_schema(name), recorded, title=name, now=NOW + dt.timedelta(hours=1),
                         settings=SETTINGS) == recorded
    witnessed = _data(name, party_signature={**REFUSED, "witness_signature": drawn_signature(2)})
    assert [path for path, _ in drawn_values(_schema(name), witnessed)] == [("party_signature", "witness_signature")]
    assert is_reference(as_recorded(_schema(name), witnessed)["party_signature"]["witness_signature"])
    for bad in ({**recorded["party_signature"]["image"], "size": 0}, {"sha256": "x" * 64, "size": 3,
                                                                         "media_type": "image/png"},
                {**recorded["party_signature"]["image"], "media_type": "image/jpeg"}, 42):
        errors = _errors(name, {**drawn, "party_signature": {"mode": "drawn", "image": bad}})
        assert set(errors) == {"party_signature/image"} and "drawn image" in errors["party_signature/image"]


def test_a_refusal_needs_the_note_and_the_witness() -> None:
    errors = _errors("inquiry", _data("inquiry", party_signature={"mode": "refused", "refusal_note": "拒签"}))
    assert errors == {"party_signature/witness_name": "必填 (required)",
                      "party_signature/witness_identity": "必填 (required)"}


def test_a_signature_is_required_and_is_one_thing_or_the_other() -> None:
    data = _data("onsite_inspection")
    del data["party_signature"]
    assert _errors("onsite_inspection", data) == {"party_signature": "必填 (required)"}
    errors = _errors("onsite_inspection", _data("onsite_inspection", party_signature={"mode": "waved"}))
    assert errors == {"party_signature": errors["party_signature"]}  # neither choice: one error on the field
    errors = _errors("onsite_inspection", _data("onsite_inspection",
                                                party_signature={**REFUSED, "image": drawn_signature()}))
    assert "party_signature" in errors and "image" in errors["party_signature"]  # a refusal carries no drawing


def test_the_preservation_needs_the_signature_only_when_approved() -> None:
    refused_approval = {"preservation_approved": False, "preservation_opinion": "证据不会灭失，不予批准"}
    validate_form(_schema("approve_preservation"), refused_approval, title="x", now=NOW + dt.timedelta(hours=1), settings=SETTINGS)
    approved = _data("approve_preservation")
    del approved["party_signature"]
    assert _errors("approve_preservation", approved) == {"party_signature": "必填 (required)"}


def test_the_inspection_ends_after_it_starts_and_names_the_person_in_charge() -> None:
    data = _data("onsite_inspection")
    start, end = dt.datetime.fromisoformat(data["inspected_at"]), dt.datetime.fromisoformat(data["inspection_ended_at"])
    assert start < end <= NOW  # sampled as an officer enters them: before the signing
    same = _data("onsite_inspection", inspection_ended_at=data["inspected_at"])
    assert _errors("onsite_inspection", same) == {"inspection_ended_at": "须晚于“检查开始时间” (must be later than "
                                                                         "“Inspection started at”)"}
    earlier_in_another_zone = (start - dt.timedelta(minutes=1)).astimezone(dt.UTC).isoformat()
    assert set(_errors("onsite_inspection", _data("onsite_inspection", inspection_ended_at=earlier_in_another_zone))) \
        == {"inspection_ended_at"}
    del data["person_in_charge"]
    assert _errors("onsite_inspection", data) == {"person_in_charge": "必填 (required)"}


def test_the_inquiry_ends_after_it_starts_as_the_officer_enters_it() -> None:
    data = _data("inquiry")
    start, end = dt.datetime.fromisoformat(data["inquired_at"]), dt.datetime.fromisoformat(data["inquiry_ended_at"])
    assert start < end <= NOW
    same = _data("inquiry", inquiry_ended_at=data["inquired_at"])
    assert _errors("inquiry", same) == {"inquiry_ended_at": "须晚于“询问开始时间” (must be later than "
                                                            "“Inquiry started at”)"}
    future = (NOW + dt.timedelta(days=1)).isoformat()
    assert set(_errors("inquiry", _data("inquiry", inquiry_ended_at=future))) == {"inquiry_ended_at"}
    del data["inquiry_ended_at"]
    assert _errors("inquiry", data) == {"inquiry_ended_at": "必填 (required)"}
