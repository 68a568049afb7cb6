"""The 裁量基准 the model publishes (workflows/discretion_benchmark.dmn) and their check against the law's ranges
(statutory_fine_range.dmn, 《行政处罚法》第三十四条), on the real model and the real DMN engine."""

from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import func, select

from engine.db.tables import DefinitionRow
from engine.errors import Conflict, DefinitionInvalid
from engine.rules.agency_overrides import apply_overrides
from engine.spiff.benchmarks import BenchmarkOutsideTheLaw, check_within_law, in_force, published
from engine.spiff.decisions import decide
from engine.spiff.definitions import DEFAULT_ENTRY, load_definition, parse_definition
from engine.usecases.definitions import store_definition
from engine.values import StoreDefinition, fixed_clock
from tests.conftest import at

TABLE = "discretion_benchmark.dmn"
STORED_AT = at("2026-09-01 08:00")


def _rule(files: dict[str, bytes], description: str, out: int, value: str) -> dict[str, bytes]:
    """The model's files with output `out` of the benchmark rule described so changed."""
    text = files[TABLE].decode("utf-8")
    rule = re.search(rf"<description>{re.escape(description)}</description>.*?</rule>", text, re.S)
    assert rule is not None
    changed = re.sub(rf'(_out{out}"><text>)[^<]*', rf"\g<1>{value}", rule.group(0))
    return {**files, TABLE: text.replace(rule.group(0), changed).encode("utf-8")}


def test_the_model_publishes_the_platform_s_benchmark_and_the_district_s(definition, settings) -> None:
    names = published(definition, settings.discretion)
    assert list(names) == ["cz-xs-2026", "platform"]
    assert "西山区" in names["cz-xs-2026"] and "示例" in names["cz-xs-2026"]


@pytest.mark.parametrize(("benchmark", "low", "high"), [("platform", 1500, 3500), ("cz-xs-2026", 1000, 3000),
                                                         ("", 1500, 3500)])
def test_the_decision_reads_the_benchmark_the_case_recorded(definition, settings, calendar, benchmark, low,
                                                           high) -> None:
    data = {"violation_type": "public_place_unlicensed", "severity": "ordinary", "illegal_income": 0}
    if benchmark:
        data["discretion_benchmark"] = benchmark
    out = decide(definition, "discretion_benchmark", data, clock=lambda: None, settings=settings, calendar=calendar)
    assert (out["fine_min"], out["fine_max"]) == (low, high)
    assert out["benchmark_id"] == (benchmark or "platform")


def test_a_violation_the_district_s_benchmark_does_not_list_takes_the_platform_s_row(definition, settings,
                                                                                     calendar) -> None:
    data = {"discretion_benchmark": "cz-xs-2026", "violation_type": "water_supply_unlicensed", "severity": "minor"}
    out = decide(definition, "discretion_benchmark", data, clock=lambda: None, settings=settings, calendar=calendar)
    assert out["benchmark_id"] == "platform" and (out["fine_min"], out["fine_max"]) == (20, 500)


def test_every_published_benchmark_lies_within_the_law(definition, settings, calendar) -> None:
    check_within_law(definition, settings.discretion, settings=settings, calendar=calendar)


@pytest.mark.parametrize(("description", "out", "value", "article"), [
    ("public_place_unlicensed minor (西山区)", 0, "400", "第三十五条"),  # below the law's 500
    ("public_place_unlicensed aggravated (西山区)", 1, "35000", "第三十五条"),  # above the law's 30000
    ("medical_unlicensed_practice ordinary", 1, "max(illegal_income, 10000) * 25", "第九十九条"),  # 20 times at most
])
def test_a_row_outside_the_statutory_range_is_refused_when_the_model_is_stored(definition, svc, description, out,
                                                                             value, article) -> None:
    files = _rule(dict(definition.files), description, out, value)
    parse_definition(files, DEFAULT_ENTRY)  # the reader reads it: adopting it is what the law's ranges bind
    with pytest.raises(DefinitionInvalid) as refused:
        store_definition(StoreDefinition(files=files, entry_process_id=DEFAULT_ENTRY, name="out of range",
                                         user_id=None), svc=svc, clock=fixed_clock(STORED_AT))
    message = str(refused.value)
    assert f"{TABLE} discretion_benchmark:" in message and article in message and "第三十四条" in message
    with svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(DefinitionRow)) == 0


def test_a_stored_version_loads_and_its_bad_benchmark_alone_is_refused_when_adopted(definition, settings,
                                                                                   calendar) -> None:
    files = _rule(dict(definition.files), "public_place_unlicensed minor (西山区)", 0, "400")
    stored = load_definition(files, DEFAULT_ENTRY, stored=True)  # its cases must still load
    check_within_law(stored, settings.discretion, settings=settings, calendar=calendar, only="platform")
    with pytest.raises(BenchmarkOutsideTheLaw) as refused:
        check_within_law(stored, settings.discretion, settings=settings, calendar=calendar, only="cz-xs-2026")
    assert "第三十五条" in refused.value.basis and "400" in str(refused.value)


def test_a_step_records_the_benchmark_in_force_and_refuses_one_its_version_does_not_publish(definition,
                                                                                          settings) -> None:
    schema = definition.form_schema("investigation_report")
    assert in_force(definition, settings, schema) == {"discretion_benchmark": "platform"}
    district = apply_overrides(settings, {"discretion.benchmark": "cz-xs-2026"})
    assert in_force(definition, district, schema) == {"discretion_benchmark": "cz-xs-2026"}
    unknown = dataclasses.replace(settings, discretion=dataclasses.replace(settings.discretion, benchmark="cz-xs-2099"))
    with pytest.raises(Conflict, match="cz-xs-2099"):
        in_force(definition, unknown, schema)
    assert in_force(definition, unknown, definition.form_schema("prior_notice")) == {}
